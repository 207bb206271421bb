"""Batch evaluation of a segment over the whole graph: dry runs (size and a sample, nothing written) and
resumable evaluations that write membership changes.

Both page through every person id (read once, sorted in Python: no range predicate per page), read each
page's facts with the same fixed named queries as streaming, and evaluate with the same per-person
evaluator. A real evaluation keeps its cursor on a `(:SegmentEvaluation {evaluationId: '<id>@<version>'})`
node: each page is its own small write transaction that locks only the people whose membership changes,
re-reads and re-evaluates them, writes the changes (feeding the journey engine when given one) and moves the
cursor, so ingest is never blocked for long and an interrupted run resumes after its last page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.graph.queries import query
from app.journeys.store import LifecycleError
from app.segments.evaluate import evaluate
from app.segments.membership import EventsSink, Membership, Trigger
from app.segments.store import PublishedSegment, published_segments
from graph_models.segments import EvaluationInfo, SegmentDefinition, SegmentMember, SegmentSize

DEFAULT_PAGE = 500
Progress = Callable[[int, int], None]  # (people done, people in all)


class SegmentEvaluator:
    """Dry runs and resumable batch evaluations (see module docstring)."""

    def __init__(self, driver: Driver, database: str, *, clock: Clock | None = None, page: int = DEFAULT_PAGE,
                 sink: EventsSink | None = None) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.page = page
        self.sink = sink
        self.membership = Membership()

    def person_ids(self) -> list[str]:
        records, _, _ = self.driver.execute_query(query("segments/people_ids"), database_=self.database)
        return sorted(str(r["personId"]) for r in records if r["personId"] is not None)

    def _pages(self, ids: Sequence[str]) -> list[list[str]]:
        return [list(ids[i:i + self.page]) for i in range(0, len(ids), self.page)]

    def dry_run(self, definition: SegmentDefinition, *, version: int | None = None, sample: int = 10,
                progress: Progress | None = None) -> SegmentSize:
        """How many people `definition` selects now, with a sample of them; nothing is written."""
        started = time.monotonic()
        now = self.clock.now_ms()
        seg = PublishedSegment(definition.id, "dry-run", version or 0, "dry-run", definition)
        ids = self.person_ids()
        size = 0
        found: list[SegmentMember] = []
        for done, page in enumerate(self._pages(ids)):
            with self.driver.session(database=self.database) as session:
                facts, _ = session.execute_read(Membership.read_facts, page, [seg], now)
            for pid in page:
                person = facts.get(pid)
                if person is not None and evaluate(definition.condition, person, now):
                    size += 1
                    if len(found) < sample:
                        found.append(SegmentMember(personId=pid, userId=person.user_id))
            if progress is not None:
                progress(min((done + 1) * self.page, len(ids)), len(ids))
        return SegmentSize(segmentId=definition.id, version=version, size=size, scanned=len(ids), sample=found,
                           tookMs=int((time.monotonic() - started) * 1000))

    def status(self, segment_id: str, version: int) -> EvaluationInfo | None:
        records, _, _ = self.driver.execute_query(query("segments/evaluation_get"),
                                                  evaluationId=f"{segment_id}@{version}", database_=self.database)
        return EvaluationInfo.model_validate(records[0].data()) if records else None

    def evaluate(self, segment_id: str, *, resume: bool = True, progress: Progress | None = None,
                 max_pages: int | None = None) -> EvaluationInfo:
        """Evaluate the published version of `segment_id` for everyone and write the changes. A run that was
        interrupted resumes after its cursor (unless `resume` is false); a finished one starts again.
        `max_pages` stops early (the run stays `running`: call again to resume)."""
        with self.driver.session(database=self.database) as session:
            live = {s.segment_id: s for s in session.execute_read(published_segments)}
        seg = live.get(segment_id)
        if seg is None:
            raise LifecycleError(f"segment {segment_id!r} has no published version to evaluate")
        evaluation_id = f"{segment_id}@{seg.version}"
        current = self.status(segment_id, seg.version)
        if current is None or current.status == "done" or not resume:
            self.driver.execute_query(query("segments/evaluation_start"), evaluationId=evaluation_id,
                                      segmentId=segment_id, version=seg.version, atMs=self.clock.now_ms(),
                                      database_=self.database)
            cursor = None
        else:
            cursor = current.cursor
        ids = self.person_ids()
        todo = [p for p in ids if cursor is None or p > cursor]
        done = len(ids) - len(todo)
        for count, page in enumerate(self._pages(todo)):
            if max_pages is not None and count >= max_pages:
                break
            self._page(seg, evaluation_id, page)
            done += len(page)
            if progress is not None:
                progress(done, len(ids))
        else:
            self.driver.execute_query(query("segments/evaluation_finish"), evaluationId=evaluation_id,
                                      atMs=self.clock.now_ms(), database_=self.database)
        info = self.status(segment_id, seg.version)
        assert info is not None
        return info

    def run_due(self, now_ms: int | None = None, *, max_pages: int = 20,
                on_finished: Callable[[EvaluationInfo], None] | None = None) -> int:
        """Batch evaluations on a schedule (segments with `evaluate_every`), called by the timer service each
        tick: a published version never evaluated, or whose last run finished `evaluate_every` ago, starts; a
        running one goes on from its cursor. At most `max_pages` pages per segment per call, so a tick stays
        short and the next tick resumes. Returns how many people were evaluated."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        with self.driver.session(database=self.database) as session:
            live = session.execute_read(published_segments)
        total = 0
        for seg in live:
            every = seg.definition.evaluate_every
            if every is None:
                continue
            current = self.status(seg.segment_id, seg.version)
            due = (current is None or current.status == "running"
                   or (current.finishedAtMs or 0) + every.ms <= now)
            if not due:
                continue
            before = 0 if current is None or current.status == "done" else current.scanned
            info = self.evaluate(seg.segment_id, resume=True, max_pages=max_pages)
            total += info.scanned - before
            if info.status == "done" and on_finished is not None:
                on_finished(info)
        return total

    def _page(self, seg: PublishedSegment, evaluation_id: str, page: list[str]) -> None:
        now = self.clock.now_ms()
        with self.driver.session(database=self.database) as session:
            facts, current = session.execute_read(Membership.read_facts, page, [seg], now)
        changed = [pid for pid in page if pid in facts
                   and evaluate(seg.definition.condition, facts[pid], now) != (seg.segment_id in current[pid])]

        def write(tx: ManagedTransaction) -> None:
            entered = left = 0
            if changed:
                tx.run(query("segments/lock_people"), persons=changed).consume()
                trigger = Trigger(now, f"batch:{evaluation_id}", "batch evaluation")
                outcome = self.membership.apply(tx, {pid: [seg] for pid in changed},
                                                {pid: trigger for pid in changed})
                entered = sum(1 for c in outcome.changes if c.change == "entered")
                left = len(outcome.changes) - entered
                if outcome.changes and self.sink is not None:
                    self.sink(tx, [c.engine_event() for c in outcome.changes])
            tx.run(query("segments/evaluation_progress"), evaluationId=evaluation_id, cursor=page[-1],
                   scanned=len(page), entered=entered, left=left).consume()

        with self.driver.session(database=self.database) as session:
            session.execute_write(write)
