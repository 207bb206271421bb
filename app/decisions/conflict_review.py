"""Conflicts of a journey version with the live journeys, computed from the graph and recorded on the version
at review (`app/decisions/conflicts.py` holds the rules; this module reads and writes)."""

from __future__ import annotations

import json

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.decisions.config_store import ConfigStore
from app.decisions.conflicts import Conflict, find_conflicts
from app.graph.queries import query
from app.journeys.store import JourneyStore
from graph_models.constraints import ConstraintSet
from graph_models.journey import JourneyDefinition

DAY_MS = 86_400_000


class ConflictReview:
    """Handed the driver like the stores."""

    def __init__(self, driver: Driver, database: str, clock: Clock | None = None) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.journeys = JourneyStore(driver, database, self.clock)

    def compute(self, journey_id: str, version: int, days: int = 30) -> list[Conflict]:
        """The version's conflicts with every published journey (other than its own), now."""
        candidate = self.journeys.definition(journey_id, version)  # NotFound when missing
        live: list[JourneyDefinition] = [self.journeys.definition(v.journeyId, v.version)
                                         for v in self.journeys.published() if v.journeyId != journey_id]
        with self.driver.session(database=self.database) as session:
            found = session.execute_read(ConfigStore.published, "constraints")
        constraints = found.model if found is not None and isinstance(found.model, ConstraintSet) \
            else ConstraintSet()
        overlap: dict[str, int] = {}
        if candidate.entry.event is not None:
            since = self.clock.now_ms() - days * DAY_MS
            for other in live:
                records, _, _ = self.driver.execute_query(
                    query("decisions/conflicts_shared_people"), journeyId=other.id, event=candidate.entry.event,
                    sinceMs=since, database_=self.database)
                overlap[other.id] = int(records[0]["shared"]) if records else 0
        return find_conflicts(candidate, live, constraints, overlap, days)

    def record(self, journey_id: str, version: int, conflicts: list[Conflict]) -> None:
        def work(tx: ManagedTransaction) -> None:
            tx.run(query("decisions/conflicts_record"), key=f"{journey_id}@{version}",
                   conflicts=json.dumps([c.as_dict() for c in conflicts]), count=len(conflicts),
                   atMs=self.clock.now_ms()).consume()

        with self.driver.session(database=self.database) as session:
            session.execute_write(work)

    def review(self, journey_id: str, version: int, days: int = 30) -> list[Conflict]:
        """Compute and record (what submit and approve do)."""
        conflicts = self.compute(journey_id, version, days)
        self.record(journey_id, version, conflicts)
        return conflicts
