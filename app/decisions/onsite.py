"""Onsite decisions: the next action for a placement (`POST /v1/next-action`), decided and recorded in one
write transaction under the same rules and the same per-person lock as journey messages.

1. The person is found by reference (an unknown person gets "nothing", with no decision recorded).
2. In-app messages that journeys chose for the person and that still wait for pickup come first (oldest
   first): they were decided under the constraints when their step was reached, so they are not decided
   again, only picked up.
3. Otherwise every offer of the placement is a candidate: offers whose `when` condition fails are recorded
   as `ineligible`; the rest go through the resolver's rules (`app/decisions/policy.py`), including the
   offers' own caps, and the best-ranked one left is chosen and rendered.
Every offer considered becomes an `ActionRequest` (kind `onsite`) linked to the `Decision`, like journey
candidates, so caps count shown offers and `explain` reads both the same way.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock, to_iso
from app.decisions.config_store import DEFAULT_ID, ConfigStore, PublishedConfig, document_key
from app.decisions.people import parse_ref
from app.decisions.policy import Candidate, ChannelOption, PersonState, decide, history_since_ms
from app.decisions.resolver import DecisionSession, Recorded, person_state, rendered_props
from app.errors import PermanentError
from app.graph.queries import query
from app.journeys.catalog import TemplateCatalog, default_catalog
from app.journeys.conditions import EvalContext, evaluate, matches_properties
from graph_models.constraints import Offer, Placement
from graph_models.journey import CountSpec


class UnknownPlacement(PermanentError):
    """No such placement in the published placements document (HTTP 404)."""

    def __init__(self, message: str, *, reason: str = "unknown_placement") -> None:
        super().__init__(message, reason=reason)


@dataclass
class NextAction:
    """The answer: the chosen action (or None: nothing to show) and why, with the ids to track it by."""

    placement: str
    person_id: str | None
    decision_id: str | None
    action: dict[str, Any] | None
    reasons: list[str] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)


def new_decision_id() -> str:
    return str(uuid.uuid4())


class OnsiteResolver:
    """Decides placements; handed the driver like the stores."""

    def __init__(self, driver: Driver, database: str, clock: Clock | None = None, *,
                 catalog: TemplateCatalog | None = None, new_id: Callable[[], str] = new_decision_id) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.catalog = catalog if catalog is not None else default_catalog()
        self.new_id = new_id
        self._config: KnownConfig | None = None  # the documents last seen; every decision checks their stamps

    def next_action(self, ref: str, placement: str, context: Mapping[str, Any]) -> NextAction:
        """`ref`: `userId:<x>` or `anonymousId:<x>` (the identity the page knows)."""
        with self.driver.session(database=self.database) as session:
            return session.execute_write(self._decide, ref, placement, dict(context))

    def _read_config(self, tx: ManagedTransaction) -> KnownConfig:
        self._config = KnownConfig(ConfigStore.published(tx, "constraints"), ConfigStore.published(tx, "placements"))
        return self._config

    def _decide(self, tx: ManagedTransaction, ref: str, placement_id: str, context: dict[str, Any]) -> NextAction:
        """Two round trips: the person's lock and state (with the published documents' stamps) and the write.
        The documents last seen are assumed current; the load checks their stamps, and a change (a publish)
        re-reads them, and the person's history too if the new documents need a longer one."""
        now = self.clock.now_ms()
        session = DecisionSession(tx, self.catalog)
        config, fresh = self._config, False
        if config is None:
            config, fresh = self._read_config(tx), True
        session.adopt_config(*config)
        placement = _placement(session, placement_id)
        if placement is None and not fresh:  # perhaps published since: look again before refusing
            config, fresh = self._read_config(tx), True
            session.adopt_config(*config)
            placement = _placement(session, placement_id)
        if placement is None:
            raise UnknownPlacement(f"placement {placement_id!r} is not in the published placements document")
        since = self._since(session, placement, now)
        row = self._load(tx, ref, placement_id, since, now)
        if row is not None and not fresh and config.stamps() != _stamps(row):
            session.adopt_config(*self._read_config(tx))
            placement = _placement(session, placement_id)
            if placement is None:
                raise UnknownPlacement(f"placement {placement_id!r} is not in the published placements document")
            if (longer := self._since(session, placement, now)) < since:
                row = self._load(tx, ref, placement_id, longer, now)
        if row is None:
            return NextAction(placement_id, None, None, None, [f"no person is known by {ref!r}"])
        _, cs = session.constraints()
        state = person_state(row, cs)
        session.people[state.person_id] = state
        did = self.new_id()
        held = sorted(row["held"], key=lambda a: (a.get("atMs") or 0, a.get("actionId") or ""))
        if held:
            return self._pick_up(tx, session, placement, state, held[0], did, now)
        return self._offers(tx, session, placement, state, context, did, now)

    @staticmethod
    def _since(session: DecisionSession, placement: Placement, now: int) -> int:
        _, cs = session.constraints()
        return history_since_ms(now, cs, [c.window.ms for o in placement.offers for c in o.caps])

    @staticmethod
    def _load(tx: ManagedTransaction, ref: str, placement_id: str, since: int, now: int) -> Any:
        return tx.run(query("decisions/onsite_load_person"), key=identity_key(ref), sinceMs=since,
                      placement=placement_id, nowMs=now, constraintsDoc=document_key("constraints", DEFAULT_ID),
                      placementsDoc=document_key("placements", DEFAULT_ID)).single()

    def _pick_up(self, tx: ManagedTransaction, session: DecisionSession, placement: Placement, state: PersonState,
                 request: Mapping[str, Any], did: str, now: int) -> NextAction:
        action_id = str(request["actionId"])
        tx.run(query("decisions/resolver_pick_up"), rows=[{"actionId": action_id, "decisionId": did,
                                                            "atMs": now}]).consume()
        reason = f"held for pickup by {request.get('journeyId')} step {request.get('stepId')}"
        candidates = [{"decisionId": did, "actionId": action_id, "rank": 1, "outcome": "chosen", "reason": reason,
                       "constraintKey": None}]
        session.recorded.append(Recorded(self._decision_row(session, state, placement, did, now, candidates, "api"),
                                         candidates))
        session.flush()
        action = {"actionId": action_id, "source": "journey", "journeyId": request.get("journeyId"),
                  "version": request.get("version"), "stepId": request.get("stepId"), "offerId": None,
                  "channel": request.get("channel"), "template": request.get("template"),
                  "content": _content(request.get("rendered"))}
        return NextAction(placement.id, state.person_id, did, action, [reason])

    def _offers(self, tx: ManagedTransaction, session: DecisionSession, placement: Placement, state: PersonState,
                context: dict[str, Any], did: str, now: int) -> NextAction:
        key, cs = session.constraints()
        pkey = placements[0] if (placements := session.placements()) else ""
        eligible: list[tuple[Offer, Candidate]] = []
        rows: list[dict[str, Any]] = []
        reasons: list[str] = []
        ctx = EvalContext(properties=context, traits=state.traits, basis_ms=now,
                          count=lambda spec, basis: _count(tx, state.person_id, spec, basis))
        for offer in placement.offers:
            action_id = f"{did}/{offer.id}"
            if offer.when is not None and not evaluate(offer.when, ctx):
                rows.append(self._offer_row(state, placement, offer, action_id, now, did, key, pkey, {
                    "status": "ineligible", "reason": "its conditions do not hold for the person"}))
                reasons.append(f"{offer.id}: its conditions do not hold for the person")
                continue
            eligible.append((offer, Candidate(
                candidate_id=action_id, person_id=state.person_id, at_ms=now,
                options=(ChannelOption(placement.channel, offer.template),), tags=tuple(offer.tags),
                placement=placement.id, offer_id=offer.id, offer_priority=offer.priority, score=offer.score,
                offer_caps=tuple(offer.caps))))
        verdicts = decide([c for _, c in eligible], state, cs)
        offers = {c.candidate_id: o for o, c in eligible}
        candidate_rows = []
        chosen: dict[str, Any] | None = None
        for v in verdicts:
            offer = offers[v.candidate_id]
            props: dict[str, Any] = {**session.verdict_props(v, did, key), "status": v.outcome, "reason": v.reason,
                                     "deferUntilMs": v.defer_until_ms}
            if v.chosen:
                rendered = session.render(v.template, state, context, {}, {"id": offer.id, "placement": placement.id},
                                          {"decision_id": did, "action_id": v.candidate_id,
                                           "person_id": state.person_id})
                props.update(rendered_props(rendered))
                chosen = {"actionId": v.candidate_id, "source": "offer", "journeyId": None, "version": None,
                          "stepId": None, "offerId": offer.id, "channel": v.channel, "template": v.template,
                          "content": _content(rendered.to_json())}
            else:
                reasons.append(f"{offer.id}: {v.reason}")
            rows.append(self._offer_row(state, placement, offer, v.candidate_id, now, did, key, pkey, props))
            candidate_rows.append(session.candidate_row(did, v))
        candidate_rows += [{"decisionId": did, "actionId": r["props"]["actionId"], "rank": None,
                            "outcome": "ineligible", "reason": r["props"]["reason"], "constraintKey": None}
                           for r in rows if r["props"]["status"] == "ineligible"]
        edges = {c["actionId"]: c for c in candidate_rows}
        decision = self._decision_row(session, state, placement, did, now, candidate_rows, "api")
        tx.run(query("decisions/onsite_write_decision"), personId=state.person_id, decision=decision["props"],
               candidates=[{"props": r["props"], **{k: edges[r["props"]["actionId"]][k] for k in
                                                     ("rank", "outcome", "reason", "constraintKey")}}
                           for r in rows]).consume()
        if not placement.offers:
            reasons.append(f"placement {placement.id} has no offers")
        summary = [{"actionId": r["props"]["actionId"], "offerId": r["props"]["offerId"],
                    "outcome": r["props"]["status"], "reason": r["props"]["reason"], "rank": r["props"].get("rank")}
                   for r in rows]
        return NextAction(placement.id, state.person_id, did, chosen, [] if chosen else reasons, summary)

    @staticmethod
    def _offer_row(state: PersonState, placement: Placement, offer: Offer, action_id: str, now: int, did: str,
                   key: str, placements_key: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        props = {"actionId": action_id, "kind": "onsite", "offerId": offer.id, "placement": placement.id,
                 "channel": placement.channel, "template": offer.template, "atMs": now, "personId": state.person_id,
                 "priority": offer.priority, "score": offer.score, "tags": list(offer.tags) or None,
                 "decisionId": did, "constraintVersion": key, **extra}
        # No edge to the shared Offer node (concurrent requests would all write to it): `offerKey` names it.
        return {"personId": state.person_id, "props": {**props, "offerKey": f"{placements_key}/{placement.id}/"
                                                                            f"{offer.id}"}}

    @staticmethod
    def _decision_row(session: DecisionSession, state: PersonState, placement: Placement, did: str, now: int,
                      candidates: list[dict[str, Any]], trigger: str) -> dict[str, Any]:
        key, _ = session.constraints()
        placements = session.placements()
        # Onsite decisions are written by many concurrent requests: no UNDER edges to the two shared
        # ConfigVersion nodes (the keys are properties; reads look them up by key).
        return {
            "personId": state.person_id, "constraintKey": None, "placementsKey": None, "trigger": None,
            "versionKeys": [],
            "props": {"decisionId": did, "kind": "onsite", "atMs": now, "at": to_iso(now), "personId": state.person_id,
                      "constraintVersion": key, "placementsVersion": placements[0] if placements else None,
                      "placement": placement.id, "trigger": trigger, "candidateCount": len(candidates),
                      "chosenCount": sum(1 for c in candidates if c["outcome"] == "chosen")},
        }


@dataclass(frozen=True)
class KnownConfig:
    """The published constraints and placements documents a resolver last read (None: none published)."""

    constraints: PublishedConfig | None
    placements: PublishedConfig | None

    def __iter__(self) -> Iterator[PublishedConfig | None]:
        return iter((self.constraints, self.placements))

    def stamps(self) -> tuple[str | None, str | None, str | None, str | None]:
        c, p = self.constraints, self.placements
        return (c.version_key if c else None, c.checksum if c else None,
                p.version_key if p else None, p.checksum if p else None)


def _stamps(row: Any) -> tuple[str | None, str | None, str | None, str | None]:
    return (row["constraintsKey"], row["constraintsChecksum"], row["placementsKey"], row["placementsChecksum"])


def _placement(session: DecisionSession, placement_id: str) -> Placement | None:
    placements = session.placements()
    return placements[1].placement(placement_id) if placements else None


def identity_key(ref: str) -> str:
    """The Identity key of a `userId:`/`anonymousId:` reference (a bare id is a userId)."""
    kind, value = parse_ref(ref)
    return f"{kind}:{value}"


def _count(tx: ManagedTransaction, person_id: str, spec: CountSpec, basis_ms: int) -> int:
    since = basis_ms - spec.within.ms if spec.within else 0
    rows = tx.run(query("journeys/engine_count_events"), personId=person_id, event=spec.event, fromMs=since,
                  toMs=basis_ms)
    return sum(1 for r in rows if matches_properties(spec.where, json.loads(r["properties"] or "{}")))


def _content(rendered: Any) -> dict[str, Any]:
    if not isinstance(rendered, str):
        return {}
    data = json.loads(rendered)
    return {k: data.get(k) for k in ("subject", "text", "html") if data.get(k) is not None}
