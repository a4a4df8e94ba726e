"""Small-cell protection: k holds on any input (hypothesis), safe rows are never changed, and
the report counts what was withheld."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.exporting.anonymise import protect, protect_linked, quasi_fields
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


# ------------------------------------------------------------------ across linked waves

LINKED = ["year_group", "gender", "language", "class", "school"]


def linked_ok(frame: pd.DataFrame, k: int) -> bool:
    """Written independently of the module: group pupils by everything the file shows about
    them (each of their rows' wave and quasi-identifiers); every group has at least k
    pupils, or the pupil has every quasi-identifier withheld in every row."""
    cells = text(frame[["wave", *LINKED]])
    profiles: dict[str, list[tuple]] = {}
    withheld: dict[str, bool] = {}
    for pupil, row, original in zip(
        frame["pupil"], cells.itertuples(index=False), frame[LINKED].itertuples(index=False),
        strict=True,
    ):  # fmt: skip
        profiles.setdefault(pupil, []).append(tuple(row))
        suppressed = all(v in (SUPPRESSED, SUPPRESSED_TEXT) for v in original)
        withheld[pupil] = withheld.get(pupil, True) and suppressed
    keys = {pupil: tuple(sorted(rows)) for pupil, rows in profiles.items()}
    sizes = pd.Series(list(keys.values())).value_counts()
    return all(sizes[keys[pupil]] >= k or withheld[pupil] for pupil in keys)


pupil_rows = st.fixed_dictionaries(
    {
        "school": st.sampled_from(["S01", "S02"]),
        "class_no": st.integers(1, 2),
        "year_group": st.sampled_from([4.0, 5.0, np.nan]),
        "gender": st.sampled_from([1.0, 2.0]),
        "language": st.sampled_from(["en", "cy"]),
        # What changes by follow-up (None: the pupil missed it).
        "moved_class": st.booleans(),
        "year_up": st.booleans(),
        "language_follow_up": st.sampled_from(["en", "cy", None]),
        "in_baseline": st.booleans(),
    }
)


def linked_frame(pupils: list[dict]) -> pd.DataFrame:
    rows = []
    for i, p in enumerate(pupils):
        base = {
            "pupil": f"p{i:03d}", "school": p["school"], "class_no": p["class_no"],
            "year_group": p["year_group"], "gender": p["gender"], "language": p["language"],
            "score": float(i),
        }  # fmt: skip
        if p["in_baseline"] or p["language_follow_up"] is None:
            rows.append({**base, "wave": "baseline"})
        if p["language_follow_up"] is not None:
            rows.append(
                {
                    **base,
                    "wave": "followup_1",
                    "class_no": 3 - p["class_no"] if p["moved_class"] else p["class_no"],
                    "year_group": p["year_group"] + 1 if p["year_up"] else p["year_group"],
                    "language": p["language_follow_up"],
                    "score": float(i) + 0.5,
                }
            )
    columns = ["pupil", "wave", "school", "class_no", "year_group", "gender", "language", "score"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["class"] = frame["school"] + "-C0" + frame["class_no"].astype(str)
    return frame.drop(columns="class_no").astype(
        {"year_group": "float64", "gender": "float64", "score": "float64"}
    )


def run_linked(frame: pd.DataFrame, k: int):
    fields = quasi_fields(frame, {q: [q] for q in QUASI}, QUASI)
    return protect_linked(frame, fields, k, person="pupil", wave="wave")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pupil_rows, max_size=60), st.integers(2, 6))
def test_k_holds_for_each_pupil_across_linked_waves(pupils, k):
    frame = linked_frame(pupils)
    out, report = run_linked(frame, k)
    assert linked_ok(out, k)
    assert released_ok(out.drop(columns="pupil"), k)  # per wave, as before
    # Rows stay in place; only quasi-identifiers change.
    pd.testing.assert_frame_equal(
        out[["pupil", "wave", "score"]], frame[["pupil", "wave", "score"]]
    )
    # A field withheld for a pupil is withheld in every row of theirs.
    for column in LINKED:
        withheld = out[column].isin([SUPPRESSED, SUPPRESSED_TEXT])
        assert withheld.groupby(out["pupil"]).nunique().eq(1).all(), column
    assert (out.loc[out["school"] == SUPPRESSED_TEXT, "class"] == SUPPRESSED_TEXT).all()
    changed = (text(out[LINKED]) != text(frame[LINKED])).any(axis=1)
    assert report.rows_touched == int(changed.sum())


@settings(max_examples=100, deadline=None)
@given(st.lists(pupil_rows, max_size=50), st.integers(2, 5))
def test_pupils_already_safe_across_waves_are_never_changed(pupils, k):
    frame = linked_frame(pupils)
    cells = text(frame[["wave", *LINKED]]).apply(tuple, axis=1)
    profile = cells.groupby(frame["pupil"]).agg(lambda rows: tuple(sorted(rows)))
    safe_pupils = profile[profile.map(profile.value_counts()) >= k].index
    safe = frame["pupil"].isin(safe_pupils).to_numpy()
    out, _ = run_linked(frame, k)
    pd.testing.assert_frame_equal(text(out.loc[safe, LINKED]), text(frame.loc[safe, LINKED]))


def test_a_class_move_that_is_unique_across_waves_is_withheld():
    """Per wave everyone is in a group of at least 5, but only one pupil moved from C01 to
    C02: their linked rows would single them out."""
    stay = [{"school": "S01", "class_no": c, "year_group": 5.0, "gender": 1.0, "language": "en",
             "moved_class": False, "year_up": False, "language_follow_up": "en",
             "in_baseline": True} for c in (1, 1, 1, 1, 1, 2, 2, 2, 2, 2)]  # fmt: skip
    mover = {**stay[0], "moved_class": True}
    frame = linked_frame([*stay, mover])
    assert released_ok(frame.drop(columns="pupil"), 5)  # per wave it looks fine
    assert not linked_ok(frame, 5)  # linked, the mover stands out
    per_wave, _ = protect(frame.drop(columns="pupil"), quasi_fields(frame, {}, []), 5)
    assert not linked_ok(per_wave.assign(pupil=frame["pupil"]), 5)  # the old guarantee
    out, report = run_linked(frame, 5)
    assert linked_ok(out, 5)
    mover_rows = out["pupil"] == "p010"
    # The mover alone would be "S01, class withheld": a group of one, so they are withheld
    # in both rows; nobody else is touched.
    assert out.loc[mover_rows, LINKED].isin([SUPPRESSED, SUPPRESSED_TEXT]).all(axis=None)
    pd.testing.assert_frame_equal(text(out[~mover_rows]), text(frame[~mover_rows]))
    assert report.rows_touched == 2 and report.rows_fully_suppressed == 2
