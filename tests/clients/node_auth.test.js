// The real Node client against an `accord serve` that needs a token: HTTP Basic with
// the token's name and the token (ACCORD_USER_INFO = name:token) works; a wrong
// password gets an authentication error. Run with `node --test`.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { randomUUID } = require('node:crypto')
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry')

const host = process.env.ACCORD_URL
const [username, password] = process.env.ACCORD_USER_INFO.split(/:(.*)/s)
const schema = { type: 'object', properties: { id: { type: 'string' } } }

test('basic auth with the token registers and reads', async () => {
  const registry = new SchemaRegistry({ host, auth: { username, password } })
  const subject = `node-orders-${randomUUID().slice(0, 8)}-value`
  const { id } = await registry.register(
    { type: SchemaType.JSON, schema: JSON.stringify(schema) },
    { subject },
  )
  assert.ok(Number.isInteger(id) && id > 0)
  assert.equal(await registry.getLatestSchemaId(subject), id)
})

test('a wrong password is an authentication error', async () => {
  const wrong = `accord_${'0'.repeat(16)}_${'0'.repeat(64)}`
  const registry = new SchemaRegistry({ host, auth: { username, password: wrong } })
  await assert.rejects(registry.getLatestSchemaId('anything-value'), (error) => {
    assert.match(`${error.status} ${error.message}`, /401|40101|[Uu]nauthori|token/)
    return true
  })
})
