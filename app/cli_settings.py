"""`journeys settings reference`: the configuration reference generated from the settings model."""

from __future__ import annotations

from typing import Annotated

import typer

from app import settings_reference

settings_app = typer.Typer(help="Settings: the generated configuration reference.")


@settings_app.command("reference")
def reference(
    write: Annotated[bool, typer.Option("--write", help="rewrite docs/configuration.md and README.md's table "
                                        "in the checkout")] = False,
) -> None:
    """Print every setting (variable, default, meaning, commands), or rewrite the two documents."""
    if not write:
        typer.echo(settings_reference.reference(), nl=False)
        return
    changed = settings_reference.write()
    typer.echo("rewrote " + ", ".join(str(p) for p in changed) if changed else "up to date")
