"""Load the sample constraint and placement documents (app/decisions/examples/) as published versions.

Used by `journeys up` beside the sample journeys, through the real lifecycle: the sample author pushes and
submits, the sample approver approves and publishes. Idempotent: an unchanged sample is left as it is.
"""

from __future__ import annotations

from app.decisions.config_lint import example_path, load_config
from app.decisions.config_store import ConfigStore
from app.journeys.samples import SAMPLE_APPROVER, SAMPLE_AUTHOR
from graph_models.config_store import ConfigVersionInfo
from graph_models.constraints import CONFIG_KINDS


def load_config_samples(store: ConfigStore) -> list[ConfigVersionInfo]:
    """Push each sample document and walk it to `published` (constraints first, then placements)."""
    out = []
    for kind in CONFIG_KINDS:
        model = load_config(kind, example_path(kind))
        info = store.push(kind, model, SAMPLE_AUTHOR)
        if info.status == "draft":
            info = store.submit(kind, model.id, info.version, SAMPLE_AUTHOR)
        if info.status == "in_review":
            info = store.approve(kind, model.id, info.version, SAMPLE_APPROVER)
        if info.status == "approved":
            info = store.publish(kind, model.id, info.version, SAMPLE_APPROVER)
        out.append(info)
    return out
