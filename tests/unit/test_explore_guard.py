"""The explorer's read-only guard and debug catalogue (pure)."""

from __future__ import annotations

import pytest

from app.explorer import RefusedQuery, check_read_only, debug_queries


@pytest.mark.parametrize("text", [
    "CREATE (n) RETURN n", "match (p) set p.a = 1", "MATCH (n) DETACH DELETE n", "MERGE (n:X)",
    "MATCH (p) REMOVE p.a", "DROP INDEX x", "CALL db.labels()", "LOAD CSV FROM 'x' AS r RETURN r",
    "MATCH (p) FOREACH (x IN [1] | SET p.a = x)", "MATCH (n) RETURN n; MATCH (m) RETURN m", "", "  // only\n",
    "MATCH (n) /* c */ Create (m)", "USE other MATCH (n) RETURN n",
])
def test_refused(text: str) -> None:
    with pytest.raises(RefusedQuery):
        check_read_only(text)


@pytest.mark.parametrize("text", [
    "MATCH (n) RETURN n LIMIT 5;", "MATCH (e:Event {event: 'Create Account'}) RETURN e",
    "MATCH (n) WHERE n.note = \"set; delete\" RETURN n // merge later", "MATCH (n) RETURN n.`set` AS s",
])
def test_allowed(text: str) -> None:
    assert check_read_only(text) == text.strip().rstrip(";")


def test_debug_catalogue_reads_headers_and_params() -> None:
    found = {q["name"]: q for q in debug_queries()}
    assert {"capped_today", "decision_neighbourhood", "why_not_sent"} <= set(found)
    why = found["why_not_sent"]
    assert [p["name"] for p in why["params"]] == ["userId", "journeyId", "stepId"]
    assert why["params"][2]["example"] == "'email_reminder'"
    for q in found.values():
        check_read_only(q["text"])  # every debug query passes the guard
