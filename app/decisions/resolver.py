"""The constraint-aware resolver: decides action requests inside the engine's transaction and writes the
decision graph with them.

Per transaction, `DecisionSession`:
1. reads the published constraint set once (`ConfigStore.published`; the defaults of `ConstraintSet()`
   when none is published, under the version key `constraints/default@builtin`);
2. locks each person with a candidate (a counter bump on the Person node, before anything is read) and
   reads their traits, consent, suppression lists and recent chosen messages (`resolver_load_people`);
3. decides each moment's candidates with the pure rules in `app/decisions/policy.py`, keeping the
   person's history in memory, so messages chosen earlier in the same transaction count;
4. renders what was chosen (`app/decisions/render.py`; errors are recorded, never raised);
5. on `flush()`, after the engine wrote the ActionRequest nodes, writes Decision nodes and their edges
   (`resolver_write_decisions`, `resolver_write_candidates`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import ManagedTransaction

from app.clock import to_iso
from app.decisions.config_store import ConfigStore, PublishedConfig
from app.decisions.policy import (
    Candidate,
    ChannelOption,
    Consent,
    PersonState,
    Sent,
    Verdict,
    decide,
    history_since_ms,
)
from app.decisions.render import RenderContext, Rendered, render
from app.decisions.timezones import person_timezone
from app.graph.params import Rows
from app.graph.queries import query
from app.journeys.catalog import TemplateCatalog, default_catalog
from app.journeys.engine import ActionRequest
from app.journeys.resolver import ActionOutcome, ResolverSession
from app.metrics import DECISION_SECONDS
from graph_models.constraints import ConstraintSet, PlacementSet
from graph_models.ids import sorted_json, url_uuid5

BUILTIN_CONSTRAINTS = "constraints/default@builtin"


def decision_id(candidate_ids: Sequence[str]) -> str:
    """Deterministic (a replay of the same events gives the same decision ids)."""
    return url_uuid5("journeys:decision:" + "|".join(sorted(candidate_ids)))


def journey_candidate(r: ActionRequest) -> Candidate:
    options = (ChannelOption(r.channel, r.template), *(ChannelOption(c, t) for c, t in r.fallback))
    return Candidate(candidate_id=r.action_id, person_id=r.person_id, at_ms=r.at_ms, options=options,
                     journey_id=r.journey_id, step_priority=r.priority, score=r.score, tags=tuple(r.tags),
                     transactional=r.transactional)


def _constraint_pair(found: PublishedConfig | None) -> tuple[str, ConstraintSet]:
    if found is not None and isinstance(found.model, ConstraintSet):
        return found.version_key, found.model
    return BUILTIN_CONSTRAINTS, ConstraintSet()


def _placement_pair(found: PublishedConfig | None) -> tuple[str, PlacementSet] | None:
    if found is not None and isinstance(found.model, PlacementSet):
        return found.version_key, found.model
    return None


@dataclass
class Recorded:
    """What `flush` writes for one decision."""

    decision: dict[str, Any]
    candidates: list[dict[str, Any]]


class ConstraintResolver:
    """`ActionResolver` over the constraint edges (see the module docstring)."""

    def __init__(self, catalog: TemplateCatalog | None = None) -> None:
        self.catalog = catalog if catalog is not None else default_catalog()

    def session(self, tx: ManagedTransaction) -> DecisionSession:
        return DecisionSession(tx, self.catalog)


class DecisionSession(ResolverSession):
    """The resolver's state inside one transaction."""

    def __init__(self, tx: ManagedTransaction, catalog: TemplateCatalog) -> None:
        self.tx = tx
        self.catalog = catalog
        self._constraints: tuple[str, ConstraintSet] | None = None
        self._placements: tuple[str, PlacementSet] | bool | None = False
        self.people: dict[str, PersonState] = {}
        self.locked: frozenset[str] = frozenset()  # persons the transaction already locked (assume_locked)
        self.recorded: list[Recorded] = []
        self.delivery_rows: list[dict[str, Any]] = []

    # -- configuration ---------------------------------------------------------------------------
    def constraints(self) -> tuple[str, ConstraintSet]:
        if self._constraints is None:
            self._constraints = _constraint_pair(ConfigStore.published(self.tx, "constraints"))
        return self._constraints

    def placements(self) -> tuple[str, PlacementSet] | None:
        if self._placements is False:
            self._placements = _placement_pair(ConfigStore.published(self.tx, "placements"))
        assert self._placements is not True
        return self._placements or None

    def adopt_config(self, constraints: PublishedConfig | None, placements: PublishedConfig | None) -> None:
        """Use published documents the caller read (or checked current) in this transaction."""
        self._constraints = _constraint_pair(constraints)
        self._placements = _placement_pair(placements)

    def constraint_key(self, constraint_id: str | None) -> str | None:
        if constraint_id is None:
            return None
        if constraint_id.startswith("offer_cap:"):
            placements = self.placements()
            return f"{placements[0]}/{constraint_id}" if placements else None
        key, _ = self.constraints()
        return None if key == BUILTIN_CONSTRAINTS else f"{key}/{constraint_id}"

    # -- person state ----------------------------------------------------------------------------
    def assume_locked(self, person_ids: Collection[str]) -> None:
        """The caller bumped these persons in this transaction before reading anything about them (the
        ingest path): `load_people` reads them without a second bump."""
        self.locked = frozenset(person_ids)

    def load_people(self, person_ids: Sequence[str], at_ms: int, offer_windows: Sequence[int] = ()) -> None:
        """Lock and read the persons not read yet in this transaction."""
        missing = sorted({p for p in person_ids if p not in self.people})
        if not missing:
            return
        _, cs = self.constraints()
        since = history_since_ms(at_ms, cs, offer_windows)
        rows = [{"personId": pid, "lock": pid not in self.locked} for pid in missing]
        for r in self.tx.run(query("decisions/resolver_load_people"), persons=rows, sinceMs=since):
            self.people[r["personId"]] = person_state(r, cs)

    # -- journeys --------------------------------------------------------------------------------
    @DECISION_SECONDS.time()
    def decide(self, requests: Sequence[ActionRequest]) -> dict[str, ActionOutcome]:
        """Decide one moment's requests, person by person."""
        if not requests:
            return {}
        by_person: dict[str, list[ActionRequest]] = defaultdict(list)
        for r in requests:
            by_person[r.person_id].append(r)
        self.load_people(list(by_person), min(r.at_ms for r in requests))
        out: dict[str, ActionOutcome] = {}
        for person_id, mine in sorted(by_person.items()):
            state = self.people.get(person_id)
            if state is None:  # the person vanished (merged away in this transaction): nothing to decide on
                for r in mine:
                    out[r.action_id] = ActionOutcome(r.action_id, "error", "the person is not in the graph")
                continue
            out.update(self._decide_person(state, mine))
        return out

    def _decide_person(self, state: PersonState, requests: list[ActionRequest]) -> dict[str, ActionOutcome]:
        key, cs = self.constraints()
        verdicts = decide([journey_candidate(r) for r in requests], state, cs)
        did = decision_id([r.action_id for r in requests])
        by_id = {r.action_id: r for r in requests}
        at_ms = min(r.at_ms for r in requests)
        out: dict[str, ActionOutcome] = {}
        candidates = []
        for v in verdicts:
            r = by_id[v.candidate_id]
            props = self.verdict_props(v, did, key)
            if v.chosen:
                rendered = self.render(v.template, state, r.entry_properties, {
                    "id": r.journey_id, "version": r.version, "step": r.step_id, "variant": r.variant,
                }, {}, {"decision_id": did, "action_id": r.action_id, "person_id": state.person_id})
                props.update(rendered_props(rendered))
                if v.channel == "in_app":
                    placement = r.content.get("placement")
                    props.update({"pickup": "pending", "expiresAtMs": r.at_ms + cs.in_app_ttl.ms,
                                  "placement": placement if isinstance(placement, str) else None})
                self.delivery_rows.append(delivery_row(r, v, did, props, rendered))
            out[r.action_id] = ActionOutcome(r.action_id, v.outcome, v.reason, v.defer_until_ms, props)
            candidates.append(self.candidate_row(did, v))
        triggers = sorted({r.trigger for r in requests})
        self.recorded.append(Recorded(decision={
            "personId": state.person_id, "constraintKey": key, "placementsKey": None,
            "trigger": triggers[0] if len(triggers) == 1 else None,
            "versionKeys": sorted({f"{r.journey_id}@{r.version}" for r in requests}),
            "props": {"decisionId": did, "kind": "journey", "atMs": at_ms, "at": to_iso(at_ms),
                      "personId": state.person_id, "constraintVersion": key, "trigger": ",".join(triggers),
                      "candidateCount": len(verdicts), "chosenCount": sum(v.chosen for v in verdicts)},
        }, candidates=candidates))
        return out

    # -- shared ----------------------------------------------------------------------------------
    def verdict_props(self, v: Verdict, did: str, key: str) -> dict[str, Any]:
        return {"rank": v.rank, "decisionId": did, "blockedBy": v.blocked_by, "channel": v.channel,
                "template": v.template, "constraintVersion": key}

    def candidate_row(self, did: str, v: Verdict) -> dict[str, Any]:
        # Losing arbitration is a ranking, not a rule: no BLOCKED_BY edge (it would make one node that every
        # concurrent decision writes to); `blockedBy: 'arbitration'` and CONSIDERED.rank say it.
        blocked = None if v.blocked_by == "arbitration" else v.blocked_by
        return {"decisionId": did, "actionId": v.candidate_id, "rank": v.rank, "outcome": v.outcome,
                "reason": v.reason, "constraintKey": self.constraint_key(blocked)}

    def render(self, template_id: str, state: PersonState, event: Mapping[str, Any], journey: Mapping[str, Any],
                offer: Mapping[str, Any], ids: Mapping[str, Any]) -> Rendered:
        template = self.catalog.get(template_id)
        if template is None:
            return Rendered(None, "", None, [f"template {template_id!r} is not in the catalog"])
        person = {k: v for k, v in state.traits.items() if not k.startswith("_")}
        return render(template, RenderContext(person=person, event=event, journey=journey, offer=offer, ids=ids))

    def flush(self) -> None:
        """Write the decisions recorded since the last flush (after their ActionRequest nodes exist)."""
        if self.recorded:
            self.tx.run(query("decisions/resolver_write_decisions"),
                        rows=Rows(r.decision for r in self.recorded)).consume()
            rows = [c for r in self.recorded for c in r.candidates]
            if rows:
                self.tx.run(query("decisions/resolver_write_candidates"), rows=Rows(rows)).consume()
            self.recorded = []
        if self.delivery_rows:
            self.tx.run(query("decisions/resolver_write_deliveries"), rows=Rows(self.delivery_rows)).consume()
            pending = [r["props"]["dueBucket"] for r in self.delivery_rows if r["props"]["status"] == "pending"]
            if pending:  # a late (backfilled) delivery pulls the dispatcher's cursor back; usual ones write nothing
                self.tx.run(query("channels/cursor_lower"), bucket=min(pending)).consume()
            self.delivery_rows = []


def person_state(r: Mapping[str, Any], cs: ConstraintSet) -> PersonState:
    """A row of `resolver_load_people` (personId, traits, consent, lists, history) as the rules' input."""
    traits = r["traits"] or {}
    lists = {s.id: tuple(s.channels) for s in cs.suppression_lists}
    return PersonState(
        person_id=r["personId"], traits=traits, zone=person_timezone(traits, cs.default_timezone),
        consent={c["channel"]: Consent(c["status"], bool(c.get("marketingOnly")))
                 for c in r["consent"] if c and c.get("status")},
        suppressed={lid: lists.get(lid, ()) for lid in r["lists"] if lid},
        history=[Sent(int(h["atMs"]), h["channel"], h.get("journeyId"), tuple(h.get("tags") or ()),
                      h.get("offerId")) for h in r["history"] if h and h.get("atMs") is not None],
    )


def delivery_id(action_id: str) -> str:
    """Deterministic, so a replayed decision names the same delivery (and the provider sees the same key)."""
    return url_uuid5("journeys:delivery:" + action_id)


def delivery_row(r: ActionRequest, v: Verdict, did: str, props: Mapping[str, Any], rendered: Rendered
                 ) -> dict[str, Any]:
    """The outbox row of a chosen journey message: what the dispatcher sends and the ids that join it to the
    event, enrollment and decision (every payload carries them)."""
    dlv = delivery_id(r.action_id)
    held = v.channel == "in_app"
    payload = {"deliveryId": dlv, "decisionId": did, "actionId": r.action_id, "enrollmentId": r.enrollment_id,
               "journeyId": r.journey_id, "version": r.version, "stepId": r.step_id, "variant": r.variant,
               "personId": r.person_id, "channel": v.channel, "template": v.template, "triggerMessageId": r.trigger,
               "content": {k: val for k, val in (("subject", rendered.subject), ("text", rendered.text),
                                                 ("html", rendered.html)) if val is not None},
               "data": r.content}
    return {"actionId": r.action_id, "personId": r.person_id, "props": {
        "deliveryId": dlv, "idempotencyKey": dlv, "status": "held" if held else "pending", "channel": v.channel,
        "template": v.template, "actionId": r.action_id, "decisionId": did, "personId": r.person_id,
        "journeyId": r.journey_id, "version": r.version, "stepId": r.step_id, "variant": r.variant,
        "createdAtMs": r.at_ms, "dueAtMs": r.at_ms, "attempts": 0,
        "expiresAtMs": props.get("expiresAtMs") if held else None,
        # the dispatcher's minute bucket (equality-indexed): when due, or for held in-app the expiry minute
        "dueBucket": (props.get("expiresAtMs") or r.at_ms) // 60_000 if held else r.at_ms // 60_000,
        "payload": sorted_json(payload, default_str=True)}}


def rendered_props(rendered: Rendered) -> dict[str, Any]:
    return {"rendered": rendered.to_json(), "renderErrors": json.dumps(rendered.errors) if rendered.errors else None}
