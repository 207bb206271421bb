"""app/journeys/loader.py: parsing YAML/JSON journeys, readable errors, checked(), checksums, the schema file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.errors import PermanentError
from app.journeys.catalog import default_catalog
from app.journeys.loader import (
    EXAMPLES_DIR,
    SCHEMA_PATH,
    JourneyInvalid,
    canonical_json,
    checked,
    checksum,
    example_paths,
    load_definition,
    parse_definition,
    schema_text,
)
from graph_models.journey import ActionStep, JourneyDefinition, journey_json_schema, parse_duration

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

SMALL = """
id: small
name: Small
entry: {event: Signed Up}
start: hello
steps:
  - id: hello
    type: action
    channel: email
    template: welcome_email
    next: pause
  - id: pause
    type: wait
    duration: 1d
    next: remind
  - id: remind
    type: wait_for_event
    event: Project Created
    timeout: 3d
    next: done
    on_timeout: done
  - id: done
    type: end
"""


def small(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SMALL)
    data.update(changes)
    return data


def invalid(text: str) -> JourneyInvalid:
    with pytest.raises(JourneyInvalid) as caught:
        parse_definition(text, source="test.yaml")
    return caught.value


# --- parsing ---------------------------------------------------------------------------------------------


def test_parse_yaml() -> None:
    d = parse_definition(SMALL)
    assert d.id == "small" and [s.id for s in d.steps] == ["hello", "pause", "remind", "done"]
    assert d.step("pause").duration.ms == DAY


def test_parse_json_including_tab_indentation() -> None:
    text = json.dumps(small(), indent="\t")  # PyYAML alone rejects tabs
    assert parse_definition(text) == parse_definition(SMALL)


def test_yaml_scalars_that_yaml_1_1_would_mangle_stay_strings() -> None:
    data = small()
    data["steps"][1] = {"id": "pause", "type": "wait", "until": {"time_of_day": "10:30"}, "next": "remind"}
    text = yaml.safe_dump(data).replace("'10:30'", "10:30")
    text = text.replace("event: Signed Up", "event: Signed Up\n  where: [{property: country, value: no}]")
    text += "exit:\n  - {traits: {trait: renewed_on, op: eq, value: 2026-01-31}}\n"
    d = parse_definition(text)
    assert d.step("pause").until.time_of_day == "10:30"  # not 630 (base 60)
    assert d.entry.where[0].value == "no"  # not False
    assert d.exit[0].traits is not None and d.exit[0].traits.value == "2026-01-31"  # type: ignore[union-attr]
    assert parse_definition("id: x\nname: N\nentry: {event: E}\nstart: e\nsteps: [{id: e, type: end}]\n").id == "x"


def test_yaml_numbers_and_booleans() -> None:
    extra = "    priority: 50\n    content: {a: 1.5, b: true, c: 1e3, d: 007, e: 0x1F, f: -2, g: off}\n"
    text = SMALL.replace("    template: welcome_email\n", "    template: welcome_email\n" + extra)
    step = parse_definition(text).step("hello")
    assert step.priority == 50
    assert step.content == {"a": 1.5, "b": True, "c": 1000.0, "d": "007", "e": 31, "f": -2, "g": "off"}


def test_yaml_syntax_error() -> None:
    exc = invalid("id: x\nsteps: [\n  - oops: : :\n")
    assert isinstance(exc, PermanentError) and not exc.retryable
    assert exc.reason == "syntax_error"
    assert len(exc.issues) == 1 and "line" in exc.issues[0]
    assert "test.yaml" in str(exc)


def test_json_syntax_error_names_the_line() -> None:
    exc = invalid('{\n  "id": "x",\n  "name": "a" "b"\n}')
    assert exc.issues == ["line 3, column 15: Expecting ',' delimiter (JSON)"]


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    assert "(top level)" in invalid(text).issues[0]


# --- validation errors name the field --------------------------------------------------------------------


def test_bad_priority_names_field_and_step() -> None:
    data = small()
    data["steps"][0]["priority"] = 500
    exc = invalid(json.dumps(data))
    assert exc.issues == ["steps[0] (id 'hello').priority: Input should be less than or equal to 100"]
    assert "priority" in str(exc) and "'hello'" in str(exc)


def test_bad_timeout_names_field_and_step() -> None:
    data = small()
    data["steps"][2]["timeout"] = "3 fortnights"
    (issue,) = invalid(json.dumps(data)).issues
    assert issue.startswith("steps[2] (id 'remind').timeout: ")
    assert "'3 fortnights' is not a duration" in issue


def test_bad_condition_reports_the_member_that_fits() -> None:
    data = small()
    data["steps"][1] = {
        "id": "check",
        "type": "branch",
        "branches": [
            {"when": {"trait": "plan", "op": "equals", "value": "pro"}, "next": "done"},
            {"when": {"all": [{"count": {"event": "X", "within": "soon"}}]}, "next": "done"},
        ],
        "default": "done",
    }
    issues = invalid(json.dumps(data)).issues
    assert len(issues) == 2
    assert issues[0].startswith("steps[1] (id 'check').branches[0].when.op: Input should be 'eq'")
    assert issues[1].startswith("steps[1] (id 'check').branches[1].when.all[0].count.within: 'soon' is not")


def test_condition_of_the_wrong_kind() -> None:
    data = small(entry={"event": "E", "traits": "plan == pro"})
    (issue,) = invalid(json.dumps(data)).issues
    assert issue.startswith("entry.traits: Input should be one of: PropertyCondition, TraitCondition")


def test_bad_reentry() -> None:
    (issue,) = invalid(json.dumps(small(entry={"event": "E", "reentry": "sometimes"}))).issues
    assert issue == "entry.reentry: Input should be 'never' or 'always'"
    (issue,) = invalid(json.dumps(small(entry={"event": "E", "reentry": {"after": "soon"}}))).issues
    assert issue.startswith("entry.reentry.after: 'soon' is not a duration")


def test_missing_and_unknown_fields_and_types() -> None:
    data = small()
    del data["steps"][0]["template"]
    data["steps"][3]["colour"] = "red"
    data["steps"].append({"id": "x", "type": "teleport"})
    data["steps"].append({"id": "y"})
    issues = invalid(json.dumps(data)).issues
    assert issues == [
        "steps[0] (id 'hello').template: required field is missing",
        "steps[3] (id 'done').colour: unknown field",
        "steps[4] (id 'x'): unknown step type 'teleport'; expected one of "
        "'wait', 'wait_for_event', 'branch', 'action', 'split', 'end'",
        "steps[5] (id 'y'): a step needs a `type` (wait, wait_for_event, branch, action, split or end)",
    ]


def test_many_issues_are_listed_one_per_line() -> None:
    data = small(id="Not Valid", start=None)
    exc = invalid(json.dumps(data))
    assert [i.split(":")[0] for i in exc.issues] == ["id", "start"]
    assert str(exc).splitlines()[0] == "invalid journey test.yaml: 2 problems"
    assert str(exc).splitlines()[1].startswith("  - id: ")


def test_duplicate_step_ids() -> None:
    data = small()
    data["steps"][1]["id"] = "hello"
    (issue,) = invalid(json.dumps(data)).issues
    assert issue == "steps: duplicate step id 'hello'"


def test_journey_invalid_can_be_raised_by_others() -> None:
    exc = JourneyInvalid("steps[0]: bad")
    assert exc.issues == ["steps[0]: bad"] and str(exc) == "invalid journey <text>: steps[0]: bad"


# --- files, examples -------------------------------------------------------------------------------------


def test_load_definition_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "j.yaml"
    path.write_text(SMALL.replace("duration: 1d", "duration: 1 day"))
    with pytest.raises(JourneyInvalid) as caught:
        load_definition(path)
    assert caught.value.source == str(path) and str(path) in str(caught.value)
    assert "steps[1] (id 'pause').duration" in caught.value.issues[0]


def test_example_paths() -> None:
    names = [p.name for p in example_paths()]
    assert names == ["abandoned_cart.yaml", "trial_conversion.yaml", "welcome_series.yaml"]
    assert all(p.parent == EXAMPLES_DIR for p in example_paths())


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.name)
def test_examples_load_and_pass_checked(path: Path) -> None:
    d = load_definition(path)
    assert checked(d, default_catalog()) is d
    assert d.id == path.stem.replace("_", "-")
    assert path.read_text().startswith("# yaml-language-server: $schema=../journey.schema.json\n")
    for step in d.steps:
        if isinstance(step, ActionStep):
            template = default_catalog().get(step.template)
            assert template is not None and template.channel == step.channel


def test_example_details() -> None:
    cart = load_definition(EXAMPLES_DIR / "abandoned_cart.yaml")
    first = cart.step(cart.start)
    assert first.type == "wait_for_event" and first.match_entry == ["cart_id"] and first.timeout.ms == 4 * HOUR
    assert cart.timeout is not None and cart.timeout.ms == 7 * DAY
    trial = load_definition(EXAMPLES_DIR / "trial_conversion.yaml")
    split = trial.step(trial.start)
    assert [(v.name, v.weight, v.holdout) for v in split.variants] == [
        ("A", 45, False),
        ("B", 45, False),
        ("holdout", 10, True),
    ]
    assert trial.step("before_trial_ends").until.offset.ms == -2 * DAY
    assert {s.channel for s in trial.steps if isinstance(s, ActionStep)} == {"in_app", "email", "crm"}
    welcome = load_definition(EXAMPLES_DIR / "welcome_series.yaml")
    assert welcome.entry.reentry == "never" and welcome.exit[0].traits is not None


# --- checked ---------------------------------------------------------------------------------------------


def test_checked_raises_on_lint_errors_only() -> None:
    data = small()
    data["steps"][0]["channel"] = "pigeon"
    bad = JourneyDefinition.model_validate(data)
    with pytest.raises(JourneyInvalid) as caught:
        checked(bad)
    assert caught.value.issues == [
        "error [unknown_channel] step 'hello': step 'hello' uses channel 'pigeon'; expected one of "
        "email, sms, push, webhook, in_app, crm"
    ]
    assert [i.code for i in caught.value.lint_issues] == ["unknown_channel"]
    assert "small" in str(caught.value)

    data = small()
    data["steps"][0]["template"] = "nope"
    unknown_template = JourneyDefinition.model_validate(data)
    assert checked(unknown_template) is unknown_template  # no catalog, no template check
    with pytest.raises(JourneyInvalid, match="unknown_template"):
        checked(unknown_template, default_catalog())

    data = small()
    data["steps"][0]["next"] = "split"
    data["steps"].append(
        {"id": "split", "type": "split", "variants": [{"name": "A", "weight": 1, "next": "pause"}]}
    )
    warned = JourneyDefinition.model_validate(data)
    assert checked(warned) is warned  # a single-variant split is only a warning


# --- canonical JSON and checksum -------------------------------------------------------------------------


def test_checksum_is_stable_across_key_order_and_format() -> None:
    a = parse_definition(SMALL)
    reordered = {k: v for k, v in reversed(list(small().items()))}
    reordered["steps"] = [dict(reversed(list(s.items()))) for s in reordered["steps"]]
    b = parse_definition(json.dumps(reordered, indent=4))
    assert canonical_json(a) == canonical_json(b)
    assert checksum(a) == checksum(b)
    assert len(checksum(a)) == 64 and int(checksum(a), 16) >= 0


def test_checksum_changes_with_content() -> None:
    a = parse_definition(SMALL)
    b = parse_definition(SMALL.replace("duration: 1d", "duration: 2d"))
    assert checksum(a) != checksum(b)


def test_canonical_json_round_trips_and_uses_aliases() -> None:
    text = SMALL + "exit:\n  - traits: {not: {trait: active, op: eq, value: true}}\n"
    d = parse_definition(text)
    canon = canonical_json(d)
    assert '"not":' in canon and '"not_"' not in canon
    assert " " not in canon.replace("Signed Up", "").replace("Project Created", "")
    assert json.loads(canon) == json.loads(json.dumps(json.loads(canon), sort_keys=True))
    assert parse_definition(canon) == d
    for path in example_paths():
        example = load_definition(path)
        assert parse_definition(canonical_json(example)) == example


# --- durations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [("30m", 30 * MINUTE), ("4h", 4 * HOUR), ("3d", 3 * DAY), ("1w", 7 * DAY), ("500ms", 500), (" 1.5h ", 90 * MINUTE)],
)
def test_parse_duration(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


def test_parse_duration_int_is_milliseconds() -> None:
    assert parse_duration(1500) == 1500


@pytest.mark.parametrize("text", ["", "4", "h", "4 hours", "1.5.2h", "4y", "4H"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


# --- the committed JSON Schema ---------------------------------------------------------------------------


def test_committed_schema_matches_the_models() -> None:
    committed = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert committed == journey_json_schema(), (
        "app/journeys/journey.schema.json is stale; regenerate it with "
        ".venv/bin/python -c 'from app.journeys.loader import write_schema; write_schema()'"
    )
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()


def test_schema_takes_durations_as_text() -> None:
    # Journey files write '4h', not the {text, ms} object the model holds: the schema must say so.
    defs = journey_json_schema()["$defs"]
    duration = {alt.get("type"): alt for alt in defs["Duration"]["anyOf"]}
    assert re.match(duration["string"]["pattern"], "4h") and duration["integer"]
    offset = {alt.get("type"): alt for alt in defs["Offset"]["anyOf"]}
    assert re.match(offset["string"]["pattern"], "-2d")


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "a:\n" + "- " * 3000 + "x"])
def test_pathological_nesting_is_invalid_not_a_crash(text: str) -> None:
    with pytest.raises(JourneyInvalid):
        parse_definition(text)
