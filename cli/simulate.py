"""``eligibility simulate``: the FY2019 southwest border population under each policy.

Loaded by ``eligibility_cli.main`` only when the command runs (it needs numpy). Exit codes (see the README): 0 done; 2 a bad
option value, one line, no traceback; 1 an unexpected internal error.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import click

from eligibility.simulate.population import (
    DEFAULT_POLICIES,
    DEFAULT_SEED,
    SimulationError,
    make_assumptions,
    render_csv,
    render_json,
    render_text,
)
from eligibility.simulate.population import (
    simulate as run_simulation,
)

from ._shared import UserError, user_errors

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Assumption field -> the option that sets it (so an error names the option the user typed).
_OPTION_OF = {
    "entry_date": "--entry-date",
    "decision_date": "--decision-date",
    "family_child_share": "--child-share",
    "mexico_uac": "--mexico-uac",
    "other_nationality": "--other-nationality",
    "denied_in_transit_share": "--denied-in-transit",
    "fear_of_guatemala_share": "--fear-of-guatemala",
    "fear_of_mexico_share": "--fear-of-mexico",
    "visa_share": "--visa-share",
    "states_from_sectors": "--states-from-sectors",
}


class _OneLineErrors(click.Command):
    """Click's usage errors (bad type, unknown option) as one line, not usage plus hint."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise UserError(exc.format_message()) from None


def _date(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        if not _ISO_DATE.match(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{flag}: '{value}' is not a date YYYY-MM-DD") from None


@click.command(cls=_OneLineErrors)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    help="A policy to simulate; repeat for several. Default: " + ", ".join(DEFAULT_POLICIES) + ".",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text: tables with the assumptions; json: one object; csv: one row per count (long format).",
)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Also draw a chart to FILE.png.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the table to FILE, not stdout.")
@click.option(
    "--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed of the sub-cohorts."
)
@click.option(
    "--entry-date",
    default="2020-01-15",
    show_default=True,
    help="Everyone is treated as arriving on this date (the FY2019 arrivals predate the Guatemala ACA).",
)
@click.option("--decision-date", help="Date of the determinations (default: the entry date).")
@click.option(
    "--child-share",
    type=float,
    default=0.5,
    show_default=True,
    help="Share of family-unit individuals who are children (an assumption; CBP does not publish it here).",
)
@click.option(
    "--mexico-uac",
    type=int,
    default=10_400,
    show_default=True,
    help="Unaccompanied Mexican children in FY2019 (CBP: 'more than 10,400').",
)
@click.option(
    "--other-nationality",
    default="NI",
    show_default=True,
    help="Nationality that represents the 77,276 'other' people.",
)
@click.option(
    "--denied-in-transit",
    type=float,
    default=0.0,
    show_default=True,
    help="Share who were finally denied protection in a transit country (transit-bar exception).",
)
@click.option(
    "--fear-of-guatemala",
    type=float,
    default=0.0,
    show_default=True,
    help="Share who establish that harm in Guatemala is more likely than not (ACA screening).",
)
@click.option(
    "--fear-of-mexico",
    type=float,
    default=0.0,
    show_default=True,
    help="Share who establish that harm in Mexico is more likely than not (MPP exception).",
)
@click.option(
    "--visa-share",
    type=float,
    default=0.0,
    show_default=True,
    help="Share who hold a U.S. visa (an exception of the Guatemala ACA as enacted, not of the July 2019 draft; "
    "CBP publishes no figure).",
)
@click.option(
    "--states-from-sectors/--no-states-from-sectors",
    default=True,
    show_default=True,
    help="Draw the entry state from the Border Patrol sector figures, or leave it unknown.",
)
@click.option(
    "--population",
    "population_file",
    type=click.Path(dir_okay=False),
    help="Count the cases of a CSV file (the batch layout) under each policy instead: "
    "the assumption options do not apply.",
)
@user_errors
def simulate(
    policies: tuple[str, ...],
    fmt: str,
    plot_path: str | None,
    output: str | None,
    seed: int,
    entry_date: str,
    decision_date: str | None,
    child_share: float,
    mexico_uac: int,
    other_nationality: str,
    denied_in_transit: float,
    fear_of_guatemala: float,
    fear_of_mexico: float,
    visa_share: float,
    states_from_sectors: bool,
    population_file: str | None,
) -> None:
    """How many of the 851,508 people apprehended by the Border Patrol at the southwest border in FY2019
    could have been sent to Guatemala under each policy.

    Every cohort (nationality, demographic, and sub-cohorts drawn with --seed) is determined once
    per policy; every figure comes from CBP with its source and evidence level (--format json).

    \b
    eligibility simulate
    eligibility simulate --policy implemented --entry-date 2019-12-01 --format csv
    eligibility simulate --plot fy2019.png
    eligibility simulate --population cases.csv --policy enacted --policy implemented
    """
    if population_file:
        _count_file(population_file, policies, fmt, output, plot_path)
        return
    try:
        if plot_path:
            from eligibility.simulate.plot import MissingDependencyError, require_matplotlib

            try:
                require_matplotlib()
            except MissingDependencyError as exc:
                raise UserError(str(exc)) from None
        assumptions = make_assumptions(
            entry_date=_date(entry_date, "--entry-date"),
            decision_date=_date(decision_date, "--decision-date"),
            family_child_share=child_share,
            mexico_uac=mexico_uac,
            other_nationality=other_nationality,
            denied_in_transit_share=denied_in_transit,
            fear_of_guatemala_share=fear_of_guatemala,
            fear_of_mexico_share=fear_of_mexico,
            visa_share=visa_share,
            states_from_sectors=states_from_sectors,
        )
        result = run_simulation(list(policies) or list(DEFAULT_POLICIES), assumptions, seed)
        rendered = {"text": render_text, "json": render_json, "csv": render_csv}[fmt](result)
        if output:
            _write(output, rendered)
        else:
            click.echo(rendered, nl=False)
        if plot_path:
            from eligibility.simulate.plot import MissingDependencyError, plot

            try:
                plot(result, plot_path)
            except MissingDependencyError as exc:
                raise UserError(str(exc)) from None
            except OSError as exc:
                raise UserError(f"{plot_path}: cannot write: {exc.strerror or exc}") from None
            click.echo(f"chart: {plot_path}", err=True)
    except SimulationError as exc:  # a bad assumption: name the option that set it
        raise UserError(_with_option_names(str(exc))) from None


def _count_file(path: str, policies: tuple[str, ...], fmt: str, output: str | None, plot: str | None) -> None:
    """``--population FILE``: the file's cases counted by outcome code under each policy."""
    from eligibility.columnar import ColumnarError
    from eligibility.errors import UnknownPolicyError
    from eligibility.simulate.population import count_file, render_file_counts

    if plot:
        raise UserError("--plot: not with --population (the chart is of the FY2019 population)")
    try:
        result = count_file(path, list(policies) or list(DEFAULT_POLICIES))
    except (ColumnarError, UnknownPolicyError, SimulationError) as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    rendered = render_file_counts(result, fmt)
    if output:
        _write(output, rendered)
    else:
        click.echo(rendered, nl=False)
    if result.rejected:  # as batch and diff --population: the others were counted, exit 3
        sys.exit(3)


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _with_option_names(message: str) -> str:
    for field, flag in _OPTION_OF.items():
        message = re.sub(rf"\b{field}\b", flag, message)
    return message
