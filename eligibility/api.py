"""The public entry points: load rules, evaluate a case."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from eligibility.analysis.counterfactual import counterfactuals as find_changes
from eligibility.analysis.settle import settle
from eligibility.case import Case, parse_case
from eligibility.engine.backends import PureEngine, engine_for
from eligibility.engine.program import compile_policy
from eligibility.explain.build import build
from eligibility.explain.determination import Answer, DecisionRecord, Determination
from eligibility.ruleset.facts import derive_facts
from eligibility.ruleset.load import EVIDENCE_ORDER, RuleSet, default_rules
from eligibility.ruleset.load import load_rules as _load_rules

if TYPE_CHECKING:  # imported where used: `check` needs neither
    from eligibility.explain.replay import Replay
    from eligibility.fast import Evaluator


def _fast(ruleset: RuleSet, policy: str | None, lang: str = "en") -> Evaluator:
    """One fast evaluator per rule set, policy and language, kept with the rule set's compiled programs."""
    from eligibility.fast import Evaluator

    name = policy or ruleset.default_policy
    key = name if lang == "en" else f"{name}:{lang}"
    return ruleset.built.get(Evaluator, key, lambda: Evaluator(policy, rules=ruleset, lang=lang))


def load_rules(path: str | Path | None = None, *, extend: bool = False) -> RuleSet:
    """Load and validate a rules directory; ``None`` gives the shipped rules (loaded once).

    With ``extend=True``, ``path`` adds to or replaces the shipped instruments and policies.
    Raises ``RuleFileError`` listing every problem as ``file:line:col: message``.
    """
    return default_rules() if path is None else _load_rules(path, extend=extend)


def evaluate(
    case: Case | dict[str, object] | str,
    policy: str | None = None,
    *,
    rules: RuleSet | None = None,
    engine: str = "durable",
    counterfactuals: bool = True,
    lang: str = "en",
) -> Determination:
    """What happens to this person under ``policy`` (default: ``enacted``), and why.

    ``case`` is a Case, a dict, or JSON/YAML text (the case format, `eligibility schema case`). ``engine`` is 'durable'
    (durable-rules decides which rules fire, checked by the pure evaluator; falls back to 'pure'
    where durable-rules is not installed) or 'pure'. ``counterfactuals`` adds ``would_change_if``
    (the smallest changes of facts that change the answer). ``lang`` is the language of the
    texts ('en' or 'es'). Raises ``CaseError`` for an invalid case and ``UnknownPolicyError`` for
    an unknown policy.
    """
    ruleset = rules or load_rules()
    parsed = parse_case(case)
    if parsed.spans:
        return _evaluate_spans(parsed, policy, ruleset, engine, counterfactuals, lang)
    if engine == "fast":
        return _fast(ruleset, policy, lang).evaluate(parsed).determination()
    program = compile_policy(ruleset, policy)
    facts, assumed = derive_facts(parsed, ruleset.context)
    chosen = engine_for(program, engine)
    checker = engine_for(program, "pure")
    settlement = settle(program, facts, chosen, checker if not isinstance(chosen, PureEngine) else None)
    changes = find_changes(program, facts, assumed, settlement) if counterfactuals else None
    return build(program, parsed, facts, assumed, settlement, chosen.name, changes, lang=lang)


def version() -> str:
    """The version of the tool (``eligibility.__version__``, kept equal to pyproject.toml's by a test)."""
    from eligibility._version import __version__

    return __version__


def record(
    determination: Determination,
    case: Case | dict[str, object] | str,
    answers: list[Answer] | None = None,
    evaluated_at: str | None = None,
) -> DecisionRecord:
    """A determination with the facts it was made from, the answers to ``ask``, the tool's
    version and the time (UTC), for a client file; ``eligibility replay`` reads it back."""
    import datetime as dt

    parsed = parse_case(case)
    given = parsed.model_dump(mode="json", exclude_unset=True)
    for name, (_first, _last, text) in parsed.spans.items():  # approximate dates as given
        if name.startswith("entry."):
            given["entry"][name[6:]] = text
        else:
            given[name] = text
    when = evaluated_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return DecisionRecord(
        **dict(determination),
        case=given,
        answers=answers,
        version=version(),
        evaluated_at=when,
    )


def replay(previous: DecisionRecord, rules: RuleSet | None = None, engine: str = "durable") -> Replay:
    """Evaluate a decision record's case again with ``rules`` (default: the shipped rules), under
    the record's policy and language, and compare: does the answer still hold, which rules changed."""
    from eligibility.explain.replay import compare

    ruleset = rules or load_rules()
    ruleset.require_policy(previous.policy)
    now = evaluate(previous.case, previous.policy, rules=ruleset, engine=engine, lang=previous.lang)
    return compare(previous, record(now, previous.case, previous.answers))


SPAN_LIMIT = 20_000
"""The most combinations of days that approximate dates may allow (their ranges multiplied)."""


def _evaluate_spans(
    case: Case, policy: str | None, ruleset: RuleSet, engine: str, counterfactuals: bool, lang: str
) -> Determination:
    """A case with dates known only approximately: the answer when every day of them gives the
    same one, else the parts that differ undetermined, with the days that split them."""
    import datetime as dt
    import itertools

    from pydantic import ValidationError

    from eligibility.errors import CaseError, Problem
    from eligibility.explain.determination import DateCut, Dates
    from eligibility.explain.short import result_words, status_name
    from eligibility.i18n import translator

    _ = translator(lang)

    fields = list(case.spans)
    days = [
        [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        for first, last, _text in case.spans.values()
    ]
    total = 1
    for options in days:
        total *= len(options)
    if total > SPAN_LIMIT:
        raise CaseError(
            [
                Problem(
                    f"case: {', '.join(fields)}",
                    f"the approximate dates allow {total:,} combinations of days; narrow them (at most {SPAN_LIMIT:,})",
                )
            ]
        )
    base = case.model_dump(mode="json", exclude_unset=True)
    fast = _fast(ruleset, policy)
    Head = tuple[str, tuple[str, ...], tuple[str, ...], str, "bool | str"]
    heads: dict[Head, list[tuple[dt.date, ...]]] = {}
    seen: dict[tuple[dt.date, ...], Head] = {}
    cases: dict[tuple[dt.date, ...], Case] = {}
    for combo in itertools.product(*days):
        data = {**base, "entry": dict(base["entry"])}
        for name, day in zip(fields, combo, strict=True):
            if name.startswith("entry."):
                data["entry"][name[6:]] = day.isoformat()
            else:
                data[name] = day.isoformat()
        try:
            one = Case.model_validate(data)
        except ValidationError:  # an impossible combination: a decision before the entry...
            continue
        got = fast.evaluate(one)
        head: Head = (got.outcome, got.transfer_to, got.expel_to, got.asylum, got.wait_in_mexico)
        heads.setdefault(head, []).append(combo)
        seen[combo] = head
        cases.setdefault(combo, one)
    if not heads:
        raise CaseError(
            [Problem(f"case: {', '.join(fields)}", "no day of the approximate dates is possible")]
        )
    texts = {name: text for name, (_f, _l, text) in case.spans.items()}
    first = next(iter(heads.values()))[0]
    rep = evaluate(
        cases[first],
        policy,
        rules=ruleset,
        engine=engine,
        counterfactuals=counterfactuals and len(heads) == 1,
        lang=lang,
    )
    entry_text = texts.get("entry.date", rep.dates.entry)
    shown = {
        "entry": entry_text,
        "decision": texts.get("decision_date")
        or (entry_text if "decision_date" in rep.assumed else rep.dates.decision),
        "claim": texts.get("claim_date") or (entry_text if "claim_date" in rep.assumed else rep.dates.claim),
    }
    assumed = dict(rep.assumed)
    for name in ("decision_date", "claim_date"):
        if name in assumed:
            assumed[name] = shown["decision" if name == "decision_date" else "claim"]
    dates = Dates(entry=shown["entry"] or "", decision=shown["decision"], claim=shown["claim"])
    if len(heads) == 1:
        return rep.model_copy(update={"date_ranges": texts, "dates": dates, "assumed": assumed})
    reps = [
        evaluate(cases[combos[0]], policy, rules=ruleset, engine=engine, counterfactuals=False, lang=lang)
        for combos in heads.values()
    ]
    cuts: dict[tuple[str, dt.date], DateCut] = {}
    for combo, head in seen.items():
        for i, name in enumerate(fields):
            if combo[i] == dt.date.max:
                continue  # no day after the last
            step = (*combo[:i], combo[i] + dt.timedelta(days=1), *combo[i + 1 :])
            other = seen.get(step)
            if other is not None and other != head and (name, step[i]) not in cuts:
                cuts[(name, step[i])] = DateCut(
                    field=name,
                    date=step[i].isoformat(),
                    before=result_words(*head, lang=lang),
                    after=result_words(*other, lang=lang),
                )
    ordered = sorted(cuts.values(), key=lambda c: (c.field, c.date))
    splitting = list(dict.fromkeys(c.field for c in ordered))

    def common(index: int, undecided: object) -> object:
        values = {h[index] for h in heads}
        return values.pop() if len(values) == 1 else undecided

    outcome = common(0, "undetermined")
    transfer_to = common(1, ()) if outcome != "undetermined" else ()
    expel_to = common(2, ()) if outcome != "undetermined" else ()
    asylum = common(3, "undetermined")
    wait = common(4, "undetermined")
    by_part = {}
    for part, value in (("outcome", outcome), ("asylum", asylum), ("wait_in_mexico", wait)):
        if value == "undetermined":
            names = [*splitting, *(n for r in reps for n in r.missing_facts_by_field.get(part, []))]
            by_part[part] = list(dict.fromkeys(names))
    missing = list(dict.fromkeys(n for names in by_part.values() for n in names))
    instruments = []
    for i, inst in enumerate(rep.instruments):
        statuses = {r.instruments[i].status for r in reps}
        if len(statuses) == 1:
            instruments.append(inst)
            continue
        truths = {
            f.rule: {fr.holds for r in reps for fr in r.instruments[i].findings if fr.rule == f.rule}
            for f in inst.findings
        }
        instruments.append(
            inst.model_copy(
                update={
                    "status": "undetermined",
                    "reasons": [
                        _("Depends on {fields}: {statuses}").format(
                            fields=", ".join(splitting),
                            statuses=_(" or ").join(status_name(st, lang) for st in sorted(statuses)),
                        )
                    ],
                    "reason_rules": [None],
                    "findings": [
                        f if len(truths[f.rule]) == 1 else f.model_copy(update={"holds": None})
                        for f in inst.findings
                    ],
                }
            )
        )
    return rep.model_copy(
        update={
            "outcome": outcome,
            "transfer_to": list(transfer_to),  # type: ignore[call-overload]
            "expel_to": list(expel_to),  # type: ignore[call-overload]
            "asylum": asylum,
            "wait_in_mexico": wait,
            "evidence": min((r.evidence for r in reps), key=EVIDENCE_ORDER.__getitem__),
            "caveats": list(dict.fromkeys(c for r in reps for c in r.caveats)),
            "missing_facts": missing,
            "missing_facts_by_field": by_part,
            "assumed": assumed,
            "instruments": instruments,
            "would_change_if": [],
            "explanation": [
                _("Undetermined: the dates known only approximately do not settle it."),
                *(
                    _("{field} before {date}: {before}; from {date}: {after}").format(
                        field=c.field, date=c.date, before=c.before, after=c.after
                    )
                    + "."
                    for c in ordered
                ),
            ],
            "dates": dates,
            "decided_by": list(dict.fromkeys(r for d in reps for r in d.decided_by)),
            "date_ranges": texts,
            "date_cuts": ordered,
        }
    )
