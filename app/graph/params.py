"""Large query parameters the Neo4j driver does not format for nothing.

The driver builds `repr()` of every RUN's parameters for a debug log line even when debug logging is off: for
a batch's `$rows` (thousands of maps) or the outbox's JSON text that costs milliseconds of Python per statement.
`Rows` and `Text` are a list and a str that pack exactly the same (the packer sees a list / a string) but
print as a short summary.
"""

from __future__ import annotations

from typing import Any


class Rows(list[Any]):
    """A parameter list (`UNWIND $rows`) whose repr is its size."""

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


class Text(str):
    """A large text parameter whose repr is its length."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} characters>"
