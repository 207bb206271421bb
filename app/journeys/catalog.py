"""The message template catalog: which templates exist, which channel each one is for, and their Liquid bodies.

Bodies are rendered by `app.decisions.render`; the linter checks their tokens against `known_traits`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from app.resources import package_path
from graph_models.journey import CHANNELS

DEFAULT_TEMPLATES = package_path("app.journeys", "templates.yaml")


# Which body parts each channel has: `text` everywhere, a `subject` (push: the title) and `html` (email only).
SUBJECT_CHANNELS = frozenset({"email", "push"})
HTML_CHANNELS = frozenset({"email"})
TEMPLATE_FIELDS = frozenset({"id", "channel", "description", "subject", "text", "html", "defaults"})


@dataclass(frozen=True)
class Template:
    """One message template: id, channel, description, and Liquid bodies with token defaults.

    `defaults` maps a token path (`person.first_name`) to the value used when the token is missing.
    """

    id: str
    channel: str
    description: str = ""
    subject: str | None = None
    text: str = ""
    html: str | None = None
    defaults: dict[str, str] = field(default_factory=dict, hash=False)

    def parts(self) -> dict[str, str]:
        """The body parts this template has (`subject`, `text`, `html`), by name."""
        found = {"subject": self.subject, "text": self.text, "html": self.html}
        return {name: source for name, source in found.items() if source is not None}


TemplateSpec = Template  # the name the renderer uses


class TemplateCatalog:
    """Templates by id (read-only), plus the person traits template tokens may read (`known_traits`)."""

    def __init__(self, templates: dict[str, Template], known_traits: Iterable[str] = ()) -> None:
        self._templates = dict(templates)
        self.known_traits: frozenset[str] = frozenset(known_traits)

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
        """Read a YAML list of `{id, channel, description, subject, text, html, defaults}`, or a mapping
        with a `templates:` list and an optional `known_traits:` list."""
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        known_traits: Any = []
        if isinstance(data, dict):
            known_traits = data.get("known_traits") or []
            data = data.get("templates")
        if not isinstance(known_traits, list) or not all(isinstance(t, str) for t in known_traits):
            raise ValueError(f"{path}: `known_traits` must be a list of trait names")
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of templates")
        templates: dict[str, Template] = {}
        for i, entry in enumerate(data):
            if not isinstance(entry, dict):
                raise ValueError(f"{path}: template #{i} is not a mapping")
            unknown = set(entry) - TEMPLATE_FIELDS
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
            templates[template_id] = Template(
                template_id, channel, str(entry.get("description") or ""), **_bodies(path, template_id, channel, entry)
            )
        return cls(templates, known_traits)


def _bodies(path: Path, template_id: str, channel: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The body fields of one template entry, checked against what its channel has."""
    where = f"{path}: template {template_id!r}"
    for name in ("subject", "text", "html"):
        if entry.get(name) is not None and not isinstance(entry[name], str):
            raise ValueError(f"{where}: `{name}` must be a string")
    if entry.get("subject") is not None and channel not in SUBJECT_CHANNELS:
        raise ValueError(f"{where}: channel {channel!r} has no `subject` (only {', '.join(sorted(SUBJECT_CHANNELS))})")
    if entry.get("html") is not None and channel not in HTML_CHANNELS:
        raise ValueError(f"{where}: channel {channel!r} has no `html` (only {', '.join(sorted(HTML_CHANNELS))})")
    defaults = entry.get("defaults") or {}
    if not isinstance(defaults, dict) or not all(isinstance(k, str) and "." in k for k in defaults):
        raise ValueError(f"{where}: `defaults` must map token paths (like person.first_name) to values")
    if any(isinstance(v, dict | list) for v in defaults.values()):
        raise ValueError(f"{where}: `defaults` values must be plain values, not lists or mappings")
    return {
        "subject": entry.get("subject"),
        "text": entry.get("text") or "",
        "html": entry.get("html"),
        "defaults": {k: "" if v is None else str(v) for k, v in defaults.items()},
    }


@cache
def default_catalog() -> TemplateCatalog:
    """The catalog shipped in app/journeys/templates.yaml (read once)."""
    return TemplateCatalog.from_yaml(DEFAULT_TEMPLATES)
