"""Reading a request body the way Segment's API does: size limits, gzip, JSON object required."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import HTTPException, Request


def api_error(status: int, error: str, *, field: str = "body", errors: list[dict[str, str]] | None = None,
              reason: str | None = None, headers: dict[str, str] | None = None) -> HTTPException:
    """An HTTPException whose body is the documented `ErrorBody` (app/api/responses.py)."""
    detail: dict[str, Any] = {"success": False, "error": error, "field": field}
    if reason is not None:
        detail["reason"] = reason
    if errors is not None:
        detail["errors"] = errors
    return HTTPException(status, detail=detail, headers=headers)


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The JSON object in the body; 413 past `limit` bytes (after gunzip), 400 for non-JSON."""
    raw = await read_bytes(request, limit)
    try:
        data = orjson.loads(raw)  # nesting deeper than 1024 is a decode error, not a RecursionError
    except (orjson.JSONDecodeError, RecursionError) as exc:
        raise api_error(400, f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise api_error(400, "body must be a JSON object")
    return data


async def read_bytes(request: Request, limit: int) -> bytes:
    """The body (gunzipped if sent with `Content-Encoding: gzip`); 413 past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise api_error(413, f"body is {declared} bytes; the limit is {limit}")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise api_error(413, f"body is over the limit of {limit} bytes")
    if "gzip" in request.headers.get("content-encoding", "").lower():
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise api_error(400, f"body is not valid gzip: {exc}") from exc
        if len(raw) > limit or inflater.unconsumed_tail:
            raise api_error(413, f"uncompressed body is over the limit of {limit} bytes")
    return raw
