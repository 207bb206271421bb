"""Deterministic ids and JSON text, fast (the engine makes tens of thousands per batch): `url_uuid5(name)` is
`str(uuid.uuid5(uuid.NAMESPACE_URL, name))` without building a `uuid.UUID`; `sorted_json` is `json.dumps` with
sorted keys through one shared encoder."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

_NAMESPACE = uuid.NAMESPACE_URL.bytes


def url_uuid5(name: str) -> str:
    """The same text as `str(uuid.uuid5(uuid.NAMESPACE_URL, name))` (RFC 4122 version 5, variant 1)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_SORTED = json.JSONEncoder(sort_keys=True)
_SORTED_STR = json.JSONEncoder(sort_keys=True, default=str)


def sorted_json(value: Any, *, default_str: bool = False) -> str:
    """The same text as `json.dumps(value, sort_keys=True[, default=str])`, with one encoder for all calls
    (the engine writes thousands of these per batch: action content, entry properties, delivery payloads)."""
    if isinstance(value, dict) and not value:
        return "{}"
    return (_SORTED_STR if default_str else _SORTED).encode(value)
