"""app/intake/rows.py: traits and Event properties as graph-storable maps."""

from __future__ import annotations

import json

from app.intake.normalize import epoch_ms
from app.intake.rows import RESERVED_ACCOUNT_KEYS, RESERVED_PERSON_KEYS, event_props, flatten_traits, to_json
from tests.unit.helpers import MINUTE_MS, T0_MS, event, iso


def test_flatten_keeps_primitives() -> None:
    traits = {"name": "Bo", "age": 41, "score": 2.5, "vip": True, "off": False, "zero": 0}
    assert flatten_traits(traits) == traits


def test_flatten_keeps_homogeneous_lists() -> None:
    traits = {"tags": ["a", "b"], "ids": [1, 2, 3], "ws": [0.5, 1.5], "flags": [True, False]}
    assert flatten_traits(traits) == traits


def test_flatten_json_encodes_nested_and_mixed_values() -> None:
    out = flatten_traits(
        {
            "address": {"city": "Oslo", "zip": "0150"},
            "mixed": [1, "a"],
            "nums": [1, 2.5],
            "withnull": ["a", None],
            "nested": [{"a": 1}],
            "lists": [[1], [2]],
            "empty": [],
        }
    )
    assert out["address"] == '{"city":"Oslo","zip":"0150"}'
    assert json.loads(out["address"]) == {"city": "Oslo", "zip": "0150"}
    assert json.loads(out["mixed"]) == [1, "a"]
    assert json.loads(out["nums"]) == [1, 2.5]
    assert json.loads(out["withnull"]) == ["a", None]
    assert json.loads(out["nested"]) == [{"a": 1}]
    assert json.loads(out["lists"]) == [[1], [2]]
    assert out["empty"] == "[]"
    assert all(isinstance(v, str) for v in out.values())


def test_flatten_keeps_none_to_clear_a_trait() -> None:
    assert flatten_traits({"plan": None, "name": "x"}) == {"plan": None, "name": "x"}


def test_flatten_renames_reserved_person_keys() -> None:
    traits = {key: "v" for key in RESERVED_PERSON_KEYS} | {"email": "e"}
    out = flatten_traits(traits)
    assert out == {f"trait_{key}": "v" for key in RESERVED_PERSON_KEYS} | {"email": "e"}


def test_flatten_reserved_account_keys() -> None:
    out = flatten_traits({"groupId": "g", "userId": "u", "name": "Acme"}, RESERVED_ACCOUNT_KEYS)
    assert out == {"trait_groupId": "g", "userId": "u", "name": "Acme"}


def test_flatten_empty() -> None:
    assert flatten_traits({}) == {}


def test_to_json_is_canonical() -> None:
    assert to_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'


def test_event_props_common_fields_and_no_none() -> None:
    ev = event(
        "track",
        userId="u1",
        event="Signed Up",
        ts_ms=T0_MS + 1234,
        received_at_ms=T0_MS + 5000,
        message_id="m-1",
    )
    props = event_props(ev)
    assert props["messageId"] == "m-1"
    assert props["type"] == "track"
    assert props["userId"] == "u1"
    assert props["event"] == "Signed Up"
    assert props["timestampMs"] == T0_MS + 1234 and type(props["timestampMs"]) is int
    assert props["timestamp"] == iso(T0_MS + 1234) == "2026-01-01T00:00:01.234Z"
    assert props["timestamp"].endswith("Z")
    assert props["receivedAtMs"] == T0_MS + 5000 and type(props["receivedAtMs"]) is int
    assert props["receivedAt"] == "2026-01-01T00:00:05.000Z"
    assert None not in props.values()
    for absent in ("anonymousId", "sentAt", "context", "integrations", "properties", "traits", "name"):
        assert absent not in props


def test_event_props_timestamp_is_utc_z_even_for_offset_input() -> None:
    ev = event("track", userId="u", event="E", ts_ms=None, timestamp="2026-01-01T02:00:00.500+02:00")
    props = event_props(ev)
    assert props["timestamp"] == "2026-01-01T00:00:00.500Z"
    assert props["timestampMs"] == T0_MS + 500


def test_event_props_track_properties_are_a_json_string() -> None:
    ev = event(
        "track",
        userId="u",
        event="Bought",
        properties={"price": 9.5, "items": [{"sku": "a"}]},
        context={"ip": "1.2.3.4"},
        integrations={"All": True},
        sentAt=iso(T0_MS),
    )
    props = event_props(ev)
    assert isinstance(props["properties"], str)
    assert json.loads(props["properties"]) == {"price": 9.5, "items": [{"sku": "a"}]}
    assert json.loads(props["context"]) == {"ip": "1.2.3.4"}
    assert json.loads(props["integrations"]) == {"All": True}
    assert "sentAt" in props and "originalTimestamp" in props


def test_event_props_skew_corrected_times() -> None:
    ev = event(
        "track",
        userId="u",
        event="E",
        ts_ms=T0_MS - 60 * MINUTE_MS,
        sentAt=iso(T0_MS - 60 * MINUTE_MS),
        received_at_ms=T0_MS,
    )
    props = event_props(ev)
    assert props["timestampMs"] == T0_MS == epoch_ms(ev.timestamp)
    assert props["originalTimestamp"].startswith("2025-12-31T23:00:00")


def test_event_props_page_and_screen() -> None:
    page = event_props(
        event("page", anonymousId="a", name="Pricing", category="Docs", properties={"path": "/p"})
    )
    assert page["name"] == "Pricing" and page["category"] == "Docs"
    assert json.loads(page["properties"]) == {"path": "/p"}
    assert page["anonymousId"] == "a" and "userId" not in page
    screen = event_props(event("screen", anonymousId="a"))
    assert "name" not in screen and "category" not in screen and "properties" not in screen


def test_event_props_identify_group_alias() -> None:
    ident = event_props(event("identify", userId="u", traits={"email": "e"}))
    assert json.loads(ident["traits"]) == {"email": "e"}
    assert "event" not in ident
    group = event_props(event("group", userId="u", groupId="acme", traits={"name": "Acme"}))
    assert group["groupId"] == "acme" and json.loads(group["traits"]) == {"name": "Acme"}
    alias = event_props(event("alias", userId="u", previousId="old"))
    assert alias["previousId"] == "old" and alias["type"] == "alias"
    assert "traits" not in event_props(event("identify", userId="u"))
