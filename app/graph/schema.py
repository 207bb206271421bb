"""Apply `cypher/schema/NNN_*.cypher` idempotently and record the schema version in the graph."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from neo4j import Driver

from app.clock import Clock, SystemClock
from app.graph.queries import CYPHER_DIR, query, statements

_NUMBERED = re.compile(r"^(\d{3})_[\w-]+\.cypher$")


@dataclass(frozen=True)
class AppliedSchema:
    version: int
    files: list[str]
    statements: int


def schema_files() -> list[tuple[int, str]]:
    """(version, query name) for each numbered schema file, in order."""
    found = []
    for path in sorted((CYPHER_DIR / "schema").iterdir()):
        match = _NUMBERED.match(path.name)
        if match:
            found.append((int(match.group(1)), f"schema/{path.stem}"))
    return found


def apply_schema(driver: Driver, database: str, clock: Clock | None = None) -> AppliedSchema:
    """Run every schema statement (each is IF NOT EXISTS) and record each file as a migration."""
    now = (clock or SystemClock()).now_ms()
    count = 0
    names = []
    version = 0
    for version, name in schema_files():
        for stmt in statements(name):
            driver.execute_query(stmt, database_=database)
            count += 1
        checksum = hashlib.sha256(query(name).encode()).hexdigest()
        driver.execute_query(
            query("schema/record_migration"),
            name=name, version=version, checksum=checksum, appliedAtMs=now, database_=database,
        )
        names.append(name)
    return AppliedSchema(version=version, files=names, statements=count)


def current_version(driver: Driver, database: str) -> int | None:
    records, _, _ = driver.execute_query(query("schema/current_version"), database_=database)
    value = records[0]["version"] if records else None
    return int(value) if value is not None else None
