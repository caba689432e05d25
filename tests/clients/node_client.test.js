// The real Node client (@kafkajs/confluent-schema-registry) against a running
// `accord serve`, whose URL is in ACCORD_URL. Run with `node --test`.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { randomUUID } = require('node:crypto')
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry')

const host = process.env.ACCORD_URL
const registry = new SchemaRegistry({ host })

const order = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Order',
  type: 'object',
  properties: {
    id: { type: 'string' },
    amount: { type: 'number', minimum: 0 },
  },
  required: ['id', 'amount'],
  additionalProperties: false,
}

const subjectName = () => `node-orders-${randomUUID().slice(0, 8)}-value`

async function subjectConfig(subject) {
  const res = await fetch(`${host}/config/${encodeURIComponent(subject)}`)
  return { status: res.status, body: await res.json() }
}

test('the first registration does the config handshake', async () => {
  const subject = subjectName()
  assert.equal((await subjectConfig(subject)).status, 404)
  const { id } = await registry.register(
    { type: SchemaType.JSON, schema: JSON.stringify(order) },
    { subject },
  )
  assert.ok(Number.isInteger(id) && id > 0)
  // kafkajs set the subject's level after its first registration...
  const config = await subjectConfig(subject)
  assert.equal(config.status, 200)
  assert.equal(config.body.compatibilityLevel, 'BACKWARD')
  // ...and on the next one reads it back and finds it matching.
  const again = await registry.register(
    { type: SchemaType.JSON, schema: JSON.stringify(order) },
    { subject },
  )
  assert.equal(again.id, id)
})

test('a payload is encoded and decoded through the registry', async () => {
  const subject = subjectName()
  const { id } = await registry.register(
    { type: SchemaType.JSON, schema: JSON.stringify(order) },
    { subject },
  )
  const encoded = await registry.encode(id, { id: 'o-1', amount: 3 })
  assert.equal(encoded.readUInt8(0), 0)
  assert.equal(encoded.readInt32BE(1), id)
  // A fresh client must fetch the schema by id to decode.
  const fresh = new SchemaRegistry({ host })
  assert.deepEqual(await fresh.decode(encoded), { id: 'o-1', amount: 3 })
  await assert.rejects(() => registry.encode(id, { id: 'o-2', amount: -1 }))
  assert.equal(await registry.getLatestSchemaId(subject), id)
})
