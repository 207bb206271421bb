"""Reading the decision graph: one decision, why a person did or did not get a journey's message, and a
person's timeline.

The sentence builders are pure functions over the `graph_models.explain` models (unit-tested on their own);
`DecisionReader` runs the `decisions/read_*` queries (each anchored on `Decision.decisionId` or
`Person.personId`) in read transactions and assembles the answers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from neo4j import Driver, ManagedTransaction

from app.clock import to_iso
from app.decisions.people import find_person
from app.errors import PermanentError
from app.graph.queries import query
from graph_models.explain import (
    CandidateView,
    ConfigVersionRef,
    ConstraintRef,
    DecisionView,
    EnrollmentPath,
    Explanation,
    JourneyVersionRef,
    PersonRef,
    RequestRef,
    TimelineItem,
    TimelinePage,
    TriggerEvent,
    Visit,
)

T = TypeVar("T")
MAX_LIMIT = 500
FAR_FUTURE_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: "no cursor"


class NotFound(PermanentError):
    """No such person or decision (HTTP 404)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="not_found")


class InvalidCursor(PermanentError):
    """A `before` cursor that is neither epoch milliseconds, an ISO time nor a `next` cursor (HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="invalid_cursor")


# --- sentence builders (pure) ------------------------------------------------------------------------------

def fmt_time(ms: int | None) -> str:
    """`2026-03-01 10:00 UTC` (seconds only when not zero); `an unknown time` for None."""
    if ms is None:
        return "an unknown time"
    at = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S UTC" if at.second else "%Y-%m-%d %H:%M UTC")


def version_label(key: str | None) -> str:
    """`constraints/default@3` -> `constraints v3`; the built-in defaults and a missing key say so."""
    if not key:
        return "no constraints version recorded"
    doc, _, version = key.rpartition("@")
    kind, _, doc_id = doc.partition("/")
    if version == "builtin":
        return f"built-in {kind or 'constraint'} defaults"
    name = kind if doc_id in ("", "default") else f"{kind} {doc_id}"
    return f"{name} v{version}" if doc else key


def duration_text(value: Any) -> str:
    """A window as configured: `1d` text, a `{text, ms}` object, or milliseconds."""
    if isinstance(value, Mapping):
        if value.get("text"):
            return str(value["text"])
        value = value.get("ms")
    if isinstance(value, bool) or value is None:
        return "?"
    if isinstance(value, int | float):
        ms = int(value)
        for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
            if ms and ms % size == 0:
                return f"{ms // size}{unit}"
        return f"{ms}ms"
    return str(value)


def describe_candidate(c: CandidateView) -> str:
    """What the candidate was: `email cart_reminder_email from abandoned-cart v2 step email_reminder`, or
    `offer upgrade-banner (in_app upgrade_banner_in_app) on placement home_banner`."""
    if c.kind == "onsite" or (c.offerId and not c.journeyId):
        what = " ".join(x for x in (c.channel, c.template) if x)
        text = f"offer {c.offerId or c.actionId}" + (f" ({what})" if what else "")
        return text + (f" on placement {c.placement}" if c.placement else "")
    text = " ".join(x for x in (c.channel, c.template) if x) or f"action {c.actionId}"
    if c.journeyId:
        text += f" from {c.journeyId}" + (f" v{c.version}" if c.version is not None else "")
    if c.stepId:
        text += f" step {c.stepId}"
    return text


def _scope_text(scope: Any) -> str:
    if not isinstance(scope, Mapping):
        return "on all channels"
    parts = [f"on {scope['channel']}" if scope.get("channel") else "",
             f"in {scope['journey']}" if scope.get("journey") else "",
             f"tagged {scope['tag']}" if scope.get("tag") else ""]
    return " ".join(p for p in parts if p) or "on all channels"


def constraint_text(ref: ConstraintRef | None, reason: str | None = None, channel: str | None = None) -> str:
    """The blocking rule in words, from the constraint's kind and configuration (the resolver's reason when
    there is no constraint node to read)."""
    if ref is None:
        return reason or "a rule blocked it (no constraint was recorded)"
    cfg = ref.config or {}
    kind = ref.kind or ref.constraintId.partition(":")[0]
    ident = ref.constraintId.partition(":")[2]
    if kind == "cap":
        name = cfg.get("id") or ident
        calendar = " (calendar days in the person's time zone)" if cfg.get("calendar") else ""
        return (f"the cap {name} ({cfg.get('max', '?')} per {duration_text(cfg.get('window'))}{calendar} "
                f"{_scope_text(cfg.get('scope'))}) was already reached")
    if kind == "offer_cap":
        offer, _, cap = ident.partition(":")
        name = cfg.get("id") or cap or ident
        return (f"the offer cap {name} of {offer or 'the offer'} ({cfg.get('max', '?')} per "
                f"{duration_text(cfg.get('window'))}) was already reached")
    if kind == "quiet_hours":
        ch = cfg.get("channel") or ident or channel or "the channel"
        nested = cfg.get("quiet_hours")
        quiet: Mapping[str, Any] = nested if isinstance(nested, Mapping) else cfg
        hours = f" ({quiet['start']}-{quiet['end']} in the person's time zone)" \
            if quiet.get("start") and quiet.get("end") else ""
        return f"quiet hours on {ch}{hours}"
    if kind == "consent":
        ch = cfg.get("channel") or cfg.get("id") or ident or channel or "the channel"
        text = f"there is no consent for {ch}"
        return f"{text} ({reason})" if reason else text
    if kind == "suppression":
        name = cfg.get("id") or ident
        channels = cfg.get("channels")
        where = ", ".join(channels) if channels else "every channel"
        return f"the person is on the suppression list {name} ({where})"
    if kind == "global_control":
        pct = cfg.get("percent")
        share = f", {pct:g}% of people" if isinstance(pct, int | float) else ""
        return f"the person is in the global control group (no marketing messages{share})"
    if kind == "exclusion":
        name = cfg.get("id") or ident
        journeys = cfg.get("journeys") or []
        members = f" ({', '.join(journeys)})" if journeys else ""
        return (f"another journey of the exclusion group {name}{members} already messaged the person within "
                f"{duration_text(cfg.get('window'))}")
    if kind in ("arbitration", "priority"):
        return reason or "a higher-ranked candidate won"
    return reason or f"the rule {ref.constraintId} blocked it"


def _slot(c: CandidateView) -> str | None:
    return c.placement if c.placement else c.channel


def arbitration_winner(c: CandidateView, candidates: Sequence[CandidateView]) -> CandidateView | None:
    """The chosen candidate that took `c`'s channel (or placement) in the same decision."""
    chosen = [x for x in candidates if x.actionId != c.actionId and (x.chosen or x.outcome == "chosen")]
    same = [x for x in chosen if _slot(x) == _slot(c)]
    found = same or chosen
    return min(found, key=lambda x: (x.rank if x.rank is not None else 1 << 30, x.actionId)) if found else None


def candidate_sentence(c: CandidateView, at_ms: int | None, constraint_version: str | None,
                       candidates: Sequence[CandidateView] = ()) -> str:
    """One candidate of one decision in a sentence: when, what, what happened, why, under which version."""
    what = describe_candidate(c)
    onsite = c.kind == "onsite"
    verb, negative = ("shown", "was not shown") if onsite else ("sent", "was not sent")
    version = version_label(constraint_version)
    outcome = c.outcome
    total = len(candidates) or 1
    if outcome == "chosen":
        rank = f" at rank {c.rank} of {total}" if c.rank is not None else ""
        body = f"was {verb}: chosen{rank}"
    elif outcome == "deferred":
        body = f"was deferred to {fmt_time(c.deferUntilMs)}: {constraint_text(c.blockedBy, c.reason, c.channel)}"
    elif outcome == "lost_arbitration":
        winner = arbitration_winner(c, candidates)
        if winner is not None:
            rank = f"rank {winner.rank}" if winner.rank is not None else "chosen"
            why = f"it lost arbitration to {describe_candidate(winner)} ({rank})"
        else:
            why = f"it lost arbitration ({c.reason})" if c.reason else \
                "it lost arbitration to a higher-ranked candidate"
        body = f"{negative}: {why}"
    elif outcome == "error":
        failure = f" ({c.reason})" if c.reason else ""
        body = f"could not be decided: the resolver failed{failure}; the step went on as configured"
    elif outcome in ("suppressed", "no_consent", "holdout", "capped", "excluded"):
        body = f"{negative}: {constraint_text(c.blockedBy, c.reason, c.channel)}"
    else:
        reason = f": {c.reason}" if c.reason else ""
        body = f"has the outcome {outcome}{reason}"
    return f"{fmt_time(at_ms)}: {what} {body} ({version})."


def decision_sentences(d: DecisionView) -> list[str]:
    """A sentence per candidate of the decision, in rank order."""
    ordered = sorted(d.candidates, key=lambda c: (c.rank if c.rank is not None else 1 << 30, c.actionId))
    return [candidate_sentence(c, d.atMs, d.constraintVersion, ordered) for c in ordered]


def person_name(person: PersonRef) -> str:
    return person.userId if person.userId else f"person {person.personId}"


def never_entered_sentence(person: PersonRef, journey_id: str) -> str:
    return f"{person_name(person)} never entered {journey_id}."


def entered_version(en: EnrollmentPath) -> int | None:
    """The version the enrollment entered on: its entry step's, else the one in its id, else its current."""
    for visit in sorted(en.visits, key=lambda v: v.seq):
        if visit.stepKey and "@" in visit.stepKey:
            number = visit.stepKey.rpartition("@")[2].partition("/")[0]
            if number.isdigit():
                return int(number)
        break
    number = en.enrollmentId.partition("@")[2].partition("/")[0]
    if number.isdigit():
        return int(number)
    return en.version


def step_visits(en: EnrollmentPath, step_id: str) -> list[Visit]:
    """The enrollment's visits of `step_id` (the exit edge, which points at the step it left from, excluded)."""
    return sorted((v for v in en.visits if v.stepId == step_id and v.path != "exit"), key=lambda v: v.seq)


def enrollment_sentence(person: PersonRef, en: EnrollmentPath, step_id: str | None = None) -> str:
    """Where one enrollment went: entered, then exited / completed / still active, and whether it reached
    `step_id` (when given)."""
    version = entered_version(en)
    entered = (f"{person_name(person)} entered {en.journeyId}" + (f" v{version}" if version is not None else "")
               + f" at {fmt_time(en.enteredAtMs)}")
    migrated = f" (now on v{en.version})" if en.version is not None and version is not None \
        and en.version != version else ""
    if step_id is not None:
        reached = step_visits(en, step_id)
        if reached:
            times = ", ".join(fmt_time(v.atMs) for v in reached)
            return f"{entered}{migrated} and reached {step_id} at {times}."
    until = f" before reaching {step_id}" if step_id is not None else ""
    if en.status == "exited":
        reason = f" by {en.exitReason}" if en.exitReason else ""
        return f"{entered}{migrated}, exited at {en.stepId}{reason} at {fmt_time(en.endedAtMs)}{until}."
    if en.status == "completed":
        return f"{entered}{migrated}, completed at {en.stepId} at {fmt_time(en.endedAtMs)}{until}."
    wakes = f"; its next timer is at {fmt_time(en.wakeAtMs)}" if en.wakeAtMs is not None else ""
    yet = f" and has not reached {step_id} yet" if step_id is not None else ""
    return f"{entered}{migrated} and is at {en.stepId} ({en.status or 'active'}){yet}{wakes}."


def undecided_request_sentence(request: RequestRef, journey_id: str, version: int | None) -> str:
    """An action request no decision considered (made before the resolver recorded decisions)."""
    what = " ".join(x for x in (request.channel, request.template) if x) or f"action {request.actionId}"
    where = f" from {journey_id}" + (f" v{version}" if version is not None else "") + \
        (f" step {request.stepId}" if request.stepId else "")
    return (f"{fmt_time(request.atMs)}: {what}{where} was requested with status {request.status or 'unknown'}; "
            "no decision was recorded for it.")


def explain_sentences(person: PersonRef, journey_id: str, step_id: str | None,
                      enrollments: Sequence[EnrollmentPath], decisions: Sequence[DecisionView]) -> list[str]:
    """The whole answer: per enrollment (oldest first) where it went, then each decision touching it (every
    candidate), then its requests that no decision considered."""
    if not enrollments:
        return [never_entered_sentence(person, journey_id)]
    by_id = {d.decisionId: d for d in decisions}
    out: list[str] = []
    told: set[str] = set()
    for en in sorted(enrollments, key=lambda e: (e.enteredAtMs or 0, e.enrollmentId)):
        out.append(enrollment_sentence(person, en, step_id))
        requests = sorted((r for r in en.requests if step_id is None or r.stepId == step_id),
                          key=lambda r: (r.atMs or 0, r.actionId))
        for request in requests:
            decision = by_id.get(request.decisionId or "")
            if decision is None:
                if not request.decisionId:
                    out.append(undecided_request_sentence(request, journey_id, en.version))
                continue
            if decision.decisionId in told:
                continue
            told.add(decision.decisionId)
            out.extend(decision_sentences(decision))
    return out


# --- timeline items (pure) ---------------------------------------------------------------------------------

def _event_summary(r: Mapping[str, Any]) -> str:
    kind = r.get("type") or "event"
    name = r.get("event") or r.get("name")
    return f"{kind} {name}" if name else kind


def timeline_item(kind: str, r: Mapping[str, Any]) -> TimelineItem:
    """One row of a `read_timeline_*` query as a timeline item with a one-line summary."""
    at_ms = int(r["atMs"])
    data = {k: v for k, v in r.items() if k not in ("atMs", "sortKey", "id", "data") and v is not None}
    data.update({k: v for k, v in (r.get("data") or {}).items() if v is not None})
    if kind == "event":
        summary = _event_summary(r)
    elif kind == "session":
        summary = f"session started ({r.get('eventCount') or 0} events, until {fmt_time(r.get('endedAtMs'))})"
    elif kind == "consent":
        summary = f"consent on {data.get('channel')}: {data.get('status')} (from {data.get('source')})"
    elif kind == "suppression":
        summary = f"put on suppression list {data.get('listId')}" + \
            (f": {data['reason']}" if data.get("reason") else "")
    elif kind == "enrollment":
        summary = f"entered {r.get('journeyId')} v{r.get('version')} (now {r.get('status')} at {r.get('stepId')})"
    elif kind == "visit":
        detail = f" ({r['detail']})" if r.get("detail") else ""
        summary = f"{r.get('journeyId')} v{r.get('version')}: {r.get('path')} -> {r.get('stepId')}{detail}"
    else:
        candidates = [c for c in (r.get("candidates") or []) if c]
        parts = [f"{c.get('journeyId') or c.get('offerId')}/{c.get('stepId') or c.get('channel')}: "
                 f"{c.get('outcome')}" for c in candidates]
        summary = f"{r.get('kind') or 'journey'} decision ({version_label(r.get('constraintVersion'))}): " + \
            ("; ".join(parts) if parts else "no candidates")
        data["candidates"] = candidates
    return TimelineItem(atMs=at_ms, at=to_iso(at_ms), kind=kind,
                        id=str(r["id"]), summary=summary, data=data)


def parse_before(before: str | None) -> tuple[int, str]:
    """A `before` value as a cursor `(ms, key)`: a `next` cursor (`<ms>:<key>`), epoch milliseconds, or an ISO
    time (items strictly earlier); None is the end of time."""
    if before is None or not before.strip():
        return FAR_FUTURE_MS, ""
    text = before.strip()
    head, sep, key = text.partition(":")
    if head.isdigit():
        return int(head), key if sep else ""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidCursor(f"before={before!r} is not a cursor, epoch milliseconds or an ISO time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000), ""


def merge_page(pages: Iterable[tuple[str, Sequence[Mapping[str, Any]]]], limit: int
               ) -> tuple[list[TimelineItem], str | None]:
    """The newest `limit` rows of several per-kind pages (each already newest first and at most `limit`
    long), and the cursor after the last one (None when nothing older can exist)."""
    listed = list(pages)
    rows = [(int(r["atMs"]), str(r["sortKey"]), kind, r) for kind, page in listed for r in page
            if r.get("atMs") is not None]
    rows.sort(key=lambda x: (x[0], x[1]), reverse=True)
    taken = rows[:limit]
    more = len(rows) > limit or any(len(page) >= limit for _, page in listed)
    cursor = f"{taken[-1][0]}:{taken[-1][1]}" if taken and more else None
    return [timeline_item(kind, r) for _, _, kind, r in taken], cursor


# --- building models from rows (pure) ----------------------------------------------------------------------

def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def candidate_from_row(r: Mapping[str, Any]) -> CandidateView:
    blocked: ConstraintRef | None = None
    constraint_id = r.get("constraintId") or r.get("blockedBy")
    if constraint_id:
        config = _json(r.get("constraintConfig"))
        kind = r.get("constraintKind") or constraint_id.partition(":")[0]
        blocked = ConstraintRef(constraintId=constraint_id, kind=kind, name=r.get("constraintName"),
                                key=r.get("constraintKey"), config=config if isinstance(config, dict) else None)
    rendered = _json(r.get("rendered"))
    errors = r.get("renderErrors")
    if isinstance(errors, str):
        parsed = _json(errors)
        errors = parsed if isinstance(parsed, list) else [errors]
    outcome = r.get("outcome") or r.get("status") or "unknown"
    return CandidateView(
        actionId=r["actionId"], kind=r.get("kind") or ("onsite" if r.get("offerId") else "journey"),
        rank=r.get("rank"), outcome=outcome, chosen=bool(r.get("chosen")) or outcome == "chosen",
        reason=r.get("reason") or r.get("actionReason"), channel=r.get("channel"), template=r.get("template"),
        journeyId=r.get("journeyId"), version=r.get("version"), stepId=r.get("stepId"), offerId=r.get("offerId"),
        placement=r.get("placement"), tags=list(r.get("tags") or []), atMs=r.get("atMs"),
        deferUntilMs=r.get("deferUntilMs"), blockedBy=blocked,
        rendered=rendered if isinstance(rendered, dict) and outcome == "chosen" else None,
        renderErrors=[str(e) for e in errors or []], sentence="")


def decision_from_rows(head: Mapping[str, Any], candidate_rows: Sequence[Mapping[str, Any]]) -> DecisionView:
    """A decision with its candidates and their sentences."""
    trigger = head.get("triggerEvent")
    view = DecisionView(
        decisionId=head["decisionId"], kind=head.get("kind"), atMs=head.get("atMs"),
        at=head.get("at") or (to_iso(head["atMs"]) if head.get("atMs") is not None else None),
        personId=head.get("personId") or head.get("decidedPersonId"), userId=head.get("userId"),
        trigger=head.get("trigger"), triggerEvent=TriggerEvent(**trigger) if trigger else None,
        placement=head.get("placement"), chosenCount=head.get("chosenCount"),
        constraintVersion=head.get("constraintVersion"),
        configVersions=[ConfigVersionRef(**c) for c in head.get("configVersions") or [] if c and c.get("key")],
        journeyVersions=sorted((JourneyVersionRef(**v) for v in head.get("journeyVersions") or []
                                if v and v.get("key")), key=lambda v: v.key),
        candidates=[candidate_from_row(r) for r in candidate_rows])
    ordered = sorted(view.candidates, key=lambda c: (c.rank if c.rank is not None else 1 << 30, c.actionId))
    for c in ordered:
        c.sentence = candidate_sentence(c, view.atMs, view.constraintVersion, ordered)
    view.candidates = ordered
    view.sentences = [c.sentence for c in ordered]
    return view


def enrollment_from_row(r: Mapping[str, Any]) -> EnrollmentPath:
    visits = sorted((Visit(**v) for v in r.get("visits") or [] if v and v.get("seq") is not None),
                    key=lambda v: v.seq)
    requests = sorted((RequestRef(**a) for a in r.get("requests") or [] if a and a.get("actionId")),
                      key=lambda a: (a.atMs or 0, a.actionId))
    unique = list({a.actionId + "|" + (a.decisionId or ""): a for a in requests}.values())
    en = EnrollmentPath(
        enrollmentId=r["enrollmentId"], journeyId=r["journeyId"], version=r.get("version"), status=r.get("status"),
        stepId=r.get("stepId"), exitReason=r.get("exitReason"), enteredAtMs=r.get("enteredAtMs"),
        endedAtMs=r.get("endedAtMs"), wakeAtMs=r.get("wakeAtMs"), visits=visits, requests=unique)
    en.enteredVersion = entered_version(en)
    return en


# --- the reader ---------------------------------------------------------------------------------------------

TIMELINE_QUERIES: tuple[tuple[str, str], ...] = (
    ("session", "decisions/read_timeline_sessions"), ("event", "decisions/read_timeline_events"),
    ("consent", "decisions/read_timeline_consent"), ("suppression", "decisions/read_timeline_suppressions"),
    ("enrollment", "decisions/read_timeline_enrollments"), ("visit", "decisions/read_timeline_visits"),
    ("decision", "decisions/read_timeline_decisions"),
)


def _rows(tx: ManagedTransaction, name: str, **params: Any) -> list[dict[str, Any]]:
    return [record.data() for record in tx.run(query(name), **params)]


class DecisionReader:
    """Read-only answers over the decision graph (the driver is owned by the caller)."""

    def __init__(self, driver: Driver, database: str) -> None:
        self.driver = driver
        self.database = database

    def _read(self, work: Callable[[ManagedTransaction], T]) -> T:
        with self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    @staticmethod
    def _person(tx: ManagedTransaction, ref: str) -> PersonRef:
        person_id = find_person(tx, ref)
        found = _rows(tx, "decisions/read_person", personId=person_id) if person_id else []
        if not found:
            raise NotFound(f"no person {ref!r}")
        return PersonRef(personId=found[0]["personId"], userId=found[0].get("userId"))

    @staticmethod
    def _decisions(tx: ManagedTransaction, ids: Sequence[str]) -> list[DecisionView]:
        heads = _rows(tx, "decisions/read_decisions", decisionIds=list(ids))
        candidates: dict[str, list[dict[str, Any]]] = {}
        for row in _rows(tx, "decisions/read_decision_candidates", decisionIds=list(ids)):
            candidates.setdefault(row["decisionId"], []).append(row)
        views = [decision_from_rows(h, candidates.get(h["decisionId"], [])) for h in heads]
        return sorted(views, key=lambda d: (d.atMs or 0, d.decisionId))

    def decision(self, decision_id: str) -> DecisionView:
        """One decision with every candidate; NotFound when there is none."""
        found = self._read(lambda tx: self._decisions(tx, [decision_id]))
        if not found:
            raise NotFound(f"no decision {decision_id!r}")
        return found[0]

    def explain(self, ref: str, journey_id: str, step_id: str | None = None, limit: int = 50) -> Explanation:
        """Every decision (newest `limit`) touching the person's requests in the journey (or one step), and
        the enrollments' paths, with the answer in sentences; NotFound for an unknown person."""
        limit = max(1, min(limit, MAX_LIMIT))

        def work(tx: ManagedTransaction) -> Explanation:
            person = self._person(tx, ref)
            enrollments = [enrollment_from_row(r) for r in _rows(
                tx, "decisions/read_person_journey", personId=person.personId, journeyId=journey_id)]
            ids = [r["decisionId"] for r in _rows(
                tx, "decisions/read_person_journey_decisions", personId=person.personId, journeyId=journey_id,
                stepId=step_id, limit=limit)]
            decisions = self._decisions(tx, ids) if ids else []
            reached = None if step_id is None else any(step_visits(en, step_id) for en in enrollments)
            return Explanation(
                person=person, journeyId=journey_id, stepId=step_id, entered=bool(enrollments), reachedStep=reached,
                sentences=explain_sentences(person, journey_id, step_id, enrollments, decisions),
                enrollments=enrollments, decisions=decisions)

        return self._read(work)

    def timeline(self, ref: str, limit: int = 50, before: str | None = None) -> TimelinePage:
        """The person's events, sessions, consent, enrollments, visits and decisions, newest first, `limit`
        per page; `before` is the previous page's `next` (or epoch ms / an ISO time)."""
        limit = max(1, min(limit, MAX_LIMIT))
        before_ms, before_key = parse_before(before)

        def work(tx: ManagedTransaction) -> TimelinePage:
            person = self._person(tx, ref)
            pages = [(kind, _rows(tx, name, personId=person.personId, beforeMs=before_ms, beforeKey=before_key,
                                  limit=limit)) for kind, name in TIMELINE_QUERIES]
            items, cursor = merge_page(pages, limit)
            return TimelinePage(person=person, items=items, next=cursor)

        return self._read(work)
