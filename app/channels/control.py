"""Delivery operations over the graph: kill switches (pause/resume a channel or an adapter, audited), reading a
delivery with its attempts and events, the dead-letter list, and retrying a dead delivery."""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.errors import PermanentError
from app.graph.queries import query
from graph_models.principal import Principal, can, roles_for

Target = Literal["channel", "adapter"]
DEAD_PAGE_MAX = 500


class DeliveryNotFound(PermanentError):
    """No delivery with that id."""

    def __init__(self, message: str, *, reason: str = "not_found") -> None:
        super().__init__(message, reason=reason)


class DeliveryConflict(PermanentError):
    """The delivery is not in a state that allows the change (retry of a delivery that is not dead)."""

    def __init__(self, message: str, *, reason: str = "conflict") -> None:
        super().__init__(message, reason=reason)


class DeliveryForbidden(PermanentError):
    """The principal's role may not do this."""

    def __init__(self, message: str, *, reason: str = "forbidden") -> None:
        super().__init__(message, reason=reason)


@dataclass(frozen=True)
class PauseState:
    """A kill switch after a change."""

    target: Target
    name: str
    paused: bool


class DeliveryControl:
    """Handed the driver; every change is one write transaction, every pause/resume an AuditEntry."""

    def __init__(self, driver: Driver, database: str, clock: Clock | None = None) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()

    # -- kill switches ---------------------------------------------------------------------------
    def set_paused(self, target: Target, name: str, paused: bool, principal: Principal, note: str = "") -> PauseState:
        """Pause or resume a channel or an adapter (the `pause` permission: approver or admin)."""
        if not can(principal, "pause"):
            raise DeliveryForbidden(f"{principal.name!r} ({principal.role}) may not pause deliveries; that needs "
                                    f"the role {' or '.join(roles_for('pause'))}")
        if target not in ("channel", "adapter") or not name.strip():
            raise PermanentError(f"pause needs a channel or an adapter name, got {target}:{name!r}",
                                 reason="invalid")
        audit = {"auditId": uuid.uuid4().hex, "action": "delivery_pause" if paused else "delivery_resume",
                 "principal": principal.name, "role": principal.role, "atMs": self.clock.now_ms(),
                 "detail": json.dumps({"target": target, "name": name, "note": note} if note else
                                      {"target": target, "name": name}, sort_keys=True)}
        params: dict[str, Any] = {"paused": paused, "audit": audit,
                                  ("channelId" if target == "channel" else "name"): name}
        with self.driver.session(database=self.database) as session:
            row = session.execute_write(lambda tx: tx.run(query(f"channels/set_{target}_paused"), params).single())
        assert row is not None
        return PauseState(target, str(row["name"]), bool(row["paused"]))

    # -- reads -----------------------------------------------------------------------------------
    def get(self, delivery_id: str) -> dict[str, Any]:
        """{delivery (payload parsed), attempts (oldest first), events (callbacks, oldest first)}."""
        with self.driver.session(database=self.database) as session:
            row = session.execute_read(lambda tx: tx.run(query("channels/get"), deliveryId=delivery_id).single())
        if row is None:
            raise DeliveryNotFound(f"no delivery {delivery_id!r}")
        return {"delivery": _public(row["delivery"]),
                "attempts": sorted((_public(a) for a in row["attempts"] if a),
                                   key=lambda a: (a.get("atMs") or 0, a.get("n") or 0)),
                "events": sorted((_public(e) for e in row["events"] if e), key=lambda e: e.get("atMs") or 0)}

    def dead(self, limit: int = 50, before_ms: int | None = None, before_id: str | None = None
             ) -> list[dict[str, Any]]:
        """A page of dead deliveries, newest first (page on with the last row's deadAtMs and deliveryId)."""
        limit = max(1, min(limit, DEAD_PAGE_MAX))
        with self.driver.session(database=self.database) as session:
            rows = session.execute_read(lambda tx: list(tx.run(
                query("channels/dead_list"), beforeMs=before_ms, beforeId=before_id or "", limit=limit)))
        return [_public(r["delivery"]) for r in rows]

    # -- retry -----------------------------------------------------------------------------------
    def retry(self, delivery_id: str, principal: Principal) -> str:
        """A dead delivery back to pending, due now with its attempts reset; returns the new status."""
        if not can(principal, "pause"):
            raise DeliveryForbidden(f"{principal.name!r} ({principal.role}) may not retry deliveries; that needs "
                                    f"the role {' or '.join(roles_for('pause'))}")
        now = self.clock.now_ms()
        with self.driver.session(database=self.database) as session:
            return session.execute_write(self._retry, delivery_id, now, principal.name)

    @staticmethod
    def _retry(tx: ManagedTransaction, delivery_id: str, now: int, principal: str) -> str:
        row = tx.run(query("channels/retry"), deliveryId=delivery_id, nowMs=now, bucket=now // 60_000,
                     principal=principal).single()
        if row is None:
            found = tx.run(query("channels/status"), deliveryId=delivery_id).single()
            if found is None:
                raise DeliveryNotFound(f"no delivery {delivery_id!r}")
            raise DeliveryConflict(f"delivery {delivery_id!r} is {found['status']}, not dead: only a dead "
                                   "delivery can be retried")
        tx.run(query("channels/cursor_lower"), bucket=now // 60_000).consume()
        return str(row["status"])


def _public(props: Any) -> dict[str, Any]:
    """Node properties without internal `_` keys; the payload JSON parsed."""
    out = {k: v for k, v in dict(props or {}).items() if not k.startswith("_")}
    payload = out.get("payload")
    if isinstance(payload, str):
        with contextlib.suppress(ValueError):
            out["payload"] = json.loads(payload)
    return out
