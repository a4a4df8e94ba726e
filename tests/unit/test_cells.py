import pytest

from surveyapp.exporting.cells import spreadsheet_safe


@pytest.mark.parametrize("text", ["=1+2", "+44 7700", "-2", "@SUM(A1)", "\tx", "\r=1"])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["", "I like the violin", "a=b", "'quoted", "١٢", "😀 = fun"])
def test_other_text_is_unchanged(text):
    assert spreadsheet_safe(text) == text


def test_export_csv_escapes_formula_text_but_not_codes_or_numbers(tmp_path):
    import pandas as pd

    from surveyapp.exporting.variables import NUMBER, TEXT, Variable
    from surveyapp.exporting.writers import write_csv

    frame = pd.DataFrame(
        {
            "comments": ["=1+1", "-99", "@home", "violin", None],
            "age": [-99, 9, 10, 11, 12],
        }
    )
    variables = [
        Variable(name="comments", kind=TEXT, label={"en": "c"}, storage="string"),
        Variable(name="age", kind=NUMBER, label={"en": "a"}),
    ]
    written = pd.read_csv(write_csv(frame, variables, tmp_path / "x.csv", bom=False), dtype=str)
    assert written["comments"].tolist()[:4] == ["'=1+1", "-99", "'@home", "violin"]
    assert pd.isna(written["comments"].tolist()[4])
    assert written["age"].tolist() == ["-99", "9", "10", "11", "12"]
    assert frame["comments"].tolist()[0] == "=1+1"  # the caller's frame is not changed
