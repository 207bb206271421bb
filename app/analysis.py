"""Helpers for the analyst notebooks (`notebooks/`): a driver from the service's own settings, `q(name, **params)`
running a named read query from `cypher/analysis/`, plot saving, and the pure computations the notebooks show
(conflict graph, cap pressure, funnels, holdout lift). Nothing here writes to the graph.

Connection: `NEO4J_URI`, `NEO4J_USER`, `NEO4J_PASSWORD`, `NEO4J_DATABASE` (app/settings.py); when NEO4J_URI is
unset, a running `journeys up` is found through its runtime file, as the CLI does. Plots: when
`JOURNEYS_NOTEBOOK_PLOTS` names a directory, `save_plot` writes `<name>.png` there (the test suite checks them).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
from neo4j import Driver

from app.decisions.conflicts import find_conflicts
from app.discovery import discover
from app.graph.queries import query
from app.measurement.lift import Interval, Lift, lift, wilson
from app.runtime import connect
from app.settings import Settings, get_settings
from graph_models.constraints import ConstraintSet, FrequencyCap
from graph_models.journey import ActionStep, JourneyDefinition, SplitStep, WaitForEventStep

PLOTS_ENV = "JOURNEYS_NOTEBOOK_PLOTS"


# -- connection ------------------------------------------------------------------------------------------------
@cache
def settings() -> Settings:
    """The service's settings (environment); a running `journeys up` when NEO4J_URI is unset."""
    base = get_settings()
    if base.neo4j_uri is None and discover(base.data_dir, os.environ) is not None:
        get_settings.cache_clear()
        base = get_settings()
    if base.neo4j_uri is None:
        raise RuntimeError("NEO4J_URI is not set and no `journeys up` is running (see README, Analysis notebooks)")
    return base


@cache
def driver() -> Driver:
    """One connected driver for the notebook (app.runtime.connect: waits for a starting server)."""
    s = settings()
    return connect(s, s.neo4j_uri or "")


def close() -> None:
    """Close the notebook's driver (the next `q` opens a new one)."""
    if driver.cache_info().currsize:
        driver().close()
        driver.cache_clear()


def q(name: str, **params: Any) -> list[dict[str, Any]]:
    """Rows (dicts) of the read query `cypher/analysis/<name>.cypher` (or `cypher/<dir>/<name>` given a slash)."""
    text = query(name if "/" in name else f"analysis/{name}")
    records, _, _ = driver().execute_query(text, params, database_=settings().neo4j_database, routing_="r")
    return [r.data() for r in records]


def show(rows: Sequence[Mapping[str, Any]], limit: int = 30) -> None:
    """Print rows as an aligned table (no pandas needed)."""
    rows = list(rows)
    if not rows:
        print("(no rows)")
        return
    cols = list(rows[0])
    cells = [[_cell(r.get(c)) for c in cols] for r in rows[:limit]]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    if len(rows) > limit:
        print(f"... {len(rows) - limit} more rows")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def save_plot(fig: Any, name: str) -> Path | None:
    """Save a matplotlib figure as `<name>.png` into $JOURNEYS_NOTEBOOK_PLOTS (if set); returns the path."""
    folder = os.environ.get(PLOTS_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    return path


def finish(fig: Any, name: str) -> Path | None:
    """Save the figure (`save_plot`), show it unless the backend is non-interactive (Agg), then close it."""
    import matplotlib
    import matplotlib.pyplot as plt

    path = save_plot(fig, name)
    if matplotlib.get_backend().lower() != "agg":
        plt.show()
    plt.close(fig)
    return path


# -- configuration from the graph --------------------------------------------------------------------------------
def live_journeys() -> list[JourneyDefinition]:
    """The published journey versions' definitions, by journey id."""
    return [JourneyDefinition.model_validate_json(r["definition"]) for r in q("live_journeys")]


def published_constraints() -> tuple[str, ConstraintSet]:
    """The live constraints version key and model (the built-in defaults when none is published)."""
    rows = q("published_constraints")
    if not rows or rows[0]["definition"] is None:
        return "constraints/default@builtin", ConstraintSet()
    return str(rows[0]["key"]), ConstraintSet.model_validate_json(rows[0]["definition"])


# -- 1. overlap and conflict graph ------------------------------------------------------------------------------
EDGE_KINDS = ("shared_people", "shared_trigger", "shared_channel", "shared_cap", "exclusion_group", "competed")


def conflict_graph(definitions: Sequence[JourneyDefinition], constraints: ConstraintSet,
                   people: Mapping[str, set[str]], competed: Mapping[tuple[str, str], int] | None = None
                   ) -> nx.Graph:
    """Journeys as nodes (attribute `people`), an edge per pair with anything in common. Edge attributes: one
    count per kind (`shared_people`: people in both; `shared_trigger`, `shared_channel`, `shared_cap`,
    `exclusion_group`: how many such conflicts; `competed`: decisions where both had a candidate), the
    `details`, and `weight` = shared people + 5 per other conflict + competed decisions."""
    g = nx.Graph()
    for d in definitions:
        g.add_node(d.id, people=len(people.get(d.id, set())))
    ids = sorted(d.id for d in definitions)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            counts = dict.fromkeys(EDGE_KINDS, 0)
            counts["shared_people"] = len(people.get(a, set()) & people.get(b, set()))
            counts["competed"] = int((competed or {}).get((a, b), 0) + (competed or {}).get((b, a), 0))
            da = next(d for d in definitions if d.id == a)
            db = next(d for d in definitions if d.id == b)
            details = []
            for c in find_conflicts(da, [db], constraints):
                if c.kind in counts and c.kind != "shared_people":
                    counts[c.kind] += 1
                    details.append(c.detail)
            weight = counts["shared_people"] + counts["competed"] + 5 * sum(
                counts[k] for k in ("shared_trigger", "shared_channel", "shared_cap", "exclusion_group"))
            if weight:
                g.add_edge(a, b, weight=weight, details=details, **counts)
    return g


# -- 2. message pressure --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    """A chosen message."""

    person: str
    channel: str
    journey: str
    tags: tuple[str, ...]
    at_ms: int


def cap_counts(cap: FrequencyCap, m: Message) -> bool:
    """Whether a cap counts this message (its scope: channel, journey, tag; all unset = every message)."""
    s = cap.scope
    return ((s.channel is None or s.channel == m.channel) and (s.journey is None or s.journey == m.journey)
            and (s.tag is None or s.tag in m.tags))


def peak_in_window(times: Iterable[int], window_ms: int) -> int:
    """The most messages in any rolling window (t - window, t] (pure)."""
    ts = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ts):
        while ts[lo] <= t - window_ms:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def cap_pressure(messages: Sequence[Message], caps: Sequence[FrequencyCap], people: Iterable[str]
                 ) -> list[dict[str, Any]]:
    """Per person and cap: the peak count in any window of the cap (calendar caps as rolling windows), the cap's
    max, and `use` = peak / max (1.0 = at the cap). People with no message get zero rows too."""
    by_person: dict[str, list[Message]] = defaultdict(list)
    for m in messages:
        by_person[m.person].append(m)
    out = []
    for person in sorted(set(people) | set(by_person)):
        for cap in caps:
            peak = peak_in_window((m.at_ms for m in by_person.get(person, []) if cap_counts(cap, m)), cap.window.ms)
            out.append({"person": person, "cap": cap.id, "max": cap.max, "peak": peak,
                        "use": peak / cap.max if cap.max else float(peak > 0)})
    return out


def per_person_channel(messages: Sequence[Message], people: Iterable[str], channels: Sequence[str]
                       ) -> dict[str, list[int]]:
    """For each channel, the number of chosen messages of every person (zeros included), sorted."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for m in messages:
        counts[(m.person, m.channel)] += 1
    everyone = sorted(set(people) | {m.person for m in messages})
    return {c: sorted(counts[(p, c)] for p in everyone) for c in channels}


# -- 3. funnel -----------------------------------------------------------------------------------------------
def conversion_events(d: JourneyDefinition) -> list[tuple[str, int]]:
    """What counts as converting, as (event, window ms): the goals; else the exit events; else the events a
    `wait_for_event` step waits for (within the journey timeout or 7 days)."""
    if d.goals:
        return [(g.event, g.within.ms) for g in d.goals]
    window = d.timeout.ms if d.timeout is not None else 7 * 86_400_000
    exits = [(e.event, window) for e in d.exit if e.event is not None]
    if exits:
        return exits
    return sorted({(s.event, window) for s in d.steps if isinstance(s, WaitForEventStep)})


def conversion_rows(d: JourneyDefinition, enrollments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The `goal_conversions` parameters for a journey's enrollments (one row per enrollment and event)."""
    return [{"key": e["enrollmentId"], "personId": e["personId"], "event": event, "fromMs": e["enteredAtMs"],
             "toMs": e["enteredAtMs"] + window} for e in enrollments for event, window in conversion_events(d)]


def funnel(d: JourneyDefinition, enrollments: Sequence[Mapping[str, Any]], converted: set[str]
           ) -> list[dict[str, Any]]:
    """Per step in file order: `entered` (enrollments of the journey), `reached` (visited the step), `dropped`
    (exited there, or still waiting there), `converted` (reached it and converted)."""
    out = []
    total = len(enrollments)
    for step in d.steps:
        reached = [e for e in enrollments if step.id in (e["visited"] or [])]
        dropped = [e for e in reached if e["stepId"] == step.id and e["status"] in ("exited", "active")]
        out.append({"journey": d.id, "step": step.id, "type": step.type, "entered": total,
                    "reached": len(reached), "dropped": len(dropped),
                    "converted": sum(1 for e in reached if e["enrollmentId"] in converted)})
    return out


# -- 4. holdout lift -------------------------------------------------------------------------------------------
def holdout_variants(d: JourneyDefinition) -> set[str]:
    """Names of the split variants marked `holdout`."""
    return {v.name for s in d.steps if isinstance(s, SplitStep) for v in s.variants if v.holdout}


def _iv(i: Interval | None) -> tuple[float | None, float | None]:
    return (i.low, i.high) if i is not None else (None, None)


def lift_table(d: JourneyDefinition, enrollments: Sequence[Mapping[str, Any]], converted: set[str]
               ) -> list[dict[str, Any]]:
    """Per variant: entered, converted, rate with its Wilson 95% interval, and (non-holdout variants) the lift
    over the pooled holdout variants, absolute, with Newcombe's 95% interval (app/measurement/lift.py)."""
    holdouts = holdout_variants(d)
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for e in enrollments:
        groups[e["variant"] or "(none)"].append(e)
    hold = [e for e in enrollments if e["variant"] in holdouts]
    hn, hc = len(hold), sum(1 for e in hold if e["enrollmentId"] in converted)
    out = []
    for name in sorted(groups):
        n = len(groups[name])
        c = sum(1 for e in groups[name] if e["enrollmentId"] in converted)
        low, high = _iv(wilson(c, n))
        value: Lift | None = None if name in holdouts or not hold else lift(c, n, hc, hn)
        out.append({"journey": d.id, "variant": name, "holdout": name in holdouts, "entered": n, "converted": c,
                    "rate": c / n if n else None, "rate_low": low, "rate_high": high,
                    "lift": value.absolute if value else None,
                    "lift_low": value.interval.low if value else None,
                    "lift_high": value.interval.high if value else None})
    return out


# -- 5. decision audit ---------------------------------------------------------------------------------------
def decision_graph(rows: Sequence[Mapping[str, Any]]) -> nx.DiGraph:
    """A person's decisions as a graph (rows of `person_audit`): person -> decision -> candidate
    (edge `outcome`) -> blocking constraint; candidate -> journey."""
    g = nx.DiGraph()
    for r in rows:
        person, decision = f"person {r['userId']}", f"decision {r['decisionId'][:8]}"
        cand = f"candidate {r['actionId']}"
        g.add_node(person, kind="person")
        g.add_node(decision, kind="decision")
        g.add_node(cand, kind="candidate", outcome=r["outcome"])
        g.add_edge(decision, person, label="FOR")
        g.add_edge(decision, cand, label=r["outcome"])
        if r.get("journeyId"):
            g.add_node(f"journey {r['journeyId']}", kind="journey")
            g.add_edge(cand, f"journey {r['journeyId']}", label="FROM")
        if r.get("blockedBy"):
            g.add_node(f"rule {r['blockedBy']}", kind="constraint")
            g.add_edge(cand, f"rule {r['blockedBy']}", label="BLOCKED_BY")
    return g


def action_steps(d: JourneyDefinition) -> list[str]:
    """The ids of a journey's action steps."""
    return [s.id for s in d.steps if isinstance(s, ActionStep)]


# -- segments (notebooks/segments.ipynb) ---------------------------------------------------------------------------

def segment_sizes(changes: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[int, int]]]:
    """Each segment's size after each change: `(atMs, size)` points from `segment_changes` rows in time order."""
    size: dict[str, int] = defaultdict(int)
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r in changes:
        size[r["segmentId"]] += 1 if r["change"] == "entered" else -1
        out[r["segmentId"]].append((int(r["atMs"]), size[r["segmentId"]]))
    return dict(out)


def overlap_matrix(members: Mapping[str, Iterable[str]]) -> tuple[list[str], list[list[int]]]:
    """Segment ids (sorted) and the people both segments of each pair share (the diagonal: each one's size)."""
    ids = sorted(members)
    sets = {k: set(v) for k, v in members.items()}
    return ids, [[len(sets[a] & sets[b]) for b in ids] for a in ids]
