"""Batch evaluation of a segment over the whole graph: dry runs (size and a sample, nothing written) and
resumable evaluations that write membership changes.

Both take every person id (read once, sorted in Python) in pages, and read the facts of many pages at once
with one label scan over a personId range (`cypher/segments/facts_scan.cypher`, a fixed named query; the next
chunk is read in a thread while this one is evaluated and written). The scan passes the definition's trait
gate as a parameter, so people whose traits already rule them out (and who are not members) cost no event
reads and are not returned. Each person is evaluated with the same evaluator as streaming. A real
evaluation keeps its cursor on a `(:SegmentEvaluation {evaluationId: '<id>@<version>'})` node: a page with
changes is its own small write transaction that locks only the people whose membership changes, re-reads
and re-evaluates them (`Membership.apply`), writes the changes (feeding the journey engine when given one)
and moves the cursor; pages without changes only move the cursor, every `FLUSH_PAGES` pages or with the
next change or at the end of the call. So ingest is never blocked for long and an interrupted run resumes
after its last recorded page (pages after it are evaluated again: without changes, that is harmless).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.graph.queries import query
from app.journeys.store import LifecycleError
from app.segments.evaluate import PersonFacts, evaluate, trait_gate, trait_keys
from app.segments.membership import EventsSink, Known, Membership, Trigger, event_params, person_facts, timer_of
from app.segments.store import PublishedSegment, published_segments
from graph_models.segments import EvaluationInfo, SegmentDefinition, SegmentMember, SegmentSize, mentions

DEFAULT_PAGE = 500
DEFAULT_SCAN = 50_000  # people per facts_scan (each is a label scan: fewer, larger ones are cheaper)
FLUSH_PAGES = 20  # pages without changes between two cursor writes
FIRST_SHARE = 5  # the first chunk is 1/FIRST_SHARE of the others (read before anything else can start)
Progress = Callable[[int, int], None]  # (people done, people in all)


class _Chunk:
    """Pages of people with the facts `facts_scan` returned for them (everyone else is out and not in)."""

    def __init__(self, pages: list[list[str]], facts: dict[str, PersonFacts], current: dict[str, set[str]],
                 revs: dict[str, int], now_ms: int) -> None:
        self.pages = pages
        self.facts = facts
        self.current = current
        self.revs = revs  # each person's `_rev` as the scan read it (before their facts)
        self.now_ms = now_ms


class SegmentEvaluator:
    """Dry runs and resumable batch evaluations (see module docstring)."""

    def __init__(self, driver: Driver, database: str, *, clock: Clock | None = None, page: int = DEFAULT_PAGE,
                 sink: EventsSink | None = None, scan: int = DEFAULT_SCAN) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.page = page
        self.scan = scan
        self.sink = sink
        self.membership = Membership()

    def person_ids(self) -> list[str]:
        records, _, _ = self.driver.execute_query(query("segments/people_ids"), database_=self.database)
        return sorted(str(p) for p in (records[0]["personIds"] if records else []) or [])

    def _pages(self, ids: Sequence[str]) -> list[list[str]]:
        return [list(ids[i:i + self.page]) for i in range(0, len(ids), self.page)]

    def _read_chunk(self, seg: PublishedSegment, pages: list[list[str]], after: str | None) -> _Chunk:
        now = self.clock.now_ms()
        params = event_params([seg], now)
        facts: dict[str, PersonFacts] = {}
        current: dict[str, set[str]] = {}
        revs: dict[str, int] = {}

        def read(tx: ManagedTransaction) -> None:
            found = tx.run(query("segments/facts_scan"), after=after, until=pages[-1][-1],
                           gate=trait_gate(seg.definition.condition), segmentId=seg.segment_id,
                           traits=trait_keys([seg.definition.condition]),
                           accounts=mentions(seg.definition.condition).accounts, **params).single()
            for row in (found["people"] if found is not None else None) or []:
                pid, person, segs = person_facts(row)
                facts[pid], current[pid], revs[pid] = person, segs, int(row["rev"] or 0)

        with self.driver.session(database=self.database) as session:
            session.execute_read(read)
        return _Chunk(pages, facts, current, revs, now)

    def _chunks(self, seg: PublishedSegment, pages: list[list[str]], after: str | None) -> Iterator[_Chunk]:
        """`pages` in chunks of about `scan` people with their facts, the next chunk read ahead in a thread; the
        first chunk is smaller, so the first page is evaluated and written while the second chunk is read."""
        per = max(1, self.scan // max(1, self.page))
        first = max(1, per // FIRST_SHARE)  # a small first chunk: the first writes wait only for its scan
        groups = [pages[:first]] + [pages[i:i + per] for i in range(first, len(pages), per)] if pages else []
        starts = [after] + [g[-1][-1] for g in groups[:-1]]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment-scan") as pool:
            ahead: Future[_Chunk] | None = None
            for i, group in enumerate(groups):
                chunk = ahead.result() if ahead is not None else self._read_chunk(seg, group, starts[i])
                ahead = pool.submit(self._read_chunk, seg, groups[i + 1], starts[i + 1]) \
                    if i + 1 < len(groups) else None
                yield chunk

    def dry_run(self, definition: SegmentDefinition, *, version: int | None = None, sample: int = 10,
                progress: Progress | None = None) -> SegmentSize:
        """How many people `definition` selects now, with a sample of them; nothing is written."""
        started = time.monotonic()
        seg = PublishedSegment(definition.id, "dry-run", version or 0, "dry-run", definition)
        ids = self.person_ids()
        size = 0
        found: list[SegmentMember] = []
        done = 0
        for chunk in self._chunks(seg, self._pages(ids), None):
            for page in chunk.pages:
                for pid in page:
                    person = chunk.facts.get(pid)
                    if person is not None and evaluate(definition.condition, person, chunk.now_ms):
                        size += 1
                        if len(found) < sample:
                            found.append(SegmentMember(personId=pid, userId=person.user_id))
                done += len(page)
                if progress is not None:
                    progress(done, len(ids))
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
        pages = self._pages(todo)
        finished = max_pages is None or max_pages >= len(pages)
        if max_pages is not None:
            pages = pages[:max_pages]
        unrecorded: list[str] = []  # people of pages evaluated without changes, not yet behind the cursor
        for chunk in self._chunks(seg, pages, cursor):
            for page in chunk.pages:
                unrecorded += page
                changed = [pid for pid in page if pid in chunk.facts
                           and evaluate(seg.definition.condition, chunk.facts[pid], chunk.now_ms)
                           != (seg.segment_id in chunk.current[pid])]
                if changed or len(unrecorded) >= FLUSH_PAGES * self.page:
                    self._write(seg, evaluation_id, changed, unrecorded, chunk.now_ms, chunk)
                    unrecorded = []
                done += len(page)
                if progress is not None:
                    progress(done, len(ids))
        if unrecorded:
            self._write(seg, evaluation_id, [], unrecorded, self.clock.now_ms())
        if finished:
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

    def _write(self, seg: PublishedSegment, evaluation_id: str, changed: list[str], scanned: list[str],
               now: int, chunk: _Chunk | None = None) -> None:
        """One write transaction: lock `changed` (if any), evaluate them again and write what changed, then
        move the cursor past `scanned` (the people evaluated since the last cursor write, in order). A person
        whose revision did not move since the chunk's scan is evaluated on the scanned facts; the others (and
        everyone, for a condition on account traits: an account's change does not bump its members) are read
        again under the lock."""

        def write(tx: ManagedTransaction) -> None:
            entered = left = 0
            if changed:
                found = tx.run(query("segments/lock_people_read"), persons=changed).single()
                known: dict[str, Known] = {}
                if chunk is not None and not mentions(seg.definition.condition).accounts:
                    for pid, rev, timer in (found["people"] if found is not None else None) or []:
                        if pid in chunk.facts and rev == chunk.revs.get(pid, -2) + 1:
                            known[pid] = Known(chunk.facts[pid], chunk.current[pid], timer_of(timer))
                trigger = Trigger(now, f"batch:{evaluation_id}", "batch evaluation")
                outcome = self.membership.apply(tx, {pid: [seg] for pid in changed},
                                                {pid: trigger for pid in changed}, known=known)
                entered = sum(1 for c in outcome.changes if c.change == "entered")
                left = len(outcome.changes) - entered
                if outcome.changes and self.sink is not None:
                    self.sink(tx, [c.engine_event() for c in outcome.changes])
            tx.run(query("segments/evaluation_progress"), evaluationId=evaluation_id, cursor=scanned[-1],
                   scanned=len(scanned), entered=entered, left=left).consume()

        with self.driver.session(database=self.database) as session:
            session.execute_write(write)
