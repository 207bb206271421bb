"""Personalization: render a template's Liquid bodies (subject, text, html) for one chosen message.

Rendering is sandboxed (python-liquid): no `include`/`render` tags (nothing is read from files), values are
read by key only (never as Python attributes), and loops, local variables and output are bounded. It never
raises: a missing token takes the template's default (else an empty string) and is listed in `defaulted`; a
syntax or runtime error is listed in `errors` and that part falls back to a best-effort (lax) rendering.
Values are HTML-escaped in the `html` part only.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from liquid import BoundTemplate, Environment, Mode
from liquid.exceptions import LiquidError
from markupsafe import escape

from app.journeys.catalog import TemplateSpec

__all__ = [
    "FIELDS",
    "ROOTS",
    "RenderContext",
    "Rendered",
    "TemplateCheck",
    "TemplateSpec",
    "check",
    "render",
    "token_path",
]

# The token roots a template may read, and the fields of the fixed ones (person and event are open).
ROOTS = ("person", "event", "journey", "offer", "ids")
FIELDS: dict[str, frozenset[str]] = {
    "journey": frozenset({"id", "version", "step", "variant"}),
    "offer": frozenset({"id", "placement"}),
    "ids": frozenset({"decision_id", "action_id", "person_id"}),
}
PARTS = ("subject", "text", "html")

MAX_OUTPUT_BYTES = 64 * 1024  # per part
MAX_LOOP_ITERATIONS = 1_000
MAX_LOCALS_BYTES = 64 * 1024
MAX_CACHED = 4_096  # parsed templates kept (by template id and body checksum)

# Liquid's special properties of sequences and strings: `{{ event.products.size }}` is not a missing key.
_SPECIAL = frozenset({"size", "first", "last"})


class _Sandbox(Environment):
    """Liquid without file access (no include/render tags, an empty loader) and with resource limits."""

    loop_iteration_limit = MAX_LOOP_ITERATIONS
    local_namespace_limit = MAX_LOCALS_BYTES
    output_stream_limit = MAX_OUTPUT_BYTES

    def setup_tags_and_filters(self, *, extra: bool = False) -> None:
        super().setup_tags_and_filters(extra=False)
        for tag in ("include", "render"):
            self.tags.pop(tag, None)


_ENVS: dict[tuple[bool, bool], _Sandbox] = {
    (autoescape, lax): _Sandbox(autoescape=autoescape, tolerance=Mode.LAX if lax else Mode.STRICT)
    for autoescape in (False, True)
    for lax in (False, True)
}


@dataclass(frozen=True)
class RenderContext:
    """What tokens read: `person` (live traits), `event` (the entry event's properties), `journey` (id,
    version, step, variant), `offer` (onsite: id, placement) and `ids` (decision_id, action_id)."""

    person: Mapping[str, Any] = field(default_factory=dict)
    event: Mapping[str, Any] = field(default_factory=dict)
    journey: Mapping[str, Any] = field(default_factory=dict)
    offer: Mapping[str, Any] = field(default_factory=dict)
    ids: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """A rendered message. `subject`/`html` are None when the template has no such part. `errors`: syntax
    or runtime errors (one line each); `defaulted`: token paths that were missing (each took the template's
    default, or an empty string without one)."""

    subject: str | None
    text: str
    html: str | None
    errors: list[str] = field(default_factory=list)
    defaulted: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """`{"subject", "text", "html", "errors", "defaulted"}` as a JSON string."""
        return orjson.dumps(
            {
                "subject": self.subject,
                "text": self.text,
                "html": self.html,
                "errors": self.errors,
                "defaulted": self.defaulted,
            }
        ).decode()


@dataclass(frozen=True)
class TemplateCheck:
    """Static analysis of a template: the token paths it reads (`person.first_name`, sorted; loop and
    `assign` variables excluded), as tuples of segments in `paths`, and its syntax errors."""

    tokens: tuple[str, ...]
    paths: tuple[tuple[str | int, ...], ...]
    errors: tuple[str, ...]


# A part made only of literal text and `{{ root.key... }}` outputs (optionally `| url_encode`), e.g. most
# catalog templates, is rendered without Liquid (same text, see `_fast_render`): (literals, outputs).
_FastPart = tuple[tuple[str, ...], tuple[tuple[tuple[str, ...], bool], ...]]
_OUTPUT = re.compile(r"\{\{ *([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) *(\| *url_encode *)?\}\}")


@dataclass(frozen=True)
class _Compiled:
    parts: dict[str, BoundTemplate | None]  # None: the part did not parse
    check: TemplateCheck
    fast: dict[str, _FastPart | None] = field(default_factory=dict)  # None: Liquid renders it


_cache: dict[tuple[str, str], _Compiled] = {}


def render(template: TemplateSpec, context: RenderContext) -> Rendered:
    """Render every part of `template` with `context`. Never raises."""
    try:
        compiled = _compile(template)
        errors = list(compiled.check.errors)
        data, defaulted = _data(context, compiled.check.paths, template.defaults)
        out: dict[str, str | None] = {}
        for part, source in zip(PARTS, (template.subject, template.text, template.html), strict=True):
            if source is None:
                out[part] = None
            else:
                out[part] = _render_part(template.id, part, source, compiled.parts.get(part), data, errors,
                                         compiled.fast.get(part))
        return Rendered(out["subject"], out["text"] or "", out["html"], errors, defaulted)
    except Exception as exc:  # the renderer itself must never fail a message
        return Rendered(None, "", None, [f"{template.id}: render failed: {type(exc).__name__}: {exc}"], [])


def check(template: TemplateSpec) -> TemplateCheck:
    """The tokens `template` reads and its syntax errors (parsed once, cached)."""
    return _compile(template).check


def clear_cache() -> None:
    """Forget parsed templates (tests)."""
    _cache.clear()


# --- parsing ------------------------------------------------------------------------------------------------


def _checksum(template: TemplateSpec) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for source in (template.subject, template.text, template.html):
        digest.update(b"\x00" if source is None else b"\x01" + source.encode("utf-8") + b"\x00")
    return digest.hexdigest()


def _compile(template: TemplateSpec) -> _Compiled:
    key = (template.id, _checksum(template))
    compiled = _cache.get(key)
    if compiled is not None:
        return compiled
    parts: dict[str, BoundTemplate | None] = {}
    errors: list[str] = []
    seen: dict[tuple[str | int, ...], None] = {}
    for part, source in template.parts().items():
        try:
            bound = _ENVS[(part == "html", False)].from_string(source, name=f"{template.id}.{part}")
        except Exception as exc:
            errors.append(_describe(template.id, part, exc))
            parts[part] = None
            continue
        parts[part] = bound
        for segments in bound.global_variable_segments(include_partials=False):
            seen.setdefault(_simple(segments), None)
    paths = tuple(p for p in seen if p)
    tokens = tuple(sorted({token_path(p) for p in paths}))
    fast = {part: _fast_part(source) if parts.get(part) is not None else None
            for part, source in template.parts().items()}
    compiled = _Compiled(parts, TemplateCheck(tokens, paths, tuple(errors)), fast)
    if len(_cache) >= MAX_CACHED:
        _cache.clear()
    _cache[key] = compiled
    return compiled


def _simple(segments: Sequence[object]) -> tuple[str | int, ...]:
    """The leading plain segments of a variable path (up to the first computed index)."""
    out: list[str | int] = []
    for segment in segments:
        if not isinstance(segment, str | int) or isinstance(segment, bool):
            break
        out.append(segment)
    return tuple(out)


def token_path(path: Sequence[str | int]) -> str:
    """A token as written in `defaults`: `person.first_name`, `event.items[0]`, `person['last name']`."""
    text = ""
    for segment in path:
        if isinstance(segment, int):
            text += f"[{segment}]"
        elif segment.isidentifier():
            text += f".{segment}" if text else segment
        else:
            text += f"[{segment!r}]"
    return text


def _describe(template_id: str, part: str, exc: Exception) -> str:
    if isinstance(exc, LiquidError):
        where = exc.context()
        position = f" (line {where[0]}, column {where[1] + 1})" if where else ""
        return f"{template_id}.{part}: {type(exc).__name__}: {exc.message}{position}"
    return f"{template_id}.{part}: {type(exc).__name__}: {exc}"


# --- rendering ----------------------------------------------------------------------------------------------


def _render_part(
    template_id: str,
    part: str,
    source: str,
    bound: BoundTemplate | None,
    data: Mapping[str, Any],
    errors: list[str],
    fast: _FastPart | None = None,
) -> str:
    if fast is not None:
        done = _fast_render(fast, data, part == "html")
        if done is not None:
            return done
    if bound is not None:
        try:
            return bound.render(**data)
        except Exception as exc:
            errors.append(_describe(template_id, part, exc))
    try:  # best effort: the lax environment skips what fails
        return _ENVS[(part == "html", True)].from_string(source).render(**data)
    except Exception:
        return ""


def _fast_part(source: str) -> _FastPart | None:
    """`source` as literals and simple outputs, or None when it has anything else Liquid must handle (tags,
    whitespace control, other filters, special properties such as `size`)."""
    literals: list[str] = []
    outputs: list[tuple[tuple[str, ...], bool]] = []
    at = 0
    for m in _OUTPUT.finditer(source):
        literals.append(source[at:m.start()])
        path = tuple(m.group(1).split("."))
        if len(path) < 2 or any(p in _SPECIAL for p in path):
            return None
        outputs.append((path, m.group(2) is not None))
        at = m.end()
    literals.append(source[at:])
    if any("{{" in lit or "{%" in lit for lit in literals):
        return None
    return tuple(literals), tuple(outputs)


def _fast_render(fast: _FastPart, data: Mapping[str, Any], autoescape: bool) -> str | None:
    """The text Liquid would render for a `_fast_part`, or None (Liquid renders it) when a value is not a plain
    string or integer (or missing, or null), or the output could reach Liquid's output limit."""
    literals, outputs = fast
    pieces = [literals[0]]
    for (path, url), literal in zip(outputs, literals[1:], strict=True):
        value: Any = data
        for segment in path:
            if value is None or value is _MISSING:
                break  # Liquid prints nothing for an undefined or null value, filtered or not
            if type(value) is not dict and not isinstance(value, Mapping):
                return None
            value = value.get(segment, _MISSING)
        if value is None or value is _MISSING:
            text = ""
        elif url:
            if type(value) is not str:
                return None
            text = urllib.parse.quote_plus(value)
        elif type(value) is str:
            text = str(escape(value)) if autoescape else value
        elif type(value) is int:
            text = str(value)
        else:
            return None
        pieces.append(text)
        pieces.append(literal)
    out = "".join(pieces)
    return out if len(out) * 4 < MAX_OUTPUT_BYTES else None


_MISSING = object()


def _lookup(value: Any, segment: str | int) -> Any:
    if type(value) is dict or isinstance(value, Mapping):
        found = value.get(segment, _MISSING)
        if found is _MISSING and isinstance(segment, str) and segment in _SPECIAL:
            return value  # `size` of a mapping
        return found
    if isinstance(value, str | Sequence):
        if isinstance(segment, int):
            return value[segment] if -len(value) <= segment < len(value) else _MISSING
        if segment in _SPECIAL:
            return value
    return _MISSING


def _present(data: Mapping[str, Any], path: tuple[str | int, ...]) -> bool:
    value: Any = data
    for segment in path:
        value = _lookup(value, segment)
        if value is _MISSING or value is None:
            return False
    return bool(value != "")


def _with(value: Any, path: tuple[str | int, ...], default: str) -> Any:
    """`value` (a mapping) with `default` set at `path`, copying the mappings on the way (never mutating)."""
    if not path:
        return default
    if value is None or value is _MISSING:
        value = {}
    if not isinstance(value, Mapping) or not isinstance(path[0], str):
        return value  # cannot hold a key: leave it (the token renders as Liquid resolves it)
    copied = dict(value)
    copied[path[0]] = _with(value.get(path[0]), path[1:], default)
    return copied


def _data(
    context: RenderContext, paths: tuple[tuple[str | int, ...], ...], defaults: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The render namespace (the five roots) with template defaults filled in, and the missing tokens."""
    data: dict[str, Any] = {
        "person": context.person,
        "event": context.event,
        "journey": context.journey,
        "offer": context.offer,
        "ids": context.ids,
    }
    defaulted: list[str] = []
    for path in paths:
        if _present(data, path):
            continue
        token = token_path(path)
        defaulted.append(token)
        default = defaults.get(token)
        if default is not None:
            root = path[0]
            if isinstance(root, str) and root in data:
                data[root] = _with(data[root], path[1:], default)
    return data, defaulted
