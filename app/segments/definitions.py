"""Reading, checking and identifying segment definitions (YAML or JSON files, or API bodies).

`parse_segment` validates the shape (errors name the field: `condition.all.1.count.within`); `lint_segment`
finds what pydantic cannot (counts that hold for everyone, counts without a window, empty conditions);
`checked_segment` refuses a definition with lint errors (warnings allowed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.errors import PermanentError
from app.journeys.loader import JourneyInvalid, _read, validation_issues
from graph_models.journey import CountCondition, TraitCondition
from graph_models.segments import AccountCondition, SegmentDefinition, SegNot, walk

ERROR = "error"
WARNING = "warning"
MAX_DEPTH = 8
MAX_CONDITIONS = 64


@dataclass(frozen=True)
class SegmentIssue:
    """One finding of the linter."""

    code: str
    path: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


class SegmentInvalid(PermanentError):
    """A segment definition that cannot be used; `issues` says why, each starting with its field path."""

    def __init__(self, issues: list[str] | str, *, source: str = "<text>",
                 lint_issues: list[SegmentIssue] | None = None, reason: str = "invalid_segment") -> None:
        self.issues: list[str] = [issues] if isinstance(issues, str) else list(issues)
        self.source = source
        self.lint_issues = list(lint_issues or [])
        head = f"invalid segment {source}"
        message = f"{head}: {self.issues[0]}" if len(self.issues) == 1 else "\n".join(
            [f"{head}: {len(self.issues)} problems", *(f"  - {i}" for i in self.issues)])
        super().__init__(message, reason=reason)


def parse_segment(text: str, source: str = "<text>") -> SegmentDefinition:
    """Parse and validate a segment from YAML or JSON text."""
    try:
        data = _read(text, source)
    except JourneyInvalid as exc:
        raise SegmentInvalid(exc.issues, source=source, reason="syntax_error") from exc
    except RecursionError as exc:
        raise SegmentInvalid(["(top level): nested too deeply"], source=source, reason="syntax_error") from exc
    return validate_segment(data, source)


def validate_segment(data: Any, source: str = "<data>") -> SegmentDefinition:
    """The definition for already-parsed data (a mapping)."""
    if not isinstance(data, dict):
        what = "nothing" if data is None else type(data).__name__
        raise SegmentInvalid([f"(top level): expected a mapping of segment fields, got {what}"], source=source)
    try:
        return SegmentDefinition.model_validate(data)
    except ValidationError as exc:
        raise SegmentInvalid(validation_issues(exc, data), source=source) from exc


def load_segment(path: Path) -> SegmentDefinition:
    path = Path(path)
    return parse_segment(path.read_text(encoding="utf-8"), source=str(path))


def canonical_segment(definition: SegmentDefinition) -> str:
    """Compact JSON with sorted keys (aliases and defaults included): same content, same text. An unset
    `evaluate_every` is left out, so definitions stored before it existed keep their checksums."""
    data = definition.model_dump(mode="json", by_alias=True)
    if data.get("evaluate_every") is None:
        data.pop("evaluate_every", None)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def segment_checksum(definition: SegmentDefinition) -> str:
    return hashlib.sha256(canonical_segment(definition).encode("utf-8")).hexdigest()


def _depth(condition: Any) -> int:
    children = getattr(condition, "all", None) or getattr(condition, "any", None)
    if isinstance(condition, SegNot):
        children = [condition.not_]
    if not children or not isinstance(children, list):
        return 1
    return 1 + max(_depth(c) for c in children)


def lint_segment(definition: SegmentDefinition) -> list[SegmentIssue]:
    """Every problem found beyond the model's own validation, errors first."""
    issues: list[SegmentIssue] = []
    nodes = walk(definition.condition)
    if len(nodes) > MAX_CONDITIONS:
        issues.append(SegmentIssue("too_many_conditions", "condition",
                                   f"{len(nodes)} conditions; at most {MAX_CONDITIONS}"))
    if _depth(definition.condition) > MAX_DEPTH:
        issues.append(SegmentIssue("too_deep", "condition", f"nested deeper than {MAX_DEPTH} levels"))
    for i, c in enumerate(nodes):
        where = f"condition[{i}]"
        if isinstance(c, CountCondition):
            if c.value < 0 or (c.op == "gte" and c.value == 0) or (c.op == "lt" and c.value <= 0):
                issues.append(SegmentIssue("count_always_same", where,
                                           f"count of {c.count.event!r} {c.op} {c.value} is the same for everyone"))
            if c.count.within is None:
                issues.append(SegmentIssue("count_without_window", where,
                                           f"count of {c.count.event!r} has no `within`: every such event of a "
                                           "person is read at each evaluation", WARNING))
        elif isinstance(c, TraitCondition):
            if c.op in ("in", "not_in") and not isinstance(c.value, list):
                issues.append(SegmentIssue("in_needs_list", where, f"`{c.op}` needs a list value"))
        elif isinstance(c, AccountCondition):
            for t in c.account.traits:
                if t.op in ("in", "not_in") and not isinstance(t.value, list):
                    issues.append(SegmentIssue("in_needs_list", where, f"`{t.op}` needs a list value"))
        elif isinstance(c, SegNot) and isinstance(c.not_, SegNot):
            issues.append(SegmentIssue("double_not", where, "`not` of a `not`: write the inner condition", WARNING))
    issues.sort(key=lambda x: x.severity != ERROR)
    return issues


def checked_segment(definition: SegmentDefinition, source: str | None = None) -> list[SegmentIssue]:
    """The linter's warnings; SegmentInvalid if it found errors."""
    issues = lint_segment(definition)
    bad = [i for i in issues if i.severity == ERROR]
    if bad:
        raise SegmentInvalid([str(i) for i in bad], source=source or definition.id, lint_issues=issues)
    return issues


def file_form(definition: SegmentDefinition) -> dict[str, Any]:
    """The definition as a file would hold it: durations as their text ('7d'), not `{text, ms}`."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"text", "ms"}:
                return value["text"]
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    data: dict[str, Any] = plain(definition.model_dump(mode="json", by_alias=True))
    return data
