"""The graph connection every store command of the CLI uses: found from NEO4J_URI or a running `journeys up`,
closed afterwards, with refused changes printed and turned into an exit code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from neo4j import Driver
from rich.console import Console
from rich.markup import escape

from app.discovery import nothing_running
from app.errors import JourneysError
from app.runtime import connect
from app.settings import Settings, get_settings


@contextmanager
def graph_driver(console: Console, what: str,
                 refused: Callable[[JourneysError], None] | None = None) -> Iterator[tuple[Settings, Driver]]:
    """Settings and a connected driver. No graph: exit 2, saying how to start one. A change the store refuses
    (a `JourneysError`: bad status, unknown id, invalid file): printed by `refused` (else its message), exit 1."""
    settings = get_settings()
    if not settings.neo4j_uri:
        console.print(f"[red]NEO4J_URI must be set ({what} need the graph): "
                      f"{escape(nothing_running(settings.data_dir))}[/red]")
        raise typer.Exit(2)
    driver = connect(settings, settings.neo4j_uri)
    try:
        yield settings, driver
    except JourneysError as exc:
        if refused is not None:
            refused(exc)
        else:
            console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from exc
    finally:
        driver.close()
