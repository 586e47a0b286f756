"""The fast path's caches stay within their declared sizes on a population with many classes.

``CLASSES`` bounds the templates (one class's determination text, the largest entries). Each
prepared case key (``CASE_KEYS``, five times as many) holds its template: a template dropped from
the class cache must not live on through them, or memory grows with the classes seen, not the bound.
"""

from __future__ import annotations

import pytest

from eligibility import fast
from tests.test_explain_cache import _population


@pytest.mark.parametrize(("detail", "classes"), [("compact", 8), ("full", 80)])
def test_templates_alive_stay_within_the_class_bound(
    monkeypatch: pytest.MonkeyPatch, detail: str, classes: int
) -> None:
    cases = _population(150)
    monkeypatch.setattr(fast, "CLASSES", classes)
    limit = classes if detail == "compact" else classes // 10
    ev = fast.Evaluator("enacted", detail=detail)  # type: ignore[arg-type]
    lines = [ev.evaluate(case).to_json() for case in cases]
    assert ev.evaluations > 3 * limit  # the bound was reached several times
    held = {id(p.template) for p in ev._by_case.values()} | {id(t) for t in ev._by_class.values()}
    assert len(ev._by_class) <= limit
    assert len(held) <= limit  # no template lives on through a prepared case key
    monkeypatch.setattr(fast, "CLASSES", 4_000)
    roomy = fast.Evaluator("enacted", detail=detail)  # type: ignore[arg-type]
    assert [roomy.evaluate(case).to_json() for case in cases] == lines  # dropping changes no line


def test_a_full_line_is_the_cases_own_whatever_case_made_its_class_template() -> None:
    """A finding's ``assumed`` names the defaults its rule's truth rests on: two cases with the
    same rule truths may differ there (a rule false by one fact rests on no default; false by the
    defaulted one, it does). Each case's full line is what a fresh evaluator gives it alone."""
    cases = _population(60)
    shared = fast.Evaluator("enacted", detail="full")
    for case in cases:
        alone = fast.Evaluator("enacted", detail="full")
        assert shared.evaluate(case).to_json() == alone.evaluate(case).to_json(), case.id
