"""School terms derived from dates: ``2026-autumn``, ``2027-spring``, ``2027-summer``.

Term dates differ between local authorities and move with Easter, so terms are whole months:
September to December is the autumn term, January to March the spring term, April to August
the summer term (August, a holiday, belongs to the summer term of the same year). A term is
named by the calendar year it falls in, so the 2026/27 school year is ``2026-autumn``,
``2027-spring``, ``2027-summer``.
"""

from __future__ import annotations

import re
from datetime import date

TERMS = ("spring", "summer", "autumn")  # in calendar order within a year
_TERM_START_MONTH = {"spring": 1, "summer": 4, "autumn": 9}
_TERM_RE = re.compile(r"^(\d{4})-(spring|summer|autumn)$")


def term_of(day: date) -> str:
    """The term a date falls in, e.g. ``date(2026, 10, 5)`` -> ``"2026-autumn"``."""
    if day.month >= 9:
        name = "autumn"
    elif day.month >= 4:
        name = "summer"
    else:
        name = "spring"
    return f"{day.year}-{name}"


def parse_term(term: str) -> tuple[int, str] | None:
    """``"2027-spring"`` -> ``(2027, "spring")``; None if it is not a term name."""
    match = _TERM_RE.match(term or "")
    if not match:
        return None
    return int(match.group(1)), match.group(2)


def term_start(term: str) -> date:
    """First day of a term; ValueError if ``term`` is not a term name."""
    parsed = parse_term(term)
    if parsed is None:
        raise ValueError(f"not a term: {term!r} (expected e.g. 2026-autumn)")
    year, name = parsed
    return date(year, _TERM_START_MONTH[name], 1)


def next_term(term: str) -> str:
    year, name = parse_term(term) or (None, None)
    if year is None:
        raise ValueError(f"not a term: {term!r} (expected e.g. 2026-autumn)")
    index = TERMS.index(name)
    if index == len(TERMS) - 1:
        return f"{year + 1}-{TERMS[0]}"
    return f"{year}-{TERMS[index + 1]}"


def terms_between(first: date, last: date) -> list[str]:
    """Every term from the one containing ``first`` to the one containing ``last``, in order."""
    if last < first:
        return []
    terms = [term_of(first)]
    final = term_of(last)
    while terms[-1] != final:
        terms.append(next_term(terms[-1]))
    return terms


def term_label(term: str) -> str:
    """``"2027-spring"`` -> ``"Spring 2027"`` (English; views translate the season word)."""
    parsed = parse_term(term)
    if parsed is None:
        return term
    year, name = parsed
    return f"{name.capitalize()} {year}"
