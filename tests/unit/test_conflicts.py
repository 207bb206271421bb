"""app/decisions/conflicts.py: each kind of conflict a version can have with the live journeys."""

from __future__ import annotations

from typing import Any

from app.decisions.conflicts import find_conflicts
from graph_models.constraints import ConstraintSet
from graph_models.journey import JourneyDefinition


def journey(jid: str, event: str, channel: str = "email", tags: list[str] | None = None,
            fallback: list[dict[str, Any]] | None = None) -> JourneyDefinition:
    return JourneyDefinition.model_validate({
        "id": jid, "name": jid, "entry": {"event": event}, "start": "send",
        "steps": [{"id": "send", "type": "action", "channel": channel, "template": "t", "tags": tags or [],
                   "fallback": fallback or [], "next": "end"}, {"id": "end", "type": "end"}]})


def test_each_kind_of_conflict() -> None:
    constraints = ConstraintSet.model_validate({
        "caps": [{"id": "email-daily", "max": 2, "window": "1d", "scope": {"channel": "email"}},
                 {"id": "promo", "max": 1, "window": "7d", "scope": {"tag": "promo"}},
                 {"id": "sms-only", "max": 1, "window": "1d", "scope": {"channel": "sms"}}],
        "exclusion_groups": [{"id": "promos", "journeys": ["new", "cart"], "window": "1d"}]})
    draft = journey("new", "Product Added", tags=["promo"], fallback=[{"channel": "push", "template": "p"}])
    live = [journey("cart", "Product Added", tags=["promo"]), journey("other", "Signed Up", channel="push"),
            journey("new", "Product Added")]
    found = [(c.kind, c.journey) for c in find_conflicts(draft, live, constraints, {"cart": 12, "other": 0})]
    assert found == [
        ("shared_trigger", "cart"), ("shared_people", "cart"), ("shared_channel", "cart"),
        ("shared_cap", "cart"), ("shared_cap", "cart"), ("exclusion_group", "cart"),
        ("shared_channel", "other")]  # push through the draft's fallback; its own earlier version is skipped
    details = [c.detail for c in find_conflicts(draft, live, constraints, {"cart": 12})]
    assert any("12 people" in d for d in details) and any("email-daily (2 per 1d)" in d for d in details)


def test_no_conflicts() -> None:
    assert find_conflicts(journey("a", "X"), [journey("b", "Y", channel="sms")], ConstraintSet()) == []
