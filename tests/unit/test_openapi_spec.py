"""The OpenAPI spec documents every Segment body (generated from graph_models/segment.py) and every status."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

import pytest

from app.api.main import create_app
from app.api.services import Services
from app.api.tracking import batch_schema, call_schema
from graph_models.segment import EVENT_TYPES

jsonschema_rs = pytest.importorskip("jsonschema_rs")  # comes with schemathesis (the dev extra)


@cache
def spec() -> dict[str, Any]:
    return create_app(cast(Services, None)).openapi()  # building the spec touches no service


def valid(schema: dict[str, Any], body: object) -> bool:
    return bool(jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(body))


@pytest.mark.parametrize("kind", [*EVENT_TYPES, "batch"])
def test_segment_routes_declare_their_body_and_statuses(kind: str) -> None:
    operation = spec()["paths"][f"/v1/{kind}"]["post"]
    assert operation["requestBody"]["required"] is True
    assert "properties" in operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"200", "400", "401", "413", "500", "503"} <= set(operation["responses"])


def test_what_the_server_fills_in_is_optional() -> None:
    for kind in EVENT_TYPES:
        assert not {"messageId", "timestamp", "receivedAt"} & set(call_schema(kind)["required"])
    assert valid(call_schema("track"), {"userId": "u1", "event": "Signed Up"})
    assert valid(call_schema("identify"), {"anonymousId": "a1", "traits": {"plan": "pro"}})
    assert valid(call_schema("alias"), {"userId": "new", "previousId": "old"})


def test_the_segment_spec_rules_are_in_the_schemas() -> None:
    assert not valid(call_schema("track"), {"userId": "u1"})  # event required
    assert not valid(call_schema("track"), {"event": "E"})  # userId or anonymousId
    assert not valid(call_schema("group"), {"userId": "u1"})  # groupId required
    assert not valid(call_schema("alias"), {"userId": "new"})  # previousId required
    assert not valid(call_schema("page"), {"userId": "u1", "timestamp": "yesterday"})


def test_batch_items_are_any_of_the_six_calls_with_their_type() -> None:
    schema = batch_schema()
    sdk_body = {"batch": [{"type": "track", "userId": "u", "event": "E", "messageId": "m1",
                           "timestamp": "2026-03-01T10:00:00.000Z"},
                          {"type": "identify", "userId": "u", "traits": {"name": "Bo"}}],
                "context": {"library": {"name": "analytics-python"}}, "sentAt": "2026-03-01T10:00:02.000Z"}
    assert valid(schema, sdk_body)
    assert not valid(schema, {"batch": []})
    assert not valid(schema, {"batch": [{"userId": "u", "event": "E"}]})  # no type
    assert not valid(schema, {"batch": [{"type": "nope", "userId": "u"}]})


def test_every_route_documents_its_error_statuses() -> None:
    for path, operations in spec()["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            assert statuses - {"200", "201"}, f"{method.upper()} {path} documents no error status"
            if path.startswith("/v1/"):
                assert "401" in statuses, f"{method.upper()} {path} does not document 401"
