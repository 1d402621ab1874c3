"""`attrition eval`: the parsers against real texts, with exactness and throughput."""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_CORPUS = Path("../shared/corpus")


def eval_command(
    corpus: Path = typer.Option(DEFAULT_CORPUS, "--corpus", help="Corpus folder (reports/...)."),
    repetitions: int = typer.Option(20, help="Timed passes over the reports for throughput."),
) -> None:
    """Per report file: values exact against the expected figures and the structured truth,
    every disagreement, and reports/s per core; then the article extractor's claims and
    articles/s per core."""
    from attrition.evaluation.article_eval import evaluate_articles, format_article_eval
    from attrition.evaluation.report_eval import evaluate_reports, format_report_eval

    if not (corpus / "reports").is_dir():
        typer.echo(f"no corpus at {corpus} (expected {corpus / 'reports'})", err=True)
        raise typer.Exit(2)
    typer.echo(format_report_eval(evaluate_reports(corpus, repetitions=repetitions)))
    if (corpus / "articles").is_dir():
        typer.echo("")
        typer.echo(format_article_eval(evaluate_articles(corpus)))
