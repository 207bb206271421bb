"""What the configuration store answers: versions of the `constraints` and `placements` documents, their
documents and audit entries (pure pydantic models; no I/O)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from graph_models.constraints import ConfigKind

ConfigStatus = Literal["draft", "in_review", "approved", "published", "archived"]
CONFIG_STATUSES: tuple[str, ...] = get_args(ConfigStatus)
ConfigAuditAction = Literal["push", "submit", "approve", "publish", "archive"]


class ConfigVersionInfo(BaseModel):
    """One version of a configuration document and where it is in its lifecycle."""

    key: str = Field(description="'<kind>/<id>@<version>', the ConfigVersion node's key")
    kind: ConfigKind
    id: str
    version: int
    checksum: str
    status: ConfigStatus
    author: str | None = None
    createdAtMs: int | None = None
    updatedAtMs: int | None = None
    submittedBy: str | None = None
    approvedBy: str | None = None
    publishedBy: str | None = None
    publishedAtMs: int | None = None
    archivedBy: str | None = None
    created: bool = Field(default=False, description="push only: false when the document was unchanged")


class ConfigSummary(BaseModel):
    """One document: its latest version and its published version, if any."""

    key: str = Field(description="'<kind>/<id>'")
    kind: ConfigKind
    id: str
    createdAtMs: int | None = None
    latestVersion: int
    latestStatus: ConfigStatus | None = None
    publishedVersion: int | None = None
    publishedKey: str | None = None
    publishedChecksum: str | None = None


class ConfigAuditInfo(BaseModel):
    """One recorded change to a configuration version."""

    auditId: str
    action: ConfigAuditAction
    principal: str
    role: str
    atMs: int
    kind: ConfigKind
    id: str
    version: int
    checksum: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class ConfigDetail(ConfigSummary):
    """A document with all its versions (oldest first), its recent audit entries (newest first) and, when
    asked for, one version's definition."""

    versions: list[ConfigVersionInfo] = Field(default_factory=list)
    audit: list[ConfigAuditInfo] = Field(default_factory=list)
