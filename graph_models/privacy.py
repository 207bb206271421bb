"""What erasing a person did (pure data; no personal data in it but the reference the caller gave)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErasureReport(BaseModel):
    """The outcome of `journeys person delete` / `DELETE /v1/people/{ref}`."""

    ref: str = Field(description="the reference as given (not stored anywhere)")
    found: bool = Field(description="false: no such person in the graph (its identity is tombstoned anyway)")
    dryRun: bool = False
    auditId: str | None = Field(default=None, description="the AuditEntry left behind (none on a dry run)")
    subjectHash: str | None = Field(default=None, description="SHA-256 of the personId, as the audit keeps it")
    tombstones: int = Field(default=0, description="identity keys tombstoned (ingest drops their events)")
    removed: dict[str, int] = Field(default_factory=dict,
                                    description="nodes removed per kind: identities, events, sessions, "
                                                "enrollments, actionRequests, decisions, deliveries, merges, "
                                                "segmentChanges")
