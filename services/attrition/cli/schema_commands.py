"""`attrition schemas export|check`: the public contracts in schemas/."""

from __future__ import annotations

from pathlib import Path

import typer

from attrition.contracts import schema_files

app = typer.Typer(no_args_is_help=True, help="JSON Schemas of the events (schemas/).")

_DIR = typer.Option(Path("schemas"), "--dir", help="Where the schema files live.")


@app.command("export")
def export(directory: Path = _DIR) -> None:
    """Write every event's JSON Schema, generated from the models."""
    for path in schema_files.export(directory):
        typer.echo(str(path))


@app.command("check")
def check(directory: Path = _DIR) -> None:
    """Fail when the models would break a consumer of the published schemas, or drifted."""
    breaking = schema_files.check(directory)
    for problem in breaking:
        typer.echo(f"breaking: {problem}", err=True)
    drifted = schema_files.drift(directory)
    for problem in drifted:
        typer.echo(f"drift: {problem}", err=True)
    if breaking or drifted:
        raise typer.Exit(1)
    typer.echo("schemas: compatible, no drift")
