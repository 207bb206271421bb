"""Load journey definitions from YAML or JSON text, with errors that name the offending field and step.

`parse_definition` validates the shape (pydantic); `checked` adds the structural checks of the linter.
`canonical_json`/`checksum` identify a definition's content regardless of key order or formatting.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.errors import PermanentError
from app.journeys.catalog import TemplateCatalog
from app.journeys.lint import ERROR, LintIssue, lint
from app.resources import package_path
from graph_models import journey as journey_models
from graph_models.journey import JourneyDefinition, journey_json_schema

EXAMPLES_DIR = package_path("app.journeys", "examples")
SCHEMA_PATH = package_path("app.journeys", "journey.schema.json")


class JourneyInvalid(PermanentError):
    """A journey definition that cannot be used; `issues` says why, each naming a field path or step id."""

    def __init__(
        self,
        issues: list[str] | str,
        *,
        source: str = "<text>",
        lint_issues: list[LintIssue] | None = None,
        reason: str = "invalid_journey",
    ) -> None:
        self.issues: list[str] = [issues] if isinstance(issues, str) else list(issues)
        self.source = source
        self.lint_issues: list[LintIssue] = list(lint_issues or [])
        super().__init__(self._summary(), reason=reason)

    def _summary(self) -> str:
        if len(self.issues) == 1:
            return f"invalid journey {self.source}: {self.issues[0]}"
        lines = [f"invalid journey {self.source}: {len(self.issues)} problems"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


# --- reading text ---------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core scalars: `10:30` stays a string (not the base-60 int 630), dates stay
    strings, and only true/false are booleans (`no`, `on`, `off` stay strings)."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in {f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "timestamp")}
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _read(text: str, source: str) -> Any:
    """JSON or YAML text → data. JSON is tried first when the text looks like it (PyYAML rejects tabs)."""
    json_error: json.JSONDecodeError | None = None
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            json_error = exc
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        if json_error is not None:
            issue = f"line {json_error.lineno}, column {json_error.colno}: {json_error.msg} (JSON)"
        else:
            issue = _yaml_issue(exc)
        raise JourneyInvalid([issue], source=source, reason="syntax_error") from exc


def _yaml_issue(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "YAML syntax error"
        if mark is not None:
            return f"line {mark.line + 1}, column {mark.column + 1}: {problem} (YAML)"
        return f"{problem} (YAML)"
    return f"YAML syntax error: {exc}"


# --- validation errors → readable issues ----------------------------------------------------------------

# Pydantic puts the name of the union member it tried into an error's location: model class names for
# the condition unions, `literal[...]`/type names for others, and the `type` tag inside `steps[i]`.
_MODEL_NAMES = frozenset(
    name for name, obj in vars(journey_models).items() if isinstance(obj, type) and issubclass(obj, BaseModel)
)
_TYPE_TAG = re.compile(r"^(?:literal\[.*\]|str|int|float|bool|none|list\[.*\]|dict\[.*\]|function-\w+\[.*\])$")
_SHAPE_ERRORS = frozenset({"missing", "extra_forbidden", "model_type", "model_attributes_type", "dict_type"})


def _is_tag(error: ErrorDetails, loc: tuple[Any, ...], i: int, start: int) -> bool:
    part = loc[i]
    if not isinstance(part, str):
        return False
    if i == len(loc) - 1 and error["type"] in {"missing", "extra_forbidden"}:
        return False  # the name of a missing or unknown field
    if i == 2 and start == 0 and loc[0] == "steps" and isinstance(loc[1], int):
        return True  # the step type picked by the `type` discriminator
    return part in _MODEL_NAMES or bool(_TYPE_TAG.match(part))


def _prune(errors: list[ErrorDetails], start: int = 0) -> list[ErrorDetails]:
    """Drop union member tags from locations and keep, at each union, only the member that fits best.

    A condition like `{trait: plan, op: equals}` fails as each of six condition models; the one to report
    is the one whose shape fits (TraitCondition: a bad `op`), not "property is missing" and so on.
    """
    slots: list[ErrorDetails | tuple[Any, ...]] = []  # errors and union prefixes, in the order pydantic gave
    unions: dict[tuple[Any, ...], dict[str, list[ErrorDetails]]] = defaultdict(lambda: defaultdict(list))
    for error in errors:
        loc = tuple(error["loc"])
        tag_at = next((i for i in range(start, len(loc)) if _is_tag(error, loc, i, start)), None)
        if tag_at is None:
            slots.append(error)
            continue
        prefix = loc[:tag_at]
        if prefix not in unions:
            slots.append(prefix)
        stripped: ErrorDetails = {**error, "loc": prefix + loc[tag_at + 1 :]}
        unions[prefix][str(loc[tag_at])].append(stripped)
    out: list[ErrorDetails] = []
    for slot in slots:
        if not isinstance(slot, tuple):
            out.append(slot)
            continue
        pruned = {tag: _prune(errs, start=len(slot)) for tag, errs in unions[slot].items()}
        if len(pruned) > 1 and all(_wrong_type(errs, slot) for errs in pruned.values()):
            out.append(_one_of(slot, list(pruned), next(iter(pruned.values()))[0]))
        else:
            out += min(pruned.values(), key=partial(_misfit, prefix=slot))
    return out


def _wrong_type(errors: list[ErrorDetails], prefix: tuple[Any, ...]) -> bool:
    return len(errors) == 1 and tuple(errors[0]["loc"]) == prefix and errors[0]["type"].endswith("_type")


def _misfit(errors: list[ErrorDetails], prefix: tuple[Any, ...]) -> tuple[int, int]:
    """How badly a union member fits: errors about the input's shape (missing or unknown fields, the wrong
    kind of value at the member's root) first, then the number of errors."""
    shape = sum(e["type"] in _SHAPE_ERRORS or tuple(e["loc"]) == prefix for e in errors)
    return (shape, len(errors))


def _one_of(prefix: tuple[Any, ...], tags: list[str], like: ErrorDetails) -> ErrorDetails:
    names = ", ".join(tags)
    return {**like, "loc": prefix, "type": "union_type", "msg": f"Input should be one of: {names}"}


def _path(loc: tuple[Any, ...], data: Any) -> str:
    """('steps', 2, 'timeout') → "steps[2] (id 'remind').timeout"."""
    out = ""
    node = data
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and -len(node) <= part < len(node) else None
            if i == 1 and loc[0] == "steps" and isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f" (id {node['id']!r})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def _message(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "union_tag_invalid":
        return f"unknown step type {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "a step needs a `type` (wait, wait_for_event, branch, action, split or end)"
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def validation_issues(exc: ValidationError, data: Any) -> list[str]:
    """Readable issues for a validation error of `data`, one per problem, each starting with its field path."""
    issues = [f"{_path(tuple(e['loc']), data)}: {_message(e)}" for e in _prune(exc.errors())]
    return list(dict.fromkeys(issues))


# --- public API ------------------------------------------------------------------------------------------


def parse_definition(text: str, source: str = "<text>") -> JourneyDefinition:
    """Parse and validate a journey from YAML or JSON text; JourneyInvalid says what is wrong and where."""
    try:
        data = _read(text, source)
    except RecursionError as exc:  # pathological nesting: a clear error, not a crash
        raise JourneyInvalid(["(top level): nested too deeply to be a journey"], source=source,
                             reason="syntax_error") from exc
    if not isinstance(data, dict):
        kind = "nothing" if data is None else type(data).__name__
        raise JourneyInvalid([f"(top level): expected a mapping of journey fields, got {kind}"], source=source)
    try:
        return JourneyDefinition.model_validate(data)
    except ValidationError as exc:
        raise JourneyInvalid(validation_issues(exc, data), source=source) from exc


def load_definition(path: Path) -> JourneyDefinition:
    path = Path(path)
    return parse_definition(path.read_text(encoding="utf-8"), source=str(path))


def checked(definition: JourneyDefinition, catalog: TemplateCatalog | None = None) -> JourneyDefinition:
    """The definition itself if the linter finds no errors (warnings are allowed); else JourneyInvalid."""
    issues = lint(definition, catalog)
    bad = [issue for issue in issues if issue.severity == ERROR]
    if bad:
        raise JourneyInvalid([str(i) for i in bad], source=definition.id, lint_issues=issues)
    return definition


def canonical_json(definition: JourneyDefinition) -> str:
    """The definition as compact JSON with sorted keys (aliases, defaults included): same content, same text."""
    data = definition.model_dump(mode="json", by_alias=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checksum(definition: JourneyDefinition) -> str:
    """sha256 (hex) of `canonical_json`."""
    return hashlib.sha256(canonical_json(definition).encode("utf-8")).hexdigest()


def example_paths() -> list[Path]:
    """The example journeys shipped in app/journeys/examples/."""
    return sorted(p for p in EXAMPLES_DIR.iterdir() if p.suffix in {".yaml", ".yml", ".json"})


def schema_text() -> str:
    """The journey JSON Schema as committed in app/journeys/journey.schema.json."""
    return json.dumps(journey_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate the committed schema file (after changing graph_models/journey.py)."""
    path.write_text(schema_text(), encoding="utf-8")
    return path
