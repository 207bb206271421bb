"""Constraint and placement documents: parsing with field-named errors, the linter, canonical form, and the
graph rows a version becomes (pure; no servers)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from app.decisions.config_lint import (
    ERROR,
    WARNING,
    ConfigInvalid,
    canonical_config,
    checked_config,
    config_checksum,
    example_path,
    file_form,
    lint_config,
    load_config,
    parse_config,
    validate_config,
)
from app.decisions.config_store import constraint_rows, placement_rows
from app.journeys.catalog import Template, TemplateCatalog, default_catalog
from graph_models.constraints import ConstraintSet, PlacementSet
from graph_models.journey import CHANNELS

JOURNEYS = {"abandoned-cart", "trial-conversion", "welcome-series"}


def constraints(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load(example_path("constraints").read_text())
    return {**data, **changes}


def placements(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load(example_path("placements").read_text())
    return {**data, **changes}


def issues_of(kind: str, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        validate_config(kind, data)
    return caught.value.issues


def test_samples_parse_and_lint_clean() -> None:
    for kind in ("constraints", "placements"):
        model = load_config(kind, example_path(kind))
        assert lint_config(kind, model, default_catalog(), JOURNEYS) == []
    model = load_config("constraints", example_path("constraints"))
    assert isinstance(model, ConstraintSet)
    assert [c.id for c in model.caps][-1] == "sms-calendar-day" and model.channel("sms").requires_opt_in


def test_field_errors_name_the_field() -> None:
    caps = constraints()["caps"]
    caps[1] = {**caps[1], "window": "soon"}
    found = issues_of("constraints", constraints(caps=caps))
    assert len(found) == 1 and found[0].startswith("caps[1].window: ")
    found = issues_of("constraints", constraints(channels=[{"id": "fax"}]))
    assert found[0].startswith("channels[0].id: ") and "unknown channel 'fax'" in found[0]
    found = issues_of("constraints", constraints(caps=[{"id": "x", "max": 1, "window": "1d", "scopes": {}}]))
    assert found == ["caps[0].scopes: unknown field"]
    found = issues_of("constraints", constraints(channels=[{"id": "sms", "quiet_hours": {"start": "25:00",
                                                                                            "end": "08:00"}}]))
    assert found[0].startswith("channels[0].quiet_hours.start: ")
    data = placements()
    data["placements"][0]["offers"][1]["when"] = {"trait": "plan", "op": "equals", "value": 1}
    found = issues_of("placements", data)
    assert len(found) == 1 and found[0].startswith("placements[0].offers[1].when.op: ")


def test_syntax_errors_and_wrong_shapes() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config("constraints", "id: [unclosed")
    assert caught.value.reason == "syntax_error" and caught.value.issues[0].startswith("line ")
    with pytest.raises(ConfigInvalid) as caught:
        parse_config("placements", "- a list")
    assert "expected a mapping" in caught.value.issues[0]
    with pytest.raises(ConfigInvalid) as caught:
        parse_config("routes", "id: default")
    assert caught.value.reason == "unknown_kind"


def test_json_and_yaml_are_the_same_document() -> None:
    data = constraints()
    a = parse_config("constraints", json.dumps(data))
    b = parse_config("constraints", yaml.safe_dump(data))
    assert config_checksum(a) == config_checksum(b)
    assert canonical_config(a) == canonical_config(b)
    again = validate_config("constraints", json.loads(canonical_config(a)))
    assert config_checksum(again) == config_checksum(a)
    round_trip = parse_config("placements", yaml.safe_dump(file_form(load_config("placements",
                                                                                   example_path("placements")))))
    assert config_checksum(round_trip) == config_checksum(load_config("placements", example_path("placements")))
    assert file_form(a)["caps"][0]["window"] == "1d"


def test_lint_constraints() -> None:
    data = constraints(
        caps=[{"id": "none", "max": 0, "window": "1d"},
              {"id": "cal", "max": 1, "window": "12h", "calendar": True},
              {"id": "ghost", "max": 1, "window": "1d", "scope": {"journey": "ghost"}}],
        priorities={"abandoned-cart": 80, "nobody": 10},
        exclusion_groups=[{"id": "g", "journeys": ["abandoned-cart", "phantom"], "window": "1d"}],
        channels=[{"id": "webhook", "quiet_hours": {"start": "22:00", "end": "06:00"}}],
        global_control={"percent": 80, "salt": "s"},
    )
    model = validate_config("constraints", data)
    found = {(i.code, i.path, i.severity) for i in lint_config("constraints", model, default_catalog(), JOURNEYS)}
    assert found == {
        ("calendar_window", "caps[1].window", ERROR),
        ("cap_zero", "caps[0].max", WARNING),
        ("unknown_journey", "caps[2].scope.journey", WARNING),
        ("unknown_journey", "priorities.nobody", WARNING),
        ("unknown_journey", "exclusion_groups[0].journeys[1]", WARNING),
        ("quiet_hours_not_personal", "channels[0].quiet_hours", WARNING),
        ("global_control_large", "global_control.percent", WARNING),
    }
    issues = lint_config("constraints", model, default_catalog(), JOURNEYS)
    assert issues[0].severity == ERROR  # errors first
    assert not any(i.code == "unknown_journey" for i in lint_config("constraints", model, None, None))
    with pytest.raises(ConfigInvalid) as caught:
        checked_config("constraints", model, default_catalog(), JOURNEYS)
    assert caught.value.issues == ["caps[1].window: a calendar cap counts whole days in the person's zone; "
                                   "'12h' is not a whole number of days [calendar_window]"]


def test_lint_placements() -> None:
    catalog = TemplateCatalog({"banner": Template("banner", "in_app"), "mail": Template("mail", "email")})
    data = {"id": "other", "placements": [
        {"id": "home", "channel": "in_app", "offers": [
            {"id": "a", "template": "missing"},
            {"id": "b", "template": "mail"},
            {"id": "c", "template": "banner", "caps": [{"id": "x", "max": 0, "window": "1d"},
                                                       {"id": "x", "max": 1, "window": "2d"}]},
        ]},
        {"id": "empty"},
    ]}
    model = validate_config("placements", data)
    found = {(i.code, i.path, i.severity) for i in lint_config("placements", model, catalog, None)}
    assert found == {
        ("not_runtime_id", "id", WARNING),
        ("unknown_template", "placements[0].offers[0].template", ERROR),
        ("template_channel", "placements[0].offers[1].template", ERROR),
        ("cap_zero", "placements[0].offers[2].caps[0].max", WARNING),
        ("duplicate_cap", "placements[0].offers[2].caps[1].id", ERROR),
        ("no_offers", "placements[1].offers", WARNING),
    }
    assert lint_config("constraints", model)[0].code == "wrong_kind"


def test_constraint_rows_of_the_sample_constraints() -> None:
    model = load_config("constraints", example_path("constraints"))
    rows = constraint_rows(model, "constraints/default@3")
    by_id = {r["constraintId"]: r for r in rows}
    assert len(by_id) == len(rows)
    assert set(by_id) == {
        "cap:email-daily", "cap:all-weekly", "cap:promo-weekly", "cap:cart-daily", "cap:sms-calendar-day",
        "quiet_hours:sms", "quiet_hours:push", *(f"consent:{c}" for c in CHANNELS),
        "suppression:hard-bounces", "suppression:legal-hold", "exclusion:promotions", "global_control",
        "priority", "arbitration",
    }
    assert by_id["cap:email-daily"]["key"] == "constraints/default@3/cap:email-daily"
    assert by_id["cap:email-daily"]["channels"] == ["email"]
    assert by_id["cap:all-weekly"]["channels"] == list(CHANNELS)
    assert by_id["suppression:legal-hold"]["channels"] == list(CHANNELS)
    assert by_id["exclusion:promotions"]["channels"] == []
    assert json.loads(by_id["cap:email-daily"]["config"])["max"] == 2
    defaults = {r["constraintId"] for r in constraint_rows(ConstraintSet(), "constraints/default@builtin")}
    assert defaults == {*(f"consent:{c}" for c in CHANNELS), "priority", "arbitration"}


def test_placement_rows_of_the_sample_placements() -> None:
    model = load_config("placements", example_path("placements"))
    assert isinstance(model, PlacementSet)
    rows = constraint_rows(model, "placements/default@1")
    assert {r["constraintId"] for r in rows} == {
        "offer_cap:upgrade-banner:upgrade-banner-daily", "offer_cap:welcome-back:welcome-back-weekly",
        "offer_cap:cart-banner:cart-banner-daily", "arbitration"}
    placed = placement_rows(model, "placements/default@1")
    assert [(p["key"], [o["key"] for o in p["offers"]]) for p in placed] == [
        ("placements/default@1/home_banner",
         ["placements/default@1/home_banner/upgrade-banner", "placements/default@1/home_banner/welcome-back"]),
        ("placements/default@1/cart_drawer", ["placements/default@1/cart_drawer/cart-banner"]),
    ]
    assert json.loads(placed[0]["offers"][0]["when"]) == {"trait": "plan", "op": "eq", "value": "trial"}
    assert placed[0]["offers"][1]["when"] is None
