"""Access-code helpers used by the cards and the demo (pure parts, no database)."""

from __future__ import annotations

from surveyapp.codes import ALPHABET, CODE_LENGTH, format_code, normalise_code
from surveyapp.commands.demo import demo_code


def test_demo_codes_are_deterministic_valid_and_distinct():
    first = demo_code("5B-01", "baseline", 0)
    assert first == demo_code("5B-01", "baseline", 0)
    assert len(first) == CODE_LENGTH and set(first) <= set(ALPHABET)
    assert normalise_code(format_code(first).lower()) == first
    others = {
        demo_code("5B-01", "baseline", 1),
        demo_code("5B-02", "baseline", 0),
        demo_code("5B-01", "followup_1", 0),
    }
    assert first not in others and len(others) == 3


def test_printed_form_is_grouped_and_typeable_back():
    code = "ABCD2345"
    assert format_code(code) == "ABCD-2345"
    for typed in ("abcd-2345", "ABCD 2345", " abcd2345 "):
        assert normalise_code(typed) == code
