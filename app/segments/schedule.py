"""Scheduled journeys and one-off sends: at a wall-clock time (in each person's time zone when `local`),
everyone in a segment enters a journey whose entry is `scheduled: true`, at most `rate_per_minute` per minute.

`plan` is the dry run (people by zone, first and last moment, minutes at the rate) known before it starts.
`run_due` (called by the timer service each tick) enters the members whose moment has come, through the
journey engine (so the resolver's constraints apply to every message as for event journeys), marking each
with `(:Person)-[:RECEIVED_SEND]->(:ScheduledSend)` in the same transaction, so a restart never enters anyone
twice. Membership is read when each person's moment comes; the send is done once its last possible moment
has passed and nobody due is left.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.decisions.config_store import ConfigStore
from app.decisions.timezones import person_timezone, zone_or_none
from app.graph.queries import query
from app.journeys.engine import EngineEvent
from app.journeys.store import LifecycleError, NotFound
from app.segments.membership import EventsSink
from graph_models.constraints import ConstraintSet
from graph_models.segments import SCHEDULE_EVENT_TYPE, ScheduledSend, SendInfo, SendPlan

CHUNK = 200
MINUTE_MS = 60_000
# The widest UTC offsets: a local-time send's moments lie within these of the wall-clock time read as UTC.
EARLIEST_OFFSET_MS = 14 * 3_600_000
LATEST_OFFSET_MS = 12 * 3_600_000


def default_send_id(journey: str, segment: str, at: str) -> str:
    """A send id from what it sends (`<journey>-<segment>-<YYYYMMDDHHMM>`, lower case, at most 64 characters)."""
    text = re.sub(r"[^a-z0-9_\-]+", "-", f"{journey}-{segment}".lower()).strip("-")
    stamp = re.sub(r"\D", "", at)
    head = text if text[:1].isalpha() else f"s-{text}"
    return f"{head[:63 - len(stamp)]}-{stamp}"


def moment_ms(at: str, zone: ZoneInfo) -> int:
    """The instant the wall-clock time `at` ('2026-03-05T09:00') happens in `zone`."""
    local = dt.datetime.fromisoformat(at).replace(tzinfo=zone)
    return int(local.timestamp() * 1000)


class ScheduledSends:
    """Create, plan and run scheduled sends (see module docstring)."""

    def __init__(self, driver: Driver, database: str, *, clock: Clock | None = None,
                 sink: EventsSink | None = None) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.sink = sink

    def _default_zone(self) -> str:
        found = ConfigStore(self.driver, self.database).published_now("constraints")
        model = found.model if found is not None else None
        return model.default_timezone if isinstance(model, ConstraintSet) else "UTC"

    def _moments(self, send: ScheduledSend) -> dict[str, tuple[int, str]]:
        """Each current member's moment (ms) and zone name."""
        records, _, _ = self.driver.execute_query(query("segments/send_members"), segmentId=send.segment,
                                                  database_=self.database)
        fixed = zone_or_none(send.timezone) or ZoneInfo("UTC")
        default = self._default_zone()
        out: dict[str, tuple[int, str]] = {}
        for r in records:
            zone = person_timezone(r.data(), default) if send.local else fixed
            out[str(r["personId"])] = (moment_ms(send.at, zone), zone.key)
        return out

    def create(self, send: ScheduledSend, created_by: str) -> SendInfo:
        """Store a scheduled send (the same id again with the same definition is a no-op)."""
        if not send.local and zone_or_none(send.timezone) is None:
            raise LifecycleError(f"unknown time zone {send.timezone!r}", reason="invalid_timezone")
        text = json.dumps(send.model_dump(mode="json"), sort_keys=True)
        props = {"segmentId": send.segment, "journeyId": send.journey, "at": send.at, "local": send.local,
                 "timezone": send.timezone, "ratePerMinute": send.rate_per_minute, "definition": text,
                 "createdAtMs": self.clock.now_ms(), "createdBy": created_by}
        records, _, _ = self.driver.execute_query(query("segments/send_create"), sendId=send.id, props=props,
                                                  database_=self.database)
        if records[0]["definition"] != text:
            raise LifecycleError(f"scheduled send {send.id!r} exists with another definition", reason="exists")
        return self.info(send.id)

    def get(self, send_id: str) -> tuple[ScheduledSend, Mapping[str, Any]]:
        records, _, _ = self.driver.execute_query(query("segments/send_get"), sendId=send_id,
                                                  database_=self.database)
        if not records:
            raise NotFound(f"no scheduled send {send_id!r}")
        props = records[0]["send"]
        return ScheduledSend.model_validate(json.loads(props["definition"])), props

    def info(self, send_id: str) -> SendInfo:
        _, props = self.get(send_id)
        return SendInfo.model_validate(props)

    def list_sends(self, segment_id: str) -> list[SendInfo]:
        """The sends to `segment_id`, newest first."""
        records, _, _ = self.driver.execute_query(query("segments/send_list"), segmentId=segment_id,
                                                  database_=self.database)
        return [SendInfo.model_validate(r["send"]) for r in records]

    def cancel(self, send_id: str) -> SendInfo:
        self.get(send_id)
        self.driver.execute_query(query("segments/send_update"), sendId=send_id,
                                  props={"status": "cancelled", "finishedAtMs": self.clock.now_ms()},
                                  database_=self.database)
        return self.info(send_id)

    def plan(self, send: ScheduledSend) -> SendPlan:
        """The dry run: who would enter (the segment's members now), by zone, and when."""
        moments = self._moments(send)
        by_zone: dict[str, int] = {}
        for _, zone in moments.values():
            by_zone[zone] = by_zone.get(zone, 0) + 1
        times = [m for m, _ in moments.values()]
        return SendPlan(sendId=send.id, segmentId=send.segment, journeyId=send.journey, people=len(moments),
                        byZone=dict(sorted(by_zone.items())), firstAtMs=min(times, default=None),
                        lastAtMs=max(times, default=None),
                        minutesAtRate=-(-len(moments) // send.rate_per_minute))

    def run_due(self, now_ms: int | None = None) -> int:
        """Enter everyone whose moment has come in every open send (throttled); returns how many entered."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        records, _, _ = self.driver.execute_query(query("segments/send_open"), database_=self.database)
        total = 0
        for r in records:
            props = r["send"]
            send = ScheduledSend.model_validate(json.loads(props["definition"]))
            total += self._run(send, props, now)
        return total

    def _run(self, send: ScheduledSend, props: Mapping[str, Any], now: int) -> int:
        wall = moment_ms(send.at, ZoneInfo("UTC"))
        fixed = zone_or_none(send.timezone) or ZoneInfo("UTC")
        first = wall - EARLIEST_OFFSET_MS if send.local else moment_ms(send.at, fixed)
        last = wall + LATEST_OFFSET_MS if send.local else first
        if now < first:
            return 0
        moments = self._moments(send)
        if not any(m <= now for m, _ in moments.values()) and now < last:
            return 0
        started = props.get("startedAtMs")
        if started is None:
            started = now
            self.driver.execute_query(query("segments/send_update"), sendId=send.id,
                                      props={"status": "running", "startedAtMs": now}, database_=self.database)
        records, _, _ = self.driver.execute_query(query("segments/send_recipients"), sendId=send.id,
                                                  database_=self.database)
        done = {str(x["personId"]) for x in records}
        due = sorted((m, pid) for pid, (m, _) in moments.items() if m <= now and pid not in done)
        allowed = send.rate_per_minute * ((now - int(started)) // MINUTE_MS + 1) - int(props.get("entered") or 0)
        chosen = [pid for _, pid in due[:max(0, allowed)]]
        for i in range(0, len(chosen), CHUNK):
            chunk = chosen[i:i + CHUNK]
            with self.driver.session(database=self.database) as session:
                session.execute_write(self._enter, send, chunk, now)
        left_due = len(due) - len(chosen)
        later = any(m > now for pid, (m, _) in moments.items() if pid not in done)
        if now >= last and left_due == 0 and not later:
            self.driver.execute_query(query("segments/send_update"), sendId=send.id,
                                      props={"status": "done", "finishedAtMs": now}, database_=self.database)
        return len(chosen)

    def _enter(self, tx: ManagedTransaction, send: ScheduledSend, persons: list[str], now: int) -> None:
        tx.run(query("segments/send_mark"), sendId=send.id, persons=persons, atMs=now).consume()
        if self.sink is not None:
            self.sink(tx, [EngineEvent(f"schedule:{send.id}:{pid}", pid, send.journey, SCHEDULE_EVENT_TYPE, now,
                                       {"send": send.id, "segment": send.segment}) for pid in persons])
