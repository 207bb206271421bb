"""Pure helpers of the analyst notebooks (app/analysis.py) and the committed notebooks' hygiene."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.analysis import (
    Message,
    cap_pressure,
    conflict_graph,
    conversion_events,
    conversion_rows,
    decision_graph,
    funnel,
    lift_table,
    peak_in_window,
    per_person_channel,
)
from app.seed import SEED_JOURNEYS, constraints, generate, journeys
from graph_models.constraints import ConstraintSet
from graph_models.journey import JourneyDefinition

ROOT = Path(__file__).resolve().parents[2]
DAY = 86_400_000


def _journey(**over: Any) -> JourneyDefinition:
    base: dict[str, Any] = {
        "id": "sale", "name": "sale", "entry": {"event": "Viewed"}, "start": "split",
        "goals": [{"id": "ordered", "event": "Order Completed", "within": "7d"}],
        "steps": [{"id": "split", "type": "split", "variants": [
            {"name": "A", "weight": 1, "next": "send"}, {"name": "hold", "weight": 1, "holdout": True,
                                                         "next": "done"}]},
            {"id": "send", "type": "action", "channel": "email", "template": "cart_reminder_email", "next": "done"},
            {"id": "done", "type": "end"}]}
    return JourneyDefinition.model_validate({**base, **over})


def test_peak_in_window_is_rolling_and_half_open() -> None:
    assert peak_in_window([], DAY) == 0
    assert peak_in_window([0, 10, DAY - 1], DAY) == 3
    assert peak_in_window([0, DAY], DAY) == 1  # (t - window, t]: the first one has left the window
    assert peak_in_window([5 * DAY, 0, 3 * DAY, 3 * DAY + 1], DAY) == 2


def test_cap_pressure_counts_by_scope_and_includes_people_without_messages() -> None:
    cs = ConstraintSet.model_validate({"caps": [
        {"id": "email-daily", "max": 2, "window": "1d", "scope": {"channel": "email"}},
        {"id": "promo", "max": 1, "window": "7d", "scope": {"tag": "promo"}},
        {"id": "cart", "max": 1, "window": "1d", "scope": {"journey": "cart"}}]})
    msgs = [Message("p1", "email", "cart", (), 0), Message("p1", "email", "sale", ("promo",), 1000),
            Message("p1", "push", "sale", ("promo",), 2 * DAY)]
    rows = {(r["person"], r["cap"]): (r["peak"], r["use"]) for r in cap_pressure(msgs, cs.caps, ["p1", "p2"])}
    assert rows[("p1", "email-daily")] == (2, 1.0)
    assert rows[("p1", "promo")] == (2, 2.0)
    assert rows[("p1", "cart")] == (1, 1.0)
    assert rows[("p2", "email-daily")] == (0, 0.0)
    assert per_person_channel(msgs, ["p1", "p2"], ["email", "sms"]) == {"email": [0, 2], "sms": [0, 0]}


def test_conflict_graph_weights_shared_people_triggers_channels_caps() -> None:
    defs = journeys()
    people = {"spring-sale": {"a", "b", "c"}, "winback": {"b", "c"}, "welcome-series": {"z"}}
    g = conflict_graph(defs, constraints(), people, {("spring-sale", "winback"): 4})
    edge = g.edges["spring-sale", "winback"]
    assert (edge["shared_people"], edge["shared_trigger"], edge["competed"]) == (2, 1, 4)
    assert edge["shared_cap"] >= 2 and edge["shared_channel"] == 1
    assert edge["weight"] == 2 + 4 + 5 * (1 + edge["shared_channel"] + edge["shared_cap"] + edge["exclusion_group"])
    assert g.nodes["spring-sale"]["people"] == 3
    assert g.edges["welcome-series", "winback"]["shared_people"] == 0  # still joined: email and caps


def test_conversion_events_fall_back_to_exits_then_waits() -> None:
    by_id = {d.id: d for d in journeys()}
    assert conversion_events(by_id["spring-sale"]) == [("Order Completed", 7 * DAY)]
    assert conversion_events(by_id["trial-conversion"]) == [("Subscription Started", 7 * DAY)]
    assert conversion_events(by_id["abandoned-cart"]) == [("Order Completed", 7 * DAY)]
    assert conversion_events(by_id["welcome-series"]) == []


def _enrollments() -> list[dict[str, Any]]:
    out = []
    for i in range(10):
        variant = "A" if i < 6 else "hold"
        visited = ["split", "send", "done"] if variant == "A" else ["split", "done"]
        out.append({"enrollmentId": f"e{i}", "personId": f"p{i}", "variant": variant, "enteredAtMs": i,
                    "visited": visited, "stepId": "done", "status": "completed"})
    out.append({"enrollmentId": "e10", "personId": "p10", "variant": "A", "enteredAtMs": 10,
                "visited": ["split", "send"], "stepId": "send", "status": "active"})
    return out


def test_funnel_and_lift_table() -> None:
    d, rows = _journey(), _enrollments()
    assert conversion_rows(d, rows[:1]) == [{"key": "e0", "personId": "p0", "event": "Order Completed",
                                             "fromMs": 0, "toMs": 7 * DAY}]
    converted = {"e0", "e1", "e2", "e6"}
    steps = {r["step"]: r for r in funnel(d, rows, converted)}
    assert (steps["split"]["entered"], steps["split"]["reached"], steps["split"]["converted"]) == (11, 11, 4)
    assert (steps["send"]["reached"], steps["send"]["dropped"], steps["send"]["converted"]) == (7, 1, 3)
    table = {r["variant"]: r for r in lift_table(d, rows, converted)}
    assert table["hold"]["holdout"] and table["hold"]["lift"] is None
    a = table["A"]
    assert (a["entered"], a["converted"]) == (7, 3)
    assert a["lift"] == pytest.approx(3 / 7 - 1 / 4)
    assert a["lift_low"] < a["lift"] < a["lift_high"]
    assert 0 <= a["rate_low"] < a["rate"] < a["rate_high"] <= 1


def test_decision_graph() -> None:
    rows = [{"userId": "ann", "decisionId": "d1234567890", "actionId": "x#1", "outcome": "chosen",
             "journeyId": "sale", "blockedBy": None},
            {"userId": "ann", "decisionId": "d1234567890", "actionId": "y#1", "outcome": "capped",
             "journeyId": "winback", "blockedBy": "cap:email-daily"}]
    g = decision_graph(rows)
    assert g.edges["candidate y#1", "rule cap:email-daily"]["label"] == "BLOCKED_BY"
    assert g.edges["decision d1234567", "candidate x#1"]["label"] == "chosen"
    assert g.nodes["person ann"]["kind"] == "person"


def test_seed_generation_is_deterministic_and_valid() -> None:
    assert generate(7, 12) == generate(7, 12)
    assert generate(7, 12) != generate(8, 12)
    users, waves, _ = generate(7, 12)
    ids = [e["messageId"] for w in waves for e in w.events]
    assert len(ids) == len(set(ids)) and len(users) == 12
    assert {d["id"] for d in SEED_JOURNEYS} <= {d.id for d in journeys()}
    assert "spring-sale" in next(g for g in constraints().exclusion_groups if g.id == "promotions").journeys


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CYPHER = re.compile(r"\b(MATCH|MERGE|RETURN|UNWIND|DETACH|CREATE)\b")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs_and_no_inline_cypher(path: Path) -> None:
    book = json.loads(path.read_text(encoding="utf-8"))
    for cell in book["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        assert cell.get("outputs") == [] and cell.get("execution_count") is None, (path.name, source[:60])
        assert not CYPHER.search(source), (path.name, source[:60])
        for name in re.findall(r"""\bq\(\s*["']([\w/]+)["']""", source):
            assert (ROOT / "cypher" / "analysis" / f"{name}.cypher").is_file(), name


def test_segment_sizes_and_overlaps() -> None:
    from app.analysis import overlap_matrix, segment_sizes

    changes = [{"segmentId": "a", "change": "entered", "atMs": 1}, {"segmentId": "b", "change": "entered", "atMs": 2},
               {"segmentId": "a", "change": "entered", "atMs": 3}, {"segmentId": "a", "change": "left", "atMs": 4}]
    assert segment_sizes(changes) == {"a": [(1, 1), (3, 2), (4, 1)], "b": [(2, 1)]}
    assert overlap_matrix({"b": ["p1", "p2"], "a": ["p2"], "c": []}) == (["a", "b", "c"],
                                                                         [[1, 1, 0], [1, 2, 0], [0, 0, 0]])
