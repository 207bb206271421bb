"""Every query is a parameterised `.cypher` file under `cypher/`, loaded by name (`ingest/create_events`)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from app.settings import REPO_ROOT

CYPHER_DIR = Path(os.environ.get("JOURNEYS_CYPHER_DIR", REPO_ROOT / "cypher"))


@cache
def query(name: str) -> str:
    """The text of `cypher/<name>.cypher`; a missing name is a programming error (KeyError)."""
    path = (CYPHER_DIR / f"{name}.cypher").resolve()
    if CYPHER_DIR.resolve() not in path.parents or not path.is_file():
        raise KeyError(f"no Cypher query named {name!r} under {CYPHER_DIR}")
    return path.read_text(encoding="utf-8")


def statements(name: str) -> list[str]:
    """A file of several `;`-separated statements (schema files); `//` comment lines are dropped first,
    so a comment may contain anything."""
    code = "\n".join(line for line in query(name).splitlines() if not line.strip().startswith("//"))
    return [part.strip() for part in code.split(";") if part.strip()]
