"""Languages: the program's messages through a gettext catalog, country names through pycountry's.

The catalog is ``eligibility/locale/<lang>/LC_MESSAGES/eligibility.po`` (compiled to ``.mo``,
both shipped); its messages are extracted from the source with Babel (``pybabel extract``, see
the README). Rule titles, caveats and summaries are translated in the rule files themselves.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Literal, get_args

Lang = Literal["en", "es"]
LANGUAGES: tuple[str, ...] = get_args(Lang)
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "eligibility"


def _same(message: str) -> str:
    return message


@cache
def translator(lang: str) -> Callable[[str], str]:
    """The function that translates a program message into ``lang`` (English: the message itself)."""
    if lang == "en":
        return _same
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: one of {', '.join(LANGUAGES)}")
    catalog = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])
    return catalog.gettext


@cache
def _country_names(lang: str) -> Callable[[str], str]:
    if lang == "en":
        return _same
    import pycountry

    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]).gettext
    except OSError:  # pycountry without that language: English names
        return _same


def country_name(code: str, lang: str = "en") -> str:
    """The short name of a country in ``lang``, or the code itself when unknown."""
    from eligibility.countries import country_name as english

    name = english(code)
    return name if name == code else _country_names(lang)(name)
