"""`journeys journey simulate FILE --from ... --to ...`: the what-if replay from the command line (registered
on the `journey` sub-app), with a progress bar, the Markdown report printed and optionally written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.clock import SystemClock
from app.discovery import nothing_running
from app.errors import JourneysError
from app.journeys.loader import JourneyInvalid, load_definition
from app.runtime import connect
from app.settings import get_settings
from app.simulate.report import bar_chart_svg, markdown
from app.simulate.source import parse_time, simulate

console = Console()


def simulate_command(
    file: Annotated[Path, typer.Argument(help="the draft journey file (YAML or JSON)", exists=True, dir_okay=False)],
    from_: Annotated[str, typer.Option("--from", help="window start: epoch ms, ISO date/time, 'now' or '-7d'")],
    to: Annotated[str, typer.Option("--to", help="window end (excluded); same forms")] = "now",
    out: Annotated[Path | None, typer.Option("--out", help="write the Markdown report here (and the chart "
                                                            "next to it as .svg)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as canonical JSON instead")] = False,
) -> None:
    """Replay a draft version over a window of recorded events (in memory, read-only) against the live journeys
    and constraints, and compare it with what the live version did."""
    try:
        definition = load_definition(file)
    except JourneyInvalid as exc:
        console.print(f"[red]invalid journey {escape(str(file))}[/red]: {escape('; '.join(exc.issues))}")
        raise typer.Exit(1) from exc
    settings = get_settings()
    if not settings.neo4j_uri:
        console.print(f"[red]NEO4J_URI must be set: {escape(nothing_running(settings.data_dir))}[/red]")
        raise typer.Exit(2)
    now = SystemClock().now_ms()
    driver = None
    try:
        lo, hi = parse_time(from_, now), parse_time(to, now)
        driver = connect(settings, settings.neo4j_uri)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=as_json) as bar:
            reading = bar.add_task("reading people", total=None)
            replaying = bar.add_task("replaying events", total=None)
            result = simulate(driver, settings.neo4j_database, definition, lo, hi,
                              reading=lambda done, total: bar.update(reading, completed=done, total=total),
                              replaying=lambda done, total: bar.update(replaying, completed=done, total=total))
    except JourneysError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from exc
    finally:
        if driver is not None:
            driver.close()
    if as_json:
        typer.echo(result.model_dump_json())
        return
    chart = None
    if out is not None:
        svg = out.with_suffix(".svg")
        svg.write_text(bar_chart_svg(result), encoding="utf-8")
        chart = svg.name
        out.write_text(markdown(result, chart), encoding="utf-8")
    console.print(Markdown(markdown(result, None)))
    if out is not None:
        console.print(f"report written to {escape(str(out))} (chart {escape(str(out.with_suffix('.svg')))})")
