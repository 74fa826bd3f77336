"""Plot of ratings over model versions: x = version order, y = Elo with interval error bars.

Names containing a digit are versions ("model_v3"), placed in natural order; names without one
("random", "heuristic") are baselines, drawn as labelled horizontal lines. Unrated (disconnected)
participants are left out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from ringrift.atomic import atomic_path
from ringrift.evaluate.elo import Rating


def version_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Natural sort key: 'model_v10' sorts after 'model_v9'."""
    return tuple((0, int(part)) if part.isdigit() else (1, part)
                 for part in re.split(r"(\d+)", name) if part)


def plot_ratings(ratings: Sequence[Rating], path: str | os.PathLike[str],
                 title: str = "Elo by model version") -> Path:
    """Write a PNG of the connected ratings in natural name order; returns the path written."""
    # Figure + Agg canvas directly: no pyplot global state, no display backend needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rated = [r for r in ratings if r.connected]
    baselines = [r for r in rated if not any(c.isdigit() for c in r.name)]
    shown = sorted((r for r in rated if r not in baselines), key=lambda r: version_key(r.name))
    if not shown:  # no versioned names at all: plot everyone as points
        shown, baselines = sorted(rated, key=lambda r: version_key(r.name)), []
    figure = Figure(figsize=(max(6.0, 0.6 * len(shown) + 2.0), 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    x = list(range(len(shown)))
    y = [r.elo for r in shown]
    errors = [[r.elo - r.low for r in shown], [r.high - r.elo for r in shown]]
    axes.errorbar(x, y, yerr=errors, fmt="o-", capsize=4)
    for r in baselines:
        axes.axhline(r.elo, linestyle="--", linewidth=1, color="gray")
        axes.annotate(r.name, (0, r.elo), xycoords=("axes fraction", "data"),
                      xytext=(3, 3), textcoords="offset points", color="gray")
    axes.set_xticks(x, [r.name for r in shown], rotation=45, ha="right")
    axes.set_xlabel("model version")
    axes.set_ylabel("Elo")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    target = Path(path)
    with atomic_path(target, suffix=".png") as tmp:
        figure.savefig(tmp, format="png")
    return target
