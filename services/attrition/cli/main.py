"""`attrition`: every command, registered in one place."""

from __future__ import annotations

import typer

from attrition.cli import (
    audit_command,
    backtest_command,
    bench_command,
    eval_command,
    ingest_commands,
    parse_command,
    pipeline_commands,
    schema_commands,
    soak_command,
    state_commands,
    warehouse_commands,
)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="attrition: combat-loss reports and articles in, loss, delta and alert events out.",
)
app.command("run")(pipeline_commands.run)
app.command("parse")(parse_command.parse)
app.command("totals")(warehouse_commands.totals)
app.command("broker")(pipeline_commands.broker)
app.command("worker")(pipeline_commands.worker)
app.command("publish")(pipeline_commands.publish_command)
app.command("poll")(ingest_commands.poll)
app.command("backfill")(pipeline_commands.backfill)
app.command("backtest")(backtest_command.backtest)
app.command("bench")(bench_command.bench)
app.command("audit")(audit_command.audit)
app.command("soak")(soak_command.soak)
app.command("eval")(eval_command.eval_command)
app.command("export")(warehouse_commands.export)
app.add_typer(schema_commands.app, name="schemas")
app.add_typer(state_commands.app, name="state")


def main() -> None:
    pipeline_commands.setup_logging()
    app()


if __name__ == "__main__":
    main()
