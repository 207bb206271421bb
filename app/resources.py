"""Files shipped inside the installed package, found through `importlib.resources` (never the source tree).

The wheel carries the Cypher files as the `journeys_cypher` package (its directory is the top-level `cypher/`
folder, mapped by setup.py) and the examples, templates and schemas inside `app`. Wheels install unzipped,
so each resource is a plain filesystem path.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

CYPHER_PACKAGE = "journeys_cypher"


def package_path(package: str, *parts: str) -> Path:
    """The file or folder `parts` inside the importable `package`, as a filesystem path."""
    return Path(str(resources.files(package).joinpath(*parts)))


def cypher_dir() -> Path:
    """Where the `.cypher` files are: `JOURNEYS_CYPHER_DIR` if set, else the installed `journeys_cypher`
    package; an editable install made before that package existed falls back to the checkout's `cypher/`."""
    override = os.environ.get("JOURNEYS_CYPHER_DIR")
    if override:
        return Path(override)
    try:
        return package_path(CYPHER_PACKAGE)
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "cypher"
