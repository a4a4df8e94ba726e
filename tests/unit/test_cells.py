import pytest

from surveyapp.exporting.cells import spreadsheet_safe


@pytest.mark.parametrize("text", ["=1+2", "+44 7700", "-2", "@SUM(A1)", "\tx", "\r=1"])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["", "I like the violin", "a=b", "'quoted", "١٢", "😀 = fun"])
def test_other_text_is_unchanged(text):
    assert spreadsheet_safe(text) == text
