"""A publishable chart of a simulation: shares by outcome per policy, and people by nationality.

matplotlib is an optional dependency (``pip install 'asylum-eligibility[plot]'``); it is imported
only when a chart is drawn, with the non-interactive Agg backend.
"""

from __future__ import annotations

import textwrap
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eligibility.errors import EligibilityError
from eligibility.simulate.population import (
    NATIONALITIES,
    NATIONALITY_NAMES,
    Outcome,
    SimulationResult,
    load_population,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes


class MissingDependencyError(EligibilityError):
    """An optional dependency needed for this feature is not installed."""


_TRANSFER_COLOURS = ("#c0392b", "#e67e22", "#a04000", "#f1948a")


def _colour(outcome: Outcome, transfers: list[str]) -> str:
    if outcome.outcome == "transfer":
        return _TRANSFER_COLOURS[transfers.index(outcome.label) % len(_TRANSFER_COLOURS)]
    if outcome.outcome != "process_in_us":
        return "#bdbdbd"
    waits = outcome.wait_in_mexico is True
    if outcome.asylum == "eligible":
        return "#9ecae1" if waits else "#2171b5"
    if outcome.asylum == "barred":
        return "#bcbddc" if waits else "#54278f"
    return "#d9d9d9" if waits else "#969696"


def _hatch(outcome: Outcome) -> str:
    return "//" if outcome.outcome == "process_in_us" and outcome.wait_in_mexico is True else ""


def _version() -> str:
    try:
        return metadata.version("asylum-eligibility")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "dev"


_MISSING = "--plot needs matplotlib: pip install 'asylum-eligibility[plot]'"


def require_matplotlib() -> None:
    """Raise ``MissingDependencyError`` now, before any work, when matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependencyError(_MISSING) from None


def plot(result: SimulationResult, path: str | Path) -> Path:
    """Draw the chart to ``path`` (PNG, or any format matplotlib knows from the suffix)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError:
        raise MissingDependencyError(_MISSING) from None

    labels = result.labels()
    transfers = [lb for lb in labels if result.outcomes[lb].outcome == "transfer"]
    colours = {lb: _colour(result.outcomes[lb], transfers) for lb in labels}
    hatches = {lb: _hatch(result.outcomes[lb]) for lb in labels}
    a = result.assumptions
    total = result.total
    policies = list(result.policies)

    # Layout in inches: title and subtitle on top; x-axis labels, legend and the footer below. The
    # footer names every source of the population (its data file's `sources`), one line each.
    footer = _footer(load_population().source_names())
    footer_height = _FOOTER_LINE * footer.count("\n") + 0.12
    legend_rows = -(-len(labels) // 2)
    legend_at = 0.1 + footer_height + 0.18
    height = 8.4 + 0.24 * legend_rows + (legend_at - 0.5)
    below = legend_at + 0.1 + 0.24 * legend_rows + 0.65
    plt.rcParams.update({"font.size": 10, "hatch.color": "#ffffff", "hatch.linewidth": 0.8})
    fig = plt.figure(figsize=(12.5, height), dpi=150)
    grid = fig.add_gridspec(
        2,
        len(policies),
        height_ratios=[0.55 + 0.28 * len(policies), 2.0],
        hspace=0.55,
        wspace=0.08,
        left=0.2,
        right=0.98,
        top=1 - 1.8 / height,
        bottom=below / height,
    )

    fig.suptitle(
        f"How many of the {total:,} people apprehended at the U.S. southwest border in FY2019\n"
        "could have been sent to Guatemala?",
        x=0.02,
        y=1 - 0.2 / height,
        ha="left",
        fontsize=15,
        fontweight="bold",
    )
    decision = a.decision_date or a.entry_date
    fig.text(
        0.02,
        1 - 1.05 / height,
        f"Counterfactual: everyone treated as arriving on {a.entry_date:%d %b %Y}"
        + (f" (decided {decision:%d %b %Y})" if decision != a.entry_date else "")
        + f", between ports of entry, without documents; {100 * a.family_child_share:.0f}% of family-unit "
        f"individuals are children; seed {result.seed}.\nThe people actually arrived in Oct 2018\u2013Sep 2019, "
        "before the U.S.\u2013Guatemala agreement entered into force (15 Nov 2019).",
        ha="left",
        va="bottom",
        fontsize=9.5,
        color="#444444",
    )

    # Top: share of everyone, by outcome, one bar per policy.
    top: Axes = fig.add_subplot(grid[0, :])
    # a long policy title is wrapped, so that the labels left of the bars fit in the margin
    names = [f"{textwrap.fill(result.policy_titles[p], 32)}\n({p})" for p in policies]
    for row, policy in enumerate(policies):
        counts = result.by_outcome(policy)
        left = 0.0
        for label in labels:
            share = counts.get(label, 0) / total
            if not share:
                continue
            top.barh(
                row,
                share,
                left=left,
                color=colours[label],
                hatch=hatches[label],
                edgecolor="white",
                linewidth=0.6,
                height=0.62,
            )
            if share >= 0.03:
                dark = colours[label] in ("#c0392b", "#a04000", "#2171b5", "#54278f", "#969696")
                top.text(
                    left + share / 2,
                    row,
                    f"{100 * share:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=9.5,
                    fontweight="bold",
                    color="white" if dark else "#222222",
                )
            left += share
    top.set_yticks(range(len(policies)), names)
    top.invert_yaxis()
    top.set_xlim(0, 1)
    top.xaxis.set_major_formatter(lambda x, _pos: f"{100 * x:.0f}%")
    top.set_xlabel(f"Share of all {total:,} people apprehended")
    _heading(fig, top.get_position().y1 + 0.015, "Everyone: share by outcome under each policy")
    _clean(top)

    # Bottom: people by nationality, one panel per policy (same scale).
    widest = max(sum(result.by_outcome(p, nationality=n).values()) for p in policies for n in NATIONALITIES)
    for col, policy in enumerate(policies):
        ax: Axes = fig.add_subplot(grid[1, col])
        for row, nat in enumerate(NATIONALITIES):
            counts = result.by_outcome(policy, nationality=nat)
            left = 0.0
            for label in labels:
                n = counts.get(label, 0) / 1000
                if n:
                    ax.barh(
                        row,
                        n,
                        left=left,
                        color=colours[label],
                        hatch=hatches[label],
                        edgecolor="white",
                        linewidth=0.6,
                        height=0.7,
                    )
                    left += n
            moved = sum(v for k, v in counts.items() if k in transfers)
            if moved:
                ax.text(
                    left + widest / 1000 * 0.02,
                    row,
                    f"{moved / 1000:,.0f}k sent",
                    va="center",
                    fontsize=8.5,
                    color="#c0392b",
                    fontweight="bold",
                )
        ax.set_yticks(
            range(len(NATIONALITIES)),
            [NATIONALITY_NAMES[n] for n in NATIONALITIES] if col == 0 else [""] * len(NATIONALITIES),
        )
        ax.invert_yaxis()
        ax.set_xlim(0, widest / 1000 * 1.32)
        ax.set_xlabel("People (thousands)")
        title = textwrap.fill(result.policy_titles[policy], max(24, 100 // len(policies)))
        ax.set_title(title, loc="left", fontsize=10.5, fontweight="bold")
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        _clean(ax)
        if col == 0:
            _heading(
                fig,
                ax.get_position().y1 + 0.045,
                "By citizenship: people and their outcome under each policy",
            )

    handles = [
        Patch(facecolor=colours[lb], hatch=hatches[lb], edgecolor="white", label=_legend(lb)) for lb in labels
    ]
    fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.02, legend_at / height),
        ncol=min(2, len(handles)),
        frameon=False,
        fontsize=9,
        handlelength=2.2,
        columnspacing=2.5,
    )
    fig.text(
        0.02, 0.1 / height, footer, ha="left", va="bottom", fontsize=7.8, color="#555555", linespacing=1.3
    )
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out


_FOOTER_LINE = 0.15  # inches per footer line (7.8 pt text, line spacing 1.3)


def _footer(sources: list[str]) -> str:
    """The chart's footer: every source of the population, then how the rules and model were run."""
    lines = [
        "Sources of the population (U.S. Border Patrol, southwest border, FY2019; every figure with its "
        "source and evidence level: --format json):"
    ]
    lines += [f"  \u2022 {name}" for name in sources]
    lines.append(
        f"Rules and model: asylum-eligibility {_version()}, `eligibility simulate` (legal rules as cited in its rule "
        "files; the split of ages, families and routes is an assumption; 'other' nationalities are treated alike)."
    )
    return "\n".join(lines)


def _legend(label: str) -> str:
    if label.startswith("transfer to "):
        return "Sent to " + label.removeprefix("transfer to ").replace("GT", "Guatemala")
    if label == "undetermined":
        return "Undetermined (the assumed facts do not settle it)"
    text = label.replace("processed in U.S., ", "Heard in the U.S.: ")
    text = text.replace("barred from asylum", "barred from asylum (withholding/CAT only)")
    text = text.replace("asylum undetermined", "asylum undetermined (assumed facts do not settle it)")
    return text.replace(", may wait in Mexico (MPP)", "; may wait in Mexico (MPP)")


def _heading(fig: Any, y: float, text: str) -> None:
    """A section heading of the chart, flush left at height ``y`` (figure coordinates)."""
    fig.text(0.02, y, text, ha="left", va="bottom", fontsize=11, fontweight="bold")


def _clean(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
