"""Person references as the APIs and the CLI take them, resolved to a `personId` through the graph.

A reference is `userId:<x>`, `anonymousId:<x>`, `personId:<x>`, or a bare userId (anything else, colons
included: `auth0|42` and `sso:ada` without a known prefix are userIds).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from neo4j import ManagedTransaction

from app.graph.queries import query

RefKind = Literal["userId", "anonymousId", "personId"]
REF_KINDS: tuple[RefKind, ...] = ("userId", "anonymousId", "personId")


def parse_ref(ref: str) -> tuple[RefKind, str]:
    """(kind, value) of a person reference; ValueError when the value is empty."""
    kind, sep, value = ref.partition(":")
    if sep and kind in REF_KINDS:
        found: RefKind = kind  # narrowed by the `in REF_KINDS` test
    else:
        found, value = "userId", ref
    value = value.strip()
    if not value:
        raise ValueError(f"person reference {ref!r} has no id; use userId:<x>, anonymousId:<x>, personId:<x> "
                         "or a bare userId")
    return found, value


def find_person(tx: ManagedTransaction, ref: str) -> str | None:
    """The `personId` a reference points to (following identities, so merges are transparent), else None.

    An empty or malformed reference is None as well (nothing can match it).
    """
    try:
        kind, value = parse_ref(ref)
    except ValueError:
        return None
    if kind == "personId":
        record = tx.run(query("decisions/person_by_id"), personId=value).single()
    else:
        record = tx.run(query("decisions/person_by_identity"), key=f"{kind}:{value}").single()
    return None if record is None else str(record["personId"])


def find_persons(tx: ManagedTransaction, refs: Iterable[str]) -> dict[str, str]:
    """`{ref: personId}` for the references that point to a person (one query; unknown refs are left out)."""
    canonical: dict[str, list[str]] = {}
    for ref in refs:
        try:
            kind, value = parse_ref(ref)
        except ValueError:
            continue
        canonical.setdefault(f"{kind}:{value}", []).append(ref)
    keys = sorted(k for k in canonical if not k.startswith("personId:"))
    ids = sorted(k.partition(":")[2] for k in canonical if k.startswith("personId:"))
    found: dict[str, str] = {}
    for record in tx.run(query("decisions/person_by_refs"), keys=keys, personIds=ids):
        for ref in canonical.get(record["ref"], []):
            found[ref] = str(record["personId"])
    return found
