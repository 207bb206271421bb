"""Annotated dependencies: the services, the Segment write key from HTTP Basic auth, and the journey API's
principal from a Bearer API key."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.api.services import Services
from graph_models.principal import ApiKey, Principal, can, roles_for


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def basic_username(header: str | None) -> str | None:
    """The username of an HTTP Basic `Authorization` header (Segment's write key), else None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text in the header
        return None
    return decoded.partition(":")[0] or None


def check_write_key(key: str | None, services: Services) -> str:
    """401 unless `key` is one of the configured write keys."""
    allowed = services.settings.write_keys
    if key is None:
        raise HTTPException(401, detail={"success": False, "error": "missing write key: send it as the "
                                         "HTTP Basic username (or `writeKey` in the body)", "field": "writeKey"})
    if key not in allowed:
        raise HTTPException(401, detail={"success": False, "error": "invalid write key", "field": "writeKey"})
    return key


def bearer_token(header: str | None) -> str | None:
    """The token of a `Bearer` `Authorization` header, else None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def principal_for_key(key: str, api_keys: Sequence[ApiKey]) -> Principal | None:
    """The principal an API key belongs to (every key compared in constant time), else None."""
    found: Principal | None = None
    for entry in api_keys:
        if hmac.compare_digest(entry.key.encode(), key.encode()):
            found = Principal(name=entry.name, role=entry.role)
    return found


def _unauthorized(error: str) -> HTTPException:
    return HTTPException(401, detail={"success": False, "error": error, "field": "authorization"},
                         headers={"WWW-Authenticate": "Bearer"})


def get_principal(request: Request, services: ServicesDep) -> Principal:
    """401 unless the request carries `Authorization: Bearer <key>` with a key from JOURNEYS_API_KEYS."""
    key = bearer_token(request.headers.get("authorization"))
    if key is None:
        raise _unauthorized("missing API key: send `Authorization: Bearer <key>`")
    principal = principal_for_key(key, services.settings.api_keys)
    if principal is None:
        raise _unauthorized("invalid API key")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def allowed(action: str) -> Callable[[Principal], Principal]:
    """A dependency: the principal, or 403 when its role may not do `action`."""

    def check(principal: PrincipalDep) -> Principal:
        if not can(principal, action):
            raise HTTPException(403, detail={
                "success": False, "error": f"{principal.name!r} ({principal.role}) may not {action}; that needs "
                                           f"the role {' or '.join(roles_for(action))}", "field": "authorization"})
        return principal

    check.__name__ = f"allowed_{action}"
    return check
