"""The real Python client (confluent-kafka's SchemaRegistryClient and its JSON Schema
serde) against a running `accord serve`, whose URL is in ACCORD_URL."""

import json
import os
import uuid

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

URL = os.environ["ACCORD_URL"]

ORDER = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Order",
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "amount": {"type": "number", "minimum": 0},
    },
    "required": ["id", "amount"],
    "additionalProperties": False,
}

# A compatible evolution: an optional property added to a closed object.
ORDER_V2 = {
    **ORDER,
    "properties": {**ORDER["properties"], "note": {"type": "string"}},
}

# A breaking one: `amount` changes type.
ORDER_BROKEN = {
    **ORDER,
    "properties": {"id": {"type": "string"}, "amount": {"type": "string"}},
}


def json_schema(doc):
    return Schema(json.dumps(doc), "JSON")


@pytest.fixture
def client():
    return SchemaRegistryClient({"url": URL})


@pytest.fixture
def subject():
    return f"orders-{uuid.uuid4().hex[:8]}-value"


def test_register_get_by_id_latest_and_version(client, subject):
    schema_id = client.register_schema(subject, json_schema(ORDER))
    fetched = client.get_schema(schema_id)
    assert fetched.schema_type == "JSON"
    assert json.loads(fetched.schema_str) == ORDER
    # The text comes back as first submitted: key order kept, nothing added.
    assert list(json.loads(fetched.schema_str)) == list(ORDER)

    latest = client.get_latest_version(subject)
    assert (latest.schema_id, latest.version, latest.subject) == (schema_id, 1, subject)
    v2_id = client.register_schema(subject, json_schema(ORDER_V2))
    assert v2_id != schema_id
    # The client caches `latest`; a fresh one asks the server.
    assert SchemaRegistryClient({"url": URL}).get_latest_version(subject).version == 2
    first = client.get_version(subject, 1)
    assert (first.schema_id, json.loads(first.schema.schema_str)) == (schema_id, ORDER)
    assert client.get_versions(subject) == [1, 2]
    assert subject in client.get_subjects()


def test_re_registering_is_idempotent_and_ids_are_shared_across_subjects(client, subject):
    schema_id = client.register_schema(subject, json_schema(ORDER))
    client.register_schema(subject, json_schema(ORDER_V2))
    # Version 1's text again: the existing id, no new version.
    fresh = SchemaRegistryClient({"url": URL})
    assert fresh.register_schema(subject, json_schema(ORDER)) == schema_id
    assert fresh.get_versions(subject) == [1, 2]
    other = subject + "-copy"
    assert fresh.register_schema(other, json_schema(ORDER)) == schema_id


def test_lookup_finds_the_registered_version_and_misses_others(client, subject):
    schema_id = client.register_schema(subject, json_schema(ORDER))
    found = client.lookup_schema(subject, json_schema(ORDER))
    assert (found.schema_id, found.version) == (schema_id, 1)
    with pytest.raises(SchemaRegistryError) as missing:
        client.lookup_schema(subject, json_schema(ORDER_V2))
    assert missing.value.http_status_code == 404
    assert missing.value.error_code == 40403


def test_compatibility_is_tested_and_incompatible_registration_is_refused(client, subject):
    client.register_schema(subject, json_schema(ORDER))
    assert client.test_compatibility(subject, json_schema(ORDER_V2)) is True
    assert client.test_compatibility(subject, json_schema(ORDER_BROKEN)) is False
    assert client.test_compatibility(subject, json_schema(ORDER_BROKEN), version=1) is False
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, json_schema(ORDER_BROKEN))
    assert refused.value.http_status_code == 409
    assert refused.value.error_code == 40901


def test_compatibility_is_set_and_read_per_subject_and_globally(client, subject):
    client.register_schema(subject, json_schema(ORDER))
    # The client returns the server's echo, which names the level `compatibility`.
    assert client.set_compatibility(subject_name=subject, level="NONE") == {"compatibility": "NONE"}
    assert client.get_compatibility(subject) == "NONE"
    # Under NONE the breaking change is accepted.
    client.register_schema(subject, json_schema(ORDER_BROKEN))
    assert client.get_latest_version(subject).version == 2

    assert client.get_compatibility() == "BACKWARD"
    try:
        assert client.set_compatibility(level="FULL") == {"compatibility": "FULL"}
        assert client.get_compatibility() == "FULL"
    finally:
        client.set_compatibility(level="BACKWARD")


def test_soft_then_permanent_delete(client, subject):
    schema_id = client.register_schema(subject, json_schema(ORDER))
    client.register_schema(subject, json_schema(ORDER_V2))
    assert client.delete_version(subject, 2) == 2
    assert client.get_versions(subject) == [1]
    assert client.delete_version(subject, 2, permanent=True) == 2
    assert client.delete_subject(subject) == [1]
    with pytest.raises(SchemaRegistryError) as gone:
        client.get_latest_version(subject)
    assert gone.value.error_code == 40401
    # Still readable by id, so old messages stay decodable.
    assert json.loads(SchemaRegistryClient({"url": URL}).get_schema(schema_id).schema_str) == ORDER
    assert client.delete_subject(subject, permanent=True) == [1]
    with pytest.raises(SchemaRegistryError) as again:
        client.delete_subject(subject)
    assert again.value.error_code == 40401


def test_json_serde_round_trip_through_the_wire_format(client, subject):
    topic = subject.removesuffix("-value")
    ctx = SerializationContext(topic, MessageField.VALUE)
    serializer = JSONSerializer(json.dumps(ORDER), client)
    payload = serializer({"id": "o-1", "amount": 12.5}, ctx)
    assert payload[0] == 0  # magic byte, then the 4-byte schema id
    schema_id = int.from_bytes(payload[1:5], "big")
    assert client.get_latest_version(f"{topic}-value").schema_id == schema_id

    deserializer = JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": URL}))
    assert deserializer(payload, ctx) == {"id": "o-1", "amount": 12.5}

    with pytest.raises(SerializationError):
        serializer({"id": "o-2", "amount": -1}, ctx)  # the schema rejects it
