"""The explain sentence builders, cursor parsing and row assembly (pure; no graph)."""

from __future__ import annotations

from typing import Any

import pytest

from app.decisions.explain import (
    InvalidCursor,
    candidate_from_row,
    candidate_sentence,
    constraint_text,
    decision_from_rows,
    duration_text,
    enrollment_from_row,
    enrollment_sentence,
    explain_sentences,
    fmt_time,
    merge_page,
    never_entered_sentence,
    parse_before,
    timeline_item,
    version_label,
)
from graph_models.explain import CandidateView, ConstraintRef, EnrollmentPath, PersonRef, RequestRef, Visit

T0 = 1_772_359_200_000  # 2026-03-01T10:00:00Z
HOUR = 3_600_000
V3 = "constraints/default@3"
ANN = PersonRef(personId="p-ann", userId="ann")


def cand(outcome: str, **kw: Any) -> CandidateView:
    base: dict[str, Any] = {"actionId": "abandoned-cart@2/ann-1#2", "kind": "journey", "rank": 1, "outcome": outcome,
                            "channel": "email", "template": "cart_reminder_email", "journeyId": "abandoned-cart",
                            "version": 2, "stepId": "email_reminder", "sentence": ""}
    return CandidateView(**{**base, **kw})


def ref(constraint_id: str, kind: str, **config: Any) -> ConstraintRef:
    return ConstraintRef(constraintId=constraint_id, kind=kind, config=config or None)


def test_fmt_time_and_version_label() -> None:
    assert fmt_time(T0) == "2026-03-01 10:00 UTC"
    assert fmt_time(T0 + 30_000) == "2026-03-01 10:00:30 UTC"
    assert fmt_time(None) == "an unknown time"
    assert version_label(V3) == "constraints v3"
    assert version_label("placements/default@2") == "placements v2"
    assert version_label("constraints/eu@4") == "constraints eu v4"
    assert version_label("constraints/default@builtin") == "built-in constraints defaults"
    assert version_label(None) == "no constraints version recorded"


def test_duration_text_reads_every_form() -> None:
    assert duration_text("1d") == "1d"
    assert duration_text({"ms": 86_400_000, "text": "1d"}) == "1d"
    assert duration_text({"ms": 7 * 86_400_000}) == "1w"
    assert duration_text(90 * 60_000) == "90m"
    assert duration_text(1500) == "1500ms"
    assert duration_text(None) == "?"


def test_capped_sentence_matches_the_documented_example() -> None:
    cap = ref("cap:email-daily", "cap", id="email-daily", max=2, window={"ms": 86_400_000, "text": "1d"},
              scope={"channel": "email"}, calendar=False)
    sentence = candidate_sentence(cand("capped", blockedBy=cap), T0, V3)
    assert sentence == ("2026-03-01 10:00 UTC: email cart_reminder_email from abandoned-cart v2 step email_reminder "
                        "was not sent: the cap email-daily (2 per 1d on email) was already reached (constraints v3).")


@pytest.mark.parametrize(("scope", "calendar", "expected"), [
    ({}, False, "the cap c (10 per 7d on all channels) was already reached"),
    ({"journey": "abandoned-cart"}, False, "the cap c (10 per 7d in abandoned-cart) was already reached"),
    ({"tag": "promo"}, False, "the cap c (10 per 7d tagged promo) was already reached"),
    ({"channel": "sms"}, True,
     "the cap c (10 per 7d (calendar days in the person's time zone) on sms) was already reached"),
])
def test_cap_scopes(scope: dict[str, str], calendar: bool, expected: str) -> None:
    assert constraint_text(ref("cap:c", "cap", id="c", max=10, window="7d", scope=scope, calendar=calendar)) == expected


def test_chosen_sentence_names_the_rank() -> None:
    winner = cand("chosen", chosen=True)
    other = cand("lost_arbitration", actionId="x#1", rank=2)
    assert candidate_sentence(winner, T0, V3, [winner, other]) == (
        "2026-03-01 10:00 UTC: email cart_reminder_email from abandoned-cart v2 step email_reminder was sent: "
        "chosen at rank 1 of 2 (constraints v3).")


def test_suppressed_no_consent_and_holdout() -> None:
    suppressed = cand("suppressed", blockedBy=ref("suppression:hard-bounces", "suppression", id="hard-bounces",
                                                  channels=["email"]))
    assert "was not sent: the person is on the suppression list hard-bounces (email) (constraints v3)." in \
        candidate_sentence(suppressed, T0, V3)
    everywhere = cand("suppressed", blockedBy=ref("suppression:legal-hold", "suppression"))
    assert "the suppression list legal-hold (every channel)" in candidate_sentence(everywhere, T0, V3)
    consent = cand("no_consent", reason="the person opted out of email",
                   blockedBy=ref("consent:email", "consent", channel="email"))
    assert candidate_sentence(consent, T0, V3).endswith(
        "was not sent: there is no consent for email (the person opted out of email) (constraints v3).")
    holdout = cand("holdout", blockedBy=ref("global_control", "global_control", percent=5, salt="gc"))
    assert "was not sent: the person is in the global control group (no marketing messages, 5% of people)" in \
        candidate_sentence(holdout, T0, V3)


def test_deferred_sentence_says_until_when() -> None:
    deferred = cand("deferred", channel="sms", template="cart_reminder_sms", stepId="sms_reminder",
                    deferUntilMs=T0 + 10 * HOUR,
                    blockedBy=ref("quiet_hours:sms", "quiet_hours", channel="sms", start="21:00", end="08:00"))
    assert candidate_sentence(deferred, T0, V3) == (
        "2026-03-01 10:00 UTC: sms cart_reminder_sms from abandoned-cart v2 step sms_reminder was deferred to "
        "2026-03-01 20:00 UTC: quiet hours on sms (21:00-08:00 in the person's time zone) (constraints v3).")
    nested = ref("quiet_hours:push", "quiet_hours", id="push", quiet_hours={"start": "22:00", "end": "07:00"})
    assert constraint_text(nested) == "quiet hours on push (22:00-07:00 in the person's time zone)"


def test_excluded_sentence() -> None:
    excluded = cand("excluded", blockedBy=ref("exclusion:promotions", "exclusion", id="promotions",
                                              journeys=["abandoned-cart", "trial-conversion"], window="1d"))
    assert "was not sent: another journey of the exclusion group promotions (abandoned-cart, trial-conversion) " \
           "already messaged the person within 1d (constraints v3)." in candidate_sentence(excluded, T0, V3)


def test_lost_arbitration_names_the_winner_on_the_same_channel() -> None:
    winner = cand("chosen", actionId="promo-a@1/m#1", journeyId="promo-a", version=1, stepId="send",
                  template="promo_email", chosen=True)
    push_winner = cand("chosen", actionId="z#1", channel="push", rank=2, chosen=True)
    loser = cand("lost_arbitration", rank=3, blockedBy=ref("arbitration", "arbitration"))
    sentence = candidate_sentence(loser, T0, V3, [winner, push_winner, loser])
    assert sentence.endswith("was not sent: it lost arbitration to email promo_email from promo-a v1 step send "
                             "(rank 1) (constraints v3).")
    alone = candidate_sentence(loser, T0, V3, [loser])
    assert "it lost arbitration to a higher-ranked candidate" in alone


def test_error_and_unknown_outcomes() -> None:
    error = cand("error", reason="ValueError: boom")
    assert candidate_sentence(error, T0, V3).endswith(
        "could not be decided: the resolver failed (ValueError: boom); the step went on as configured "
        "(constraints v3).")
    odd = cand("accepted")
    assert "has the outcome accepted" in candidate_sentence(odd, T0, None)
    assert "(no constraints version recorded)" in candidate_sentence(odd, T0, None)


def test_onsite_offers_are_shown_not_sent() -> None:
    offer = cand("capped", kind="onsite", offerId="upgrade-banner", placement="home_banner", channel="in_app",
                 template="upgrade_banner_in_app", journeyId=None, version=None, stepId=None,
                 blockedBy=ref("offer_cap:upgrade-banner:daily", "offer_cap", id="daily", max=3, window="1d"))
    assert candidate_sentence(offer, T0, "placements/default@2") == (
        "2026-03-01 10:00 UTC: offer upgrade-banner (in_app upgrade_banner_in_app) on placement home_banner was not "
        "shown: the offer cap daily of upgrade-banner (3 per 1d) was already reached (placements v2).")


def test_blocked_without_a_constraint_node_uses_the_reason() -> None:
    assert "was not sent: the cap is reached" in candidate_sentence(cand("capped", reason="the cap is reached"),
                                                                     T0, V3)
    assert constraint_text(None) == "a rule blocked it (no constraint was recorded)"


# --- enrollments --------------------------------------------------------------------------------------------

def enrollment(status: str, step: str, visits: list[tuple[int, str, str]], **kw: Any) -> EnrollmentPath:
    return EnrollmentPath(
        enrollmentId="abandoned-cart@2/ann-1", journeyId="abandoned-cart", version=2, status=status, stepId=step,
        enteredAtMs=T0, visits=[Visit(seq=s, atMs=T0 + s * HOUR, stepId=st, stepKey=f"abandoned-cart@2/{st}", path=p)
                                for s, st, p in visits], **kw)


def test_never_entered() -> None:
    assert never_entered_sentence(ANN, "abandoned-cart") == "ann never entered abandoned-cart."
    anonymous = PersonRef(personId="p-1")
    assert explain_sentences(anonymous, "abandoned-cart", "email_reminder", [], []) == \
        ["person p-1 never entered abandoned-cart."]


def test_exited_before_the_step() -> None:
    en = enrollment("exited", "wait_for_order", [(1, "wait_for_order", "entry"), (2, "wait_for_order", "exit")],
                    exitReason="exit:ordered", endedAtMs=T0 + HOUR)
    assert enrollment_sentence(ANN, en, "email_reminder") == (
        "ann entered abandoned-cart v2 at 2026-03-01 10:00 UTC, exited at wait_for_order by exit:ordered at "
        "2026-03-01 11:00 UTC before reaching email_reminder.")
    # the exit edge points at the step it left from: that is not "reaching" it
    assert enrollment_sentence(ANN, en, "wait_for_order").startswith("ann entered abandoned-cart v2 at "
                                                                     "2026-03-01 10:00 UTC and reached wait_for_order")


def test_completed_and_active_before_the_step() -> None:
    done = enrollment("completed", "ordered", [(1, "wait_for_order", "entry"), (2, "ordered", "event")],
                      endedAtMs=T0 + 2 * HOUR)
    assert enrollment_sentence(ANN, done, "email_reminder") == (
        "ann entered abandoned-cart v2 at 2026-03-01 10:00 UTC, completed at ordered at 2026-03-01 12:00 UTC "
        "before reaching email_reminder.")
    waiting = enrollment("active", "wait_for_order", [(1, "wait_for_order", "entry")], wakeAtMs=T0 + 4 * HOUR)
    assert enrollment_sentence(ANN, waiting, "email_reminder") == (
        "ann entered abandoned-cart v2 at 2026-03-01 10:00 UTC and is at wait_for_order (active) and has not "
        "reached email_reminder yet; its next timer is at 2026-03-01 14:00 UTC.")
    assert enrollment_sentence(ANN, waiting) == (
        "ann entered abandoned-cart v2 at 2026-03-01 10:00 UTC and is at wait_for_order (active); its next timer "
        "is at 2026-03-01 14:00 UTC.")


def test_migrated_enrollment_names_both_versions() -> None:
    en = EnrollmentPath(enrollmentId="abandoned-cart@1/ann-1", journeyId="abandoned-cart", version=2,
                        status="active", stepId="wait_again", enteredAtMs=T0,
                        visits=[Visit(seq=1, atMs=T0, stepId="wait_for_order",
                                      stepKey="abandoned-cart@1/wait_for_order", path="entry")])
    assert enrollment_sentence(ANN, en).startswith("ann entered abandoned-cart v1 at 2026-03-01 10:00 UTC (now on v2)")


def test_explain_sentences_tell_the_path_then_each_decision() -> None:
    en = enrollment("active", "wait_again", [(1, "wait_for_order", "entry"), (2, "email_reminder", "timeout"),
                                             (3, "wait_again", "next")])
    en.requests = [RequestRef(actionId="abandoned-cart@2/ann-1#2", stepId="email_reminder", status="capped",
                              atMs=T0 + 2 * HOUR, decisionId="d-1")]
    cap = ref("cap:email-daily", "cap", id="email-daily", max=2, window="1d", scope={"channel": "email"})
    head = {"decisionId": "d-1", "kind": "journey", "atMs": T0 + 2 * HOUR, "constraintVersion": V3}
    decision = decision_from_rows(head, [{
        "decisionId": "d-1", "actionId": "abandoned-cart@2/ann-1#2", "rank": 1, "outcome": "capped",
        "channel": "email", "template": "cart_reminder_email", "journeyId": "abandoned-cart", "version": 2,
        "stepId": "email_reminder", "constraintId": cap.constraintId, "constraintKind": "cap",
        "constraintConfig": '{"id":"email-daily","max":2,"window":"1d","scope":{"channel":"email"}}'}])
    sentences = explain_sentences(ANN, "abandoned-cart", "email_reminder", [en], [decision])
    assert sentences == [
        "ann entered abandoned-cart v2 at 2026-03-01 10:00 UTC and reached email_reminder at 2026-03-01 12:00 UTC.",
        "2026-03-01 12:00 UTC: email cart_reminder_email from abandoned-cart v2 step email_reminder was not sent: "
        "the cap email-daily (2 per 1d on email) was already reached (constraints v3).",
    ]
    # a request no decision considered (the accepting resolver) is still accounted for
    en.requests = [RequestRef(actionId="a#2", stepId="email_reminder", status="accepted", atMs=T0 + 2 * HOUR,
                              channel="email", template="cart_reminder_email")]
    assert explain_sentences(ANN, "abandoned-cart", "email_reminder", [en], [])[1] == (
        "2026-03-01 12:00 UTC: email cart_reminder_email from abandoned-cart v2 step email_reminder was requested "
        "with status accepted; no decision was recorded for it.")


# --- rows -> models ----------------------------------------------------------------------------------------

def test_candidate_from_row_parses_json_and_keeps_rendered_only_when_chosen() -> None:
    row = {"actionId": "a#1", "rank": 1, "outcome": "chosen", "chosen": True, "channel": "email",
           "rendered": '{"subject":"Hi Ann","text":"..."}', "renderErrors": None}
    c = candidate_from_row(row)
    assert c.rendered == {"subject": "Hi Ann", "text": "..."} and c.kind == "journey" and c.chosen
    capped = candidate_from_row({**row, "outcome": "capped", "chosen": False, "renderErrors": '["missing x"]'})
    assert capped.rendered is None and capped.renderErrors == ["missing x"]
    bad = candidate_from_row({**row, "constraintId": "cap:x", "constraintConfig": "not json"})
    assert bad.blockedBy is not None and bad.blockedBy.config is None


def test_enrollment_from_row_drops_null_collect_entries() -> None:
    en = enrollment_from_row({"enrollmentId": "j@1/m", "journeyId": "j", "version": 1, "status": "active",
                              "visits": [{"seq": None}, {"seq": 2, "stepId": "b"}, {"seq": 1, "stepId": "a",
                                                                                    "stepKey": "j@1/a"}],
                              "requests": [{"actionId": None}, {"actionId": "j@1/m#2", "stepId": "b"}]})
    assert [v.seq for v in en.visits] == [1, 2] and [r.actionId for r in en.requests] == ["j@1/m#2"]
    assert en.enteredVersion == 1


# --- timeline ----------------------------------------------------------------------------------------------

def test_parse_before() -> None:
    assert parse_before(None)[1] == "" and parse_before(None)[0] > T0
    assert parse_before(str(T0)) == (T0, "")
    assert parse_before(f"{T0}:2:msg:with:colons") == (T0, "2:msg:with:colons")
    assert parse_before("2026-03-01T10:00:00Z") == (T0, "")
    assert parse_before("2026-03-01T10:00:00") == (T0, "")
    with pytest.raises(InvalidCursor):
        parse_before("yesterday")


def test_merge_page_orders_newest_first_and_gives_a_cursor() -> None:
    events = [{"atMs": T0 + 2, "sortKey": "2:e2", "id": "e2", "type": "track", "event": "Product Added"},
              {"atMs": T0, "sortKey": "2:e1", "id": "e1", "type": "identify"}]
    visits = [{"atMs": T0 + 2, "sortKey": "6:en#0000000001", "id": "en#1", "journeyId": "j", "version": 1,
               "stepId": "s", "path": "entry", "detail": ""}]
    items, cursor = merge_page([("event", events), ("visit", visits)], 2)
    assert [(i.kind, i.id) for i in items] == [("visit", "en#1"), ("event", "e2")]
    assert cursor == f"{T0 + 2}:2:e2"
    assert items[1].summary == "track Product Added" and items[0].summary == "j v1: entry -> s"
    rest, end = merge_page([("event", events[1:])], 2)
    assert [i.id for i in rest] == ["e1"] and end is None


def test_timeline_summaries() -> None:
    decision = timeline_item("decision", {"atMs": T0, "id": "d-1", "kind": "journey", "constraintVersion": V3,
                                          "candidates": [None, {"journeyId": "j", "stepId": "s", "outcome": "capped"}]})
    assert decision.summary == "journey decision (constraints v3): j/s: capped"
    assert decision.data["candidates"] == [{"journeyId": "j", "stepId": "s", "outcome": "capped"}]
    consent = timeline_item("consent", {"atMs": T0, "id": "email", "data": {"channel": "email", "status": "opted_out",
                                                                           "source": "event:Unsubscribed"}})
    assert consent.summary == "consent on email: opted_out (from event:Unsubscribed)" and consent.at.startswith("2026")
    session = timeline_item("session", {"atMs": T0, "id": "s-1", "eventCount": 3, "endedAtMs": T0 + HOUR})
    assert session.summary == "session started (3 events, until 2026-03-01 11:00 UTC)"
