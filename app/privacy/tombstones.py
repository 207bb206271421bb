"""Tombstones of erased identities: ingest drops events that name one (counted, not dead-lettered).

A tombstone's key is the SHA-256 of the identity key (`userId:<x>`, `anonymousId:<x>`), so the graph keeps
no plain id of an erased person; events are matched by hashing their ids the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from neo4j import ManagedTransaction

from app.graph.queries import query
from app.intake.identity import identity_key
from app.intake.normalize import AnyEvent
from graph_models.segment import Alias


def tombstone_key(key: str) -> str:
    """The tombstone key of an identity key (`userId:ann` -> `sha256:<hex>`)."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def event_keys(ev: AnyEvent) -> list[str]:
    """The tombstone keys an event would link to a person (an alias's previousId as both kinds)."""
    keys = []
    if ev.userId:
        keys.append(identity_key("userId", ev.userId))
    if ev.anonymousId:
        keys.append(identity_key("anonymousId", ev.anonymousId))
    if isinstance(ev, Alias):
        keys += [identity_key("userId", ev.previousId), identity_key("anonymousId", ev.previousId)]
    return [tombstone_key(k) for k in keys]


def split_tombstoned(events: Sequence[AnyEvent], tombstoned: set[str]) -> tuple[list[AnyEvent], list[str]]:
    """(events to keep, messageIds of events naming a tombstoned identity) - pure."""
    kept: list[AnyEvent] = []
    dropped: list[str] = []
    for ev in events:
        if tombstoned and any(k in tombstoned for k in event_keys(ev)):
            dropped.append(ev.messageId)
        else:
            kept.append(ev)
    return kept, dropped


def drop_tombstoned(tx: ManagedTransaction, events: Sequence[AnyEvent]) -> tuple[list[AnyEvent], list[str]]:
    """The ingest check: one keyed lookup for the batch's identities, then `split_tombstoned`."""
    keys = sorted({k for ev in events for k in event_keys(ev)})
    if not keys:
        return list(events), []
    found = {str(r["key"]) for r in tx.run(query("privacy/find_tombstones"), keys=keys)}
    return split_tombstoned(events, found)
