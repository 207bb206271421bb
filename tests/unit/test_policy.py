"""app/decisions/policy.py: every rule, ranking, fallback, DST-correct quiet hours and calendar windows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from app.decisions.policy import (
    Candidate,
    ChannelOption,
    Consent,
    PersonState,
    Sent,
    decide,
    in_control_group,
    quiet_until,
    window_start_ms,
)
from graph_models.constraints import ConstraintSet, QuietHours

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")
H = 3_600_000
D = 24 * H
T0 = int(dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC).timestamp() * 1000)


def cs(**fields: object) -> ConstraintSet:
    return ConstraintSet.model_validate(fields)


def cand(cid: str, channel: str = "email", *, journey: str | None = "j1", at: int = T0, **kw: object) -> Candidate:
    fallback = kw.pop("fallback", ())
    options = (ChannelOption(channel, f"{channel}_t"), *(ChannelOption(c, f"{c}_t") for c in fallback))  # type: ignore[attr-defined]
    return Candidate(candidate_id=cid, person_id="p1", at_ms=at, options=options, journey_id=journey,
                     **kw)  # type: ignore[arg-type]


def state(**kw: object) -> PersonState:
    return PersonState(person_id=str(kw.pop("person_id", "p1")), traits=kw.pop("traits", {}),  # type: ignore[arg-type]
                       zone=kw.pop("zone", UTC), **kw)  # type: ignore[arg-type]


def outcomes(verdicts: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {v.candidate_id: v.outcome for v in verdicts}


def test_nothing_blocks_by_default() -> None:
    [v] = decide([cand("a")], state(), ConstraintSet())
    assert v.chosen and v.channel == "email" and v.rank == 1 and v.blocked_by is None


def test_suppression_blocks_even_transactional() -> None:
    st = state(suppressed={"hard-bounces": ("email",)})
    [v] = decide([cand("a", transactional=True)], st, ConstraintSet())
    assert (v.outcome, v.blocked_by) == ("suppressed", "suppression:hard-bounces")
    [v] = decide([cand("b", "sms", transactional=True)], st, ConstraintSet())
    assert v.chosen  # the list is for email only
    [v] = decide([cand("c", "push")], state(suppressed={"legal-hold": ()}), ConstraintSet())
    assert v.outcome == "suppressed" and "every channel" in v.reason


def test_consent_rules() -> None:
    out = state(consent={"email": Consent("opted_out")})
    assert decide([cand("a", transactional=True)], out, ConstraintSet())[0].outcome == "no_consent"
    marketing_out = state(consent={"email": Consent("opted_out", marketing_only=True)})
    assert decide([cand("a")], marketing_out, ConstraintSet())[0].outcome == "no_consent"
    assert decide([cand("b", transactional=True)], marketing_out, ConstraintSet())[0].chosen
    # sms requires an opt-in for marketing (the default constraint set), not for receipts
    [v] = decide([cand("c", "sms")], state(), ConstraintSet())
    assert (v.outcome, v.blocked_by) == ("no_consent", "consent:sms")
    assert decide([cand("d", "sms", transactional=True)], state(), ConstraintSet())[0].chosen
    assert decide([cand("e", "sms")], state(consent={"sms": Consent("opted_in")}), ConstraintSet())[0].chosen


def test_fallback_and_preferred_channel() -> None:
    st = state(consent={"email": Consent("opted_out")}, traits={})
    [v] = decide([cand("a", "email", fallback=("push",))], st, ConstraintSet())
    assert v.chosen and v.channel == "push" and v.template == "push_t" and "fallback" in v.reason
    preferring = state(traits={"preferred_channel": "push"})
    [v] = decide([cand("b", "email", fallback=("push",))], preferring, ConstraintSet())
    assert v.channel == "push"
    nowhere = state(consent={"email": Consent("opted_out"), "push": Consent("opted_out")})
    [v] = decide([cand("c", "email", fallback=("push",))], nowhere, ConstraintSet())
    assert (v.outcome, v.blocked_by) == ("no_consent", "consent:email")


def test_global_control_group_is_stable_and_about_the_right_size() -> None:
    constraints = cs(global_control={"percent": 10, "salt": "gc-2026"})
    members = [pid for pid in (f"person-{i}" for i in range(5000)) if in_control_group(pid, constraints)]
    assert 400 < len(members) < 600
    assert members == [p for p in (f"person-{i}" for i in range(5000)) if in_control_group(p, constraints)]
    st = state(person_id=members[0])
    [v] = decide([cand("a")], st, constraints)
    assert (v.outcome, v.blocked_by) == ("holdout", "global_control")
    assert decide([cand("b", transactional=True)], st, constraints)[0].chosen
    other_salt = cs(global_control={"percent": 10, "salt": "other"})
    assert {p for p in members if in_control_group(p, other_salt)} != set(members)


def test_rolling_caps_count_history_and_this_moment() -> None:
    constraints = cs(caps=[{"id": "email-daily", "max": 2, "window": "1d", "scope": {"channel": "email"}}])
    st = state(history=[Sent(T0 - 2 * D, "email"), Sent(T0 - 3 * H, "email")])
    assert decide([cand("a")], st, constraints)[0].chosen  # one in the window, so a second fits
    [v] = decide([cand("b", at=T0 + 1000)], st, constraints)  # now two in the window (a counted)
    assert (v.outcome, v.blocked_by) == ("capped", "cap:email-daily")
    assert "2 already sent" in v.reason
    assert decide([cand("c", "push", at=T0 + 2000)], st, constraints)[0].chosen  # other channel
    assert decide([cand("d", at=T0 + D)], st, constraints)[0].chosen  # the window rolled past two


def test_cap_scopes_journey_tag_and_all() -> None:
    constraints = cs(caps=[
        {"id": "cart", "max": 1, "window": "1d", "scope": {"journey": "cart"}},
        {"id": "promo", "max": 1, "window": "7d", "scope": {"tag": "promo"}},
        {"id": "all", "max": 3, "window": "7d"},
    ])
    st = state(history=[Sent(T0 - H, "email", "cart", ("promo",))])
    assert decide([cand("a", journey="cart")], st, constraints)[0].blocked_by == "cap:cart"
    assert decide([cand("b", journey="other", tags=("promo",))], st, constraints)[0].blocked_by == "cap:promo"
    assert decide([cand("c", journey="other")], st, constraints)[0].chosen
    assert decide([cand("d", "push", journey="other", at=T0 + 1)], st, constraints)[0].chosen
    assert decide([cand("e", "sms", journey="x", transactional=True, at=T0 + 2)], st, constraints)[0].chosen
    assert decide([cand("f", "push", journey="other", at=T0 + 3)], st, constraints)[0].blocked_by == "cap:all"


def test_calendar_caps_use_the_local_day() -> None:
    constraints = cs(caps=[{"id": "day", "max": 1, "window": "1d", "scope": {}, "calendar": True}])
    at = int(dt.datetime(2026, 3, 3, 1, 0, tzinfo=NY).timestamp() * 1000)  # 01:00 in New York
    yesterday_evening = int(dt.datetime(2026, 3, 2, 23, 0, tzinfo=NY).timestamp() * 1000)
    assert decide([cand("a", at=at)], state(zone=NY, history=[Sent(yesterday_evening, "email")]),
                  constraints)[0].chosen  # a rolling day would have blocked it
    assert window_start_ms(at, D, True, NY) == int(dt.datetime(2026, 3, 3, tzinfo=NY).timestamp() * 1000)
    assert window_start_ms(at, 2 * D, True, NY) == int(dt.datetime(2026, 3, 2, tzinfo=NY).timestamp() * 1000)
    assert window_start_ms(at, D, False, NY) == at - D + 1


def test_quiet_hours_defer_to_their_end_across_midnight_and_dst() -> None:
    quiet = QuietHours(start="21:00", end="08:00")
    evening = int(dt.datetime(2026, 10, 31, 23, 30, tzinfo=NY).timestamp() * 1000)  # DST ends Nov 1, 02:00
    until = quiet_until(evening, NY, quiet)
    assert until is not None
    end = dt.datetime.fromtimestamp(until / 1000, NY)
    assert (end.date(), end.hour, end.minute) == (dt.date(2026, 11, 1), 8, 0)
    assert until - evening == int(9.5 * H)  # 8.5 wall-clock hours plus the hour DST gave back
    early = int(dt.datetime(2026, 3, 8, 1, 0, tzinfo=NY).timestamp() * 1000)  # DST starts Mar 8, 02:00
    morning = int(dt.datetime(2026, 3, 8, 8, 0, tzinfo=NY).timestamp() * 1000)
    assert quiet_until(early, NY, quiet) == morning
    assert morning - early == 6 * H  # seven wall-clock hours less the skipped one
    noon = int(dt.datetime(2026, 3, 8, 12, 0, tzinfo=NY).timestamp() * 1000)
    assert quiet_until(noon, NY, quiet) is None
    day_quiet = QuietHours(start="12:00", end="14:00")
    assert quiet_until(noon, NY, day_quiet) == int(dt.datetime(2026, 3, 8, 14, 0, tzinfo=NY).timestamp() * 1000)


def test_quiet_hours_in_the_rules() -> None:
    constraints = cs(channels=[{"id": "push", "quiet_hours": {"start": "21:00", "end": "08:00"}}])
    night = int(dt.datetime(2026, 3, 3, 22, 0, tzinfo=NY).timestamp() * 1000)
    [v] = decide([cand("a", "push", at=night)], state(zone=NY), constraints)
    assert (v.outcome, v.blocked_by) == ("deferred", "quiet_hours:push")
    assert v.defer_until_ms == int(dt.datetime(2026, 3, 4, 8, 0, tzinfo=NY).timestamp() * 1000)
    assert decide([cand("b", "push", at=night, transactional=True)], state(zone=NY), constraints)[0].chosen
    assert decide([cand("c", "push", at=night)], state(zone=UTC), constraints)[0].outcome == "deferred"  # 03:00
    day_utc = int(dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC).timestamp() * 1000)
    assert decide([cand("d", "push", at=day_utc)], state(zone=UTC), constraints)[0].chosen


def test_exclusion_groups() -> None:
    constraints = cs(exclusion_groups=[{"id": "promos", "journeys": ["cart", "trial"], "window": "1d"}])
    st = state(history=[Sent(T0 - H, "email", "cart")])
    [v] = decide([cand("a", "push", journey="trial")], st, constraints)
    assert (v.outcome, v.blocked_by) == ("excluded", "exclusion:promos")
    assert decide([cand("b", journey="cart")], st, constraints)[0].chosen  # the same journey may go on
    assert decide([cand("c", journey="trial", at=T0 + D)], st, constraints)[0].chosen  # window passed


def test_arbitration_ranks_priority_then_step_priority_then_score_then_id() -> None:
    constraints = cs(priorities={"cart": 80, "welcome": 50})
    verdicts = decide([cand("w", journey="welcome"), cand("c", journey="cart"), cand("p", "push", journey="welcome")],
                      state(), constraints)
    assert outcomes(verdicts) == {"c": "chosen", "w": "lost_arbitration", "p": "chosen"}
    assert [v.candidate_id for v in verdicts] == ["c", "p", "w"]  # rank order; ties broken by id
    lost = next(v for v in verdicts if v.candidate_id == "w")
    assert lost.blocked_by == "arbitration" and "c ranked higher" in lost.reason
    tie = decide([cand("b"), cand("a")], state(), ConstraintSet())
    assert outcomes(tie) == {"a": "chosen", "b": "lost_arbitration"}
    by_step = decide([cand("a", step_priority=1), cand("b", step_priority=9)], state(), ConstraintSet())
    assert outcomes(by_step)["b"] == "chosen"
    by_score = decide([cand("a", score=0.1), cand("b", score=0.9)], state(), ConstraintSet())
    assert outcomes(by_score)["b"] == "chosen"


def test_blocked_candidates_leave_the_channel_to_the_next_one() -> None:
    constraints = cs(priorities={"cart": 80}, caps=[{"id": "cart", "max": 0, "window": "1d",
                                                      "scope": {"journey": "cart"}}])
    verdicts = decide([cand("c", journey="cart"), cand("w", journey="welcome")], state(), constraints)
    assert outcomes(verdicts) == {"c": "capped", "w": "chosen"}


def test_offers_have_their_own_caps_and_placement_slot() -> None:
    from graph_models.constraints import OfferCap

    cap = OfferCap.model_validate({"id": "daily", "max": 1, "window": "1d"})
    st = state(history=[Sent(T0 - H, "in_app", offer_id="upgrade")])
    a = Candidate("o1", "p1", T0, (ChannelOption("in_app", "t"),), placement="home", offer_id="upgrade",
                  offer_priority=90, offer_caps=(cap,))
    b = Candidate("o2", "p1", T0, (ChannelOption("in_app", "t"),), placement="home", offer_id="other",
                  offer_priority=10)
    verdicts = decide([a, b], st, ConstraintSet())
    assert outcomes(verdicts) == {"o1": "capped", "o2": "chosen"}
    assert verdicts[0].blocked_by == "offer_cap:upgrade:daily"
