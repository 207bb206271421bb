"""Journey results: entries, messages, conversions, conversion rates and lift per goal, variant and step.

A conversion is the person performing the goal's event (with its `where` conditions) within `within` after
entering (`after: entry`) or after the enrollment's first chosen message (`after: message`, of `step` if
given; an enrollment that got no such message is measured from its entry). Lift: each variant over the split's
holdout variant(s), and everyone who entered and is not in the global control group over those who are (the
control group gets no marketing). Intervals: Wilson for rates, Newcombe (hybrid score) for differences, 95%.
The control group is computed with the constraint set published now.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction

from app.decisions.config_store import ConfigStore
from app.decisions.policy import in_control_group
from app.graph.queries import query
from app.journeys.conditions import matches_properties
from app.journeys.store import JourneyStore
from app.measurement.lift import Interval, Lift, lift, rate, wilson
from graph_models.constraints import ConstraintSet
from graph_models.journey import Goal, JourneyDefinition, SplitStep

NO_VARIANT = "(none)"


@dataclass
class EnrollmentFacts:
    """One enrollment as the results see it."""

    enrollment_id: str
    person_id: str
    version: int
    variant: str | None
    entered_at_ms: int
    messages: list[tuple[str, int]] = field(default_factory=list)  # (stepId, atMs) of chosen requests
    reached: set[str] = field(default_factory=set)  # action steps reached (any outcome)
    in_control: bool = False

    def anchor(self, goal: Goal) -> int:
        if goal.after == "message":
            times = [at for step, at in self.messages if goal.step is None or step == goal.step]
            if times:
                return min(times)
        return self.entered_at_ms


def _interval(i: Interval | None) -> dict[str, float] | None:
    return {"low": round(i.low, 6), "high": round(i.high, 6)} if i is not None else None


def group(entries: int, messages: int, conversions: int) -> dict[str, Any]:
    """Counts, rate and its Wilson interval."""
    r = rate(conversions, entries)
    return {"entries": entries, "messages": messages, "conversions": conversions,
            "rate": round(r, 6) if r is not None else None, "interval": _interval(wilson(conversions, entries))}


def lift_json(value: Lift | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"absolute": round(value.absolute, 6), "relative": round(value.relative, 6) if value.relative is not None
            else None, "interval": _interval(value.interval), "treatedRate": round(value.treated_rate, 6),
            "controlRate": round(value.control_rate, 6), "method": value.method}


def goal_results(goal: Goal, enrollments: Sequence[EnrollmentFacts], converted: set[str],
                 holdouts: set[str]) -> dict[str, Any]:
    """The numbers of one goal (pure: `converted` holds the enrollment ids that converted)."""
    def counts(items: Iterable[EnrollmentFacts]) -> tuple[int, int, int]:
        chosen = list(items)
        return (len(chosen), sum(len(e.messages) for e in chosen),
                sum(1 for e in chosen if e.enrollment_id in converted))

    by_variant: dict[str, list[EnrollmentFacts]] = defaultdict(list)
    for e in enrollments:
        by_variant[e.variant or NO_VARIANT].append(e)
    hold = [e for e in enrollments if e.variant in holdouts]
    hn, _, hc = counts(hold)
    variants = []
    for name in sorted(by_variant):
        n, m, c = counts(by_variant[name])
        is_holdout = name in holdouts
        variants.append({"variant": None if name == NO_VARIANT else name, "holdout": is_holdout,
                         **group(n, m, c),
                         "liftOverHoldout": None if is_holdout or not hold else lift_json(lift(c, n, hc, hn))})
    steps = []
    step_ids = sorted({s for e in enrollments for s in e.reached})
    for step in step_ids:
        reached = [e for e in enrollments if step in e.reached]
        n, _, c = counts(reached)
        messages = sum(1 for e in reached for s, _ in e.messages if s == step)
        steps.append({"stepId": step, **group(n, messages, c)})
    control = [e for e in enrollments if e.in_control]
    treated = [e for e in enrollments if not e.in_control]
    cn, cm, cc = counts(control)
    tn, tm, tc = counts(treated)
    overall_n, overall_m, overall_c = counts(enrollments)
    return {
        "goalId": goal.id, "event": goal.event, "within": goal.within.text, "after": goal.after, "step": goal.step,
        "overall": group(overall_n, overall_m, overall_c),
        "variants": variants,
        "holdoutVariants": sorted(holdouts),
        "steps": steps,
        "globalControl": {"control": group(cn, cm, cc), "treated": group(tn, tm, tc),
                          "lift": lift_json(lift(tc, tn, cc, cn))},
    }


def holdout_variants(definitions: Iterable[JourneyDefinition]) -> set[str]:
    return {v.name for d in definitions for s in d.steps if isinstance(s, SplitStep) for v in s.variants
            if v.holdout}


def goals_of(definitions: Sequence[JourneyDefinition]) -> list[Goal]:
    """Goals by id; the newest version's wins (definitions newest first)."""
    seen: dict[str, Goal] = {}
    for d in definitions:
        for g in d.goals:
            seen.setdefault(g.id, g)
    return list(seen.values())


class ResultsStore:
    """Reads the graph for `GET /v1/journeys/{id}/results` and `journeys journey results`."""

    def __init__(self, driver: Driver, database: str) -> None:
        self.driver = driver
        self.database = database
        self.journeys = JourneyStore(driver, database)

    def results(self, journey_id: str, from_ms: int | None = None, to_ms: int | None = None) -> dict[str, Any]:
        """Per goal, variant and step (NotFound for an unknown journey)."""
        detail = self.journeys.get(journey_id, audit_limit=0)
        lo, hi = from_ms if from_ms is not None else 0, to_ms if to_ms is not None else 2**62
        with self.driver.session(database=self.database) as session:
            facts, cs = session.execute_read(self._facts, journey_id, lo, hi)
        versions = sorted({e.version for e in facts} | {v.version for v in detail.versions}, reverse=True)
        definitions = [self.journeys.definition(journey_id, v) for v in versions]
        for e in facts:
            e.in_control = in_control_group(e.person_id, cs)
        goals = goals_of(definitions)
        holdouts = holdout_variants(definitions)
        with self.driver.session(database=self.database) as session:
            converted = {g.id: session.execute_read(self._converted, g, facts) for g in goals}
        n_messages = sum(len(e.messages) for e in facts)
        return {"journeyId": journey_id, "fromMs": from_ms, "toMs": to_ms, "entries": len(facts),
                "messages": n_messages, "method": "rates: Wilson 95%; lift: difference of proportions, Newcombe "
                                                 "hybrid score 95%",
                "globalControl": cs.global_control.model_dump() if cs.global_control else None,
                "goals": [goal_results(g, facts, converted[g.id], holdouts) for g in goals]}

    @staticmethod
    def _facts(tx: ManagedTransaction, journey_id: str, lo: int, hi: int
               ) -> tuple[list[EnrollmentFacts], ConstraintSet]:
        found: dict[str, EnrollmentFacts] = {}
        for r in tx.run(query("measurement/results_enrollments"), journeyId=journey_id, fromMs=lo, toMs=hi):
            e = found.get(r["enrollmentId"])
            if e is None:
                e = found[r["enrollmentId"]] = EnrollmentFacts(
                    r["enrollmentId"], r["personId"], int(r["version"]), r["variant"], int(r["enteredAtMs"]))
            if r["actionId"] is not None:
                e.reached.add(r["stepId"])
                if r["status"] == "chosen":
                    e.messages.append((r["stepId"], int(r["atMs"])))
        published = ConfigStore.published(tx, "constraints")
        cs = published.model if published is not None and isinstance(published.model, ConstraintSet) \
            else ConstraintSet()
        return sorted(found.values(), key=lambda e: (e.entered_at_ms, e.enrollment_id)), cs

    @staticmethod
    def _converted(tx: ManagedTransaction, goal: Goal, facts: Sequence[EnrollmentFacts]) -> set[str]:
        rows = []
        for e in facts:
            start = e.anchor(goal)
            rows.append({"key": e.enrollment_id, "personId": e.person_id, "fromMs": start,
                         "toMs": start + goal.within.ms})
        out: set[str] = set()
        for i in range(0, len(rows), 1000):
            for r in tx.run(query("measurement/results_goal_events"), event=goal.event, rows=rows[i:i + 1000]):
                if r["key"] in out:
                    continue
                props = _properties(r["properties"])
                if matches_properties(goal.where, props):
                    out.add(r["key"])
        return out


def _properties(raw: Any) -> Mapping[str, Any]:
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return raw if isinstance(raw, dict) else {}
