"""Plots for the research area: score distributions by arm and wave, response rates by school.

Pure (pandas and matplotlib's object API with the Agg canvas; no pyplot, so no global
backend state in a web server). Each plot comes with the numbers it shows, for a data table
beside the image (people who cannot see it, and people who would rather read).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Colour-blind safe (Okabe-Ito) colours for arms.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]


def score_summary(wide: pd.DataFrame, column: str) -> pd.DataFrame:
    """n, mean, sd, median and quartiles of one score per wave and arm."""
    data = wide[["wave", "arm", column]].dropna(subset=[column])
    if data.empty:
        return pd.DataFrame(columns=["wave", "arm", "n", "mean", "sd", "median", "q1", "q3"])
    grouped = data.groupby(["wave", "arm"], sort=False)[column]
    out = grouped.agg(
        n="count",
        mean="mean",
        sd="std",
        median="median",
        q1=lambda s: s.quantile(0.25),
        q3=lambda s: s.quantile(0.75),
    ).reset_index()
    return out.round(3)


def plot_scores(
    wide: pd.DataFrame,
    column: str,
    title: str,
    path: Path,
    waves: Sequence[str],
    arms: Sequence[str],
) -> Path:
    """Box plots of one construct score: one group per wave, one box per arm within it."""
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(arms))
    handles = []
    for a, arm in enumerate(arms):
        series = []
        positions = []
        for w, wave in enumerate(waves):
            values = wide.loc[(wide["wave"] == wave) & (wide["arm"] == arm), column].dropna()
            if len(values):
                series.append(values.to_numpy())
                positions.append(w + (a - (len(arms) - 1) / 2) * width)
        if not series:
            continue
        colour = PALETTE[a % len(PALETTE)]
        box = ax.boxplot(
            series,
            positions=positions,
            widths=width * 0.9,
            patch_artist=True,
            manage_ticks=False,
        )
        for patch in box["boxes"]:
            patch.set_facecolor(colour)
            patch.set_alpha(0.7)
        handles.append((box["boxes"][0], str(arm)))
    ax.set_xticks(np.arange(len(waves)), [str(w) for w in waves])
    ax.set_xlim(-0.6, len(waves) - 0.4)
    ax.set_ylabel("score")
    ax.set_title(title)
    if handles:
        ax.legend([h for h, _ in handles], [label for _, label in handles], title="arm")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def plot_response_rates(rates: pd.DataFrame, path: Path) -> Path:
    """Horizontal bars: completion rate (completed / issued) per school code and wave."""
    waves = list(dict.fromkeys(rates["wave"]))
    schools = sorted(dict.fromkeys(rates["school"]))
    fig = Figure(figsize=(8, max(2.5, 0.35 * len(schools) * max(1, len(waves)) + 1)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    height = 0.8 / max(1, len(waves))
    for w, wave in enumerate(waves):
        part = rates[rates["wave"] == wave].set_index("school").reindex(schools)
        y = np.arange(len(schools)) + (w - (len(waves) - 1) / 2) * height
        ax.barh(
            y, (part["rate"].fillna(0) * 100).to_numpy(), height=height * 0.9,
            color=PALETTE[w % len(PALETTE)], label=str(wave),
        )  # fmt: skip
    ax.set_yticks(np.arange(len(schools)), schools)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("completed (% of cards issued)")
    ax.set_title("Response rate by school")
    if waves:
        ax.legend(title="wave")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
