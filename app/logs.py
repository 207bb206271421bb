"""Structured logs: `JOURNEYS_LOG_FORMAT=json` gives one JSON object per line with the ids known where the
line was written - from `extra={...}` or from `log_context(...)` (contextvars, so threads and tasks keep
their own): `messageId`, `decisionId`, `deliveryId`, `enrollmentId`, `actionId`, `journeyId`, `personId`."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

ID_FIELDS = ("messageId", "decisionId", "deliveryId", "enrollmentId", "actionId", "journeyId", "personId")
_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("journeys_log_context", default=None)


@contextlib.contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Ids every log line inside the block carries (nested blocks add to the outer ones)."""
    token = _CONTEXT.set({**(_CONTEXT.get() or {}), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the ids, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        out.update(_CONTEXT.get() or {})
        for name in ID_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure(level: int = logging.INFO, fmt: str | None = None) -> None:
    """Root logging: JSON when `fmt` (default JOURNEYS_LOG_FORMAT) is 'json', else the plain text format."""
    chosen = (fmt or os.environ.get("JOURNEYS_LOG_FORMAT") or "text").lower()
    handler = logging.StreamHandler()
    if chosen == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
