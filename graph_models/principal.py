"""Who is acting on journey definitions, and what each role may do (pure; no I/O)."""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict

Role = Literal["author", "approver", "admin"]
ROLES: tuple[str, ...] = get_args(Role)

Action = Literal["lint", "read", "push", "submit", "approve", "publish", "pause", "archive"]
ACTIONS: tuple[str, ...] = get_args(Action)

# Authors write and submit definitions; approvers decide what goes live; admins do everything.
# Reading and linting are open to every authenticated principal.
_ALLOWED: dict[str, frozenset[str]] = {
    "author": frozenset({"lint", "read", "push", "submit"}),
    "approver": frozenset({"lint", "read", "approve", "publish", "pause", "archive"}),
    "admin": frozenset(ACTIONS),
}


class Principal(BaseModel):
    """A named actor with one role (from an API key, or named by the operator on the command line)."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: Role


class ApiKey(NamedTuple):
    """One `name:role:key` entry of JOURNEYS_API_KEYS."""

    name: str
    role: Role
    key: str


def can(principal: Principal, action: str) -> bool:
    """Whether `principal`'s role allows `action` (an unknown action is never allowed)."""
    return action in _ALLOWED.get(principal.role, frozenset())


def roles_for(action: str) -> list[str]:
    """The roles allowed to do `action` (for error messages)."""
    return [role for role in ROLES if action in _ALLOWED[role]]


def parse_api_keys(text: str, variable: str = "JOURNEYS_API_KEYS") -> list[ApiKey]:
    """Comma-separated `name:role:key` entries; raises ValueError naming `variable` and the bad entry.

    The key is everything after the second colon (so it may itself hold colons); names and keys must be
    unique, and the role one of author, approver, admin.
    """
    found: list[ApiKey] = []
    for index, raw in enumerate(text.split(",")):
        entry = raw.strip()
        if not entry:
            continue
        name, sep1, rest = entry.partition(":")
        role, sep2, key = rest.partition(":")
        name, role, key = name.strip(), role.strip(), key.strip()
        where = f"{variable} entry {index + 1}"
        if not (sep1 and sep2 and name and role and key):
            parts = len(entry.split(":"))  # the entry itself is not echoed: it may be a bare key
            raise ValueError(f"{where} must look like name:role:key with none of them empty "
                             f"(it has {parts} colon-separated part{'s' if parts != 1 else ''})")
        if role not in ROLES:
            raise ValueError(f"{where} ({name!r}) has role {role!r}; the role must be one of {', '.join(ROLES)}")
        if any(k.key == key for k in found):
            raise ValueError(f"{where} ({name!r}) repeats a key already given to another entry")
        if any(k.name == name for k in found):
            raise ValueError(f"{where} repeats the name {name!r}")
        found.append(ApiKey(name, role, key))  # type: ignore[arg-type]  # role checked against ROLES above
    return found

