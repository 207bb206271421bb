"""Errors that say whether retrying can help (Temporal style)."""

from __future__ import annotations


class JourneysError(Exception):
    """Base error. `retryable` tells callers whether to back off and retry or to give up."""

    retryable: bool = False

    def __init__(self, message: str, *, reason: str = "error") -> None:
        super().__init__(message)
        self.reason = reason


class RetryableError(JourneysError):
    """A dependency is down or busy: back off, pause, retry; never dead-letter."""

    retryable = True


class PermanentError(JourneysError):
    """The input itself is bad: retrying gives the same answer, so dead-letter it."""

    retryable = False


class InvalidEvent(PermanentError):
    """An event failed validation; `field` names the offending field."""

    def __init__(self, message: str, *, field: str = "", reason: str = "validation_error") -> None:
        super().__init__(message, reason=reason)
        self.field = field
