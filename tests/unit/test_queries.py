"""Named Cypher files: every file loads; schema files split into statements; comments may hold `;`."""

from __future__ import annotations

import pytest

from app.graph.queries import CYPHER_DIR, query, statements
from app.graph.schema import schema_files


def test_every_cypher_file_loads_by_name() -> None:
    names = [p.relative_to(CYPHER_DIR).with_suffix("").as_posix() for p in CYPHER_DIR.rglob("*.cypher")]
    assert len(names) > 30
    for name in names:
        assert query(name).strip()


def test_schema_files_split_into_statements_ignoring_comments() -> None:
    files = schema_files()
    assert [v for v, _ in files] == sorted(v for v, _ in files) and files[0][0] == 1
    for _, name in files:
        for stmt in statements(name):
            assert stmt.split()[0] in ("CREATE", "DROP") and ";" not in stmt and "//" not in stmt
    assert statements("schema/004_drop_low_value_indexes")[0] == "DROP INDEX event_type IF EXISTS"


def test_unknown_or_escaping_names_are_refused() -> None:
    for bad in ("nope/missing", "../pyproject"):
        with pytest.raises(KeyError):
            query(bad)
