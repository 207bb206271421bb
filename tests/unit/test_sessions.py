"""app/intake/sessions.py: sessionization by event time."""

from __future__ import annotations

import random

from app.intake.sessions import SessionSpan, SessionUpsert, plan_sessions
from tests.unit.helpers import GAP_MS, MINUTE_MS, T0_MS, counter


def at(minutes: float) -> int:
    return T0_MS + int(minutes * MINUTE_MS)


def run(persons: list[str], stamps: list[int], existing: list[SessionSpan] | None = None):  # type: ignore[no-untyped-def]
    return plan_sessions(persons, stamps, existing or [], GAP_MS, counter("s"))


def test_no_events() -> None:
    plan = run([], [], [SessionSpan("S", "P", at(0), at(1), 1)])
    assert plan.event_session == [] and plan.upserts == [] and plan.merges == []


def test_events_29_minutes_apart_share_a_session() -> None:
    plan = run(["P", "P", "P"], [at(0), at(29), at(58)])
    assert plan.event_session == ["s1", "s1", "s1"]
    assert plan.upserts == [SessionUpsert("s1", "P", at(0), at(58), 3)]


def test_events_exactly_the_gap_apart_share_a_session() -> None:
    assert run(["P", "P"], [at(0), at(30)]).event_session == ["s1", "s1"]


def test_events_31_minutes_apart_split() -> None:
    plan = run(["P", "P", "P"], [at(0), at(31), at(40)])
    assert plan.event_session == ["s1", "s2", "s2"]
    assert plan.upserts == [
        SessionUpsert("s1", "P", at(0), at(0), 1),
        SessionUpsert("s2", "P", at(31), at(40), 2),
    ]
    assert plan.merges == []


def test_gap_is_measured_from_the_latest_event_not_the_start() -> None:
    plan = run(["P"] * 4, [at(0), at(25), at(50), at(75)])
    assert set(plan.event_session) == {"s1"}
    assert plan.upserts == [SessionUpsert("s1", "P", at(0), at(75), 4)]


def test_out_of_order_input_gives_same_sessions() -> None:
    minutes = [0, 10, 29, 70, 75, 200, 229, 261]
    ordered = run(["P"] * len(minutes), [at(m) for m in minutes])
    shuffled_minutes = minutes[:]
    random.Random(7).shuffle(shuffled_minutes)
    assert shuffled_minutes != minutes
    shuffled = run(["P"] * len(minutes), [at(m) for m in shuffled_minutes])
    by_minute_ordered = {m: s for m, s in zip(minutes, ordered.event_session, strict=True)}
    by_minute_shuffled = {m: s for m, s in zip(shuffled_minutes, shuffled.event_session, strict=True)}
    assert by_minute_shuffled == by_minute_ordered
    assert sorted(shuffled.upserts, key=lambda u: u.start_ms) == sorted(
        ordered.upserts, key=lambda u: u.start_ms
    )
    assert len(ordered.upserts) == 4


def test_reverse_order_input() -> None:
    plan = run(["P", "P", "P"], [at(60), at(31), at(0)])
    assert plan.event_session == ["s2", "s2", "s1"]


def test_persons_are_sessionized_separately() -> None:
    plan = run(["A", "B", "A", "B"], [at(0), at(1), at(2), at(100)])
    assert plan.event_session[0] == plan.event_session[2]
    assert len({plan.event_session[0], plan.event_session[1], plan.event_session[3]}) == 3
    assert {u.person_id for u in plan.upserts} == {"A", "B"}


def test_other_persons_sessions_are_ignored() -> None:
    plan = run(["A"], [at(5)], [SessionSpan("SB", "B", at(0), at(10), 4)])
    assert plan.event_session == ["s1"]
    assert plan.upserts == [SessionUpsert("s1", "A", at(5), at(5), 1)]


def test_late_event_inside_existing_session_extends_it() -> None:
    plan = run(["P"], [at(5)], [SessionSpan("S1", "P", at(0), at(10), 3)])
    assert plan.event_session == ["S1"]
    assert plan.upserts == [SessionUpsert("S1", "P", at(0), at(10), 4)]
    assert plan.merges == []


def test_event_after_existing_session_extends_its_end() -> None:
    plan = run(["P"], [at(35)], [SessionSpan("S1", "P", at(0), at(10), 3)])
    assert plan.event_session == ["S1"]
    assert plan.upserts == [SessionUpsert("S1", "P", at(0), at(35), 4)]


def test_late_event_before_existing_session_extends_its_start() -> None:
    plan = run(["P", "P"], [at(-20), at(-45)], [SessionSpan("S1", "P", at(0), at(10), 3)])
    assert plan.event_session == ["S1", "S1"]
    assert plan.upserts == [SessionUpsert("S1", "P", at(-45), at(10), 5)]


def test_event_far_from_existing_session_starts_a_new_one() -> None:
    plan = run(["P"], [at(41)], [SessionSpan("S1", "P", at(0), at(10), 3)])
    assert plan.event_session == ["s1"]
    assert plan.upserts == [SessionUpsert("s1", "P", at(41), at(41), 1)]
    assert plan.merges == []


def test_late_event_bridging_two_sessions_merges_them() -> None:
    existing = [SessionSpan("S_late", "P", at(50), at(60), 3), SessionSpan("S_early", "P", at(0), at(10), 2)]
    plan = run(["P"], [at(30)], existing)
    assert plan.event_session == ["S_early"]
    assert plan.merges == [("S_late", "S_early")]
    assert plan.upserts == [SessionUpsert("S_early", "P", at(0), at(60), 6)]


def test_bridging_three_sessions_merges_into_the_earliest() -> None:
    existing = [
        SessionSpan("S3", "P", at(100), at(110), 1),
        SessionSpan("S1", "P", at(0), at(10), 1),
        SessionSpan("S2", "P", at(50), at(60), 1),
    ]
    plan = run(["P", "P"], [at(80), at(30)], existing)
    assert plan.event_session == ["S1", "S1"]
    assert plan.merges == [("S2", "S1"), ("S3", "S1")]
    assert plan.upserts == [SessionUpsert("S1", "P", at(0), at(110), 5)]


def test_existing_sessions_without_new_events_are_left_alone() -> None:
    existing = [SessionSpan("S1", "P", at(0), at(10), 2), SessionSpan("S2", "P", at(200), at(210), 2)]
    plan = run(["P"], [at(15)], existing)
    assert plan.upserts == [SessionUpsert("S1", "P", at(0), at(15), 3)]
    assert plan.merges == []


def test_event_counts_add_up() -> None:
    existing = [SessionSpan("S1", "P", at(0), at(10), 7), SessionSpan("S2", "P", at(100), at(100), 1)]
    minutes = [5, 20, 45, 90, 300, 301, 302]
    plan = run(["P"] * len(minutes), [at(m) for m in minutes], existing)
    total_existing = sum(s.event_count for s in existing)
    assert sum(u.event_count for u in plan.upserts) == total_existing + len(minutes)
    for up in plan.upserts:
        own = sum(1 for s in plan.event_session if s == up.session_id)
        absorbed = sum(
            s.event_count
            for s in existing
            if s.session_id == up.session_id or (s.session_id, up.session_id) in plan.merges
        )
        assert up.event_count == own + absorbed
    assert all(plan.event_session)


def test_every_event_gets_a_session_and_ids_are_fresh_per_cluster() -> None:
    plan = run(["P"] * 3 + ["Q"] * 2, [at(0), at(100), at(200), at(0), at(1)])
    assert all(plan.event_session)
    assert len({u.session_id for u in plan.upserts}) == len(plan.upserts) == 4


def test_a_lone_event_starts_a_session_seeded_by_person_and_time_as_a_cluster_does() -> None:
    seeds: list[str] = []

    def new_id(seed: str) -> str:
        seeds.append(seed)
        return f"id{len(seeds)}"

    lone = plan_sessions(["P"], [at(3)], [], GAP_MS, new_id)
    pair = plan_sessions(["Q", "Q"], [at(3), at(4)], [], GAP_MS, new_id)
    assert seeds == [f"session:P:{at(3)}", f"session:Q:{at(3)}"]
    assert lone.upserts == [SessionUpsert("id1", "P", at(3), at(3), 1)] and lone.event_session == ["id1"]
    assert pair.upserts == [SessionUpsert("id2", "Q", at(3), at(4), 2)]
