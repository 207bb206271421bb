"""Engine failures as the API shows them, and what a re-apply did (pure pydantic models; no I/O)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

FailureKind = Literal["engine", "resolver", "write", "skipped"]
FailureStatus = Literal["open", "resolved"]


class EngineFailureInfo(BaseModel):
    """A journey version failed on an event (`EngineFailure` node): the event landed, the version's work
    on it did not. `journeys journey reapply` applies it again once the version is fixed."""

    failureId: str = Field(description="'<journeyId>@<version>/<messageId>'")
    journeyId: str
    version: int
    messageId: str
    kind: FailureKind = Field(description="engine: the step logic raised; resolver; write: writing its changes "
                                          "failed; skipped: an earlier event of the same batch failed")
    error: str
    status: FailureStatus
    atMs: int = Field(description="server time of the latest failure")
    firstAtMs: int | None = None
    attempts: int = 1
    resolvedAtMs: int | None = None
    resolvedBy: str | None = None


class ReapplyResult(BaseModel):
    """What `reapply` did: failures applied (and resolved), failed again, and still open."""

    journeyId: str
    version: int
    reapplied: int
    failedAgain: int
    open: int
