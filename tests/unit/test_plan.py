"""app/intake/plan.py: de-duplication and the full write plan of one batch."""

from __future__ import annotations

import json

import pytest

from app.clock import to_iso
from app.intake.identity import KnownIdentity
from app.intake.normalize import AnyEvent
from app.intake.plan import BatchPlanner, identity_keys, identity_windows, prepare_batch, unique_events
from app.intake.rows import event_props
from app.intake.sessions import SessionSpan
from graph_models.ingest import WRITE_ORDER, WritePlan
from tests.unit.helpers import GAP_MS, MINUTE_MS, T0_MS, counter, event

NOW_MS = T0_MS + 24 * 60 * MINUTE_MS


def at(minutes: float) -> int:
    return T0_MS + int(minutes * MINUTE_MS)


def ev(type_: str, mid: str, minutes: float, **fields: object) -> AnyEvent:
    return event(type_, ts_ms=at(minutes), received_at_ms=at(minutes), message_id=mid, **fields)


# --- unique_events / helpers ----------------------------------------------------------------------------


def test_unique_events_drops_repeats_and_stored_and_sorts() -> None:
    e3 = ev("track", "m3", 3, userId="u", event="E")
    e1 = ev("track", "m1", 1, userId="u", event="E")
    e1_again = ev("track", "m1", 9, userId="u", event="Other")
    e2 = ev("track", "m2", 2, userId="u", event="E")
    stored = ev("track", "old", 0, userId="u", event="E")
    fresh, dups = unique_events([e3, e1, stored, e1_again, e2], {"old"})
    assert [e.messageId for e in fresh] == ["m1", "m2", "m3"]
    assert fresh[0] is e1  # the first copy wins
    assert dups == ["old", "m1"]


def test_unique_events_ties_sorted_by_message_id() -> None:
    b = ev("track", "b", 1, userId="u", event="E")
    a = ev("track", "a", 1, userId="u", event="E")
    fresh, dups = unique_events([b, a], set())
    assert [e.messageId for e in fresh] == ["a", "b"] and dups == []


def test_unique_events_empty() -> None:
    assert unique_events([], {"x"}) == ([], [])


def test_identity_keys_covers_alias_previous_id() -> None:
    events = [
        ev("track", "m1", 0, userId="u1", anonymousId="a1", event="E"),
        ev("alias", "m2", 1, userId="u2", previousId="p"),
    ]
    assert identity_keys(events) == ["anonymousId:a1", "anonymousId:p", "userId:p", "userId:u1", "userId:u2"]


def test_identity_windows_span_each_keys_events_plus_gap() -> None:
    events = [
        ev("track", "m1", 1, userId="u1", anonymousId="a1", event="E"),
        ev("track", "m2", 10, userId="u1", event="E"),
        ev("alias", "m3", 5, userId="u2", previousId="p"),
    ]
    wins = identity_windows(events, GAP_MS)
    assert wins["userId:u1"] == (at(1) - GAP_MS, at(10) + GAP_MS)
    assert wins["anonymousId:a1"] == (at(1) - GAP_MS, at(1) + GAP_MS)
    assert wins["userId:p"] == wins["anonymousId:p"] == wins["userId:u2"] == (at(5) - GAP_MS, at(5) + GAP_MS)


def test_write_plan_rejects_unknown_statement_and_skips_empty() -> None:
    plan = WritePlan()
    with pytest.raises(KeyError):
        plan.add("ingest/nope", [{"a": 1}])
    plan.add("ingest/create_events", [{"a": 1}])
    plan.add("ingest/merge_persons", [])
    plan.add("ingest/create_events", [{"a": 2}])
    assert plan.ordered() == [("ingest/create_events", [{"a": 1}, {"a": 2}])]


# --- BatchPlanner -------------------------------------------------------------------------------------------

KNOWN = [
    KnownIdentity("anonymousId:a1", "PA", None),
    KnownIdentity("userId:u1", "PU", "u1"),
]
EXISTING_SESSIONS = [
    SessionSpan("SA", "PA", at(0), at(5), 2),
    SessionSpan("SU", "PU", at(10), at(12), 1),
]


def full_batch() -> list[AnyEvent]:
    return [
        ev("identify", "m4", 17, userId="u1", traits={"plan": "pro", "email": None}),
        ev("track", "m1", 14, anonymousId="a1", event="Viewed"),
        ev("track", "m5", 18, userId="u2", event="Signed Up"),
        ev(
            "group",
            "m3",
            16,
            userId="u1",
            groupId="acme",
            traits={"name": "Acme", "groupId": "x", "tags": ["a", "b"]},
        ),
        ev(
            "identify",
            "m2",
            15,
            userId="u1",
            anonymousId="a1",
            traits={"plan": "free", "email": "a@b.c", "address": {"city": "Oslo"}, "userId": "spoof"},
        ),
    ]


def planned() -> tuple[BatchPlanner, object]:
    fresh, dups = unique_events(full_batch(), set())
    planner = BatchPlanner(fresh, KNOWN, counter("id"), NOW_MS, duplicates=dups)
    return planner, planner.plan(EXISTING_SESSIONS, GAP_MS)


def rows_of(plan: object, name: str) -> list[dict[str, object]]:
    return plan.writes.rows.get(name, [])  # type: ignore[attr-defined,no-any-return]


def test_plan_has_rows_for_every_statement_in_write_order() -> None:
    _, plan = planned()
    assert [name for name, _rows in plan.writes.ordered()] == list(WRITE_ORDER)  # type: ignore[attr-defined]


def test_plan_person_merge_and_persons() -> None:
    _, plan = planned()
    merge_rows = rows_of(plan, "ingest/merge_persons")
    assert len(merge_rows) == 1
    row = merge_rows[0]
    assert (row["loser"], row["survivor"], row["messageId"], row["atMs"]) == ("PA", "PU", "m2", at(15))
    assert str(row["reason"]).startswith("identify")
    # PU is known and already holds userId u1: its update row does not write it again.
    assert rows_of(plan, "ingest/update_persons") == [
        {"personId": "PU", "userId": None, "firstMs": at(14), "lastMs": at(17)},
    ]
    assert rows_of(plan, "ingest/create_persons") == [
        {"personId": "id1", "userId": "u2", "firstMs": at(18), "lastMs": at(18), "nowMs": NOW_MS},
    ]
    assert rows_of(plan, "ingest/link_identities") == [
        {"key": "userId:u2", "kind": "userId", "value": "u2", "personId": "id1", "atMs": at(18)},
    ]


def test_plan_traits_fold_in_timestamp_order() -> None:
    _, plan = planned()
    assert rows_of(plan, "ingest/apply_traits") == [
        {
            "personId": "PU",
            "traits": {"plan": "pro", "email": None, "address": '{"city":"Oslo"}', "trait_userId": "spoof"},
            "atMs": at(17),
        }
    ]


def test_plan_trait_fold_does_not_depend_on_input_order() -> None:
    events = [
        ev("identify", "late", 20, userId="u1", traits={"plan": "pro"}),
        ev("identify", "early", 10, userId="u1", traits={"plan": "free", "seats": 3}),
    ]
    fresh, _ = unique_events(events, set())
    plan = BatchPlanner(fresh, KNOWN, counter("id"), NOW_MS).plan([], GAP_MS)
    assert rows_of(plan, "ingest/apply_traits") == [
        {"personId": "PU", "traits": {"plan": "pro", "seats": 3}, "atMs": at(20)},
    ]


def test_plan_accounts_for_group_events() -> None:
    _, plan = planned()
    assert rows_of(plan, "ingest/upsert_accounts") == [
        {
            "groupId": "acme",
            "personId": "PU",
            "atMs": at(16),
            "traits": {"name": "Acme", "trait_groupId": "x", "tags": ["a", "b"]},
        }
    ]


def test_plan_sessions_follow_the_person_merge() -> None:
    _, plan = planned()
    # PA's session moves to PU with the merge, and the batch bridges it with PU's session.
    assert rows_of(plan, "ingest/merge_sessions") == [{"gone": "SU", "keep": "SA"}]
    assert rows_of(plan, "ingest/update_sessions") == [
        {
            "sessionId": "SA",
            "personId": "PU",
            "startMs": at(0),
            "endMs": at(17),
            "startedAt": to_iso(at(0)),
            "endedAt": to_iso(at(17)),
            "eventCount": 2 + 1 + 4,
        },
    ]
    assert rows_of(plan, "ingest/create_sessions") == [
        {
            "sessionId": "id2",
            "personId": "id1",
            "startMs": at(18),
            "endMs": at(18),
            "startedAt": to_iso(at(18)),
            "endedAt": to_iso(at(18)),
            "eventCount": 1,
        },
    ]


def test_plan_events_and_result() -> None:
    planner, plan = planned()
    created = rows_of(plan, "ingest/create_events")
    assert [(r["messageId"], r["personId"], r["sessionId"]) for r in created] == [
        ("m1", "PU", "SA"),
        ("m2", "PU", "SA"),
        ("m3", "PU", "SA"),
        ("m4", "PU", "SA"),
        ("m5", "id1", "id2"),
    ]
    props = created[3]["props"]
    assert isinstance(props, dict)
    assert props["timestampMs"] == at(17) and json.loads(props["traits"]) == {"plan": "pro", "email": None}
    result = plan.result  # type: ignore[attr-defined]
    assert [(w.messageId, w.personId, w.sessionId, w.type, w.timestampMs) for w in result.written] == [
        ("m1", "PU", "SA", "track", at(14)),
        ("m2", "PU", "SA", "identify", at(15)),
        ("m3", "PU", "SA", "group", at(16)),
        ("m4", "PU", "SA", "identify", at(17)),
        ("m5", "id1", "id2", "track", at(18)),
    ]
    assert result.merges == [("PA", "PU")]
    assert result.duplicates == []
    assert plan.events == planner.events  # type: ignore[attr-defined]


def test_plan_with_duplicates_only_reports_them() -> None:
    e = ev("track", "m1", 0, userId="u1", event="E")
    fresh, dups = unique_events([e, e], {"m1"})
    plan = BatchPlanner(fresh, KNOWN, counter("id"), NOW_MS, duplicates=dups).plan([], GAP_MS)
    assert plan.writes.ordered() == []
    assert plan.result.duplicates == ["m1", "m1"]
    assert plan.result.written == []


def test_plan_chain_of_merges_uses_final_survivor() -> None:
    known = [
        KnownIdentity("userId:ua", "A", "ua"),
        KnownIdentity("userId:ub", "B", "ub"),
        KnownIdentity("userId:uc", "C", "uc"),
    ]
    events = [
        ev("alias", "m1", 1, userId="ub", previousId="ua"),
        ev("alias", "m2", 2, userId="uc", previousId="ub"),
        ev("track", "m3", 3, userId="ua", event="E"),
    ]
    planner = BatchPlanner(events, known, counter("id"), NOW_MS)
    assert planner.final("A") == "C" and planner.final("B") == "C" and planner.final("C") == "C"
    existing = [SessionSpan("SA", "A", at(0), at(0), 1), SessionSpan("SB", "B", at(0.5), at(0.5), 1)]
    plan = planner.plan(existing, GAP_MS)
    assert [(w.personId, w.sessionId) for w in plan.result.written] == [("C", "SA")] * 3
    assert plan.result.merges == [("A", "C"), ("B", "C")]
    assert [(r["loser"], r["survivor"]) for r in rows_of(plan, "ingest/merge_persons")] == [
        ("A", "B"),
        ("B", "C"),
    ]
    assert rows_of(plan, "ingest/merge_sessions") == [{"gone": "SB", "keep": "SA"}]
    upserts = rows_of(plan, "ingest/update_sessions") + rows_of(plan, "ingest/create_sessions")
    assert [(u["sessionId"], u["personId"], u["eventCount"]) for u in upserts] == [("SA", "C", 5)]


# --- prepare_batch (the graph-independent part, computed before the transaction) ------------------------------


def test_prepare_batch_matches_what_the_transaction_computed() -> None:
    e1 = ev("track", "m1", 3, userId="u1", anonymousId="a1", event="E")
    e2 = ev("identify", "m2", 1, anonymousId="a2")
    alias = ev("alias", "m3", 2, userId="u1", previousId="a2")
    events = [e1, e2, alias, e1]
    prep = prepare_batch(events, GAP_MS, lambda e: [f"t:{e.messageId}"])
    fresh, dups = unique_events(events, set())
    assert (prep.fresh, prep.repeats) == (fresh, dups) == ([e2, alias, e1], ["m1"])
    assert prep.windows == identity_windows(fresh, GAP_MS)
    assert prep.ids == ["m1", "m2", "m3", "m1"]
    assert prep.tombstones == ["t:m1", "t:m2", "t:m3"]
    assert prep.stamps == {"m1": at(3), "m2": at(1), "m3": at(2)}
    assert prep.props["m2"] == event_props(e2)
    assert list(prep.inputs) == ["m2", "m3", "m1"] and prep.inputs["m3"].previous_id == "a2"
    planned_with = BatchPlanner(fresh, KNOWN, counter("id"), NOW_MS, prepared=prep)
    planned_without = BatchPlanner(fresh, KNOWN, counter("id"), NOW_MS)
    assert planned_with.plan([], GAP_MS) == planned_without.plan([], GAP_MS)
