"""Structural checks of a journey definition over its step graph (networkx), beyond what pydantic validates.

Nodes are step ids; edges come from `successors(step)` (every way out: next, branch cases and default,
timeout paths, split variants). Branch conditions are not evaluated: every edge counts as possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from app.decisions.render import FIELDS, ROOTS, check, token_path
from app.journeys.catalog import Template, TemplateCatalog
from graph_models.journey import (
    CHANNELS,
    ActionStep,
    BranchStep,
    EndStep,
    JourneyDefinition,
    SplitStep,
    WaitForEventStep,
    WaitStep,
    successors,
)

ERROR = "error"
WARNING = "warning"

# A split whose holdouts take more than this share of people is probably a mistake.
MAX_HOLDOUT_SHARE = 0.5
# A non-holdout variant getting less than this share of people is probably a typo in the weights.
MIN_VARIANT_SHARE = 0.01


@dataclass(frozen=True)
class LintIssue:
    code: str
    step_id: str | None
    message: str
    severity: str = ERROR  # "error" or "warning"

    def __str__(self) -> str:
        where = f" step {self.step_id!r}" if self.step_id is not None else ""
        return f"{self.severity} [{self.code}]{where}: {self.message}"


def step_graph(definition: JourneyDefinition) -> nx.DiGraph:
    """Steps as nodes (with `step` and `index` attributes); an edge per way out, labelled `paths`.

    Edges to step ids that do not exist are left out (the linter reports them as `unknown_step`).
    """
    graph = nx.DiGraph()
    for index, step in enumerate(definition.steps):
        graph.add_node(step.id, step=step, index=index)
    for step in definition.steps:
        for path, target in successors(step):
            if target not in graph:
                continue
            if graph.has_edge(step.id, target):
                graph.edges[step.id, target]["paths"].append(path)
            else:
                graph.add_edge(step.id, target, paths=[path])
    return graph


def lint(definition: JourneyDefinition, catalog: TemplateCatalog | None = None) -> list[LintIssue]:
    """Every problem found, errors first, then in step order (journey-level issues before steps)."""
    graph = step_graph(definition)
    issues: list[LintIssue] = []
    issues += _unknown_steps(definition, graph)
    issues += _unreachable(definition, graph)
    issues += _no_end(definition, graph)
    issues += _loops_without_wait(definition, graph)
    for step in definition.steps:
        if isinstance(step, ActionStep):
            issues += _action(step, catalog)
        elif isinstance(step, WaitForEventStep):
            issues += _wait_for_event(step)
        elif isinstance(step, SplitStep):
            issues += _split(step, graph)
    order = {step.id: i for i, step in enumerate(definition.steps)}

    def key(issue: LintIssue) -> tuple[int, int, str, str]:
        position = -1 if issue.step_id is None else order.get(issue.step_id, -1)
        return (0 if issue.severity == ERROR else 1, position, issue.code, issue.message)

    return sorted(set(issues), key=key)


def errors(issues: list[LintIssue]) -> list[LintIssue]:
    return [i for i in issues if i.severity == ERROR]


def _names(step_ids: list[str]) -> str:
    return ", ".join(repr(s) for s in step_ids)


def _unknown_steps(definition: JourneyDefinition, graph: nx.DiGraph) -> list[LintIssue]:
    issues = []
    if definition.start not in graph:
        issues.append(
            LintIssue("unknown_step", definition.start, f"start step {definition.start!r} does not exist")
        )
    for step in definition.steps:
        for path, target in successors(step):
            if target not in graph:
                issues.append(
                    LintIssue(
                        "unknown_step",
                        step.id,
                        f"step {step.id!r} goes to {target!r} ({_path_field(step, path)}), which is not a step",
                    )
                )
    return issues


def _path_field(step: Any, path: str) -> str:
    """Which field of the step holds the target of `path` (as named by `successors`)."""
    if isinstance(step, WaitForEventStep):
        return "on_timeout" if path == "timeout" else "next"
    if isinstance(step, SplitStep):
        return f"variant {path!r}"
    if isinstance(step, BranchStep):
        return "default" if path == "default" else f"branch {path!r}"
    if isinstance(step, ActionStep) and path in ("blocked", "deferred"):
        return f"on_{path}"
    return "next"


def _unreachable(definition: JourneyDefinition, graph: nx.DiGraph) -> list[LintIssue]:
    if definition.start not in graph:
        return []  # everything would be "unreachable"; the unknown start is the one problem to fix
    reachable = nx.descendants(graph, definition.start) | {definition.start}
    return [
        LintIssue("unreachable", step.id, f"step {step.id!r} cannot be reached from start step {definition.start!r}")
        for step in definition.steps
        if step.id not in reachable
    ]


def _no_end(definition: JourneyDefinition, graph: nx.DiGraph) -> list[LintIssue]:
    ends = {step.id for step in definition.steps if isinstance(step, EndStep)}
    can_end = set(ends)
    for end in ends:
        can_end |= nx.ancestors(graph, end)
    issues = []
    for step in definition.steps:
        if step.id in can_end:
            continue
        if graph.out_degree(step.id) == 0:
            message = f"step {step.id!r} is not an end step but has no way out (all its targets are unknown)"
        elif not ends:
            message = f"no path from step {step.id!r} reaches an end step (the journey has no `end` step)"
        else:
            message = f"no path from step {step.id!r} reaches an end step: people there could never finish"
        issues.append(LintIssue("no_end", step.id, message))
    return issues


def _waits(step: Any) -> bool:
    """Does a person stay on this step for a while each time round a loop?

    Not a zero-length wait, nor a wait until a fixed date (once it has passed the wait ends at once), nor a
    wait until a time of day shifted back by a negative offset (that moment can already be past). A wait
    until a trait's date counts: the trait is expected to move on (e.g. the next renewal date).
    """
    if isinstance(step, WaitStep):
        if step.duration is not None:
            return step.duration.ms > 0
        until = step.until
        if until is None or until.date is not None:
            return False
        return until.trait is not None or until.offset is None or until.offset.ms >= 0
    if isinstance(step, WaitForEventStep):
        return step.timeout is None or step.timeout.ms > 0
    return False


def _loops_without_wait(definition: JourneyDefinition, graph: nx.DiGraph) -> list[LintIssue]:
    """A cycle with no waiting step runs forever at once. Any such cycle lies inside one strongly
    connected component of the graph without its waiting steps: one issue per component."""
    no_waits = graph.subgraph([n for n, data in graph.nodes(data=True) if not _waits(data["step"])])
    issues = []
    for component in nx.strongly_connected_components(no_waits):
        first = next(iter(component))
        if len(component) == 1 and not no_waits.has_edge(first, first):
            continue
        ordered = sorted(component, key=lambda n: graph.nodes[n]["index"])
        if len(ordered) == 1:
            message = f"step {ordered[0]!r} goes back to itself without waiting: an infinite loop"
        else:
            message = (
                f"steps {_names(ordered)} form a loop that never waits (no wait or wait_for_event step that"
                f" takes time): an infinite loop"
            )
        issues.append(LintIssue("loop_without_wait", ordered[0], message))
    return issues


def _action(step: ActionStep, catalog: TemplateCatalog | None) -> list[LintIssue]:
    issues = []
    if step.channel not in CHANNELS:
        issues.append(
            LintIssue(
                "unknown_channel",
                step.id,
                f"step {step.id!r} uses channel {step.channel!r}; expected one of {', '.join(CHANNELS)}",
            )
        )
    if catalog is not None:
        template = catalog.get(step.template)
        if template is None:
            issues.append(
                LintIssue(
                    "unknown_template", step.id, f"step {step.id!r} uses template {step.template!r}, not in the catalog"
                )
            )
        elif template.channel != step.channel:
            issues.append(
                LintIssue(
                    "template_channel_mismatch",
                    step.id,
                    f"step {step.id!r} sends template {step.template!r} on {step.channel!r},"
                    f" but that template is for {template.channel!r}",
                )
            )
        for template_id in [step.template, *(f.template for f in getattr(step, "fallback", None) or [])]:
            found = catalog.get(template_id)
            if found is not None:
                issues += _template_tokens(step.id, found, catalog)
    return issues


def _template_tokens(step_id: str, template: Template, catalog: TemplateCatalog) -> list[LintIssue]:
    """Liquid syntax errors (errors) and tokens nothing can fill (warnings) in the step's template."""
    found = check(template)
    issues = [
        LintIssue("template_syntax", step_id, f"step {step_id!r} uses template {template.id!r}: {error}")
        for error in found.errors
    ]
    for path, token in ((p, token_path(p)) for p in found.paths):
        root, name = path[0], path[1] if len(path) > 1 else None
        problem = None
        if root not in ROOTS:
            problem = f"reads {token!r}, outside {', '.join(ROOTS)}"
        elif root == "person" and isinstance(name, str) and name not in catalog.known_traits:
            if token not in template.defaults:
                problem = f"reads {token!r}: {name!r} is not in known_traits and the template has no default for it"
        elif isinstance(root, str) and root in FIELDS and isinstance(name, str) and name not in FIELDS[root]:
            problem = f"reads {token!r}; {root} has only {', '.join(sorted(FIELDS[root]))}"
        if problem is not None:
            code = "unknown_trait" if root == "person" else "unknown_token"
            issues.append(LintIssue(code, step_id, f"step {step_id!r} template {template.id!r} {problem}", WARNING))
    return issues


def _wait_for_event(step: WaitForEventStep) -> list[LintIssue]:
    if step.timeout is not None:
        return []
    if step.on_timeout is not None:
        message = f"step {step.id!r} has an on_timeout path ({step.on_timeout!r}) but no `timeout`"
    else:
        message = f"step {step.id!r} waits for {step.event!r} with no `timeout`: people could wait forever"
    return [LintIssue("wait_for_event_without_timeout", step.id, message)]


def _split(step: SplitStep, graph: nx.DiGraph) -> list[LintIssue]:
    total = sum(v.weight for v in step.variants)
    treated = [v for v in step.variants if not v.holdout]
    holdout_share = sum(v.weight for v in step.variants if v.holdout) / total
    issues = []

    def warn(code: str, message: str) -> None:
        issues.append(LintIssue(code, step.id, message, WARNING))

    if not treated:
        warn("split_weights", f"split {step.id!r} has only holdout variants: nobody gets any treatment")
    elif len(step.variants) == 1:
        warn("split_weights", f"split {step.id!r} has a single variant: it does not split anyone")
    else:
        if holdout_share > MAX_HOLDOUT_SHARE:
            warn(
                "split_weights",
                f"split {step.id!r} holds out {holdout_share:.0%} of people (more than {MAX_HOLDOUT_SHARE:.0%})",
            )
        for variant in treated:
            share = variant.weight / total
            if share < MIN_VARIANT_SHARE:
                warn(
                    "split_weights",
                    f"split {step.id!r} gives variant {variant.name!r} only {share:.2%} of people"
                    f" (weight {variant.weight:g} of {total:g}); weights are relative",
                )
    for variant in step.variants:
        if variant.holdout and variant.next in graph:
            sends = [
                n
                for n in nx.descendants(graph, variant.next) | {variant.next}
                if isinstance(graph.nodes[n]["step"], ActionStep)
            ]
            if sends:
                sends.sort(key=lambda n: graph.nodes[n]["index"])
                warn(
                    "holdout_with_actions",
                    f"split {step.id!r}: holdout variant {variant.name!r} can reach action steps {_names(sends)};"
                    f" a holdout should get nothing",
                )
    return issues
