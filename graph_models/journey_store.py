"""What the journey store answers: versions, journeys, audit entries (pure pydantic models; no I/O)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

VersionStatus = Literal["draft", "in_review", "approved", "published", "paused", "archived"]
VERSION_STATUSES: tuple[str, ...] = get_args(VersionStatus)
LIVE_STATUSES = ("published", "paused")

AuditAction = Literal["push", "submit", "approve", "publish", "pause", "archive", "migrate"]


class VersionInfo(BaseModel):
    """One version of a journey definition and where it is in its lifecycle."""

    journeyId: str
    version: int
    checksum: str
    status: VersionStatus
    name: str = ""
    author: str | None = None
    createdAtMs: int | None = None
    updatedAtMs: int | None = None
    submittedBy: str | None = None
    approvedBy: str | None = None
    publishedBy: str | None = None
    publishedAtMs: int | None = None
    created: bool = Field(default=False, description="push only: false when the definition was unchanged")


class JourneySummary(BaseModel):
    """One journey: its latest version, and the version live now (published or paused), if any."""

    journeyId: str
    name: str
    createdAtMs: int | None = None
    latestVersion: int
    latestStatus: VersionStatus | None = None
    liveVersion: int | None = None
    liveStatus: Literal["published", "paused"] | None = None


class AuditInfo(BaseModel):
    """One recorded change to a journey version."""

    auditId: str
    action: AuditAction
    principal: str
    role: str
    atMs: int
    journeyId: str
    version: int
    checksum: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class JourneyDetail(JourneySummary):
    """A journey with all its versions (oldest first) and its recent audit entries (newest first)."""

    versions: list[VersionInfo] = Field(default_factory=list)
    audit: list[AuditInfo] = Field(default_factory=list)
