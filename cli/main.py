"""``eligibility``: check a case, read the rules, print the schemas.

Exit codes (see the README): 0 a determination was made; 2 bad usage or invalid input, with a
one-line error naming the place; 1 an unexpected internal error.
"""

from __future__ import annotations

import atexit
import gc

# A command is a short process: the cyclic garbage collector's passes while the modules load
# (many objects, no garbage) and when the interpreter exits are work thrown away, about a fifth
# of `check`'s time. It is paused while this module's imports load (restored below), paused
# while `check` runs (_brief), and the objects alive at exit are left to the operating system.
_COLLECTING = gc.isenabled()
gc.disable()
atexit.register(gc.freeze)

import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from typing import Any, ClassVar, get_args  # noqa: E402

import click  # noqa: E402

import eligibility  # noqa: E402
from eligibility import CaseError, UnknownPolicyError  # noqa: E402
from eligibility.case import MAX_PROBLEMS, Border, Documents, Place, read_case_stream  # noqa: E402

# Commands import what only they need, so that `check` starts quickly.
from ._shared import F, UserError, printable, quiet_closed_pipe, user_errors  # noqa: E402

if _COLLECTING:
    gc.enable()


@contextlib.contextmanager
def _brief() -> Iterator[None]:
    """No cyclic garbage collection while a one-shot command runs (it makes little garbage and
    ends soon); the collector's state is restored after it (a command run in-process by a test)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def rules_option(func: F) -> F:
    return click.option(
        "--rules",
        "rules_dir",
        type=click.Path(file_okay=False),
        default=None,
        help="A rules directory laid over the shipped rules: its files add to or replace the shipped "
        "files of the same name, and its policies.yaml adds or replaces policies by id.",
    )(func)


def policy_option(func: F) -> F:
    return click.option(
        "--policy",
        default=None,
        help="enacted (default), implemented, draft-2019-07, without-title-42, or one of --rules.",
    )(func)


def _text_or_json(help_text: str) -> Callable[[F], F]:
    """A ``--format text|json`` option (text by default)."""

    def decorate(func: F) -> F:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help=help_text,
        )(func)

    return decorate


format_option = _text_or_json("Output format.")


def answer_options(func: F) -> F:
    """The options of a command that prints one determination for people: its format, the full
    trace and the language."""
    func = click.option(
        "--lang",
        type=click.Choice(["en", "es"]),
        default="en",
        show_default=True,
        help="Language of the answer (es: Spanish).",
    )(func)
    func = click.option(
        "--explain",
        "-v",
        is_flag=True,
        help="The full trace: every instrument, each rule with its citation, id and file:line.",
    )(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "html", "md"]),
        default="text",
        show_default=True,
        help="text: the short answer (with --explain, the full trace); json: the decision record; "
        "html, md: a one-page client memo (HTML prints to paper).",
    )(func)


def _show_answer(record: eligibility.DecisionRecord, fmt: str, explain: bool) -> None:
    if fmt == "json":
        click.echo(record.to_json())
    elif fmt in ("html", "md"):
        from eligibility.explain.memo import render_memo

        click.echo(printable(render_memo(record, "html" if fmt == "html" else "md")))
    else:
        click.echo(printable(eligibility.render_text(record, explain=explain)))


class _Commands(click.Group):
    """The commands; those that need heavy imports (numpy for ``simulate``) load when they run."""

    LAZY: ClassVar[dict[str, tuple[str, str]]] = {
        "serve": ("eligibility_cli.serve", "serve"),
        "simulate": ("eligibility_cli.simulate", "simulate"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As click's, but a usage error is one line (no usage block), and a reader that stops
        reading (``| head``) ends the command quietly, with 0."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "eligibility"
            click.echo(f"error: {printable(_usage_message(exc))} (see '{command} --help')", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:  # Ctrl-C (or SIGTERM, below): the contract's code for an interruption
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            quiet_closed_pipe()
        sys.exit(code if isinstance(code, int) else 0)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            import importlib

            module, attribute = self.LAZY[name]
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, name)


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM ends a command as Ctrl-C does (exit 130); batch installs its own while it runs."""
    raise KeyboardInterrupt


def _say(text: str, err: bool = False, nl: bool = True) -> None:
    """Print text made from input or rule files, with its control characters made visible."""
    click.echo(printable(text), err=err, nl=nl)


def _usage_message(exc: click.UsageError) -> str:
    """``--age: 'x' is not a valid integer`` rather than click's ``Invalid value for '--age': ...``."""
    if (
        isinstance(exc, click.BadParameter)
        and not isinstance(exc, click.MissingParameter)
        and exc.param is not None
    ):
        names = (
            "/".join(exc.param.opts)
            if exc.param.param_type_name == "option"
            else exc.param.human_readable_name
        )
        return f"{names}: {exc.message.rstrip('.')}"
    return exc.format_message().rstrip(".")


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="asylum-eligibility", prog_name="eligibility")
def main() -> None:
    """What happens to an asylum seeker under the U.S. transfer agreements, and why."""


# The yes/no facts of the case format, each defaulting to false when omitted (then listed under
# ``assumed``): case field, flag pair, and what the fact means.
_YES_NO_FACTS: tuple[tuple[str, str, str], ...] = (
    (
        "entry.appointment",
        "--appointment/--no-appointment",
        "Presented at a port of entry at a time scheduled in advance through CBP One.",
    ),
    (
        "cbp_one_unavailable",
        "--cbp-one-unavailable/--cbp-one-available",
        "It was not possible to access or use CBP One (language barrier, illiteracy, significant "
        "technical failure, or another ongoing and serious obstacle).",
    ),
    (
        "medical_emergency",
        "--medical-emergency/--no-medical-emergency",
        "At entry, the person or an accompanying family member faced an acute medical emergency.",
    ),
    (
        "imminent_threat",
        "--imminent-threat/--no-imminent-threat",
        "At entry, the person or an accompanying family member faced an imminent and extreme threat "
        "to life or safety (such as rape, kidnapping, torture or murder).",
    ),
    (
        "title42_exception",
        "--title42-exception/--no-title42-exception",
        "CBP granted the person an individual (humanitarian, case-by-case) exception from Title 42.",
    ),
    (
        "criminal_record",
        "--criminal-record/--no-criminal-record",
        "The person has a criminal record (a receiving country's stated condition).",
    ),
)


def _flag_name(field: str) -> str:
    """The keyword a fact flag's value arrives under (``entry.appointment`` -> ``appointment``)."""
    return field.removeprefix("entry.")


def _fact_flags(func: F) -> F:
    omitted = " Omitted: no (listed under 'assumed')."
    flags = [
        click.option("--id", "case_id", help="Case id, echoed back."),
        click.option(
            "--nationality", "-n", multiple=True, help="A nationality (ISO alpha-2); repeat for several."
        ),
        click.option("--stateless", is_flag=True, default=None, help="No nationality."),
        click.option("--habitual-residence", help="Country of last habitual residence."),
        click.option("--birth-date", help="YYYY-MM-DD."),
        click.option("--age", type=int, help="Age in years at entry."),
        click.option(
            "--unaccompanied/--accompanied",
            default=None,
            help="No parent or legal guardian available in the U.S.",
        ),
        click.option("--family-unit/--no-family-unit", default=None, help="Arrived as a family unit."),
        click.option(
            "--documents",
            type=click.Choice(get_args(Documents)),
            help="What the person held on arrival: us_visa is a U.S. visa other than a transit visa, "
            "visa_waiver an arrival without a visa under the Visa Waiver Program or another exemption, "
            "parole_travel_authorization a travel authorization under a DHS-approved parole process.",
        ),
        click.option("--entry-date", help="Arrival or entry date, YYYY-MM-DD (required)."),
        click.option(
            "--border",
            type=click.Choice(get_args(Border)),
            help="How the person reached the U.S.: southern_land = by land from Mexico, northern_land = "
            "by land from Canada, southern_coastal = by sea on a coast adjacent to the border with "
            "Mexico, sea = any other arrival by sea, air.",
        ),
        click.option("--place", type=click.Choice(get_args(Place))),
        click.option("--state", help="U.S. state of entry, e.g. TX."),
        click.option("--claim-date", help="YYYY-MM-DD."),
        click.option("--decision-date", help="YYYY-MM-DD."),
        click.option("--as-of", help="The decision date, YYYY-MM-DD (same as --decision-date)."),
        click.option("--transit", multiple=True, help="A transit country, in order: MX or MX:denied_final."),
        click.option(
            "--no-transit",
            is_flag=True,
            default=None,
            help="Passed through no other country on the way (transit: []); without it or --transit, "
            "the transit countries are unknown.",
        ),
        click.option(
            "--trafficking-victim/--no-trafficking-victim",
            default=None,
            help="Victim of a severe form of trafficking in persons (8 CFR 214.11)." + omitted,
        ),
        click.option(
            "--fear-established-in",
            multiple=True,
            help="Country where persecution or torture was found more likely than not.",
        ),
        click.option(
            "--public-interest/--no-public-interest",
            default=None,
            help="DHS decided it is in the public interest for the person to pursue protection in the U.S."
            + omitted,
        ),
        click.option("--family-in-us", multiple=True, help="relation:status, e.g. sibling:lpr."),
        *(
            click.option(flag, _flag_name(field), default=None, help=meaning + omitted)
            for field, flag, meaning in _YES_NO_FACTS
        ),
        click.option(
            "--unknown",
            multiple=True,
            help="A field to treat as unknown (null), e.g. --unknown unaccompanied or --unknown entry.appointment.",
        ),
    ]
    for flag in reversed(flags):
        func = flag(func)
    return func


def _pairs(values: tuple[str, ...], first: str, second: str, flag: str) -> list[dict[str, str]]:
    items = []
    for value in values:
        left, sep, right = value.partition(":")
        if flag == "--transit" and not sep:
            items.append({first: left})
            continue
        if not sep or not left or not right:
            raise UserError(f"{flag}: '{value}' should be {first}:{second}")
        items.append({first: left, second: right})
    return items


def _case_from(file: str | None, flags: dict[str, Any]) -> tuple[dict[str, Any], str]:
    data: dict[str, Any] = {}
    source = "command line"
    if file is not None:
        source = "<stdin>" if file == "-" else file
        try:
            if file == "-":
                text = read_case_stream(sys.stdin.buffer, source)
            else:
                with open(file, "rb") as stream:
                    text = read_case_stream(stream, source)
        except OSError as exc:
            raise UserError(f"{file}: cannot read: {exc.strerror}") from None
        raw = eligibility.read_case_data(text, source)  # validated after the flags are merged
        if not isinstance(raw, dict):
            raise UserError(f"{source}: a case must be a JSON or YAML object (a mapping)")
        data = raw
    given_entry = data.get("entry")
    if given_entry is not None and not isinstance(given_entry, dict):
        raise UserError(
            f"{source}: entry: should be a mapping (date, border, place, state, appointment), "
            f"not {'a list' if isinstance(given_entry, list) else 'text' if isinstance(given_entry, str) else 'a value'}"
        )
    entry = dict(given_entry or {})
    simple = {
        "id": flags["case_id"],
        "habitual_residence": flags["habitual_residence"],
        "birth_date": flags["birth_date"],
        "age": flags["age"],
        "unaccompanied": flags["unaccompanied"],
        "family_unit": flags["family_unit"],
        "documents": flags["documents"],
        "claim_date": flags["claim_date"],
        "trafficking_victim": flags["trafficking_victim"],
        "public_interest": flags["public_interest"],
        **{f: flags[f] for f, _, _ in _YES_NO_FACTS if not f.startswith("entry.")},
    }
    data.update({k: v for k, v in simple.items() if v is not None})
    if flags["nationality"]:
        data["nationalities"] = list(flags["nationality"])
    if flags["stateless"]:
        if flags["nationality"]:
            raise UserError("--stateless: cannot be combined with --nationality")
        data["nationalities"] = []
    decision = flags["decision_date"] or flags["as_of"]
    if flags["decision_date"] and flags["as_of"] and flags["decision_date"] != flags["as_of"]:
        raise UserError("--as-of: differs from --decision-date; give one")
    if decision:
        data["decision_date"] = decision
    if flags["transit"]:
        if flags["no_transit"]:
            raise UserError("--no-transit: cannot be combined with --transit")
        data["transit"] = _pairs(flags["transit"], "country", "protection", "--transit")
    elif flags["no_transit"]:
        data["transit"] = []
    if flags["fear_established_in"]:
        data["fear_established_in"] = list(flags["fear_established_in"])
    if flags["family_in_us"]:
        data["family_in_us"] = _pairs(flags["family_in_us"], "relation", "status", "--family-in-us")
    entry_flags = [("date", "entry_date"), ("border", "border"), ("place", "place"), ("state", "state")]
    entry_flags += [(_flag_name(f), _flag_name(f)) for f, _, _ in _YES_NO_FACTS if f.startswith("entry.")]
    for key, flag in entry_flags:
        if flags[flag] is not None:
            entry[key] = flags[flag]
    for name in flags["unknown"]:
        if name.startswith("entry."):
            entry[name[6:]] = None
        else:
            data[name] = None
    if entry or "entry" in data:
        data["entry"] = entry
    if file is None and not data:
        raise UserError("give a case: a FILE, '-' for standard input, or fact flags such as --entry-date")
    return data, source


@main.command()
@click.argument("file", required=False)
@policy_option
@click.option(
    "--engine",
    type=click.Choice(["durable", "pure", "fast"]),
    default="durable",
    show_default=True,
    help="Which engine decides which rules fire ('fast' reuses each class of cases and leaves out 'would change if').",
)
@answer_options
@rules_option
@_fact_flags
@user_errors
def check(
    file: str | None,
    policy: str | None,
    engine: str,
    fmt: str,
    explain: bool,
    lang: str,
    rules_dir: str | None,
    **flags: Any,
) -> None:
    """Determine one case: from FILE (JSON or YAML), '-' (standard input), or fact flags.

    \b
    eligibility check --nationality HN --age 30 --entry-date 2019-12-01 \\
        --border southern_land --place between_ports --transit GT --transit MX
    """
    with _brief():
        data, source = _case_from(file, flags)
        case = eligibility.parse_case(data, source=source)
        ruleset = eligibility.load_rules(rules_dir, extend=True)
        determination = eligibility.evaluate(case, policy, rules=ruleset, engine=engine, lang=lang)
        _show_answer(eligibility.record(determination, case), fmt, explain)


@main.command()
@click.argument("record_file", metavar="RECORD")
@_text_or_json("text: whether the answer still holds and why; json: the comparison with today's record.")
@rules_option
@user_errors
def replay(record_file: str, fmt: str, rules_dir: str | None) -> None:
    """Evaluate a decision record (from `check --format json`) again with today's rules.

    Says whether the answer still holds; if not, what changed and which rules did it.
    """
    from eligibility.api import replay as run
    from eligibility.explain.replay import read_record, render_replay

    source = "<stdin>" if record_file == "-" else record_file
    try:
        if record_file == "-":
            text = read_case_stream(sys.stdin.buffer, source)
        else:
            with open(record_file, "rb") as stream:
                text = read_case_stream(stream, source)  # at most 1 MB of UTF-8, as a case
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{source}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    record = read_record(text, source)
    ruleset = eligibility.load_rules(rules_dir, extend=True)
    result = run(record, ruleset)
    click.echo(result.model_dump_json() if fmt == "json" else printable(render_replay(result, record.lang)))


@main.command()
@click.argument("input_path", metavar="INPUT")
@click.option(
    "-o", "--output", default=None, help="Output file (default: standard output); written atomically."
)
@policy_option
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: the number of cores].",
)
@click.option(
    "--engine",
    type=click.Choice(["fast", "durable"]),
    default="fast",
    show_default=True,
    help="'fast' evaluates each class of cases once (proven identical by differential tests); "
    "'durable' runs durable-rules on every row.",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["jsonl", "csv"]),
    default=None,
    help="Output format [default: from the output's extension, else jsonl].",
)
@click.option(
    "--input-format",
    type=click.Choice(["jsonl", "csv"]),
    default=None,
    help="Input format [default: from the input's extension, else jsonl].",
)
@click.option(
    "--detail",
    type=click.Choice(["compact", "full"]),
    default="compact",
    show_default=True,
    help="'full' adds every rule's finding to each line (about ten times larger).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "es"]),
    default="en",
    show_default=True,
    help="Language of the texts in each line (reasons, caveats, explanation); codes stay as they are.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, no summary, no per-row errors.")
@rules_option
@user_errors
def batch(
    input_path: str,
    output: str | None,
    policy: str | None,
    jobs: int | None,
    engine: str,
    out_format: str | None,
    input_format: str | None,
    detail: str,
    lang: str,
    quiet: bool,
    rules_dir: str | None,
) -> None:
    """Determine many cases: INPUT is JSON Lines or CSV ('-': standard input), one case a row.

    Each valid row gives one determination (JSON Lines: one object a line, with its "row"
    number; CSV: one row). Invalid rows are reported on standard error as INPUT:ROW: message and
    the run goes on; the exit code is then 3. A summary closes the run.
    """
    from eligibility import batch as runner

    ruleset = eligibility.load_rules(rules_dir, extend=True) if rules_dir else None
    fmt = out_format or ("csv" if (output or "").lower().endswith(".csv") else "jsonl")
    options = runner.Options(policy, engine, detail, fmt, lang)  # type: ignore[arg-type]
    where = "stdin" if input_path == "-" else input_path
    progress = _Progress(enabled=not quiet and sys.stderr.isatty())

    def reject(r: runner.Rejected) -> None:
        if not quiet:
            progress.clear()
            click.echo(printable(f"{where}:{r.row}: {r.message}"), err=True)

    def note(message: str) -> None:  # a worker died; its rows were evaluated again
        progress.clear()
        click.echo(printable(f"warning: {message}"), err=True)

    def stop(signum: int, frame: Any) -> None:
        progress.stopped = True  # checked after every chunk, in case this raise lands where it is ignored
        raise KeyboardInterrupt  # SIGTERM as ^C: the partial output is removed

    signal.signal(signal.SIGTERM, stop)
    try:
        summary = runner.run(
            input_path,
            output,
            options,
            jobs=jobs or os.cpu_count() or 1,
            in_format=runner.input_format(input_path, input_format),
            rules=ruleset,
            on_reject=reject,
            on_progress=progress.update,
            on_note=note,
        )
    except runner.BatchError as exc:
        raise UserError(str(exc)) from None
    except runner.WorkerDiedError as exc:  # neither bad input nor a bug: exit 1, said plainly
        progress.clear()
        click.echo(printable(f"error: {exc}"), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        progress.clear()
        click.echo("interrupted: no output file was written", err=True)
        sys.exit(130)
    except BrokenPipeError:  # the reader of standard output stopped (`| head`): stop quietly
        quiet_closed_pipe()
    progress.clear()
    if not quiet:
        click.echo(summary.line(), err=True)
    if summary.rejected:
        sys.exit(3)


class _Bar:
    """On a terminal, once a step has taken a second: what is being done, a bar of how far it is
    and the time so far, on one line of standard error (cleared at the end). Drawn from the calling
    thread as the step reports (``eligibility.analysis.diff.PROGRESS``): a thread of its own would
    keep the diff's searches from forking worker processes."""

    WIDTH = 24

    def __init__(self, what: str) -> None:
        self.what = what
        self.enabled = sys.stderr.isatty()
        self.started = time.perf_counter()
        self.last = 0.0
        self.shown = False
        self.token: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self.started < 1.0 or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        filled = self.WIDTH * done // total if total else self.WIDTH
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(
                f"\r{self.what}: {stage} [{bar}] {done}/{total}, {now - self.started:.0f} s\x1b[K"
            )
            sys.stderr.flush()
            self.shown = True

    def __enter__(self) -> _Bar:
        from eligibility.analysis.diff import PROGRESS

        self.token = PROGRESS.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        from eligibility.analysis.diff import PROGRESS

        PROGRESS.reset(self.token)
        if self.shown:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
            self.shown = False


class _Progress:
    """Rows done, rate and time left, on one line of standard error (a terminal only)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.perf_counter()
        self.shown = 0.0
        self.stopped = False

    def update(self, done: int, total: int | None) -> None:
        if self.stopped:
            raise KeyboardInterrupt
        now = time.perf_counter()
        if not self.enabled or now - self.shown < 0.2:
            return
        self.shown = now
        rate = done / (now - self.started) if now > self.started else 0.0
        line = f"{done:,} rows  {rate:,.0f} rows/s"
        if total:
            width = 30
            filled = int(width * min(done / total, 1.0))
            left = (total - done) / rate if rate else 0.0
            line = f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} rows  {rate:,.0f} rows/s  ETA {int(left // 60)}:{int(left % 60):02d}"
        sys.stderr.write("\r" + line + "\x1b[K")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled and self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


@main.command()
@policy_option
@answer_options
@rules_option
@_fact_flags
@user_errors
def ask(policy: str | None, fmt: str, explain: bool, lang: str, rules_dir: str | None, **flags: Any) -> None:
    """Ask only the questions whose answers can still change the outcome, most decisive first.

    Start from any fact flags; answers may be typed or piped (one a line). Stops when the
    determination is settled, or at the end of the answers, and prints it.
    """
    from .questions import start

    data: dict[str, Any] = {}
    if any(v not in (None, (), False) for v in flags.values()):
        data, _ = _case_from(None, flags)
    ruleset = eligibility.load_rules(rules_dir, extend=True)
    data = start(data)
    asked: set[str] = set()
    answers: list[eligibility.Answer] = []
    while (field := next_question(data, policy, ruleset, asked)) is not None:
        asked.add(field)
        if not _ask_one(data, field, answers, lang):
            break
    case = eligibility.parse_case(data, source="answers")
    determination = eligibility.evaluate(case, policy, rules=ruleset, lang=lang)
    _show_answer(eligibility.record(determination, case, answers), fmt, explain)


def next_question(data: dict[str, Any], policy: str | None, ruleset: Any, asked: set[str]) -> str | None:
    """The field whose answer most decides what is still open (outcome, then asylum, then waiting).

    The determination's ``missing_facts`` names, in that order, every field that could settle an
    undetermined part of the headline, so it is empty once all is settled.
    """
    from .questions import QUESTIONS

    if "date" not in (data.get("entry") or {}):
        return "entry.date"
    determination = eligibility.evaluate(
        eligibility.parse_case(data, source="answers"), policy, rules=ruleset, counterfactuals=False
    )
    return next((f for f in determination.missing_facts if f not in asked and f in QUESTIONS), None)


def _ask_one(data: dict[str, Any], field: str, answers: list[eligibility.Answer], lang: str = "en") -> bool:
    """Ask for one field until the answer is valid or left unknown ("don't know": Enter, ?, no sé);
    a bad answer is asked again with the reason. False at the end of the answers."""
    from eligibility.i18n import translator

    from .questions import put, questions, unanswered

    _ = translator(lang)
    question, parse = questions(lang)[field]
    required = field == "entry.date"
    prompt = question if required else question + " " + _("[Enter if not known]")
    piped = not sys.stdin.isatty()
    while True:
        try:
            text: str | None = click.prompt(prompt, default="", show_default=False, err=True)
        except click.Abort:
            text = None  # the answers ended
        if piped:  # a piped answer is not echoed: end the prompt's line
            click.echo("", err=True)
        if text is None:
            return False
        if unanswered(text):
            if not required:
                put(data, field, None)  # left unknown
                answers.append(eligibility.Answer(field=field, question=question, answer=text, value=None))
                return True
            click.echo(
                "  " + _("the date of entry is needed: it decides which rules reach the person"), err=True
            )
            continue
        try:
            value = parse(text)
            trial = json.loads(json.dumps(data))
            put(trial, field, value)
            eligibility.parse_case(trial, source="answer")
        except (ValueError, CaseError) as exc:
            _say(f"  {exc}", err=True)
            continue
        put(data, field, value)
        shown = json.loads(json.dumps(trial))  # the value as recorded (JSON)
        for part in field.split("."):
            shown = shown.get(part) if isinstance(shown, dict) else None
        answers.append(eligibility.Answer(field=field, question=question, answer=text, value=shown))
        return True


@main.command("diff")
@click.argument("policy_a")
@click.argument("policy_b")
@click.option(
    "--population", type=click.Path(dir_okay=False), help="Cases (JSONL or CSV) to count in each region."
)
@format_option
@rules_option
@user_errors
def diff_command(
    policy_a: str, policy_b: str, population: str | None, fmt: str, rules_dir: str | None
) -> None:
    """Every region of cases that POLICY_A and POLICY_B determine differently, exhaustively."""
    import numpy as np

    from eligibility.analysis.diff import Describer
    from eligibility.analysis.diff import answers_of as diff_answers
    from eligibility.analysis.diff import describe as diff_describe
    from eligibility.analysis.diff import diff as policy_diff
    from eligibility.analysis.diff import example as diff_example
    from eligibility.batch.rows import read_rows
    from eligibility.csvformat import HeaderError

    ruleset = eligibility.load_rules(rules_dir, extend=True)
    for label, name in (("POLICY_A", policy_a), ("POLICY_B", policy_b)):
        try:
            ruleset.require_policy(name)
        except UnknownPolicyError as exc:
            raise UserError(f"{label}: {exc}") from None
    bar = _Bar(f"comparing {policy_a} and {policy_b}")
    with bar:
        result = policy_diff(ruleset, policy_a, policy_b)
    counts: dict[tuple[Any, Any], int] = {}
    by_part: dict[int, int] = {}  # part by part: group index -> cases whose part has the group's values
    rejected: list[str] = []
    total = 0
    if population and population.lower().endswith(".csv"):
        # a CSV file by the columnar engine: each pair of classes is counted once, by its size
        from eligibility.columnar import ColumnarError, evaluate_policies, read_csv

        try:
            read = read_csv(population, rules=ruleset)
        except ColumnarError as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            raise UserError(f"{population}: cannot read: {exc.strerror}") from None
        both = evaluate_policies(read.columns, [policy_a, policy_b])
        ra, rb = both[policy_a], both[policy_b]
        bad = {int(read.numbers[r]): why for r, why in ra.rejected}
        rejected += [f"row {n}: {why}" for n, why in sorted([*read.rejected, *bad.items()])]
        kept = ra.class_id >= 0
        pairs, sizes = np.unique(ra.class_id[kept] * len(rb.classes) + rb.class_id[kept], return_counts=True)
        for pair, size in zip(pairs.tolist(), sizes.tolist(), strict=True):
            da, db = ra.classes[pair // len(rb.classes)].headline, rb.classes[pair % len(rb.classes)].headline
            total += size
            key = (_head(da), _head(db))
            if key[0] != key[1]:
                counts[key] = counts.get(key, 0) + size
                for i, g in enumerate(result.groups if result.by_part else ()):
                    if g.part is not None and _in_part(g.part, da, db):
                        by_part[i] = by_part.get(i, 0) + size
    elif population:
        from eligibility.fast import Evaluator

        ev_a, ev_b = Evaluator(policy_a, rules=ruleset), Evaluator(policy_b, rules=ruleset)
        reading = read_rows(population)
        try:
            first = next(reading, None)  # a CSV header is checked before the first row
        except HeaderError as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            raise UserError(f"{population}: cannot read: {exc.strerror}") from None
        import itertools

        for number, row in itertools.chain([first] if first is not None else [], reading):
            if isinstance(row, str):
                rejected.append(f"row {number}: {row}")
                continue
            try:
                case = eligibility.parse_case(row)
                da, db = ev_a.headline(case), ev_b.headline(case)  # each class of cases settled once
            except CaseError as exc:
                rejected.append(f"row {number}: {exc}")
                continue
            total += 1
            key = (_head(da), _head(db))
            if key[0] != key[1]:
                counts[key] = counts.get(key, 0) + 1
                for i, g in enumerate(result.groups if result.by_part else ()):
                    if g.part is not None and _in_part(g.part, da, db):
                        by_part[i] = by_part.get(i, 0) + 1
    keys = [(_head_of(g.a), _head_of(g.b)) for g in result.groups]
    assigned: dict[int, int] = {}  # group index -> cases, each case counted in its first matching group
    for (
        case_key,
        n,
    ) in counts.items():  # a group that names the case's headlines, else the one that allows them
        index = next((i for i, k in enumerate(keys) if _matches(case_key, k, exact=True)), None)
        if index is None:  # with the fewest parts left open ("several outcomes" last)
            allowing = [i for i, k in enumerate(keys) if _matches(case_key, k)]
            index = min(allowing, key=lambda i: (_openness(keys[i]), i)) if allowing else None
        if index is not None:
            assigned[index] = assigned.get(index, 0) + n
    if result.by_part:
        assigned = by_part
    describer = Describer(result.programs)

    def kind_row(number: int, g: Any) -> dict[str, Any]:
        bar("describing each kind exactly", number, len(result.groups))
        example = diff_example(g, result.programs)
        got = diff_answers(example, result.programs)
        # part by part, the group's cases differ in the part alone: its answers are the example's
        head_a, head_b = got if got is not None and g.part is not None else (g.a, g.b)
        return {
            policy_a: _head_json(head_a),
            policy_b: _head_json(head_b),
            **(
                {
                    "part": {
                        "name": g.part[0][0],
                        "country": g.part[0][1] or None,
                        policy_a: g.part[1],
                        policy_b: g.part[2],
                    }
                }
                if g.part is not None
                else {}
            ),
            "exactly": [describer.words(box) for box in describer.boxes(g.regions, g.within)],
            "where": diff_describe(g.regions, result.programs),
            "classes": len(g.regions),
            "rules": list(g.rules),
            "citations": _citations(ruleset, g.rules),
            "example": example,
            **(
                {"example_answers": {policy_a: _head_json(got[0]), policy_b: _head_json(got[1])}}
                if got is not None
                else {}
            ),
            **({"population": assigned.get(number - 1, 0)} if population else {}),
        }

    with bar:
        groups = [kind_row(number, g) for number, g in enumerate(result.groups, 1)]
    summary = _summarize(groups, policy_a, policy_b, total if population else None)
    differ = sum(counts.values())  # each population case determined differently, once
    placed = sum(assigned.values())  # (part by part, assigned is by_part)
    totals: dict[str, Any] = {"classes": sum(g["classes"] for g in groups)}
    if population:
        totals |= {"population": total, "differ": differ}
        if not result.by_part:  # differing only where a row leaves a fact out: in no kind
            totals["unplaced"] = differ - placed
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "a": policy_a,
                    "b": policy_b,
                    "by_part": result.by_part,
                    **({"reason": result.reason} if result.by_part else {}),
                    "summary": summary,
                    "totals": totals,
                    "regions": groups,
                    **({"population": total, "rejected": rejected} if population else {}),
                },
                ensure_ascii=False,
            )
        )
    else:
        if result.by_part:
            _say(
                f"{policy_a} vs {policy_b}: the policies differ in more combinations than can be listed one by one "
                f"({result.reason}), so they are compared part by part: each receiving "
                "country, the countries of expulsion, and asylum and waiting in Mexico as they would be if the "
                "claim is heard in the U.S. A case is determined differently exactly when its receiving countries "
                "or countries of expulsion differ, or, heard in the U.S. under both, asylum or waiting does. "
                f"{len(groups)} differences:"
            )
        else:
            _say(f"{policy_a} vs {policy_b}: {len(groups)} kinds of case determined differently")
        for line in _summary_table(summary, policy_a, policy_b, totals):
            _say(line)
        _say("\nThe kinds of case, one by one:")
        for i, row in enumerate(groups, 1):
            if "part" in row:
                part = row["part"]
                _say(
                    f"\n{i}. {_part_words(part['name'], part['country'])}: {policy_a}: {_part_value(part[policy_a])}"
                    f"  |  {policy_b}: {_part_value(part[policy_b])}"
                    + (f"  [{row['population']} of {total} cases]" if population else "")
                )
                _say(
                    f"   for example: {policy_a}: {_head_words(row[policy_a])}  |  {policy_b}: {_head_words(row[policy_b])}"
                )
            else:
                _say(
                    f"\n{i}. {policy_a}: {_head_words(row[policy_a])}  |  {policy_b}: {_head_words(row[policy_b])}"
                    + (f"  [{row['population']} of {total} cases]" if population else "")
                )
                got = row.get("example_answers")
                if got and any(_head_words(got[p]) != _head_words(row[p]) for p in (policy_a, policy_b)):
                    # a kind whose answer depends on the case: what its example gets
                    _say(
                        f"   for example: {policy_a}: {_head_words(got[policy_a])}"
                        f"  |  {policy_b}: {_head_words(got[policy_b])}"
                    )
            combos = row["exactly"]
            which = "this combination" if len(combos) == 1 else f"one of these {len(combos)} combinations"
            _say(f"   exactly the cases of {which} of facts:")
            for number, combo in enumerate(combos[:SHOWN_COMBINATIONS], 1):
                _say(
                    textwrap.fill(
                        "; ".join(combo),
                        width=100,
                        initial_indent=f"   ({number}) ",
                        subsequent_indent="       ",
                    )
                )
            if len(combos) > SHOWN_COMBINATIONS:
                _say(
                    f"   ... and {len(combos) - SHOWN_COMBINATIONS} more (--format json lists every one, under 'exactly')"
                )
            _say("   rules: " + ", ".join(row["rules"]))
            for cite in row["citations"]:
                _say(f"     {cite}")
            _say("   example: " + json.dumps(row["example"], ensure_ascii=False))
        for line in rejected:
            _say(f"error: {line}", err=True)
    if rejected:
        sys.exit(3)


def _in_part(part: tuple[Any, Any, Any], da: Any, db: Any) -> bool:
    """Whether a case's two headlines have the part values of a part-by-part group."""
    from eligibility.analysis.diff import DEPENDS, part_value

    (which, va, vb) = part
    a, b = part_value(which, da), part_value(which, db)
    return a != b and va in (a, DEPENDS) and vb in (b, DEPENDS)


SHOWN_COMBINATIONS = 3
"""Combinations of facts printed for each kind of case in a diff's text (JSON has them all)."""


def _summarize(
    groups: list[dict[str, Any]], policy_a: str, policy_b: str, total: int | None
) -> list[dict[str, Any]]:
    """The kinds of case grouped by their pair of answers (one entry per pair, in the order first
    met): the kinds' numbers (1-based), the classes of cases they cover and, with a population,
    its cases and their share of the population. Compared part by part, a kind's pair is its
    part's two values (``part``: "sent to EC", yes and no), not its example's answers."""
    pairs: dict[tuple[str, ...], dict[str, Any]] = {}
    for i, row in enumerate(groups, 1):
        part = row.get("part")
        if part is not None:
            words = _part_words(part["name"], part["country"])
            key: tuple[str, ...] = (words, _part_value(part[policy_a]), _part_value(part[policy_b]))
            first = {"part": words, policy_a: key[1], policy_b: key[2]}
        else:
            key = (_head_words(row[policy_a]), _head_words(row[policy_b]))
            first = {policy_a: key[0], policy_b: key[1]}
        entry = pairs.setdefault(key, {**first, "kinds": [], "classes": 0})
        entry["kinds"].append(i)
        entry["classes"] += row["classes"]
        if total is not None:
            entry["population"] = entry.get("population", 0) + row.get("population", 0)
    for entry in pairs.values():
        if total is not None:
            entry["share"] = round(entry["population"] / total, 6) if total else 0.0
    return list(pairs.values())


def _summary_table(
    summary: list[dict[str, Any]], policy_a: str, policy_b: str, totals: dict[str, Any]
) -> list[str]:
    """The summary as a text table, with a total row (and a first column naming each part, when
    the policies are compared part by part: a case may then differ in several parts, and the
    total counts it once)."""
    population = totals.get("population")
    rows = [(s[policy_a], s[policy_b], ", ".join(map(str, s["kinds"])), s) for s in summary]
    parts = any("part" in s for s in summary)
    wp = max([len("part"), *(len(s.get("part", "")) for s in summary)]) if parts else 0
    wa = max([len(policy_a), *(len(r[0]) for r in rows)])
    wb = max([len(policy_b), *(len(r[1]) for r in rows)])
    wk = max([len("kind no."), *(len(r[2]) for r in rows)])
    lead = f"  {'part':<{wp}}" if parts else ""
    head = f"{lead}  {policy_a:<{wa}}  {policy_b:<{wb}}  {'kind no.':<{wk}}  {'classes':>8}"
    head += f"  {'cases':>8}  {'share':>7}" if population is not None else ""
    lines = ["", head]
    for a, b, kinds, s in rows:
        lead = f"  {s.get('part', ''):<{wp}}" if parts else ""
        line = f"{lead}  {a:<{wa}}  {b:<{wb}}  {kinds:<{wk}}  {s['classes']:>8,}"
        if population is not None:
            line += f"  {s['population']:>8,}  {100 * s['share']:>6.1f}%"
        lines.append(line)
    width = wp + 2 + wa if parts else wa
    last = f"  {'total':<{width}}  {'':<{wb}}  {'':<{wk}}  {totals['classes']:>8,}"
    if population is None:
        return [*lines, last]
    differ = totals["differ"]
    last += f"  {differ:>8,}  {100 * differ / population if population else 0:>6.1f}%"
    lines.append(last)
    note = f"  ({population:,} cases in the population"
    if parts:
        note += "; a case may differ in several parts and is counted once in the total"
    unplaced = totals.get("unplaced", 0)
    if unplaced:
        are = "is" if unplaced == 1 else "are"
        note += (
            f"; {unplaced:,} of those determined differently {are} in no kind: a fact their row leaves "
            "out decides which"
        )
    lines.append(note + "; the others are determined alike)")
    return lines


def _part_words(name: str, country: str | None) -> str:
    if name == "transfer_to":
        return f"sent to {country}"
    if name == "expel_to":
        return "countries of expulsion"
    if name == "asylum":
        return "asylum, if the claim is heard in the U.S."
    return "waiting in Mexico, if the claim is heard in the U.S."


def _part_value(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(value) if value else "none"
    return str(value)


def _matches(case_key: tuple[Any, Any], group_key: tuple[Any, Any], exact: bool = False) -> bool:
    """A case's pair of headlines falls in a group, whose headlines may leave parts open: asylum
    'undetermined', countries '?' (any), or the outcome 'undetermined' (a region holding cases of
    several outcomes). ``exact``: only a group that leaves nothing open."""

    def one(c: tuple[Any, ...], g: tuple[Any, ...]) -> bool:
        if exact:
            return c == g
        if g[0] == "undetermined":
            return True
        return (
            c[0] == g[0]
            and g[1] in (c[1], ("?",))
            and g[2] in (c[2], "undetermined")
            and g[3] in (c[3], ("?",))
            and g[4] in (c[4], "undetermined")
        )

    return all(one(c, g) for c, g in zip(case_key, group_key, strict=True))


def _openness(key: tuple[Any, Any]) -> int:
    """How many parts of a group's pair of headlines are left open (an open outcome, every part)."""
    return sum(
        5 if h[0] == "undetermined" else sum(v in ("undetermined", ("?",)) for v in h[1:]) for h in key
    )


def _head(d: Any) -> tuple[Any, ...]:
    """Outcome, receiving countries, asylum, countries of expulsion and waiting in Mexico, of a
    determination or a headline."""
    return (d.outcome, tuple(d.transfer_to), d.asylum, tuple(d.expel_to), d.wait_in_mexico)


_head_of = _head


def _head_json(h: Any) -> dict[str, Any]:
    return {
        "outcome": h.outcome,
        "transfer_to": list(h.transfer_to),
        "expel_to": list(h.expel_to),
        "asylum": h.asylum,
        "wait_in_mexico": h.wait_in_mexico,
    }


def _head_words(h: dict[str, Any]) -> str:
    if h["outcome"] == "transfer":
        return "transfer to " + ", ".join(h["transfer_to"])
    if h["outcome"] == "expel":  # "?": the country of expulsion differs within the region
        places = [c for c in h["expel_to"] if c != "?"]
        return "expel to " + ", ".join(places) if places else "expel (the country depends on the case)"
    if h["outcome"] == "undetermined":  # a region holding cases of several outcomes
        return "depends on the case (several outcomes)"
    wait = {True: ", waits in Mexico", "undetermined": ", waiting in Mexico depends on the case"}.get(
        h.get("wait_in_mexico"), ""
    )
    asylum = "depends on the case" if h["asylum"] == "undetermined" else h["asylum"].replace("_", " ")
    outcome = "process in the U.S." if h["outcome"] == "process_in_us" else h["outcome"].replace("_", " ")
    return f"{outcome}, asylum {asylum}{wait}"


def _citations(ruleset: Any, rules: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(s.label for r in rules for s in ruleset.rule(r).sources))


@main.group()
def rules() -> None:
    """The rules: list them, show one with its citation, lint rule files."""


@rules.command("list")
@format_option
@rules_option
@user_errors
def rules_list(fmt: str, rules_dir: str | None) -> None:
    """Every rule: id, role, title, file:line."""
    from eligibility.ruleset.rulebook import list_rules

    rows = list_rules(eligibility.load_rules(rules_dir, extend=True))
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        _say(f"{row['id']:<52} {row['role']:<10} {row['location']}")
        _say(f"    {row['title']}")


@rules.command("show")
@click.argument("rule_id")
@rules_option
@user_errors
def rules_show(rule_id: str, rules_dir: str | None) -> None:
    """One rule (or instrument, or policy) with its condition, citations and quotes."""
    from eligibility.ruleset.rulebook import describe_rule, show_instrument

    ruleset = eligibility.load_rules(rules_dir, extend=True)
    if rule_id in ruleset.instruments or rule_id in ruleset.policies:
        _say(show_instrument(ruleset, rule_id))
        return
    try:
        _say(describe_rule(ruleset, rule_id))
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from None


@rules.command("lint")
@click.argument("path", required=False, type=click.Path())
@rules_option
@user_errors
def rules_lint(path: str | None, rules_dir: str | None) -> None:
    """Validate a rules directory, PATH or --rules DIR (default: the shipped rules); every problem
    as file:line:col."""
    if path is not None and rules_dir is not None and path != rules_dir:
        raise click.UsageError("give the rules directory once: PATH or --rules DIR")
    ruleset = eligibility.load_rules(path or rules_dir, extend=True)
    count = len(ruleset.all_rules())
    _say(
        f"ok: {len(ruleset.instruments)} instruments, {count} rules, "
        f"{len(ruleset.policies)} policies ({ruleset.digest[:19]}…)"
    )


@rules.command("verify")
@click.option("--policy", "policies", multiple=True, help="Verify only this policy (repeat for several).")
@format_option
@rules_option
@user_errors
def rules_verify(policies: tuple[str, ...], fmt: str, rules_dir: str | None) -> None:
    """Check every policy over every class of cases: dead or redundant rules, windows, invariants.

    Exit 0 when clean, 3 with findings; each finding names file:line and, where a case shows it,
    an example case ready to paste into a golden test.
    """
    from eligibility.analysis.verify import verify

    ruleset = eligibility.load_rules(rules_dir, extend=True)
    for name in policies:
        ruleset.require_policy(name)
    findings = verify(ruleset, list(policies) or None)
    if fmt == "json":
        for f in findings:
            _say(
                json.dumps(
                    {
                        "kind": f.kind,
                        "location": f.location,
                        "message": f.message,
                        "policy": f.policy,
                        "example": f.example,
                    },
                    ensure_ascii=False,
                )
            )
    else:
        for f in findings:
            _say(str(f))
            if f.example is not None:
                _say("  example: " + json.dumps(f.example, ensure_ascii=False))
        if not findings:
            checked = ", ".join(policies or sorted(ruleset.policies))
            click.echo(f"ok: no findings ({checked}; {len(ruleset.invariants)} invariants)")
    if findings:
        sys.exit(3)


@rules.command("language")
def rules_language() -> None:
    """The rule language in Markdown: fields, roles, facts and operators (docs/rule-language.md)."""
    from eligibility.ruleset.language import language_markdown

    click.echo(language_markdown(), nl=False)


@rules.command("reference")
@rules_option
@user_errors
def rules_reference(rules_dir: str | None) -> None:
    """The rules reference in Markdown (the source of docs/rules.md)."""
    from eligibility.ruleset.rulebook import reference_markdown

    _say(reference_markdown(eligibility.load_rules(rules_dir, extend=True)), nl=False)


@main.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@rules_option
@_text_or_json("text: a line per field that differs and a summary; json: one object.")
@user_errors
def test_golden(paths: tuple[str, ...], rules_dir: str | None, fmt: str) -> None:
    """Run golden-case files (YAML; a directory runs its *.yaml) against the rules.

    Prints one line per expected field that differs (file:line, the case's name, the field, what
    was got and what was expected), then a summary. Exit 0 when every case passes, 1 when one
    fails, 2 when a file, a case or a policy named is invalid. The format is tests/golden/FORMAT.md.
    """
    from eligibility.golden import GoldenFileError, run_golden

    try:
        report = run_golden(paths, rules_dir)
    except GoldenFileError as exc:
        problems, most = exc.problems, MAX_PROBLEMS
        shown = "\nerror: ".join(str(p) for p in problems[:most])
        more = f"\nerror: and {len(problems) - most} more problems" if len(problems) > most else ""
        raise UserError(shown + more) from None
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        for failure in report.failures:
            _say(str(failure))
        _say(report.summary())
    sys.exit(1 if report.failures else 0)


@main.command()
@click.argument("which", type=click.Choice(["case", "determination"]))
def schema(which: str) -> None:
    """The JSON Schema of a case (input) or a determination (output)."""
    model = eligibility.Case if which == "case" else eligibility.Determination
    click.echo(json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False))
