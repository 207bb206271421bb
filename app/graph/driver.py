"""The one Bolt driver a process uses, and the errors that mean "the graph is unreachable"."""

from __future__ import annotations

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired, TransientError

from app.settings import Settings

UNAVAILABLE = (ServiceUnavailable, SessionExpired, TransientError, ConnectionError, OSError)
# Failures that say nothing about the statement or its data: the connection or the server's session state
# (e.g. a pooled connection to a graph server that restarted: "BEGIN not expected in state: AUTHENTICATION").
_CONNECTION_STATE = ("not expected in state", "authentication", "connection", "defunct", "session expired")


def is_unavailable(exc: BaseException) -> bool:
    """The graph could not run the work (away, restarting, a stale connection): retry later, never blame the
    data. Statement and schema errors (`Neo.ClientError.Statement.*`, constraint violations) are not."""
    if isinstance(exc, UNAVAILABLE):
        return True
    if isinstance(exc, Neo4jError):
        code = exc.code or ""
        if code.startswith(("Neo.TransientError.", "Neo.ClientError.Request.", "Neo.ClientError.Security.")):
            return True
        text = (exc.message or str(exc)).lower()
        return not code.startswith(("Neo.ClientError.Statement.", "Neo.ClientError.Schema.")) and any(
            marker in text for marker in _CONNECTION_STATE)
    return False


def make_driver(settings: Settings, uri: str | None = None) -> Driver:
    """A driver for `uri` (default: settings.neo4j_uri) with short connection timeouts."""
    target = uri or settings.neo4j_uri
    if not target:
        raise ValueError("NEO4J_URI is not set and no embedded server was started")
    return GraphDatabase.driver(
        target,
        auth=(settings.neo4j_user, settings.neo4j_password),
        connection_timeout=5.0,
        max_transaction_retry_time=10.0,
        # Conflicts on a shared page or node clear in milliseconds; a 1 s first back-off made every retried
        # transaction a 1 s outlier. Still doubling with jitter, so a restarting server is waited for.
        initial_retry_delay=settings.graph_retry_initial_ms / 1000,
        retry_delay_multiplier=2.0,
        retry_delay_jitter_factor=0.5,
        connection_acquisition_timeout=10.0,
    )
