"""Read-only graph access for the what-if replay: every query runs in `execute_read` (read transactions only,
fixed named queries under `cypher/simulate/`), so a simulation can never change live enrollments, decisions
or deliveries.

Events of the window are read per person (range predicates are not indexed on ArcadeDB): person ids are streamed
once, and each page of them has its events read from the person (and its state) in a read transaction of its own;
the replay sorts the events globally by (timestamp, messageId)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

from neo4j import Driver, ManagedTransaction

from app.decisions.config_store import ConfigStore
from app.decisions.policy import Consent, Sent, history_since_ms
from app.decisions.resolver import BUILTIN_CONSTRAINTS
from app.errors import PermanentError
from app.graph.queries import query
from app.journeys.engine import EngineEvent
from app.journeys.runtime import stored_event
from app.simulate.replay import (
    LiveAction,
    LiveEnrollment,
    PersonInput,
    PriorEnrollment,
    Progress,
    ReplayInput,
    replay,
)
from graph_models.constraints import ConstraintSet
from graph_models.journey import JourneyDefinition
from graph_models.simulation import SimulationResult

DAY_MS = 86_400_000
DEFAULT_LOOKBACK_MS = 30 * DAY_MS  # events before the window read for count conditions
MAX_WINDOW_MS = 366 * DAY_MS
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_EPOCH = re.compile(r"-?[0-9]{1,18}")
_RELATIVE = re.compile(r"([+-])([0-9]{1,9})([dhm])")


class InvalidWindow(PermanentError):
    """The replay window is empty, reversed or too long."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="invalid")


def parse_time(text: str, now_ms: int) -> int:
    """Epoch ms from '1767225600000', '2026-01-01', '2026-01-01T12:00:00Z', 'now' or 'now-7d' / '-7d' (days,
    hours 'h' or minutes 'm' before now); InvalidWindow if it is none of these."""
    value = text.strip()
    if _EPOCH.fullmatch(value):
        return int(value)
    rel = value.removeprefix("now")
    if not rel:
        return now_ms
    units = {"d": DAY_MS, "h": 3_600_000, "m": 60_000}
    found = _RELATIVE.fullmatch(rel)
    if found is not None:
        sign = -1 if found[1] == "-" else 1
        return now_ms + sign * int(found[2]) * units[found[3]]
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidWindow(f"{text!r} is not a time: use epoch ms, an ISO date/time, 'now' or '-7d'") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def check_window(from_ms: int, to_ms: int) -> None:
    """InvalidWindow unless `[from_ms, to_ms)` is a non-empty window of at most 366 days between 1970 and 9999."""
    if not (0 <= from_ms <= MAX_TIME_MS and 0 <= to_ms <= MAX_TIME_MS):
        raise InvalidWindow("times must lie between 1970 and 9999")
    if to_ms <= from_ms:
        raise InvalidWindow("the window's end (to) must be after its start (from)")
    if to_ms - from_ms > MAX_WINDOW_MS:
        raise InvalidWindow("the window may span at most 366 days")


class SimulationSource:
    """Reads a replay's inputs from the graph, read-only (see the module docstring)."""

    def __init__(self, driver: Driver, database: str, *, page_size: int = 500,
                 lookback_ms: int = DEFAULT_LOOKBACK_MS) -> None:
        self.driver = driver
        self.database = database
        self.page_size = page_size
        self.lookback_ms = lookback_ms

    def _read(self, work: Callable[[ManagedTransaction], Any]) -> Any:
        with self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    @staticmethod
    def _constraints(tx: ManagedTransaction) -> tuple[str, ConstraintSet]:
        found = ConfigStore.published(tx, "constraints")
        if found is not None and isinstance(found.model, ConstraintSet):
            return found.version_key, found.model
        return BUILTIN_CONSTRAINTS, ConstraintSet()

    @staticmethod
    def _journeys(tx: ManagedTransaction) -> list[tuple[JourneyDefinition, int]]:
        return [(JourneyDefinition.model_validate(json.loads(r["definition"])), int(r["version"]))
                for r in tx.run(query("simulate/published_journeys"))]

    @staticmethod
    def _live(tx: ManagedTransaction, journey_id: str, from_ms: int, to_ms: int) -> list[LiveEnrollment]:
        out = []
        for r in tx.run(query("simulate/live_enrollments"), journeyId=journey_id, fromMs=from_ms, toMs=to_ms):
            actions = tuple(sorted((LiveAction(a["stepId"] or "", int(a["atMs"] or 0), a["status"] or "error",
                                               a["channel"] or "", a.get("blockedBy"))
                                    for a in r["actions"] if a), key=lambda a: (a.at_ms, a.step_id, a.status)))
            out.append(LiveEnrollment(r["enrollmentId"], r["personId"], int(r["version"]), int(r["enteredAtMs"]),
                                      r["status"] or "active", r["exitReason"], r["endedAtMs"], actions))
        return out

    def _scan(self, tx: ManagedTransaction, visit: Callable[[list[str]], None]) -> None:
        """Stream every person id (one scan) and hand them to `visit` a page at a time."""
        page: list[str] = []
        for r in tx.run(query("simulate/people_all")):
            page.append(str(r["personId"]))
            if len(page) >= self.page_size:
                visit(page)
                page = []
        if page:
            visit(page)

    def _people(self, tx: ManagedTransaction, persons: list[str], from_ms: int, to_ms: int, since_ms: int,
                cs: ConstraintSet) -> list[PersonInput]:
        """The persons of one page that have events in the window, with their state."""
        events: dict[str, list[EngineEvent]] = defaultdict(list)
        for r in tx.run(query("simulate/person_events"), persons=persons, fromMs=from_ms - self.lookback_ms,
                        toMs=to_ms):
            events[r["personId"]].append(stored_event(r["event"], r["personId"]))
        active = sorted(p for p, evs in events.items() if any(e.timestamp_ms >= from_ms for e in evs))
        if not active:
            return []
        lists = {s.id: tuple(s.channels) for s in cs.suppression_lists}
        out = []
        for r in tx.run(query("simulate/person_state"), persons=active, sinceMs=since_ms, fromMs=from_ms):
            pid = r["personId"]
            mine = events[pid]
            out.append(PersonInput(
                person_id=pid, traits=r["traits"] or {},
                consent={c["channel"]: Consent(c["status"], bool(c.get("marketingOnly")))
                         for c in r["consent"] if c and c.get("status")},
                suppressed={lid: lists.get(lid, ()) for lid in r["lists"] if lid},
                history=tuple(sorted((Sent(int(h["atMs"]), h["channel"], h.get("journeyId"),
                                           tuple(h.get("tags") or ()), h.get("offerId"))
                                      for h in r["history"] if h and h.get("atMs") is not None),
                                     key=lambda s: (s.at_ms, s.channel, s.journey_id or ""))),
                prior=tuple(PriorEnrollment(e["enrollmentId"], e["journeyId"], int(e["version"]),
                                            int(e["enteredAtMs"])) for e in r["prior"] if e),
                events=tuple(e for e in mine if e.timestamp_ms >= from_ms),
                earlier=tuple(e for e in mine if e.timestamp_ms < from_ms)))
        return out

    def load(self, draft: JourneyDefinition, from_ms: int, to_ms: int, progress: Progress | None = None
             ) -> ReplayInput:
        """Everything the replay of `draft` over `[from_ms, to_ms)` needs; `progress(people read, people)`."""
        check_window(from_ms, to_ms)
        key, cs = self._read(self._constraints)
        journeys = self._read(self._journeys)
        live = self._read(lambda tx: self._live(tx, draft.id, from_ms, to_ms))
        total = int(self._read(lambda tx: tx.run(query("simulate/people_count")).single(strict=True)["people"]))
        since = history_since_ms(from_ms, cs)
        people: dict[str, PersonInput] = {}
        seen: list[int] = [0]

        def visit(page: list[str]) -> None:
            for person in self._read(partial(self._people, persons=page, from_ms=from_ms, to_ms=to_ms,
                                             since_ms=since, cs=cs)):
                people[person.person_id] = person  # a retried scan visits a page again: keyed, not appended
            seen[0] += len(page)
            if progress is not None:
                progress(min(seen[0], total), max(total, seen[0]))

        self._read(partial(self._scan, visit=visit))
        return ReplayInput(draft=draft, from_ms=from_ms, to_ms=to_ms, constraint_version=key, constraints=cs,
                           live_journeys=tuple(journeys), people=tuple(people[p] for p in sorted(people)),
                           live=tuple(live))


def simulate(driver: Driver, database: str, draft: JourneyDefinition, from_ms: int, to_ms: int, *,
             reading: Progress | None = None, replaying: Progress | None = None) -> SimulationResult:
    """Read the window's inputs (read-only) and replay `draft` over them."""
    data = SimulationSource(driver, database).load(draft, from_ms, to_ms, reading)
    return replay(data, replaying)
