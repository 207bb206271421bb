"""The resolver interface: an action step hands its request over; the resolver decides what happens.

The constraint-aware resolver (consent, caps, quiet hours, ...) plugs in here; until then
`AcceptingResolver` accepts every request so journeys and their audit trail work end to end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from neo4j import ManagedTransaction

from app.journeys.engine import ActionRequest


@dataclass(frozen=True)
class ActionOutcome:
    action_id: str
    status: str  # e.g. accepted, sent, blocked, suppressed
    reason: str = ""


class ActionResolver(Protocol):
    def resolve(self, tx: ManagedTransaction, requests: Sequence[ActionRequest]) -> list[ActionOutcome]:
        """Decide each request inside the engine's transaction (so decisions commit with the step)."""
        ...


class AcceptingResolver:
    """Accepts everything; records `accepted` on each ActionRequest node."""

    def resolve(self, tx: ManagedTransaction, requests: Sequence[ActionRequest]) -> list[ActionOutcome]:
        return [ActionOutcome(r.action_id, "accepted") for r in requests]
