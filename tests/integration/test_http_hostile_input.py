"""Hostile and odd bodies: the intake answers 4xx naming the problem, never 5xx, and produces nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from neo4j import Driver

from app.settings import Settings
from tests.integration.support import api_client, read_topic

pytestmark = pytest.mark.integration

BAD_BODIES: list[bytes] = [
    b"[" * 10_000 + b"]" * 10_000,                      # deep nesting
    b'{"userId": "u", "event": "e", "properties": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}",
    b"\xff\xfe not utf-8",
    b"null",
    b'"a string"',
    b"",
    b'{"userId": "u", "event": "e", "timestamp": "not a date"}',
    b'{"userId": "u", "event": "e", "timestamp": 12345678901234567890}',
    b'{"userId": "u", "event": "e", "timestamp": "9999-12-31T23:59:59Z", "sentAt": "1970-01-01T00:00:00Z"}',
    b'{"userId": ["u"], "event": "e"}',
    b'{"userId": true, "event": "e"}',
    b'{"userId": "u", "event": {"x": 1}}',
    b'{"userId": "u", "event": ""}',
    b'{"userId": "u", "event": "e", "properties": [1, 2]}',
    b'{"userId": "u", "event": "e", "context": "nope"}',
    b'{"anonymousId": "   ", "event": "e"}',
    b'{"userId": "u\\u0000x", "event": "e", "messageId": ""}',
]


def _bodies_for_batch() -> list[Any]:
    return [{"batch": []}, {"batch": "x"}, {"batch": [None]}, {"batch": [[]]}, {"batch": [{"type": None}]},
            {"batch": [{"type": "track", "userId": "u", "event": "e"}], "sentAt": "yesterday"}]


def test_no_hostile_body_gets_a_server_error(settings: Settings, graph: Driver) -> None:
    with api_client(settings, graph) as client:
        for body in BAD_BODIES:
            for route in ("/v1/track", "/v1/batch"):
                response = client.post(route, content=body, headers={"content-type": "application/json"})
                assert 400 <= response.status_code < 500, (route, body[:60], response.status_code, response.text)
                assert response.json()["success"] is False
        for batch in _bodies_for_batch():
            response = client.post("/v1/batch", json=batch)
            assert response.status_code == 400, (batch, response.text)
            assert response.json()["field"]
        gz = client.post("/v1/track", content=b"\x1f\x8b garbage", headers={"content-encoding": "gzip"})
        assert gz.status_code == 400
    assert read_topic(settings, settings.events_topic, expected=1, timeout=4) == []


def test_odd_but_valid_values_are_accepted(settings: Settings, graph: Driver) -> None:
    with api_client(settings, graph) as client:
        for body in ({"userId": 42, "event": "Numeric id"}, {"userId": "ü-ñ-日本", "event": "Ünïcödé 🎉"},
                     {"userId": "u", "event": "e", "properties": None, "context": None}):
            response = client.post("/v1/track", content=json.dumps(body))
            assert response.status_code == 200, (body, response.text)
