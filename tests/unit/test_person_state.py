"""Person state as pure logic: consent rows from traits and events, time zones, person references."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.decisions.consent import consent_rows, event_channels, truth
from app.decisions.people import parse_ref
from app.decisions.person_state import (
    InvalidPersonState,
    check_channel,
    check_list_id,
    check_reason,
    check_status,
)
from app.decisions.timezones import context_timezone, person_timezone, zone_or_none
from app.intake.normalize import AnyEvent
from app.intake.plan import BatchPlanner
from graph_models.constraints import ConsentMapping, TraitConsentRule
from graph_models.journey import CHANNELS
from tests.unit.helpers import MINUTE_MS, T0_MS, counter, event

MAPPING = ConsentMapping()


def at(minutes: float) -> int:
    return T0_MS + int(minutes * MINUTE_MS)


def identify(mid: str, minutes: float, **traits: Any) -> tuple[AnyEvent, str, int]:
    return (event("identify", ts_ms=at(minutes), message_id=mid, userId="u1", traits=traits), "P1", at(minutes))


def track(mid: str, minutes: float, name: str, person: str = "P1", **props: Any) -> tuple[AnyEvent, str, int]:
    return (event("track", ts_ms=at(minutes), message_id=mid, userId="u1", event=name, properties=props),
            person, at(minutes))


def row(channel: str, status: str, source: str, minutes: float, mid: str, *, marketing_only: bool = False,
        person: str = "P1") -> dict[str, Any]:
    return {"personId": person, "channelId": channel, "status": status, "source": source, "atMs": at(minutes),
            "marketingOnly": marketing_only, "messageId": mid}


# --- traits ---------------------------------------------------------------------------------------------


def test_trait_false_opts_out_and_true_opts_in() -> None:
    rows = consent_rows([identify("m1", 1, email_opt_in=False, sms_opt_in=True, plan="pro")], MAPPING)
    assert rows == [row("email", "opted_out", "trait:email_opt_in", 1, "m1"),
                    row("sms", "opted_in", "trait:sms_opt_in", 1, "m1")]


def test_unsubscribed_true_is_a_marketing_only_email_opt_out_and_false_changes_nothing() -> None:
    assert consent_rows([identify("m1", 1, unsubscribed=True)], MAPPING) == [
        row("email", "opted_out", "trait:unsubscribed", 1, "m1", marketing_only=True)]
    assert consent_rows([identify("m1", 1, unsubscribed=False)], MAPPING) == []


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), (False, False), ("true", True), ("FALSE", False), (" yes ", True), ("no", False), (1, True),
    (0, False), (None, None), ("maybe", None), (2, None), ([], None), ({"a": 1}, None),
])
def test_truth(value: Any, expected: bool | None) -> None:
    assert truth(value) is expected


def test_unreadable_trait_values_change_nothing() -> None:
    assert consent_rows([identify("m1", 1, email_opt_in=None, sms_opt_in="perhaps")], MAPPING) == []


def test_custom_mapping_and_opt_in_never_marketing_only() -> None:
    mapping = ConsentMapping(traits={
        "newsletter": TraitConsentRule(channel="email", on_true="opted_in", on_false="opted_out",
                                       marketing_only=True)})
    rows = consent_rows([identify("m1", 1, newsletter=True, email_opt_in=False)], mapping)
    assert rows == [row("email", "opted_in", "trait:newsletter", 1, "m1")]  # email_opt_in is not mapped
    rows = consent_rows([identify("m1", 1, newsletter="false")], mapping)
    assert rows == [row("email", "opted_out", "trait:newsletter", 1, "m1", marketing_only=True)]


def test_same_event_conflict_opt_out_wins() -> None:
    rows = consent_rows([identify("m1", 1, email_opt_in=True, unsubscribed=True)], MAPPING)
    assert rows == [row("email", "opted_out", "trait:unsubscribed", 1, "m1", marketing_only=True)]


def test_other_call_types_carry_no_consent() -> None:
    group = (event("group", ts_ms=at(1), message_id="g", userId="u1", groupId="acme",
                   traits={"email_opt_in": False}), "P1", at(1))
    page = (event("page", ts_ms=at(1), message_id="p", userId="u1", properties={"channel": "email"}), "P1", at(1))
    assert consent_rows([group, page], MAPPING) == []


# --- events ---------------------------------------------------------------------------------------------


def test_unsubscribed_with_channel() -> None:
    assert consent_rows([track("m1", 1, "Unsubscribed", channel="sms")], MAPPING) == [
        row("sms", "opted_out", "event:Unsubscribed", 1, "m1")]


def test_subscribed_with_channels_list_and_marketing_only_flag() -> None:
    rows = consent_rows([track("m1", 1, "Subscribed", channels=["push", "email"])], MAPPING)
    assert rows == [row("email", "opted_in", "event:Subscribed", 1, "m1"),
                    row("push", "opted_in", "event:Subscribed", 1, "m1")]
    rows = consent_rows([track("m2", 1, "Unsubscribed", channel="email", marketingOnly=True)], MAPPING)
    assert rows == [row("email", "opted_out", "event:Unsubscribed", 1, "m2", marketing_only=True)]


def test_no_channel_means_every_channel() -> None:
    rows = consent_rows([track("m1", 1, "Unsubscribed")], MAPPING)
    assert sorted(r["channelId"] for r in rows) == sorted(CHANNELS)
    assert {r["status"] for r in rows} == {"opted_out"}


def test_unknown_channels_are_ignored_and_never_mean_every_channel() -> None:
    assert event_channels({"channel": "fax"}) == []
    assert event_channels({"channels": ["EMAIL", "fax", "email", 3]}) == ["email"]
    assert event_channels({"channels": "sms"}) == ["sms"]
    assert event_channels({"channel": None}) == list(CHANNELS)
    assert consent_rows([track("m1", 1, "Unsubscribed", channel="fax")], MAPPING) == []


def test_custom_event_names_and_other_tracks_ignored() -> None:
    mapping = ConsentMapping(subscribe_event="Opted In", unsubscribe_event="Opted Out")
    assert consent_rows([track("m1", 1, "Unsubscribed", channel="sms")], mapping) == []
    assert consent_rows([track("m1", 1, "Opted In", channel="sms")], mapping) == [
        row("sms", "opted_in", "event:Opted In", 1, "m1")]
    assert consent_rows([track("m1", 1, "Order Completed", channel="sms")], MAPPING) == []


# --- later wins -----------------------------------------------------------------------------------------


def test_later_timestamp_wins_whatever_the_order_given() -> None:
    later = track("m2", 5, "Subscribed", channel="email")
    earlier = identify("m1", 1, email_opt_in=False)
    for batch in ([earlier, later], [later, earlier]):
        assert consent_rows(batch, MAPPING) == [row("email", "opted_in", "event:Subscribed", 5, "m2")]


def test_equal_times_opt_out_beats_opt_in() -> None:
    a = track("m1", 1, "Unsubscribed", channel="email")
    b = track("m2", 1, "Subscribed", channel="email")
    for batch in ([a, b], [b, a]):
        assert consent_rows(batch, MAPPING) == [row("email", "opted_out", "event:Unsubscribed", 1, "m1")]


def test_rows_per_person_and_channel() -> None:
    rows = consent_rows([track("m1", 1, "Unsubscribed", person="P2", channel="sms"),
                         track("m2", 2, "Unsubscribed", person="P1", channel="sms"),
                         track("m3", 3, "Subscribed", person="P1", channel="email")], MAPPING)
    assert [(r["personId"], r["channelId"], r["messageId"]) for r in rows] == [
        ("P1", "email", "m3"), ("P1", "sms", "m2"), ("P2", "sms", "m1")]


# --- time zones -----------------------------------------------------------------------------------------


def test_person_timezone_order_and_fallthrough() -> None:
    assert person_timezone({"timezone": "America/New_York", "contextTimezone": "Europe/Paris"}, "UTC") == \
        ZoneInfo("America/New_York")
    assert person_timezone({"timezone": "Mars/Olympus", "contextTimezone": "Europe/Paris"}, "UTC") == \
        ZoneInfo("Europe/Paris")
    assert person_timezone({"timezone": 5, "contextTimezone": "nope"}, "Asia/Tokyo") == ZoneInfo("Asia/Tokyo")
    assert person_timezone({}, "Not/AZone") == ZoneInfo("UTC")


@pytest.mark.parametrize("bad", ["", "  ", "../../etc/passwd", "/etc/localtime", "x" * 100, "Europe/Nowhere", None,
                                 ["UTC"]])
def test_invalid_zone_names(bad: Any) -> None:
    assert zone_or_none(bad) is None


def test_context_timezone() -> None:
    assert context_timezone({"timezone": " Europe/Berlin "}) == "Europe/Berlin"
    assert context_timezone({"timezone": "Europe/Atlantis"}) is None
    assert context_timezone({}) is None


def test_planner_records_the_latest_valid_context_timezone() -> None:
    events = [
        event("track", ts_ms=at(1), message_id="a", userId="u1", event="E", context={"timezone": "Europe/Paris"}),
        event("track", ts_ms=at(2), message_id="b", userId="u1", event="E", context={"timezone": "Asia/Tokyo"}),
        event("track", ts_ms=at(3), message_id="c", userId="u1", event="E", context={"timezone": "Bad/Zone"}),
        event("track", ts_ms=at(4), message_id="d", userId="u2", event="E"),
    ]
    plan = BatchPlanner(events, [], counter("p"), at(10)).plan([], 30 * MINUTE_MS)
    persons = {r["userId"]: r for r in plan.writes.rows["ingest/create_persons"]}
    assert (persons["u1"]["tz"], persons["u1"]["tzMs"]) == ("Asia/Tokyo", at(2))
    assert "tz" not in persons["u2"]


# --- references and input checks ------------------------------------------------------------------------


@pytest.mark.parametrize(("ref", "expected"), [
    ("userId:ada", ("userId", "ada")), ("anonymousId:dev-1", ("anonymousId", "dev-1")),
    ("personId:abc", ("personId", "abc")), ("ada", ("userId", "ada")), ("sso:ada", ("userId", "sso:ada")),
    ("userId:a:b", ("userId", "a:b")),
])
def test_parse_ref(ref: str, expected: tuple[str, str]) -> None:
    assert parse_ref(ref) == expected


@pytest.mark.parametrize("ref", ["", "userId:", "personId:  ", "   "])
def test_parse_ref_rejects_empty(ref: str) -> None:
    with pytest.raises(ValueError, match="no id"):
        parse_ref(ref)


def test_input_checks_name_the_field() -> None:
    for check, value, field in ((check_channel, "fax", "channel"), (check_status, "maybe", "status"),
                                (check_list_id, "Hard Bounces", "listId"), (check_reason, " ", "reason"),
                                (check_reason, "x" * 501, "reason"), (check_channel, None, "channel")):
        with pytest.raises(InvalidPersonState) as info:
            check(value)
        assert info.value.field == field
    assert check_list_id("hard-bounces") == "hard-bounces"
