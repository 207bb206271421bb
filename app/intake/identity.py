"""Identity resolution for one batch, as pure logic over what the graph already knows.

Rules (documented in cypher/README.md):
- An identity (userId or anonymousId) points to exactly one Person.
- identify/track/... with a userId and an anonymousId: an anonymous person (no userId yet) is merged
  into the known person; two *known* persons are never merged implicitly (shared devices).
- alias merges the person of `previousId` into the person of `userId`, known or not (it is explicit).
- An existing node always survives over one created in this batch, so ids stay stable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple


def identity_key(kind: str, value: str) -> str:
    return f"{kind}:{value}"


@dataclass(frozen=True)
class IdentityInput:
    """What identity resolution needs from one event."""

    type: str
    user_id: str | None
    anonymous_id: str | None
    previous_id: str | None
    timestamp_ms: int
    message_id: str


class KnownIdentity(NamedTuple):
    """An identity node already in the graph and the person it points to (one per key the batch names)."""

    key: str
    person_id: str
    person_user_id: str | None


@dataclass(frozen=True)
class PersonMerge:
    loser: str
    survivor: str
    message_id: str
    timestamp_ms: int
    reason: str


@dataclass
class IdentityPlan:
    """Who each event belongs to and what to write: new persons, new identity links, merges."""

    event_person: list[str]
    new_persons: dict[str, str | None] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)
    links: list[tuple[str, str, str, str]] = field(default_factory=list)  # key, kind, value, personId
    merges: list[PersonMerge] = field(default_factory=list)


class _Resolver:
    def __init__(self, known: Sequence[KnownIdentity], new_id: Callable[[str], str]) -> None:
        self.owner: dict[str, str] = {k.key: k.person_id for k in known}
        self.user_of: dict[str, str | None] = {k.person_id: k.person_user_id for k in known}
        self.existing: set[str] = set(self.user_of)
        self.parent: dict[str, str] = {}
        self.new_id = new_id
        self.linked: dict[str, str] = {}
        self.merges: list[PersonMerge] = []

    def find(self, pid: str) -> str:
        root = pid
        while root in self.parent:
            root = self.parent[root]
        while pid != root:
            nxt = self.parent[pid]
            self.parent[pid] = root
            pid = nxt
        return root

    def person(self, key: str) -> str | None:
        pid = self.owner.get(key)
        return self.find(pid) if pid is not None else None

    def create(self, user_id: str | None, key: str) -> str:
        """A new person, its id seeded by the identity key that created it (stable across replays)."""
        pid = self.new_id(f"person:{key}")
        self.user_of[pid] = user_id
        return pid

    def link(self, key: str, pid: str) -> None:
        self.owner[key] = pid
        self.linked[key] = pid

    def set_user(self, pid: str, user_id: str) -> None:
        if self.user_of.get(pid) is None:
            self.user_of[pid] = user_id

    def union(self, keep: str, drop: str, ev: IdentityInput, reason: str) -> str:
        keep, drop = self.find(keep), self.find(drop)
        if keep == drop:
            return keep
        if keep not in self.existing and drop in self.existing:
            keep, drop = drop, keep
        self.parent[drop] = keep
        if self.user_of.get(keep) is None and self.user_of.get(drop) is not None:
            self.user_of[keep] = self.user_of[drop]
        if drop in self.existing:
            self.merges.append(PersonMerge(drop, keep, ev.message_id, ev.timestamp_ms, reason))
        return keep

    def resolve(self, ev: IdentityInput) -> str:
        if ev.type == "alias":
            return self._alias(ev)
        ukey = identity_key("userId", ev.user_id) if ev.user_id else None
        akey = identity_key("anonymousId", ev.anonymous_id) if ev.anonymous_id else None
        pu = self.person(ukey) if ukey else None
        pa = self.person(akey) if akey else None
        if ukey is None:
            assert akey is not None
            if pa is None:
                pa = self.create(None, akey)
                self.link(akey, pa)
            return pa
        assert ev.user_id is not None
        if pu is not None:
            if akey is not None:
                if pa is None:
                    self.link(akey, pu)
                elif pa != pu and self.user_of.get(pa) is None:
                    pu = self.union(pu, pa, ev, f"{ev.type}: anonymousId joined userId")
            return pu
        if pa is not None and self.user_of.get(pa) is None:
            self.link(ukey, pa)
            self.set_user(pa, ev.user_id)
            return pa
        pid = self.create(ev.user_id, ukey)
        self.link(ukey, pid)
        if akey is not None and pa is None:
            self.link(akey, pid)
        return pid

    def _alias(self, ev: IdentityInput) -> str:
        assert ev.user_id is not None and ev.previous_id is not None
        ukey = identity_key("userId", ev.user_id)
        prev_keys = [identity_key("userId", ev.previous_id), identity_key("anonymousId", ev.previous_id)]
        target = self.person(ukey)
        source = next((p for p in (self.person(k) for k in prev_keys) if p is not None), None)
        if target is None and source is None:
            target = self.create(ev.user_id, ukey)
            self.link(ukey, target)
        elif target is None:
            assert source is not None
            target = source
            self.link(ukey, target)
            self.set_user(target, ev.user_id)
        elif source is not None and source != target:
            target = self.union(target, source, ev, "alias: previousId merged into userId")
        if source is None:
            for key in prev_keys:
                self.link(key, target)
        return target


def plan_identities(
    events: Sequence[IdentityInput], known: Sequence[KnownIdentity], new_id: Callable[[str], str]
) -> IdentityPlan:
    """Resolve every event (in the given order, usually by timestamp) to a surviving person id."""
    res = _Resolver(known, new_id)
    raw = [res.resolve(ev) for ev in events]
    plan = IdentityPlan(event_person=[res.find(p) for p in raw], merges=res.merges)
    roots = set(plan.event_person)
    for pid in roots:
        user_id = res.user_of.get(pid)
        if pid not in res.existing:
            plan.new_persons[pid] = user_id
        elif user_id is not None:
            plan.user_ids[pid] = user_id
    for key, pid in res.linked.items():
        kind, _, value = key.partition(":")
        plan.links.append((key, kind, value, res.find(pid)))
    return plan
