"""Tombstone keys and the ingest split (pure): events naming an erased identity are dropped."""

from __future__ import annotations

from typing import Any

from app.intake.normalize import validate as parse_event
from app.privacy.erase import ref_identity_key, subject_hash
from app.privacy.tombstones import event_keys, split_tombstoned, tombstone_key


def event(**fields: Any) -> Any:
    body = {"type": "track", "event": "X", "messageId": fields.pop("messageId", "m1"),
            "timestamp": "2026-03-01T10:00:00Z", "receivedAt": "2026-03-01T10:00:00Z", **fields}
    return parse_event(body)


def test_keys_are_hashes_of_identity_keys() -> None:
    key = tombstone_key("userId:ann")
    assert key.startswith("sha256:") and "ann" not in key and len(key) == 7 + 64
    assert tombstone_key("userId:ann") != tombstone_key("anonymousId:ann")
    assert subject_hash("p1").startswith("sha256:") and "p1" not in subject_hash("p1")


def test_event_keys_cover_user_anonymous_and_alias_previous_id() -> None:
    assert event_keys(event(userId="ann", anonymousId="a1")) == [tombstone_key("userId:ann"),
                                                                 tombstone_key("anonymousId:a1")]
    alias = parse_event({"type": "alias", "messageId": "m2", "userId": "new", "previousId": "ann",
                         "timestamp": "2026-03-01T10:00:00Z", "receivedAt": "2026-03-01T10:00:00Z"})
    assert tombstone_key("userId:ann") in event_keys(alias) and tombstone_key("anonymousId:ann") in event_keys(alias)


def test_split_drops_any_event_naming_a_tombstoned_identity() -> None:
    events = [event(messageId="1", userId="ann"), event(messageId="2", anonymousId="x", userId="bob"),
              event(messageId="3", userId="cy", anonymousId="ann-device")]
    kept, dropped = split_tombstoned(events, {tombstone_key("userId:ann"), tombstone_key("anonymousId:ann-device")})
    assert [e.messageId for e in kept] == ["2"] and dropped == ["1", "3"]
    assert split_tombstoned(events, set()) == (events, [])


def test_ref_identity_keys() -> None:
    assert ref_identity_key("ann") == "userId:ann"
    assert ref_identity_key("anonymousId:a1") == "anonymousId:a1"
    assert ref_identity_key("personId:p1") is None
