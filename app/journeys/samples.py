"""Load the example journeys (welcome series, abandoned cart, trial conversion) as published versions.

Used by `journeys up` so a fresh stack has live journeys. It goes through the real lifecycle: a sample
author pushes and submits, a different sample approver approves and publishes. Idempotent.
"""

from __future__ import annotations

from app.journeys.loader import example_paths, load_definition
from app.journeys.store import JourneyStore
from graph_models.journey_store import VersionInfo
from graph_models.principal import Principal

SAMPLE_AUTHOR = Principal(name="sample-author", role="author")
SAMPLE_APPROVER = Principal(name="sample-approver", role="approver")


def load_samples(store: JourneyStore) -> list[VersionInfo]:
    """Push every example and walk it to `published` (an unchanged example is left as it is)."""
    out = []
    for path in example_paths():
        definition = load_definition(path)
        info = store.push(definition, SAMPLE_AUTHOR)
        if info.status == "draft":
            store.submit(definition.id, info.version, SAMPLE_AUTHOR)
            info = info.model_copy(update={"status": "in_review"})
        if info.status == "in_review":
            store.approve(definition.id, info.version, SAMPLE_APPROVER)
            info = info.model_copy(update={"status": "approved"})
        if info.status == "approved":
            store.publish(definition.id, info.version, SAMPLE_APPROVER)
            info = info.model_copy(update={"status": "published"})
        out.append(info)
    return out
