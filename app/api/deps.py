"""Annotated dependencies: the services, and the Segment write key from HTTP Basic auth."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.api.services import Services


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
