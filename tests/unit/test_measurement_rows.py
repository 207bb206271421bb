"""The measurement outbox rows the engine writes (pure: no graph)."""

from __future__ import annotations

from app.journeys.engine import Effects, EngineEvent, Walker
from app.journeys.resolver import ActionOutcome
from app.measurement.outbox import engine_records
from graph_models.journey import JourneyDefinition
from graph_models.measurements import DecisionRecord, EntryRecord, VisitRecord


def test_engine_records_are_exactly_the_models_json() -> None:
    """`engine_records` builds the JSON rows directly; each must be what its model gives (all keys, defaults)."""

    defn = JourneyDefinition.model_validate({
        "id": "cart", "name": "Cart", "entry": {"event": "Product Added"}, "start": "wait",
        "steps": [{"id": "wait", "type": "wait_for_event", "event": "Order Completed", "timeout": "4h",
                   "next": "done", "on_timeout": "remind"},
                  {"id": "remind", "type": "action", "channel": "email", "template": "cart", "next": "done"},
                  {"id": "done", "type": "end"}]})
    t0 = 1_772_359_200_000
    fx = Effects()
    w = Walker(defn, 1, fx, lambda _pid: {}, lambda _pid, _spec, _b: 0)
    for n, person in enumerate(("p1", "p2")):
        en = w.enter(person, EngineEvent(f"m{n}", person, "Product Added", "track", t0, {}))
        fx.entered_by.append((en.enrollment_id, f"m{n}"))
        w.fire_due(en, t0 + 5 * 3_600_000)
    actions = fx.actions or fx.pending
    fx.actions = list(actions)
    assert len(fx.actions) == 2
    outcomes = {fx.actions[0].action_id: ActionOutcome(fx.actions[0].action_id, "chosen", "best", None,
                                                       {"decisionId": "d1", "channel": "email"})}
    rows = engine_records(fx, outcomes)
    models = {"entry": EntryRecord, "visit": VisitRecord, "decision": DecisionRecord}
    assert {r["kind"] for r in rows} == set(models)
    for row in rows:
        assert models[row["kind"]].model_validate(row).to_json() == row
    decisions = [r for r in rows if r["kind"] == "decision"]
    assert decisions[0]["deliveryId"] and decisions[0]["outcome"] == "chosen"
    assert decisions[1]["outcome"] == "error" and decisions[1]["reason"] == "not decided"
