"""app/journeys/lint.py: structural checks over the step graph, and the template catalog."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from app.journeys.catalog import Template, TemplateCatalog, default_catalog
from app.journeys.lint import LintIssue, lint, step_graph
from app.journeys.loader import example_paths, load_definition
from graph_models.journey import CHANNELS, JourneyDefinition

CATALOG = TemplateCatalog(
    {
        "hello": Template("hello", "email", "Hello"),
        "ping": Template("ping", "push"),
    }
)


def journey(*steps: dict[str, Any], start: str | None = None, **fields: Any) -> JourneyDefinition:
    data: dict[str, Any] = {
        "id": "j",
        "name": "J",
        "entry": {"event": "Signed Up"},
        "start": start or steps[0]["id"],
        "steps": list(steps),
        **fields,
    }
    return JourneyDefinition.model_validate(copy.deepcopy(data))


def action(id_: str, next_: str, channel: str = "email", template: str = "hello") -> dict[str, Any]:
    return {"id": id_, "type": "action", "channel": channel, "template": template, "next": next_}


def wait(id_: str, next_: str, duration: str = "1d") -> dict[str, Any]:
    return {"id": id_, "type": "wait", "duration": duration, "next": next_}


def branch(id_: str, case: str, default: str) -> dict[str, Any]:
    return {
        "id": id_,
        "type": "branch",
        "branches": [{"when": {"trait": "plan", "op": "eq", "value": "pro"}, "next": case}],
        "default": default,
    }


def wait_for(id_: str, next_: str, on_timeout: str | None = None, timeout: str | None = "1d") -> dict[str, Any]:
    step: dict[str, Any] = {"id": id_, "type": "wait_for_event", "event": "Order Completed", "next": next_}
    if timeout is not None:
        step["timeout"] = timeout
    if on_timeout is not None:
        step["on_timeout"] = on_timeout
    return step


def split(id_: str, *variants: tuple[str, float, str, bool]) -> dict[str, Any]:
    return {
        "id": id_,
        "type": "split",
        "variants": [{"name": n, "weight": w, "next": nx, "holdout": h} for n, w, nx, h in variants],
    }


END = {"id": "done", "type": "end"}


def codes(issues: list[LintIssue]) -> list[str]:
    return [i.code for i in issues]


def only(issues: list[LintIssue], code: str) -> list[LintIssue]:
    return [i for i in issues if i.code == code]


# --- a clean journey -------------------------------------------------------------------------------------


def test_a_clean_journey_has_no_issues() -> None:
    ping = action("ping", "done", "push", "ping")
    good = journey(action("hi", "w"), wait("w", "b"), branch("b", "ping", "done"), ping, END)
    assert lint(good) == []
    assert lint(good, CATALOG) == []


# --- unknown_step ----------------------------------------------------------------------------------------


def test_unknown_next_target() -> None:
    issues = lint(journey(action("hi", "nowhere"), END))
    found = only(issues, "unknown_step")
    assert len(found) == 1
    assert found[0].step_id == "hi"
    assert "'hi'" in found[0].message and "'nowhere'" in found[0].message
    assert lint(journey(action("hi", "done"), END)) == []


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (branch("b", "done", "nowhere"), "default"),
        (branch("b", "nowhere", "done"), "branch"),
        (wait_for("b", "done", on_timeout="nowhere"), "on_timeout"),
        (wait_for("b", "nowhere", on_timeout="done"), "next"),
        (split("b", ("A", 1, "done", False), ("B", 1, "nowhere", False)), "variant 'B'"),
    ],
)
def test_unknown_targets_of_every_kind(bad: dict[str, Any], field: str) -> None:
    found = only(lint(journey(bad, END)), "unknown_step")
    assert [i.step_id for i in found] == ["b"]
    assert field in found[0].message and "'nowhere'" in found[0].message


def test_unknown_start() -> None:
    issues = lint(journey(action("hi", "done"), END, start="begin"))
    assert codes(issues) == ["unknown_step"]  # no flood of "unreachable" for every step
    assert issues[0].step_id == "begin" and "'begin'" in issues[0].message


# --- unreachable -----------------------------------------------------------------------------------------


def test_unreachable_step() -> None:
    issues = lint(journey(action("hi", "done"), action("orphan", "done"), END))
    assert codes(issues) == ["unreachable"]
    assert issues[0].step_id == "orphan" and "'orphan'" in issues[0].message
    assert str(issues[0]).startswith("error [unreachable] step 'orphan': ")
    fixed = journey(branch("b", "hi", "orphan"), action("hi", "done"), action("orphan", "done"), END)
    assert lint(fixed) == []


# --- no_end ----------------------------------------------------------------------------------------------


def test_no_end_when_a_path_never_ends() -> None:
    # b's default goes into a waiting loop that never reaches an end step.
    steps = [branch("b", "done", "w1"), wait("w1", "w2"), wait("w2", "w1"), END]
    issues = lint(journey(*steps))
    assert codes(issues) == ["no_end", "no_end"]
    assert [i.step_id for i in issues] == ["w1", "w2"]
    assert all(f"'{i.step_id}'" in i.message for i in issues)
    fixed = [branch("b", "done", "w1"), wait("w1", "w2"), branch("w2", "done", "w1"), END]
    assert lint(journey(*fixed)) == []


def test_no_end_when_the_journey_has_no_end_step() -> None:
    issues = lint(journey(action("hi", "w"), wait("w", "hi")))
    assert codes(issues) == ["no_end", "no_end"]
    assert "no `end` step" in issues[0].message


def test_no_end_for_a_step_whose_only_way_out_is_unknown() -> None:
    issues = lint(journey(branch("b", "done", "hi"), action("hi", "nowhere"), END))
    assert sorted(codes(issues)) == ["no_end", "unknown_step"]
    assert "no way out" in only(issues, "no_end")[0].message


# --- loop_without_wait -----------------------------------------------------------------------------------


def test_loop_without_wait_is_one_issue_per_loop_naming_its_steps() -> None:
    steps = [action("hi", "b"), branch("b", "done", "again"), action("again", "hi"), END]
    issues = lint(journey(*steps))
    assert codes(issues) == ["loop_without_wait"]
    issue = issues[0]
    assert issue.step_id == "hi"
    assert all(f"'{s}'" in issue.message for s in ("hi", "b", "again"))


def test_two_separate_loops_are_two_issues() -> None:
    steps = [branch("a", "a2", "b"), action("a2", "a"), branch("b", "b2", "done"), action("b2", "b"), END]
    found = only(lint(journey(*steps)), "loop_without_wait")
    assert [i.step_id for i in found] == ["a", "b"]


def test_a_self_loop() -> None:
    issues = lint(journey(branch("b", "b", "done"), END))
    assert codes(issues) == ["loop_without_wait"]
    assert "'b'" in issues[0].message


@pytest.mark.parametrize(
    "waiting",
    [
        wait("pause", "b", "1h"),
        wait_for("pause", "done", on_timeout="b", timeout="2d"),
        {"id": "pause", "type": "wait", "until": {"time_of_day": "09:00"}, "next": "b"},
        {"id": "pause", "type": "wait", "until": {"trait": "renews_at", "offset": "-3d"}, "next": "b"},
    ],
)
def test_a_loop_with_a_wait_is_fine(waiting: dict[str, Any]) -> None:
    # A reminder loop: remind, wait, check, remind again or finish.
    steps = [action("remind", "pause"), waiting, branch("b", "done", "remind"), END]
    assert lint(journey(*steps)) == []


@pytest.mark.parametrize(
    "instant",
    [
        {"id": "pause", "type": "wait", "until": {"date": "2026-01-01T00:00:00Z"}, "next": "b"},
        {"id": "pause", "type": "wait", "until": {"time_of_day": "09:00", "offset": "-2h"}, "next": "b"},
    ],
)
def test_waits_that_can_pass_at_once_do_not_break_a_loop(instant: dict[str, Any]) -> None:
    steps = [action("remind", "pause"), instant, branch("b", "done", "remind"), END]
    assert codes(lint(journey(*steps))) == ["loop_without_wait"]


def test_a_wait_elsewhere_in_the_component_does_not_hide_a_loop_without_one() -> None:
    # hi → b → hi never waits, even though hi → b → w → b2 → hi does.
    steps = [action("hi", "b"), branch("b", "hi", "w"), wait("w", "b2"), branch("b2", "hi", "done"), END]
    found = only(lint(journey(*steps)), "loop_without_wait")
    assert len(found) == 1
    assert "'hi', 'b' " in found[0].message and "'w'" not in found[0].message and "'b2'" not in found[0].message


# --- actions: channels and templates ---------------------------------------------------------------------


def test_unknown_channel() -> None:
    issues = lint(journey(action("hi", "done", channel="pigeon"), END))
    assert codes(issues) == ["unknown_channel"]
    assert "'hi'" in issues[0].message and "'pigeon'" in issues[0].message
    assert lint(journey(action("hi", "done", channel="sms"), END)) == []


def test_unknown_template_only_with_a_catalog() -> None:
    bad = journey(action("hi", "done", template="nope"), END)
    assert lint(bad) == []
    issues = lint(bad, CATALOG)
    assert codes(issues) == ["unknown_template"]
    assert "'hi'" in issues[0].message and "'nope'" in issues[0].message
    assert lint(journey(action("hi", "done", template="hello"), END), CATALOG) == []


def test_template_channel_mismatch() -> None:
    issues = lint(journey(action("hi", "done", channel="sms", template="hello"), END), CATALOG)
    assert codes(issues) == ["template_channel_mismatch"]
    assert "'hi'" in issues[0].message and "'email'" in issues[0].message
    assert lint(journey(action("hi", "done", channel="email", template="hello"), END), CATALOG) == []


# --- wait_for_event_without_timeout ----------------------------------------------------------------------


def test_wait_for_event_without_timeout() -> None:
    issues = lint(journey(wait_for("w", "done", timeout=None), END))
    assert codes(issues) == ["wait_for_event_without_timeout"]
    assert issues[0].severity == "error" and "'w'" in issues[0].message
    assert lint(journey(wait_for("w", "done", timeout="3d"), END)) == []


def test_on_timeout_without_timeout() -> None:
    issues = lint(journey(wait_for("w", "done", on_timeout="done", timeout=None), END))
    assert codes(issues) == ["wait_for_event_without_timeout"]
    assert "on_timeout" in issues[0].message


# --- split_weights / holdout_with_actions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("variants", "words"),
    [
        ([("H1", 50, "done", True), ("H2", 50, "done", True)], "only holdout"),
        ([("A", 100, "hi", False)], "single variant"),
        ([("A", 30, "hi", False), ("H", 70, "done", True)], "holds out 70%"),
        ([("A", 1000, "hi", False), ("B", 0.5, "hi", False)], "variant 'B'"),
    ],
)
def test_split_weights_warnings(variants: list[tuple[str, float, str, bool]], words: str) -> None:
    issues = only(lint(journey(split("s", *variants), action("hi", "done"), END)), "split_weights")
    assert len(issues) == 1
    assert issues[0].severity == "warning"
    assert words in issues[0].message and "'s'" in issues[0].message
    assert str(issues[0]).startswith("warning [split_weights] step 's': ")


def test_sane_split_has_no_warning() -> None:
    variants = [("A", 45, "hi", False), ("B", 45, "done", False), ("H", 10, "done", True)]
    assert lint(journey(split("s", *variants), action("hi", "done"), END)) == []


def test_holdout_that_can_reach_an_action() -> None:
    issues = lint(journey(split("s", ("A", 90, "done", False), ("H", 10, "hi", True)), action("hi", "done"), END))
    assert codes(issues) == ["holdout_with_actions"]
    assert issues[0].severity == "warning" and "'hi'" in issues[0].message


# --- ordering and the graph ------------------------------------------------------------------------------


def test_issues_are_sorted_errors_first_then_step_order() -> None:
    steps = [
        split("s", ("H", 1, "a", True)),
        action("a", "b", channel="pigeon"),
        wait_for("b", "done", timeout=None),
        action("orphan", "done"),
        END,
    ]
    issues = lint(journey(*steps))
    assert [(i.severity, i.code, i.step_id) for i in issues] == [
        ("error", "unknown_channel", "a"),
        ("error", "wait_for_event_without_timeout", "b"),
        ("error", "unreachable", "orphan"),
        ("warning", "holdout_with_actions", "s"),
        ("warning", "split_weights", "s"),
    ]
    assert lint(journey(*steps)) == issues


def test_step_graph_edges_come_from_successors() -> None:
    graph = step_graph(journey(wait_for("w", "done", on_timeout="hi"), action("hi", "done"), END))
    assert set(graph.edges) == {("w", "done"), ("w", "hi"), ("hi", "done")}
    assert graph.edges["w", "hi"]["paths"] == ["timeout"]


def test_journey_level_issue_str() -> None:
    assert str(LintIssue("x", None, "something")) == "error [x]: something"


# --- examples and the catalog ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.name)
def test_examples_lint_clean(path: Path) -> None:
    assert lint(load_definition(path), default_catalog()) == []


def test_default_catalog() -> None:
    catalog = default_catalog()
    assert catalog.ids() == sorted(catalog.ids())
    assert {t.channel for t in catalog} == set(CHANNELS)
    welcome = catalog.get("welcome_email")
    assert welcome is not None and (welcome.id, welcome.channel) == ("welcome_email", "email")
    assert welcome.description
    assert len(catalog) == len(catalog.ids())
    assert catalog.get("nope") is None
    assert "cart_reminder_sms" in catalog


def test_catalog_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("- {id: a, channel: sms}\n- {id: b, channel: crm, description: Task}\n")
    catalog = TemplateCatalog.from_yaml(path)
    assert catalog.ids() == ["a", "b"]
    assert catalog.get("b") == Template("b", "crm", "Task")
    path.write_text("templates:\n  - {id: a, channel: sms}\n")
    assert TemplateCatalog.from_yaml(path).ids() == ["a"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- {id: a, channel: fax}\n", "channel 'fax'"),
        ("- {id: a, channel: sms}\n- {id: a, channel: sms}\n", "duplicate"),
        ("- {channel: sms}\n", "`id`"),
        ("- {id: a, channel: sms, colour: red}\n", "colour"),
        ("a: 1\n", "list"),
    ],
)
def test_catalog_rejects_bad_files(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=words):
        TemplateCatalog.from_yaml(path)
