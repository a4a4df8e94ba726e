"""Terms derived from dates (pure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveyapp.study.terms import next_term, parse_term, term_of, term_start, terms_between


@pytest.mark.parametrize(
    ("day", "term"),
    [
        (date(2026, 9, 1), "2026-autumn"),
        (date(2026, 12, 31), "2026-autumn"),
        (date(2027, 1, 1), "2027-spring"),
        (date(2027, 3, 31), "2027-spring"),
        (date(2027, 4, 1), "2027-summer"),
        (date(2027, 7, 20), "2027-summer"),
        (date(2027, 8, 31), "2027-summer"),
    ],
)
def test_term_of(day, term):
    assert term_of(day) == term


def test_the_shipped_study_period_spans_one_school_year():
    assert terms_between(date(2026, 9, 1), date(2027, 7, 20)) == [
        "2026-autumn",
        "2027-spring",
        "2027-summer",
    ]


def test_terms_between_empty_when_reversed():
    assert terms_between(date(2027, 1, 1), date(2026, 1, 1)) == []


def test_next_term_wraps_the_year():
    assert next_term("2026-autumn") == "2027-spring"
    assert next_term("2027-spring") == "2027-summer"
    with pytest.raises(ValueError, match="not a term"):
        next_term("2027-winter")


def test_parse_term_rejects_anything_else():
    assert parse_term("2027-summer") == (2027, "summer")
    for bad in ("", "2027-Summer", "27-summer", "2027-summer ", "../etc"):
        assert parse_term(bad) is None


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_a_date_lies_in_its_term(day):
    term = term_of(day)
    assert term_start(term) <= day < term_start(next_term(term))


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
    st.integers(min_value=0, max_value=3000),
)
def test_terms_between_is_consecutive_and_covers_both_ends(first, days):
    last = first + timedelta(days=days)
    terms = terms_between(first, last)
    assert terms[0] == term_of(first) and terms[-1] == term_of(last)
    assert all(next_term(a) == b for a, b in zip(terms, terms[1:], strict=False))
