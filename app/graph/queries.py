"""Every query is a parameterised `.cypher` file under `cypher/`, loaded by name (`ingest/create_events`)."""

from __future__ import annotations

from functools import cache

from app.resources import cypher_dir

# The installed `journeys_cypher` package (the checkout's `cypher/` folder), or JOURNEYS_CYPHER_DIR.
CYPHER_DIR = cypher_dir()


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
