"""Sessionization as pure logic: a person's events within `gap_ms` of each other share a Session.

Works on event timestamps, not arrival order: a late event that falls between two sessions and bridges
the gap merges them (the earlier session survives); one that falls inside a session extends it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple


class SessionSpan(NamedTuple):
    """A session already in the graph (named tuples: a batch builds about a thousand of each of these)."""

    session_id: str
    person_id: str
    start_ms: int
    end_ms: int
    event_count: int


class SessionUpsert(NamedTuple):
    session_id: str
    person_id: str
    start_ms: int
    end_ms: int
    event_count: int


@dataclass
class SessionPlan:
    event_session: list[str]
    upserts: list[SessionUpsert] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (absorbed sessionId, surviving sessionId)


@dataclass
class _Cluster:
    start: int
    end: int
    spans: list[SessionSpan] = field(default_factory=list)
    events: list[int] = field(default_factory=list)


def _clusters(spans: Iterable[SessionSpan], events: Iterable[tuple[int, int]], gap_ms: int) -> list[_Cluster]:
    items: list[tuple[int, int, SessionSpan | None, int]] = [(s.start_ms, s.end_ms, s, -1) for s in spans]
    items += [(ts, ts, None, idx) for idx, ts in events]
    items.sort(key=lambda it: (it[0], it[1]))
    out: list[_Cluster] = []
    for start, end, span, idx in items:
        if not out or start > out[-1].end + gap_ms:
            out.append(_Cluster(start, end))
        cur = out[-1]
        cur.end = max(cur.end, end)
        if span is not None:
            cur.spans.append(span)
        else:
            cur.events.append(idx)
    return out


def plan_sessions(
    event_person: Sequence[str],
    event_ts: Sequence[int],
    existing: Sequence[SessionSpan],
    gap_ms: int,
    new_id: Callable[[str], str],
) -> SessionPlan:
    """Assign each event a session; `existing` holds the persons' sessions near the batch's times."""
    by_person_events: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for idx, (pid, ts) in enumerate(zip(event_person, event_ts, strict=True)):
        by_person_events[pid].append((idx, ts))
    by_person_spans: dict[str, list[SessionSpan]] = defaultdict(list)
    for span in existing:
        by_person_spans[span.person_id].append(span)

    plan = SessionPlan(event_session=[""] * len(event_person))
    for pid, events in by_person_events.items():
        spans_of = by_person_spans.get(pid)
        if spans_of is None and len(events) == 1:  # the common case: a new session of one event (as below)
            idx, ts = events[0]
            sid = new_id(f"session:{pid}:{ts}")
            plan.upserts.append(SessionUpsert(sid, pid, ts, ts, 1))
            plan.event_session[idx] = sid
            continue
        for cl in _clusters(spans_of or [], events, gap_ms):
            if not cl.events:
                continue
            spans = sorted(cl.spans, key=lambda s: (s.start_ms, s.session_id))
            sid = spans[0].session_id if spans else new_id(f"session:{pid}:{cl.start}")
            plan.merges += [(s.session_id, sid) for s in spans[1:]]
            count = sum(s.event_count for s in spans) + len(cl.events)
            plan.upserts.append(SessionUpsert(sid, pid, cl.start, cl.end, count))
            for idx in cl.events:
                plan.event_session[idx] = sid
    return plan
