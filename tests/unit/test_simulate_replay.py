"""app/simulate/replay.py on in-memory events: determinism (hash-equal), caps hit against a live journey,
quiet-hours deferral under the simulated clock, timers between events, conversions, the live comparison."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.journeys.engine import EngineEvent
from app.simulate.replay import (
    LiveAction,
    LiveEnrollment,
    PersonInput,
    PriorEnrollment,
    Replayer,
    ReplayInput,
    replay,
)
from app.simulate.report import bar_chart_svg, markdown
from graph_models.constraints import ConstraintSet
from graph_models.journey import JourneyDefinition

H = 3_600_000
D = 24 * H
T0 = int(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC).timestamp() * 1000)  # a Monday, noon UTC


def journey(journey_id: str, *, channel: str = "email", entry: str = "Promo", wait: str | None = None,
            reentry: str = "always", **extra: Any) -> JourneyDefinition:
    steps: list[dict[str, Any]] = []
    if wait is not None:
        steps.append({"id": "pause", "type": "wait", "duration": wait, "next": "send"})
    steps += [{"id": "send", "type": "action", "channel": channel, "template": f"{channel}_t", "next": "done"},
              {"id": "done", "type": "end"}]
    return JourneyDefinition.model_validate({
        "id": journey_id, "name": journey_id, "entry": {"event": entry, "reentry": reentry},
        "start": steps[0]["id"], "steps": steps, **extra})


def ev(mid: str, person: str, at: int, name: str = "Promo", **props: Any) -> EngineEvent:
    return EngineEvent(mid, person, name, "track", at, props)


def person(pid: str, *events: EngineEvent, **kw: Any) -> PersonInput:
    return PersonInput(person_id=pid, traits=kw.pop("traits", {}), events=tuple(events), **kw)


def data(draft: JourneyDefinition, *people: PersonInput, journeys: tuple[tuple[JourneyDefinition, int], ...] = (),
         constraints: dict[str, Any] | None = None, to: int = T0 + 2 * D, **kw: Any) -> ReplayInput:
    return ReplayInput(draft=draft, from_ms=T0, to_ms=to, constraint_version="constraints/default@1",
                       constraints=ConstraintSet.model_validate(constraints or {}), live_journeys=journeys,
                       people=tuple(people), **kw)


def test_same_events_give_hash_equal_results() -> None:
    draft = journey("promo", wait="1h")
    people = [person(f"p{i}", ev(f"m{i}a", f"p{i}", T0 + i * H), ev(f"m{i}b", f"p{i}", T0 + 30 * H + i))
              for i in range(5)]
    first = replay(data(draft, *people))
    second = replay(data(draft, *reversed(people)))  # input order does not matter
    assert first.resultHash and first.resultHash == second.resultHash
    assert first.canonical_json() == second.canonical_json()
    assert first.simulated.entries == 10 and first.simulated.messages == {"email": 10}
    assert first.simulated.completed == 10 and first.timersFired == 10
    changed = replay(data(journey("promo", wait="2h"), *people))
    assert changed.resultHash != first.resultHash


def test_caps_hit_with_a_live_journey_competing() -> None:
    draft = journey("promo")
    rival = journey("rival", entry="Promo")
    constraints = {"caps": [{"id": "email-daily", "max": 1, "window": "1d", "scope": {"channel": "email"}}],
                   "priorities": {"rival": 90, "promo": 40}}
    p = person("p1", ev("m1", "p1", T0), ev("m2", "p1", T0 + 2 * H), ev("m3", "p1", T0 + 25 * H))
    result = replay(data(draft, p, journeys=((rival, 3), (journey("promo", channel="sms"), 7)),
                         constraints=constraints))
    # the rival ranks higher at each moment, so it is decided first: its message at m1 fills the cap for the
    # draft's request of the same moment; at m2 the cap blocks both; a day later the rival is sent again
    assert result.competing == ["rival@3"] and result.liveVersion == 7
    assert result.competingSimulated["rival@3"].messages == {"email": 2}
    assert result.competingSimulated["rival@3"].capsHit == {"email-daily": 1}
    assert result.simulated.entries == 3
    assert result.simulated.messages == {}
    assert result.simulated.capsHit == {"email-daily": 3}
    # without the cap, the rival wins the channel by arbitration
    plain = replay(data(draft, p, journeys=((rival, 3),), constraints={"priorities": {"rival": 90}}))
    assert plain.simulated.blocked == {"lost_arbitration": 3} and plain.competingSimulated["rival@3"].messages == {
        "email": 3}


def test_history_before_the_window_counts_against_caps() -> None:
    from app.decisions.policy import Sent

    constraints = {"caps": [{"id": "email-daily", "max": 1, "window": "1d", "scope": {"channel": "email"}}]}
    p = person("p1", ev("m1", "p1", T0), history=(Sent(T0 - H, "email", "other"),))
    result = replay(data(journey("promo"), p, constraints=constraints))
    assert result.simulated.capsHit == {"email-daily": 1} and result.simulated.messages == {}


def test_quiet_hours_defer_until_the_simulated_morning() -> None:
    constraints = {"channels": [{"id": "push", "quiet_hours": {"start": "22:00", "end": "07:00"}}]}
    late = T0 + 11 * H  # 23:00 UTC
    p = person("p1", ev("m1", "p1", late))
    run = Replayer(data(journey("promo", channel="push"), p, constraints=constraints))
    result = run.run()
    assert result.simulated.blocked == {"deferred": 1}
    assert result.simulated.messages == {"push": 1}
    assert [m.at_ms for m in run.messages] == [T0 + 19 * H]  # 07:00 the next day, fired by the simulated clock
    # a window that ends before the morning leaves the enrollment waiting
    short = replay(data(journey("promo", channel="push"), p, constraints=constraints, to=T0 + 15 * H))
    assert short.simulated.messages == {} and short.simulated.inFlight == 1 and short.timersFired == 0


def test_person_state_consent_and_zone() -> None:
    from app.decisions.policy import Consent

    constraints = {"channels": [{"id": "push", "quiet_hours": {"start": "22:00", "end": "07:00"}}]}
    opted_out = person("p1", ev("m1", "p1", T0), consent={"push": Consent("opted_out")})
    tokyo = person("p2", ev("m2", "p2", T0), traits={"timezone": "Asia/Tokyo"})  # 21:00 there: fine
    late_tokyo = person("p3", ev("m3", "p3", T0 + 2 * H), traits={"timezone": "Asia/Tokyo"})  # 23:00 there
    result = replay(data(journey("promo", channel="push"), opted_out, tokyo, late_tokyo, constraints=constraints))
    assert result.simulated.blocked == {"no_consent": 1, "deferred": 1}
    assert result.simulated.messages == {"push": 2}


def test_reentry_never_respects_enrollments_before_the_window() -> None:
    prior = (PriorEnrollment("promo@1/old", "promo", 1, T0 - D),)
    p = person("p1", ev("m1", "p1", T0), prior=prior)
    q = person("p2", ev("m2", "p2", T0))
    result = replay(data(journey("promo", reentry="never"), p, q))
    assert result.simulated.entries == 1


def test_conversions_and_the_live_comparison() -> None:
    goals = {"goals": [{"id": "bought", "event": "Order Completed", "within": "1d"}],
             "exit": [{"event": "Order Completed", "name": "purchased"}]}
    draft = journey("promo", wait="2h", **goals)
    p1 = person("p1", ev("m1", "p1", T0), ev("o1", "p1", T0 + H, "Order Completed"))
    p2 = person("p2", ev("m2", "p2", T0), ev("o2", "p2", T0 + 3 * D, "Order Completed"))
    live = (LiveEnrollment("promo@7/m1", "p1", 7, T0, "exited", "exit:purchased", T0 + H),
            LiveEnrollment("promo@7/m2", "p2", 7, T0, "completed", None, T0 + H,
                           (LiveAction("send", T0 + H, "chosen", "email"),)),
            LiveEnrollment("promo@7/mx", "p2", 7, T0 + 1, "active", None, None,
                           (LiveAction("send", T0 + H, "capped", "email", "cap:email-daily"),
                            LiveAction("send", T0 + 2 * H, "deferred", "email", "quiet_hours:email"))))
    result = replay(data(draft, p1, p2, live=live, to=T0 + 4 * D))
    assert result.conversionBasis == "goals"
    sim = result.simulated
    assert sim.entries == 2 and sim.exits == {"exit:purchased": 1} and sim.completed == 1
    assert sim.messages == {"email": 1} and sim.conversions == {"bought": 1}
    lv = result.live
    assert lv.entries == 3 and lv.messages == {"email": 1} and lv.capsHit == {"email-daily": 1}
    assert lv.blocked == {"deferred": 1} and lv.exits == {"exit:purchased": 1}
    assert lv.completed == 1 and lv.inFlight == 1 and lv.conversions == {"bought": 1}
    no_goals = replay(data(journey("promo", wait="2h", exit=goals["exit"]), p1, p2, live=live, to=T0 + 4 * D))
    assert no_goals.conversionBasis == "exit criteria"
    assert no_goals.simulated.conversions == {"purchased": 1} and no_goals.live.conversions == {"purchased": 1}


def test_progress_and_report() -> None:
    seen: list[tuple[int, int]] = []
    people = [person(f"p{i}", ev(f"m{i}", f"p{i}", T0 + i)) for i in range(3)]
    result = replay(data(journey("promo"), *people), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3, 3)
    svg = bar_chart_svg(result)
    assert svg.startswith("<svg") and "email" in svg and svg.count("<rect") >= 2
    text = markdown(result, "report.svg")
    assert "| entries | 3 | 0 |" in text and result.resultHash in text and "![" in text


def test_window_times_parse_and_check() -> None:
    import pytest

    from app.simulate.source import InvalidWindow, check_window, parse_time

    now = T0
    assert parse_time("now", now) == now and parse_time("now-7d", now) == now - 7 * D
    assert parse_time("-2h", now) == now - 2 * H and parse_time(str(T0), now) == T0
    assert parse_time("2026-03-02T12:00:00Z", now) == T0 and parse_time("2026-03-02", now) == T0 - 12 * H
    for bad in ("²", "now-²d", "yesterday", "-"):
        with pytest.raises(InvalidWindow):
            parse_time(bad, now)
    check_window(T0, T0 + D)
    for lo, hi in ((T0, T0), (T0 + 1, T0), (T0, T0 + 367 * D), (-1, T0), (T0, 10**20)):
        with pytest.raises(InvalidWindow):
            check_window(lo, hi)
