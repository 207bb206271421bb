"""The resolver seam: the engine hands the action requests of one moment over and goes on by the answers.

The engine opens one `ResolverSession` per transaction (`ActionResolver.session(tx)`), asks it to `decide`
the requests of each moment (one person's requests reached by one event, or by one timer), and calls
`flush()` after it has written the `ActionRequest` nodes, so the session can write its decision graph in the
same transaction. The constraint-aware resolver is `app.decisions.resolver.ConstraintResolver`;
`AcceptingResolver` chooses everything (tools and tests that are not about decisions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from neo4j import ManagedTransaction

from app.journeys.engine import ActionRequest


@dataclass(frozen=True)
class ActionOutcome:
    """The resolver's answer to one request. `props` are extra `ActionRequest` properties to store
    (rank, decisionId, blockedBy, the channel used, rendered content, ...)."""

    action_id: str
    status: str  # chosen | deferred | error | suppressed | no_consent | holdout | capped | excluded | ...
    reason: str = ""
    defer_until_ms: int | None = None
    props: Mapping[str, Any] = field(default_factory=dict)


class ResolverSession(Protocol):
    def decide(self, requests: Sequence[ActionRequest]) -> dict[str, ActionOutcome]:
        """Decide the requests of one moment (they may belong to several people)."""
        ...

    def flush(self) -> None:
        """Write what was decided (after the engine wrote the ActionRequest nodes), same transaction."""
        ...


class ActionResolver(Protocol):
    def session(self, tx: ManagedTransaction) -> ResolverSession:
        """A session bound to the engine's transaction (so decisions commit with the steps)."""
        ...


class _AcceptingSession:
    def decide(self, requests: Sequence[ActionRequest]) -> dict[str, ActionOutcome]:
        return {r.action_id: ActionOutcome(r.action_id, "chosen") for r in requests}

    def flush(self) -> None:
        return None


class AcceptingResolver:
    """Chooses every request; writes no decision graph."""

    def session(self, tx: ManagedTransaction) -> ResolverSession:
        return _AcceptingSession()
