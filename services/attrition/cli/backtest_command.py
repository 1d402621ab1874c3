"""`attrition backtest`: the spike detector over the whole recorded history."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

from attrition.settings import Settings

DEFAULT_HISTORY = Path("../shared/corpus/truth/petroivaniuk")


def backtest(
    input: Path = typer.Option(DEFAULT_HISTORY, "--input", help="Structured history folder."),
    plot: Path | None = typer.Option(None, "--plot", help="Draw the backtest to this PNG."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
) -> None:
    """Alert days per category and the alert rate, with the default (or env) settings."""
    from attrition.alerts.backtest import render_text, run_backtest, score_backtest
    from attrition.history.petroivaniuk import load_history

    if not input.exists():
        typer.echo(f"no history at {input}", err=True)
        raise typer.Exit(2)
    settings = Settings().alerts
    history = load_history(input)
    result = run_backtest(history, settings)
    if as_json:
        typer.echo(orjson.dumps(result.to_json()).decode())
    else:
        typer.echo(render_text(result, score_backtest(result, history)))
    if plot is not None:
        from attrition.alerts.plot import plot_backtest

        plot_backtest(result, history, plot, settings)
        typer.echo(f"plot written to {plot}", err=True)
