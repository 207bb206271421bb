"""app/graph/driver.py is_unavailable: connection trouble is retried, never blamed on the events."""

from __future__ import annotations

from neo4j.exceptions import Neo4jError, ServiceUnavailable

from app.graph.driver import is_unavailable


def error(code: str, message: str) -> Neo4jError:
    return Neo4jError._hydrate_neo4j(code=code, message=message)


def test_a_stale_connection_after_a_graph_restart_is_unavailable() -> None:
    # what ArcadeDB's Bolt server answered on a pooled connection after it restarted (seen in bench.soak)
    stale = error("Neo.DatabaseError.General.UnknownError", "BEGIN not expected in state: AUTHENTICATION")
    assert is_unavailable(stale)
    assert is_unavailable(ServiceUnavailable("gone"))
    assert is_unavailable(error("Neo.TransientError.Transaction.DeadlockDetected", "retry"))
    assert is_unavailable(error("Neo.ClientError.Security.AuthorizationExpired", "expired"))


def test_statement_and_schema_errors_are_the_data() -> None:
    assert not is_unavailable(error("Neo.ClientError.Schema.ConstraintValidationFailed", "connection already exists"))
    assert not is_unavailable(error("Neo.ClientError.Statement.TypeError", "cannot compare"))
    assert not is_unavailable(error("Neo.DatabaseError.General.UnknownError", "a property value is too large"))
    assert not is_unavailable(ValueError("boom"))
