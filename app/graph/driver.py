"""The one Bolt driver a process uses, and the errors that mean "the graph is unreachable"."""

from __future__ import annotations

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError

from app.settings import Settings

UNAVAILABLE = (ServiceUnavailable, SessionExpired, TransientError, ConnectionError, OSError)


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
        connection_acquisition_timeout=10.0,
    )
