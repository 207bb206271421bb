"""graph_models/segment.py and app/intake/normalize.py: validation, preparation, skew correction, codec."""

from __future__ import annotations

import json

import pytest

from app.errors import InvalidEvent, PermanentError
from app.intake.normalize import (
    EventValidationError,
    content_message_id,
    decode,
    encode,
    epoch_ms,
    prepare,
    validate,
)
from graph_models.segment import (
    MAX_EVENT_BYTES,
    Alias,
    FieldError,
    Group,
    Identify,
    Page,
    Screen,
    Track,
    adjust_timestamp,
    field_errors,
)
from tests.unit.helpers import MINUTE_MS, T0_MS, event, iso, raw, utc

HOUR_MS = 60 * MINUTE_MS


def fields_of(exc: pytest.ExceptionInfo[EventValidationError]) -> set[str]:
    return {e.field for e in exc.value.errors}


def invalid(data: object, *, prefix: str = "") -> pytest.ExceptionInfo[EventValidationError]:
    with pytest.raises(EventValidationError) as exc:
        validate(prepare(data, received_at_ms=T0_MS, default_message_id="m-1", prefix=prefix), prefix=prefix)
    return exc


# --- the six call types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "model"),
    [
        (raw("track", userId="u1", event="Signed Up", properties={"plan": "pro"}), Track),
        (raw("identify", userId="u1", traits={"email": "a@b.c"}), Identify),
        (raw("page", anonymousId="a1", name="Pricing", category="Docs"), Page),
        (raw("screen", anonymousId="a1", name="Home"), Screen),
        (raw("group", userId="u1", groupId="acme", traits={"name": "Acme"}), Group),
        (raw("alias", userId="u1", previousId="a1"), Alias),
    ],
)
def test_each_call_type_validates(payload: dict[str, object], model: type) -> None:
    ev = validate(prepare(payload, received_at_ms=T0_MS, default_message_id="m-1"))
    assert isinstance(ev, model)
    assert ev.type == payload["type"]
    assert ev.messageId == "m-1"
    assert epoch_ms(ev.timestamp) == T0_MS


def test_track_fields_are_kept() -> None:
    ev = event("track", userId="u1", event="  Signed Up ", properties={"plan": "pro"})
    assert isinstance(ev, Track)
    assert ev.event == "Signed Up"  # whitespace stripped
    assert ev.properties == {"plan": "pro"}
    assert ev.partition_key == "u1"


def test_partition_key_falls_back_to_anonymous_id() -> None:
    assert event("track", anonymousId="a1", event="E").partition_key == "a1"


def test_unknown_top_level_keys_are_ignored() -> None:
    ev = event("track", userId="u1", event="E", _metadata={"nameHints": []}, channel="server", version=2)
    assert not hasattr(ev, "_metadata") and not hasattr(ev, "channel")


def test_track_requires_event_name() -> None:
    assert fields_of(invalid(raw("track", userId="u1"))) == {"event"}
    assert fields_of(invalid(raw("track", userId="u1", event="   "))) == {"event"}


def test_unknown_type_is_rejected_naming_type() -> None:
    assert fields_of(invalid(raw("nope", userId="u1"))) == {"type"}
    assert fields_of(invalid(raw("nope", userId="u1"), prefix="batch.3")) == {"batch.3.type"}


def test_missing_type_without_endpoint_names_type() -> None:
    assert fields_of(invalid({"userId": "u1", "event": "E"})) == {"type"}


# --- identities ---------------------------------------------------------------------------------------


def test_missing_both_ids_names_user_id() -> None:
    exc = invalid(raw("track", event="E"))
    assert [e.field for e in exc.value.errors] == ["userId"]
    assert exc.value.field == "userId"
    assert "userId or anonymousId" in exc.value.errors[0].message


def test_missing_both_ids_with_prefix() -> None:
    exc = invalid(raw("track", event="E"), prefix="batch.2")
    assert [e.field for e in exc.value.errors] == ["batch.2.userId"]


def test_blank_ids_count_as_missing_values() -> None:
    exc = invalid(raw("track", event="E", userId="   "))
    assert "userId" in fields_of(exc)


@pytest.mark.parametrize("type_", ["track", "identify", "page", "screen", "group"])
def test_anonymous_id_alone_is_enough(type_: str) -> None:
    extra: dict[str, object] = {"event": "E"} if type_ == "track" else {}
    if type_ == "group":
        extra["groupId"] = "g"
    ev = validate(prepare(raw(type_, anonymousId="a1") | extra, received_at_ms=T0_MS, default_message_id="m"))
    assert ev.anonymousId == "a1" and ev.userId is None


def test_numeric_ids_are_coerced_to_strings() -> None:
    ev = event("track", userId=42, anonymousId=7, event="E")
    assert ev.userId == "42" and ev.anonymousId == "7"
    grp = event("group", userId=1, groupId=99)
    assert isinstance(grp, Group) and grp.groupId == "99"
    alias = event("alias", userId=5, previousId=6)
    assert isinstance(alias, Alias) and alias.userId == "5" and alias.previousId == "6"


@pytest.mark.parametrize("field", ["userId", "anonymousId"])
def test_boolean_ids_are_rejected(field: str) -> None:
    exc = invalid(raw("track", event="E", **{field: True}))
    assert field in fields_of(exc)


def test_boolean_group_and_previous_ids_are_rejected() -> None:
    assert "groupId" in fields_of(invalid(raw("group", userId="u", groupId=False)))
    assert "previousId" in fields_of(invalid(raw("alias", userId="u", previousId=True)))


def test_alias_requires_previous_id_and_user_id() -> None:
    assert fields_of(invalid(raw("alias", userId="u1"))) == {"previousId"}
    # alias needs a userId even when an anonymousId is present
    assert "userId" in fields_of(invalid(raw("alias", anonymousId="a1", previousId="p")))
    assert {"userId", "previousId"} <= fields_of(invalid(raw("alias", anonymousId="a1")))


def test_group_requires_group_id() -> None:
    exc = invalid(raw("group", userId="u1"), prefix="batch.1")
    assert fields_of(exc) == {"batch.1.groupId"}


def test_identify_takes_traits_from_context_when_top_level_absent() -> None:
    ev = event("identify", userId="u1", context={"traits": {"email": "a@b.c"}, "ip": "1.2.3.4"})
    assert isinstance(ev, Identify)
    assert ev.traits == {"email": "a@b.c"}
    assert ev.context["ip"] == "1.2.3.4"


def test_identify_top_level_traits_win_over_context_traits() -> None:
    ev = event("identify", userId="u1", traits={"name": "Top"}, context={"traits": {"name": "Ctx"}})
    assert isinstance(ev, Identify) and ev.traits == {"name": "Top"}


def test_identify_without_any_traits() -> None:
    ev = event("identify", userId="u1", context={"traits": "not a dict"})
    assert isinstance(ev, Identify) and ev.traits == {}


# --- timestamps ---------------------------------------------------------------------------------------


def test_naive_timestamp_is_rejected() -> None:
    exc = invalid(raw("identify", userId="u", ts_ms=None, timestamp="2026-03-01T10:00:00"))
    assert fields_of(exc) == {"timestamp"}
    assert exc.value.field == "timestamp"


def test_naive_timestamp_is_rejected_with_prefix() -> None:
    exc = invalid(
        raw("track", userId="u", event="E", ts_ms=None, timestamp="2026-03-01T10:00:00"), prefix="batch.0"
    )
    assert fields_of(exc) == {"batch.0.timestamp"}


@pytest.mark.parametrize("field", ["sentAt", "originalTimestamp"])
def test_other_naive_times_are_rejected(field: str) -> None:
    exc = invalid(raw("track", userId="u", event="E") | {field: "2026-03-01T10:00:00"})
    assert fields_of(exc) == {field}


def test_offset_timestamps_are_accepted() -> None:
    ev = event("track", userId="u", event="E", ts_ms=None, timestamp="2026-01-01T01:00:00+01:00")
    assert epoch_ms(ev.timestamp) == T0_MS


def test_validation_errors_are_permanent_invalid_events() -> None:
    exc = invalid(raw("track", event="E"))
    assert isinstance(exc.value, InvalidEvent) and isinstance(exc.value, PermanentError)
    assert exc.value.retryable is False
    assert "userId" in str(exc.value)


def test_several_problems_are_all_reported() -> None:
    exc = invalid(raw("group", ts_ms=None, timestamp="2026-01-01T00:00:00"))
    assert {"groupId", "timestamp"} <= fields_of(exc)


# --- prepare() ----------------------------------------------------------------------------------------


def test_prepare_fills_message_id_received_at_and_timestamp() -> None:
    out = prepare(
        {"type": "track", "userId": "u", "event": "E"}, received_at_ms=T0_MS, default_message_id="m-9"
    )
    assert out["messageId"] == "m-9"
    assert out["receivedAt"] == iso(T0_MS) == "2026-01-01T00:00:00.000Z"
    assert out["timestamp"] == out["receivedAt"]
    assert out["originalTimestamp"] == out["receivedAt"]  # server time: nothing left to correct


def test_prepare_does_not_override_the_sender() -> None:
    data = {
        "type": "track",
        "userId": "u",
        "event": "E",
        "messageId": "mine",
        "receivedAt": iso(T0_MS - 5),
        "timestamp": iso(T0_MS - 10),
    }
    out = prepare(data, received_at_ms=T0_MS, default_message_id="m-9")
    assert out["messageId"] == "mine"
    assert out["receivedAt"] == iso(T0_MS - 5)
    assert out["timestamp"] == iso(T0_MS - 10)


def test_prepare_does_not_mutate_its_input() -> None:
    data = {"userId": "u", "event": "E"}
    prepare(
        data, received_at_ms=T0_MS, default_message_id="m", expected_type="track", defaults={"context": {}}
    )
    assert data == {"userId": "u", "event": "E"}


def test_prepare_uses_original_timestamp_when_timestamp_missing() -> None:
    out = prepare(
        {
            "type": "track",
            "userId": "u",
            "event": "E",
            "originalTimestamp": iso(T0_MS - 60_000),
            "timestamp": None,
        },
        received_at_ms=T0_MS,
        default_message_id="m",
    )
    assert out["timestamp"] == iso(T0_MS - 60_000)


def test_prepare_sets_expected_type_when_absent() -> None:
    out = prepare(
        {"userId": "u", "event": "E"}, received_at_ms=T0_MS, default_message_id="m", expected_type="track"
    )
    assert out["type"] == "track"
    assert isinstance(validate(out), Track)


def test_prepare_rejects_wrong_type_for_endpoint() -> None:
    with pytest.raises(EventValidationError) as exc:
        prepare(
            {"type": "track", "userId": "u", "event": "x"},
            received_at_ms=T0_MS,
            default_message_id="m",
            expected_type="page",
        )
    assert exc.value.field == "type"
    assert [e.field for e in exc.value.errors] == ["type"]
    assert "'page'" in exc.value.errors[0].message


def test_prepare_wrong_type_names_prefixed_field() -> None:
    with pytest.raises(EventValidationError) as exc:
        prepare(
            {"type": "track", "userId": "u", "event": "x"},
            received_at_ms=T0_MS,
            default_message_id="m",
            expected_type="identify",
            prefix="batch.2",
        )
    assert exc.value.field == "batch.2.type"


def test_prepare_rejects_non_objects() -> None:
    for bad in (["a"], "x", 3, None):
        with pytest.raises(EventValidationError) as exc:
            prepare(bad, received_at_ms=T0_MS, default_message_id="m")
        assert exc.value.field == "body"
    with pytest.raises(EventValidationError) as exc:
        prepare([], received_at_ms=T0_MS, default_message_id="m", prefix="batch.4")
    assert exc.value.field == "batch.4"


def test_prepare_defaults_fill_only_missing_keys() -> None:
    defaults = {"context": {"library": {"name": "sdk"}}, "sentAt": iso(T0_MS)}
    out = prepare(
        {"type": "track", "userId": "u", "event": "E", "context": {"ip": "x"}},
        received_at_ms=T0_MS,
        default_message_id="m",
        defaults=defaults,
    )
    assert out["context"] == {"ip": "x"}
    assert out["sentAt"] == iso(T0_MS)


# --- validate(): clock-skew correction ----------------------------------------------------------------


def test_validate_applies_clock_skew_once() -> None:
    # The device clock is one hour behind: it stamped T0-1h and sent at T0-1h+2s; we got it at T0+2s.
    device_ts = T0_MS - HOUR_MS
    ev = event(
        "track",
        userId="u",
        event="E",
        ts_ms=device_ts,
        sentAt=iso(device_ts + 2000),
        received_at_ms=T0_MS + 2000,
    )
    assert epoch_ms(ev.timestamp) == T0_MS
    assert ev.originalTimestamp is not None and epoch_ms(ev.originalTimestamp) == device_ts
    assert epoch_ms(ev.sentAt) == device_ts + 2000  # type: ignore[arg-type]


def test_validate_without_sent_at_keeps_timestamp() -> None:
    ev = event("track", userId="u", event="E", ts_ms=T0_MS - 5000, received_at_ms=T0_MS)
    assert epoch_ms(ev.timestamp) == T0_MS - 5000
    assert ev.originalTimestamp == ev.timestamp


def test_validate_does_not_readjust_an_already_corrected_event() -> None:
    device_ts = T0_MS - HOUR_MS
    first = event(
        "track",
        userId="u",
        event="E",
        ts_ms=device_ts,
        sentAt=iso(device_ts + 2000),
        received_at_ms=T0_MS + 2000,
    )
    # The consumer re-validates what the HTTP path produced (receivedAt now present in the payload).
    data = json.loads(encode(first))
    again = validate(prepare(data, received_at_ms=T0_MS + 10 * MINUTE_MS, default_message_id="other"))
    assert again.timestamp == first.timestamp
    assert again.originalTimestamp == first.originalTimestamp
    assert again.receivedAt == first.receivedAt
    # and validating the model's own dump is a fixed point too
    assert validate(first.model_dump()).timestamp == first.timestamp


def test_validate_skips_correction_when_sender_gives_original_timestamp() -> None:
    ev = event(
        "track",
        userId="u",
        event="E",
        ts_ms=T0_MS,
        originalTimestamp=iso(T0_MS - HOUR_MS),
        sentAt=iso(T0_MS - HOUR_MS),
        received_at_ms=T0_MS,
    )
    assert epoch_ms(ev.timestamp) == T0_MS


def test_missing_timestamp_with_sent_at_is_received_at() -> None:
    """Without a device timestamp the server time is used as is: the client's skew must not shift it."""
    ev = event("track", userId="u", event="E", ts_ms=None, sentAt=iso(T0_MS - HOUR_MS), received_at_ms=T0_MS)
    assert epoch_ms(ev.timestamp) == T0_MS
    again = decode(encode(ev), received_at_ms=T0_MS + MINUTE_MS)
    assert again.timestamp == ev.timestamp


def test_adjust_timestamp() -> None:
    assert adjust_timestamp(utc(1000), None, utc(5000)) == utc(1000)
    assert adjust_timestamp(utc(1000), utc(2000), utc(5000)) == utc(4000)
    assert adjust_timestamp(utc(1000), utc(9000), utc(5000)) == utc(-3000)


# --- decode() / encode() ------------------------------------------------------------------------------


def _bytes(data: object) -> bytes:
    return json.dumps(data).encode()


def test_decode_valid_event() -> None:
    ev = decode(
        _bytes({"type": "track", "userId": "u", "event": "E", "messageId": "m-1"}), received_at_ms=T0_MS
    )
    assert isinstance(ev, Track) and ev.messageId == "m-1"
    assert epoch_ms(ev.receivedAt) == T0_MS
    assert epoch_ms(ev.timestamp) == T0_MS


@pytest.mark.parametrize("payload", [b"{not json", b"\xff\xfe\x00", b""])
def test_decode_rejects_non_json(payload: bytes) -> None:
    with pytest.raises(EventValidationError) as exc:
        decode(payload, received_at_ms=T0_MS)
    assert exc.value.field == "body"
    assert "JSON" in str(exc.value)


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"text"', b"3", b"null"])
def test_decode_rejects_non_objects(payload: bytes) -> None:
    with pytest.raises(EventValidationError) as exc:
        decode(payload, received_at_ms=T0_MS)
    assert exc.value.field == "body"


def test_decode_rejects_none() -> None:
    with pytest.raises(EventValidationError) as exc:
        decode(None, received_at_ms=T0_MS)
    assert exc.value.field == "body"


def test_decode_rejects_too_big() -> None:
    data = {"type": "track", "userId": "u", "event": "E", "properties": {"blob": ""}}
    base = len(_bytes(data))
    data["properties"] = {"blob": "x" * (MAX_EVENT_BYTES - base + 1)}
    payload = _bytes(data)
    assert len(payload) == MAX_EVENT_BYTES + 1
    with pytest.raises(EventValidationError) as exc:
        decode(payload, received_at_ms=T0_MS)
    assert exc.value.field == "body"
    assert str(MAX_EVENT_BYTES) in str(exc.value)
    # exactly at the limit is fine
    data["properties"] = {"blob": "x" * (MAX_EVENT_BYTES - base)}
    assert len(_bytes(data)) == MAX_EVENT_BYTES
    assert decode(_bytes(data), received_at_ms=T0_MS).messageId.startswith("sha256-")


def test_decode_reports_field_errors() -> None:
    with pytest.raises(EventValidationError) as exc:
        decode(_bytes({"type": "group", "userId": "u"}), received_at_ms=T0_MS)
    assert exc.value.field == "groupId"


def test_decode_without_message_id_uses_content_hash() -> None:
    payload = _bytes({"type": "track", "userId": "u", "event": "E"})
    first = decode(payload, received_at_ms=T0_MS)
    second = decode(payload, received_at_ms=T0_MS + 1000)
    assert first.messageId == second.messageId == content_message_id(payload)
    assert first.messageId.startswith("sha256-")
    assert len(first.messageId) == len("sha256-") + 32
    other = decode(_bytes({"type": "track", "userId": "u", "event": "F"}), received_at_ms=T0_MS)
    assert other.messageId != first.messageId


def test_content_message_id_is_deterministic() -> None:
    assert content_message_id(b"abc") == content_message_id(b"abc")
    assert content_message_id(b"abc") != content_message_id(b"abd")


def test_encode_decode_round_trip() -> None:
    device_ts = T0_MS - HOUR_MS + 123
    ev = event(
        "identify",
        userId="u",
        anonymousId="a",
        traits={"n": 1},
        ts_ms=device_ts,
        sentAt=iso(device_ts + 500),
        received_at_ms=T0_MS,
        message_id="m-rt",
        context={"ip": "1.2.3.4"},
    )
    back = decode(encode(ev), received_at_ms=T0_MS + 5 * MINUTE_MS)
    assert back.messageId == "m-rt"
    assert back.timestamp == ev.timestamp
    assert back.originalTimestamp == ev.originalTimestamp
    assert back.receivedAt == ev.receivedAt
    assert back == ev


def test_encode_round_trips_content_hash_id() -> None:
    ev = decode(_bytes({"type": "page", "anonymousId": "a", "name": "Home"}), received_at_ms=T0_MS)
    back = decode(encode(ev), received_at_ms=T0_MS + 1)
    assert back.messageId == ev.messageId
    assert back.timestamp == ev.timestamp


def test_encode_omits_none() -> None:
    ev = event("track", userId="u", event="E")
    data = json.loads(encode(ev))
    assert "anonymousId" not in data and "sentAt" not in data
    assert data["type"] == "track" and data["messageId"] == "m-default"


def test_epoch_ms_is_exact_for_milliseconds() -> None:
    for ms in (T0_MS, T0_MS + 1, T0_MS + 999, T0_MS + 123_457, 1_700_000_000_001):
        assert epoch_ms(utc(ms)) == ms


# --- field_errors -------------------------------------------------------------------------------------


def test_field_errors_drop_type_tags_and_add_prefix() -> None:
    from pydantic import ValidationError

    from graph_models.segment import parse_event

    with pytest.raises(ValidationError) as exc:
        parse_event(
            {
                "type": "group",
                "userId": "u",
                "messageId": "m",
                "timestamp": iso(T0_MS),
                "receivedAt": iso(T0_MS),
            }
        )
    errors = field_errors(exc.value, "batch.7")
    assert errors == [FieldError(field="batch.7.groupId", message=errors[0].message)]


def test_clock_skew_overflow_is_a_field_error_not_a_crash() -> None:
    data = {"type": "track", "userId": "u", "event": "e", "timestamp": "9999-12-31T23:59:59Z",
            "sentAt": "2000-01-01T00:00:00Z"}
    with pytest.raises(EventValidationError) as info:
        validate(prepare(data, received_at_ms=1_795_000_000_000, default_message_id="m"))
    assert info.value.field == "timestamp"
