"""How the CLI prints lint findings for a file (journeys, configuration documents, segments)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape


def print_findings(console: Console, path: Path, issues: Sequence[Any], line: Callable[[Any], str],
                   error: str = "error") -> bool:
    """One file's findings: `ok`, or a count of errors and warnings and a line each. True when it has errors."""
    errors = [i for i in issues if i.severity == error]
    if not issues:
        console.print(f"[bold]{escape(str(path))}[/bold]: [green]ok[/green]")
        return False
    summary = f"{len(errors)} error(s), {len(issues) - len(errors)} warning(s)"
    console.print(f"[bold]{escape(str(path))}[/bold]: {'[red]' if errors else '[yellow]'}{summary}[/]")
    for issue in issues:
        console.print(line(issue))
    return bool(errors)
