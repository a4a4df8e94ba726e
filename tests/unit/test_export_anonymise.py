"""Small-cell protection: k holds on any input (hypothesis), safe rows are never changed, and
the report counts what was withheld."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.exporting.anonymise import protect, quasi_fields
from surveyapp.exporting.missing import SUPPRESSED, SUPPRESSED_TEXT

QUASI = ["year_group", "gender"]
COLUMNS = ["year_group", "gender", "language", "class", "school"]


def text(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as text, blanks as a value of their own (NaN never equals NaN)."""
    return frame.astype(object).where(frame.notna(), "<na>").astype(str)


def released_ok(frame: pd.DataFrame, k: int) -> bool:
    """Written independently of the module: per wave, every combination of the released
    quasi-identifiers (suppressed and blank as values of their own) occurs >= k times, or
    the row has every quasi-identifier suppressed."""
    keys = text(frame[["wave", *COLUMNS]])
    sizes = keys.groupby(["wave", *COLUMNS], dropna=False)["school"].transform("size")
    withheld = frame[COLUMNS].isin([SUPPRESSED, SUPPRESSED_TEXT]).all(axis=1)
    return bool(((sizes >= k) | withheld).all())


rows = st.fixed_dictionaries(
    {
        "wave": st.sampled_from(["baseline", "followup_1"]),
        "school": st.sampled_from(["S01", "S02", "S03"]),
        "class_no": st.integers(1, 3),
        "year_group": st.sampled_from([3.0, 4.0, 5.0, -99.0, np.nan]),
        "gender": st.sampled_from([1.0, 2.0, 3.0, np.nan]),
        "language": st.sampled_from(["en", "cy", "pl"]),
        "score": st.floats(1, 4),
    }
)


def frame_of(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(
        records, columns=["wave", "school", "class_no", "year_group", "gender", "language", "score"]
    )
    frame["class"] = frame["school"] + "-C0" + frame["class_no"].astype(str)
    return frame.drop(columns="class_no").astype(
        {"year_group": "float64", "gender": "float64", "score": "float64"}
    )


def run(frame: pd.DataFrame, k: int):
    fields = quasi_fields(frame, {q: [q] for q in QUASI}, QUASI)
    return protect(frame, fields, k, stratum="wave")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows, max_size=80), st.integers(2, 7))
def test_k_holds_on_any_input(records, k):
    frame = frame_of(records)
    out, report = run(frame, k)
    assert released_ok(out, k)
    # Only quasi-identifiers change; nothing else, and no row is lost or reordered.
    pd.testing.assert_frame_equal(out[["wave", "score"]], frame[["wave", "score"]])
    # A class code names its school: a withheld school never leaves its class visible.
    assert (out.loc[out["school"] == SUPPRESSED_TEXT, "class"] == SUPPRESSED_TEXT).all()
    changed = (text(out[COLUMNS]) != text(frame[COLUMNS])).any(axis=1)
    assert report.rows_touched == int(changed.sum())
    assert report.cells_touched == int(
        (out[COLUMNS].isin([SUPPRESSED, SUPPRESSED_TEXT])).sum().sum()
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(rows, max_size=60), st.integers(2, 5))
def test_rows_already_safe_are_never_changed(records, k):
    frame = frame_of(records)
    keys = text(frame[["wave", *COLUMNS]])
    safe = (keys.groupby(list(keys.columns))["school"].transform("size") >= k).to_numpy()
    out, _ = run(frame, k)
    pd.testing.assert_frame_equal(text(out.loc[safe, COLUMNS]), text(frame.loc[safe, COLUMNS]))


def test_rare_values_are_withheld_and_the_rest_kept():
    base = {
        "wave": "baseline",
        "school": "S01",
        "class_no": 1,
        "gender": 1.0,
        "language": "en",
        "score": 2.0,
    }
    years = [5.0] * 6 + [3.0] * 3 + [4.0] * 2  # years 3 and 4 are each shared by fewer than 5
    frame = frame_of([{**base, "year_group": y} for y in years])
    out, report = run(frame, 5)
    assert out["year_group"].tolist() == [5.0] * 6 + [SUPPRESSED] * 5
    assert (out["class"] == "S01-C01").all() and (out["school"] == "S01").all()
    assert report.rows_touched == 5 and report.cells_suppressed == {"year_group": 5}
    assert "5 of 11 rows changed" in report.summary()


def test_a_lone_outlier_is_fully_withheld_and_nobody_else_touched():
    base = {
        "wave": "baseline",
        "school": "S01",
        "class_no": 1,
        "year_group": 5.0,
        "language": "en",
        "score": 2.0,
    }
    records = (
        [{**base, "gender": 1.0}] * 5 + [{**base, "gender": 2.0}] * 5 + [{**base, "gender": 3.0}]
    )
    out, report = run(frame_of(records), 5)
    assert text(out.iloc[:10]).equals(text(frame_of(records).iloc[:10]))
    assert out.iloc[10][COLUMNS].isin([SUPPRESSED, SUPPRESSED_TEXT]).all()
    assert report.rows_touched == 1 and report.rows_fully_suppressed == 1


def test_small_class_is_generalised_to_school_level():
    base = {
        "wave": "baseline",
        "school": "S01",
        "year_group": 5.0,
        "gender": 1.0,
        "language": "en",
        "score": 1.0,
    }
    records = (
        [{**base, "class_no": 1}] * 5
        + [{**base, "class_no": 2}] * 2
        + [{**base, "class_no": 3}] * 3
    )
    out, report = run(frame_of(records), 5)
    assert out["class"].tolist() == ["S01-C01"] * 5 + [SUPPRESSED_TEXT] * 5
    assert (out["school"] == "S01").all() and out["gender"].eq(1.0).all()
    assert report.classes_generalised == 5


def test_tiny_wave_is_fully_withheld():
    base = {
        "wave": "followup_1",
        "school": "S02",
        "class_no": 1,
        "year_group": 4.0,
        "gender": 2.0,
        "language": "pl",
        "score": 3.0,
    }
    out, report = run(frame_of([base, base]), 5)
    assert out[COLUMNS].isin([SUPPRESSED, SUPPRESSED_TEXT]).all(axis=None)
    assert report.rows_fully_suppressed == 2


def test_empty_frame():
    out, report = run(frame_of([]), 5)
    assert out.empty and report.rows_touched == 0
