"""The message template catalog: which templates exist and which channel each one is for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from graph_models.journey import CHANNELS

DEFAULT_TEMPLATES = Path(__file__).with_name("templates.yaml")


@dataclass(frozen=True)
class Template:
    id: str
    channel: str
    description: str = ""


class TemplateCatalog:
    """Templates by id (read-only)."""

    def __init__(self, templates: dict[str, Template]) -> None:
        self._templates = dict(templates)

    def get(self, template_id: str) -> Template | None:
        return self._templates.get(template_id)

    def ids(self) -> list[str]:
        return sorted(self._templates)

    def __contains__(self, template_id: object) -> bool:
        return template_id in self._templates

    def __iter__(self) -> Iterator[Template]:
        return iter(self._templates[i] for i in self.ids())

    def __len__(self) -> int:
        return len(self._templates)

    def __repr__(self) -> str:
        return f"TemplateCatalog({len(self)} templates)"

    @classmethod
    def from_yaml(cls, path: Path) -> TemplateCatalog:
        """Read a YAML list of `{id, channel, description}` (or a mapping with a `templates:` list)."""
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data = data.get("templates")
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of templates")
        templates: dict[str, Template] = {}
        for i, entry in enumerate(data):
            if not isinstance(entry, dict):
                raise ValueError(f"{path}: template #{i} is not a mapping")
            unknown = set(entry) - {"id", "channel", "description"}
            if unknown:
                raise ValueError(f"{path}: template #{i} has unknown fields {sorted(unknown)}")
            template_id, channel = entry.get("id"), entry.get("channel")
            if not isinstance(template_id, str) or not template_id:
                raise ValueError(f"{path}: template #{i} needs a string `id`")
            if channel not in CHANNELS:
                expected = ", ".join(CHANNELS)
                raise ValueError(f"{path}: template {template_id!r} has channel {channel!r}, not one of {expected}")
            if template_id in templates:
                raise ValueError(f"{path}: duplicate template id {template_id!r}")
            templates[template_id] = Template(template_id, channel, str(entry.get("description") or ""))
        return cls(templates)


@cache
def default_catalog() -> TemplateCatalog:
    """The catalog shipped in app/journeys/templates.yaml (read once)."""
    return TemplateCatalog.from_yaml(DEFAULT_TEMPLATES)
