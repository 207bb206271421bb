"""Deterministic ids: `url_uuid5(name)` is `str(uuid.uuid5(uuid.NAMESPACE_URL, name))`, computed without
building a `uuid.UUID` (the engine makes tens of thousands per batch: record, delivery and decision ids)."""

from __future__ import annotations

import hashlib
import uuid

_NAMESPACE = uuid.NAMESPACE_URL.bytes


def url_uuid5(name: str) -> str:
    """The same text as `str(uuid.uuid5(uuid.NAMESPACE_URL, name))` (RFC 4122 version 5, variant 1)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
