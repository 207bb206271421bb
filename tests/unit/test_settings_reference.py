"""docs/configuration.md and README.md's settings table are generated from app/settings.py and never drift."""

from __future__ import annotations

import pytest

from app import settings_reference as ref
from app.settings import Settings

FIX = (f"run `.venv/bin/{ref.REGENERATE}` (or `python -m app.cli settings reference --write`) in the checkout "
       "and commit docs/configuration.md and README.md")


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_says_what_it_means_and_who_reads_it(name: str) -> None:
    field = Settings.model_fields[name]
    assert ref.meaning(name, field), (
        f"setting {name} has no meaning: give it Field(description=...) in app/settings.py (or an entry in "
        f"MEANINGS in app/settings_reference.py), then {FIX}")
    assert ref.commands(name, field), (
        f"setting {name} names no command: give it Field(json_schema_extra={{'commands': ['up', ...]}}) or a "
        f"COMMAND_RULES prefix in app/settings_reference.py, then {FIX}")


def test_the_configuration_reference_is_current() -> None:
    assert ref.REFERENCE_PATH.is_file(), f"docs/configuration.md is missing: {FIX}"
    assert ref.REFERENCE_PATH.read_text(encoding="utf-8") == ref.reference(), (
        f"docs/configuration.md differs from the settings model: {FIX}")


def test_the_readme_table_is_current() -> None:
    readme = ref.README_PATH.read_text(encoding="utf-8")
    assert ref.BEGIN in readme and ref.END in readme, f"README.md lost the generated settings table markers: {FIX}"
    assert readme == ref.readme_with_table(readme), f"README.md's settings table differs from the model: {FIX}"


def test_the_reference_names_every_variable_once() -> None:
    variables = [var for _, var, _, _, _ in ref.rows()]
    assert len(variables) == len(set(variables))
    assert {(f.alias or n).upper() for n, f in Settings.model_fields.items()} == set(variables)
    assert all(f"`{var}`" in ref.reference() for var in variables)
