"""The backtest as a picture: per category, the daily changes, the band between the baseline and
the spike line, and the alert days. matplotlib is imported here only, on demand."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from attrition.alerts.backtest import BacktestResult
from attrition.alerts.settings import AlertSettings
from attrition.contracts.vocabulary import AlertKind, Category
from attrition.history.petroivaniuk import History

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from numpy.typing import NDArray


def plot_backtest(
    result: BacktestResult,
    history: History,
    path: Path,
    settings: AlertSettings | None = None,
) -> Path:
    """Write a PNG with one panel per category to `path` and return it."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    settings = settings or AlertSettings()
    categories = [c for c in history.series if history.changes(c)]
    columns = 2
    rows = math.ceil(len(categories) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(15, 2.3 * rows), sharex=True, squeeze=False)
    for index, category in enumerate(categories):
        axis = axes[index // columns][index % columns]
        _draw_category(axis, category, result, history, settings)
    for index in range(len(categories), rows * columns):
        axes[index // columns][index % columns].set_visible(False)

    spikes = len(result.of_kind(AlertKind.spike))
    figure.suptitle(
        f"Backtest: {result.category_days} category-days, {spikes} spike alerts "
        f"({spikes / max(result.category_days, 1):.1%}); "
        "grey: daily change, band: baseline median to spike line, "
        "red: spike, orange: data quality",
        fontsize=10,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def _draw_category(
    axis: Axes,
    category: Category,
    result: BacktestResult,
    history: History,
    settings: AlertSettings,
) -> None:
    changes = history.changes(category)
    axis.plot(
        _days(day for day, _, _ in changes),
        [change / days for _, change, days in changes],
        color="0.55",
        linewidth=0.6,
    )
    baselines = result.baselines.get(category, [])
    if baselines:
        floor = settings.floor_for(category)
        threshold = settings.threshold_for(category)
        days = _days(day for day, _ in baselines)
        medians = [b.median for _, b in baselines]
        spike_lines = [
            max(floor, settings.min_ratio * b.median, b.median + threshold * b.scale)
            for _, b in baselines
        ]
        axis.plot(days, medians, color="tab:blue", linewidth=0.8)
        axis.fill_between(days, medians, spike_lines, color="tab:blue", alpha=0.18, linewidth=0)
    for kind, colour, marker in (
        (AlertKind.spike, "tab:red", "o"),
        (AlertKind.data_quality, "tab:orange", "x"),
    ):
        alerts = [a for a in result.of_kind(kind) if a.category is category]
        axis.scatter(
            _days(a.as_of for a in alerts),
            [a.value for a in alerts],
            color=colour,
            marker=marker,
            s=14,
        )
    largest = max((abs(change / days) for _, change, days in changes), default=0.0)
    if largest > 50:
        # Decreases are negative and UAVs reach thousands a day: only symlog shows both.
        axis.set_yscale("symlog", linthresh=10)
    axis.xaxis_date()
    axis.set_title(category.value, fontsize=9, loc="left")
    axis.tick_params(labelsize=7)


def _days(days: Iterable[date]) -> NDArray[np.datetime64]:
    import numpy as np

    return np.array(list(days), dtype="datetime64[D]")
