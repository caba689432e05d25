"""The real Python client against an `accord serve` that needs a token: with
`basic.auth.user.info` = `<token name>:<token>` (ACCORD_USER_INFO) it registers and
reads; with a wrong password it gets Confluent's authentication error (40101)."""

import json
import os
import uuid

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

URL = os.environ["ACCORD_URL"]
USER_INFO = os.environ["ACCORD_USER_INFO"]
NAME = USER_INFO.split(":", 1)[0]
WRONG = NAME + ":accord_" + "0" * 16 + "_" + "0" * 64

ORDER = {"type": "object", "properties": {"id": {"type": "string"}}}


def test_basic_auth_with_the_token_registers_and_reads():
    client = SchemaRegistryClient({"url": URL, "basic.auth.user.info": USER_INFO})
    subject = f"orders-{uuid.uuid4().hex[:8]}-value"
    schema_id = client.register_schema(subject, Schema(json.dumps(ORDER), "JSON"))
    assert json.loads(client.get_schema(schema_id).schema_str) == ORDER
    assert subject in client.get_subjects()


def test_a_wrong_password_is_an_authentication_error():
    client = SchemaRegistryClient({"url": URL, "basic.auth.user.info": WRONG})
    with pytest.raises(SchemaRegistryError) as refused:
        client.get_subjects()
    assert refused.value.http_status_code == 401
    assert refused.value.error_code == 40101


def test_no_credential_is_an_authentication_error():
    client = SchemaRegistryClient({"url": URL})
    with pytest.raises(SchemaRegistryError) as refused:
        client.get_subjects()
    assert refused.value.http_status_code == 401
