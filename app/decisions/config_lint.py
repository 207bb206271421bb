"""Reading and checking the configuration documents (kinds `constraints` and `placements`).

`parse_config` validates the shape (pydantic, errors naming the field like `caps[1].window`); `lint_config`
finds what pydantic cannot (unknown templates, offers on the wrong channel, journeys nobody knows, caps that
block everything); `checked_config` refuses a document with lint errors (warnings allowed).
`canonical_config`/`config_checksum` identify a document's content regardless of key order or formatting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.errors import PermanentError
from app.journeys.catalog import TemplateCatalog
from app.journeys.loader import JourneyInvalid, _read, validation_issues
from app.resources import package_path
from graph_models.constraints import CONFIG_KINDS, CONFIG_MODELS, ConfigKind, ConfigModel, ConstraintSet, PlacementSet

ERROR = "error"
WARNING = "warning"
EXAMPLES_DIR = package_path("app.decisions", "examples")
# Channels that do not reach a person's device at a time of day: quiet hours and opt-in make no sense there.
NON_PERSONAL_CHANNELS = ("webhook", "crm")
DAY_MS = 86_400_000
# A global control group above this share of people is probably a typo.
MAX_GLOBAL_CONTROL_PERCENT = 50.0
RUNTIME_ID = "default"


@dataclass(frozen=True)
class ConfigIssue:
    """One finding of the linter: `path` names the field (`caps[1].window`, `placements[0].offers[2]`)."""

    code: str
    path: str
    message: str
    severity: str = ERROR  # "error" or "warning"

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


class ConfigInvalid(PermanentError):
    """A configuration document that cannot be used; `issues` says why, each starting with its field path."""

    def __init__(self, issues: list[str] | str, *, kind: str, source: str = "<text>",
                 lint_issues: list[ConfigIssue] | None = None, reason: str = "invalid_config") -> None:
        self.issues: list[str] = [issues] if isinstance(issues, str) else list(issues)
        self.kind = kind
        self.source = source
        self.lint_issues: list[ConfigIssue] = list(lint_issues or [])
        head = f"invalid {kind} document {source}"
        if len(self.issues) == 1:
            message = f"{head}: {self.issues[0]}"
        else:
            message = "\n".join([f"{head}: {len(self.issues)} problems", *(f"  - {i}" for i in self.issues)])
        super().__init__(message, reason=reason)


def config_kind(kind: str) -> ConfigKind:
    """`kind` if it is one of the document kinds, else ConfigInvalid."""
    for known in CONFIG_KINDS:
        if kind == known:
            return known
    raise ConfigInvalid([f"kind: unknown kind {kind!r}; kinds are {', '.join(CONFIG_KINDS)}"], kind=kind,
                        reason="unknown_kind")


def parse_config(kind: str, text: str, source: str = "<text>") -> ConfigModel:
    """Parse and validate a document of `kind` from YAML or JSON text; ConfigInvalid names each bad field."""
    kind = config_kind(kind)
    try:
        data = _read(text, source)
    except JourneyInvalid as exc:  # a YAML/JSON syntax error, with line and column
        raise ConfigInvalid(exc.issues, kind=kind, source=source, reason="syntax_error") from exc
    except RecursionError as exc:
        raise ConfigInvalid(["(top level): nested too deeply"], kind=kind, source=source,
                            reason="syntax_error") from exc
    return validate_config(kind, data, source)


def validate_config(kind: str, data: Any, source: str = "<data>") -> ConfigModel:
    """The model of `kind` for already-parsed data (a mapping); ConfigInvalid names each bad field."""
    kind = config_kind(kind)
    if not isinstance(data, dict):
        what = "nothing" if data is None else type(data).__name__
        raise ConfigInvalid([f"(top level): expected a mapping of {kind} fields, got {what}"], kind=kind,
                            source=source)
    try:
        return CONFIG_MODELS[kind].model_validate(data)
    except ValidationError as exc:
        raise ConfigInvalid(validation_issues(exc, data), kind=kind, source=source) from exc


def load_config(kind: str, path: Path) -> ConfigModel:
    path = Path(path)
    return parse_config(kind, path.read_text(encoding="utf-8"), source=str(path))


def kind_of(model: ConfigModel) -> ConfigKind:
    return "constraints" if isinstance(model, ConstraintSet) else "placements"


def canonical_config(model: ConfigModel) -> str:
    """The document as compact JSON with sorted keys (defaults included): same content, same text."""
    data = model.model_dump(mode="json", by_alias=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def config_checksum(model: ConfigModel) -> str:
    """sha256 (hex) of `canonical_config`."""
    return hashlib.sha256(canonical_config(model).encode("utf-8")).hexdigest()


def file_form(model: ConfigModel) -> dict[str, Any]:
    """The document as a file would hold it: durations as their text ('1d'), not `{text, ms}`."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"text", "ms"}:
                return value["text"]
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    data: dict[str, Any] = plain(model.model_dump(mode="json", by_alias=True))
    return data


def example_path(kind: str) -> Path:
    """The sample document of `kind` shipped in app/decisions/examples/."""
    return EXAMPLES_DIR / f"{config_kind(kind)}.yaml"


# --- the linter ------------------------------------------------------------------------------------------


def lint_config(kind: str, model: ConfigModel, catalog: TemplateCatalog | None = None,
                journey_ids: Collection[str] | None = None) -> list[ConfigIssue]:
    """Every problem found beyond the model's own validation, errors first, then in document order.

    `catalog` None skips the template checks; `journey_ids` None skips the checks of journey names."""
    kind = config_kind(kind)
    if kind_of(model) != kind:
        return [ConfigIssue("wrong_kind", "(top level)", f"a {kind_of(model)} document is not a {kind} document")]
    issues: list[ConfigIssue] = []
    if model.id != RUNTIME_ID:
        issues.append(ConfigIssue("not_runtime_id", "id", f"the resolver reads only the {kind} document with "
                                  f"id {RUNTIME_ID!r}; {model.id!r} is stored but never applied", WARNING))
    if isinstance(model, ConstraintSet):
        issues += _constraints(model, journey_ids)
    else:
        issues += _placements(model, catalog)
    return sorted(issues, key=lambda i: i.severity != ERROR)  # stable: document order within each severity


def checked_config(kind: str, model: ConfigModel, catalog: TemplateCatalog | None = None,
                   journey_ids: Collection[str] | None = None, source: str = "<document>") -> list[ConfigIssue]:
    """The linter's warnings if it finds no errors; else ConfigInvalid listing the errors."""
    issues = lint_config(kind, model, catalog, journey_ids)
    bad = [i for i in issues if i.severity == ERROR]
    if bad:
        raise ConfigInvalid([str(i) for i in bad], kind=kind, source=source, lint_issues=issues)
    return issues


def _constraints(model: ConstraintSet, journeys: Collection[str] | None) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []

    def unknown_journey(path: str, journey_id: str) -> None:
        if journeys is not None and journey_id not in journeys:
            out.append(ConfigIssue("unknown_journey", path, f"no journey {journey_id!r} is known", WARNING))

    for i, channel in enumerate(model.channels):
        if channel.id in NON_PERSONAL_CHANNELS and channel.quiet_hours is not None:
            out.append(ConfigIssue("quiet_hours_not_personal", f"channels[{i}].quiet_hours",
                                   f"{channel.id} does not reach a person; quiet hours only delay it", WARNING))
        if channel.id in NON_PERSONAL_CHANNELS and channel.requires_opt_in:
            out.append(ConfigIssue("opt_in_not_personal", f"channels[{i}].requires_opt_in",
                                   f"{channel.id} does not reach a person; nobody can opt in to it", WARNING))
    for i, cap in enumerate(model.caps):
        if cap.calendar and cap.window.ms % DAY_MS:
            out.append(ConfigIssue("calendar_window", f"caps[{i}].window", f"a calendar cap counts whole days in "
                                   f"the person's zone; {cap.window.text!r} is not a whole number of days"))
        if cap.max == 0:
            out.append(ConfigIssue("cap_zero", f"caps[{i}].max", f"cap {cap.id!r} allows no message at all",
                                   WARNING))
        if cap.scope.journey is not None:
            unknown_journey(f"caps[{i}].scope.journey", cap.scope.journey)
        scoped = [f for f in ("channel", "journey", "tag") if getattr(cap.scope, f) is not None]
        if len(scoped) > 1:
            out.append(ConfigIssue("cap_scope", f"caps[{i}].scope", f"cap {cap.id!r} counts only messages that "
                                   f"match {' and '.join(scoped)} together", WARNING))
    for i, group in enumerate(model.exclusion_groups):
        seen: set[str] = set()
        for j, journey_id in enumerate(group.journeys):
            if journey_id in seen:
                out.append(ConfigIssue("duplicate_journey", f"exclusion_groups[{i}].journeys[{j}]",
                                       f"{journey_id!r} is already in group {group.id!r}", WARNING))
            seen.add(journey_id)
            unknown_journey(f"exclusion_groups[{i}].journeys[{j}]", journey_id)
    for journey_id in model.priorities:
        unknown_journey(f"priorities.{journey_id}", journey_id)
    for i, listed in enumerate(model.suppression_lists):
        dupes = sorted({c for c in listed.channels if listed.channels.count(c) > 1})
        if dupes:
            out.append(ConfigIssue("duplicate_channel", f"suppression_lists[{i}].channels",
                                   f"{dupes[0]!r} is listed twice", WARNING))
    for name, rule in model.consent.traits.items():
        if rule.on_true is None and rule.on_false is None:
            out.append(ConfigIssue("consent_rule_empty", f"consent.traits.{name}",
                                   f"trait {name!r} sets no consent (neither on_true nor on_false)", WARNING))
    if model.consent.subscribe_event == model.consent.unsubscribe_event:
        out.append(ConfigIssue("consent_events", "consent.unsubscribe_event",
                               "the subscribe and unsubscribe events must differ"))
    if model.global_control is not None and model.global_control.percent > MAX_GLOBAL_CONTROL_PERCENT:
        out.append(ConfigIssue("global_control_large", "global_control.percent",
                               f"{model.global_control.percent:g}% of people would get no marketing", WARNING))
    return out


def _placements(model: PlacementSet, catalog: TemplateCatalog | None) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    for i, placement in enumerate(model.placements):
        if not placement.offers:
            out.append(ConfigIssue("no_offers", f"placements[{i}].offers",
                                   f"placement {placement.id!r} has no offers: it always answers nothing", WARNING))
        for j, offer in enumerate(placement.offers):
            where = f"placements[{i}].offers[{j}]"
            template = catalog.get(offer.template) if catalog is not None else None
            if catalog is not None and template is None:
                out.append(ConfigIssue("unknown_template", f"{where}.template",
                                       f"no template {offer.template!r} in the catalog"))
            elif template is not None and template.channel != placement.channel:
                out.append(ConfigIssue("template_channel", f"{where}.template",
                                       f"template {offer.template!r} is for {template.channel}, but placement "
                                       f"{placement.id!r} is on {placement.channel}"))
            cap_ids: set[str] = set()
            for k, cap in enumerate(offer.caps):
                if cap.id in cap_ids:
                    out.append(ConfigIssue("duplicate_cap", f"{where}.caps[{k}].id",
                                           f"offer {offer.id!r} already has a cap {cap.id!r}"))
                cap_ids.add(cap.id)
                if cap.max == 0:
                    out.append(ConfigIssue("cap_zero", f"{where}.caps[{k}].max",
                                           f"cap {cap.id!r} never lets offer {offer.id!r} show", WARNING))
    return out
