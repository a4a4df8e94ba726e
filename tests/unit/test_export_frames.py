"""The pure export: wide and long frames, missing codes, routing, pseudonyms, coarsened times,
scores and the codebook, from plain input frames (no database)."""

from __future__ import annotations

import hashlib
import hmac
import math

import numpy as np
import pandas as pd
import pytest
from test_export_fixtures import expected_row, input_frames, pupil_answers, questionnaire

from surveyapp.exporting import ExportOptionsError, build_dataset, make_options
from surveyapp.exporting.stored import decode_json_values
from surveyapp.exporting.variables import META_COLUMNS
from surveyapp.study.model import Anonymisation

KEY = "study-secret"


@pytest.fixture(scope="module")
def q():
    return questionnaire()


def build(q, n=12, waves=("baseline",), **choices):
    responses, answers = input_frames(n, waves)
    options = make_options(**{"formats": "csv", "k": 2, **choices})
    return build_dataset(responses, answers, [q], options, KEY, name="t"), responses


def by_participant(dataset, responses) -> dict:
    ids = {
        hmac.new(KEY.encode(), pid.encode(), hashlib.sha256).hexdigest()[:16]: int(pid[3:])
        for pid in responses["participant_id"]
    }
    return {ids[row["pseudonym"]]: row for row in dataset.wide.to_dict("records")}


def test_columns_follow_the_questionnaire(q):
    dataset, _ = build(q)
    columns = list(dataset.wide.columns)
    assert tuple(columns[: len(META_COLUMNS)]) == META_COLUMNS
    assert columns[len(META_COLUMNS) :] == [
        "year_group", "gender", "conf_1", "conf_2", "conf_3", "feel_happy", "feel_calm",
        "plays_music", "instruments_1", "instruments_2", "instruments_3", "practice_minutes",
        "confidence_score", "wellbeing_score",
    ]  # fmt: skip
    # No info item, and free text only when asked for.
    assert "intro" not in columns and "comment" not in columns
    with_text, _ = build(q, include_free_text=True)
    assert "comment" in with_text.wide.columns
    assert with_text.codebook.warnings and "free-text" in with_text.codebook.warnings[0]


def test_values_missing_codes_routing_and_scores(q):
    dataset, responses = build(q)
    rows = by_participant(dataset, responses)
    assert len(rows) == 12
    for i, row in rows.items():
        for name, value in expected_row(i).items():
            if isinstance(value, float) and math.isnan(value):
                assert pd.isna(row[name]), (i, name)
            else:
                assert row[name] == pytest.approx(value), (i, name)
    # Declined is -99, not blank; a missing answer is blank (system missing), not -98.
    assert rows[1]["conf_3"] == -99
    assert pd.isna(rows[2]["feel_calm"])
    # Not shown by routing (plays_music == 0) is -98, for every option column.
    assert pupil_answers(3)["plays_music"] == 0
    assert [rows[3][f"instruments_{c}"] for c in (1, 2, 3)] == [-98, -98, -98]


def test_meta_columns_are_coarsened(q):
    dataset, responses = build(q, waves=("baseline", "followup_1"))
    wide = dataset.wide
    assert set(wide["started"]) == {"2026-autumn", "2027-summer"}
    partial = wide[wide["status"] == "partial"]
    assert len(partial) == 2 and partial["completed"].isna().all()
    assert partial["duration_min"].isna().all()
    assert set(wide.loc[wide["status"] == "complete", "duration_min"]) == {10}  # 9 min 40 s
    week, _ = build(q, time_resolution="week")
    assert set(week.wide["started"]) == {"2026-W38"}
    day, _ = build(q, time_resolution="date")
    assert set(day.wide["started"]) == {"2026-09-14"}
    for frame in (wide, week.wide, day.wide):
        assert not any(pd.api.types.is_datetime64_any_dtype(frame[c]) for c in frame.columns)


def test_pseudonyms_pair_waves_and_unlinkable_exports_do_not(q):
    dataset, _ = build(q, waves=("baseline", "followup_1"))
    wide = dataset.wide
    assert wide.groupby("pseudonym")["wave"].nunique().eq(2).all()
    again, _ = build(q, waves=("baseline", "followup_1"))
    assert set(again.wide["pseudonym"]) == set(wide["pseudonym"])
    fresh, _ = build(q, waves=("baseline", "followup_1"), unlinkable=True)
    other, _ = build(q, waves=("baseline", "followup_1"), unlinkable=True)
    assert not set(fresh.wide["pseudonym"]) & set(wide["pseudonym"])
    assert not set(fresh.wide["pseudonym"]) & set(other.wide["pseudonym"])
    assert fresh.wide.groupby("pseudonym")["wave"].nunique().eq(2).all()
    assert "not linkable" in " ".join(fresh.variables[0].transforms)


def test_rows_are_ordered_by_wave_school_class_pseudonym_not_time(q):
    dataset, _ = build(q, waves=("baseline", "followup_1"))
    keys = dataset.wide[["wave", "school", "class", "pseudonym"]].astype(str)
    assert keys.apply(tuple, axis=1).tolist() == sorted(keys.apply(tuple, axis=1).tolist())


def test_long_format_has_one_row_per_answer_with_labels(q):
    dataset, responses = build(q, long_format=True, language="cy", include_free_text=True)
    long = dataset.long
    numeric = [c for c in dataset.wide.columns if c in long["variable"].unique()]
    assert len(long) == int(dataset.wide[numeric].notna().sum().sum())
    pid = by_participant(dataset, responses)
    first = next(p for p, row in pid.items() if row["pseudonym"] == long["pseudonym"].iloc[0])
    conf = long[(long["pseudonym"] == pid[first]["pseudonym"]) & (long["variable"] == "conf_1")]
    assert conf["value"].item() == pupil_answers(first)["conf_1"]
    assert (
        conf["value_label"].item()
        == {1: "Na", 2: "Ddim wir", 3: "Ychydig", 4: "Ydw, llawer"}[pupil_answers(first)["conf_1"]]
    )
    assert long.loc[long["variable"] == "feel_happy", "question_id"].iloc[0] == "feelings"
    assert long["text"].notna().sum() == 12


def test_codebook_describes_every_column(q):
    dataset, _ = build(q, waves=("baseline", "followup_1"))
    table = dataset.codebook.table().set_index("name")
    assert list(table.index) == list(dataset.wide.columns)
    assert table.loc["conf_3", "text_cy"] == "Rwy'n rhoi'r gorau iddi yn aml."
    assert table.loc["conf_3", "reverse"] == "confidence"
    assert table.loc["conf_1", "value_labels"].startswith("1 = No; 2 = Not really")
    assert "-99 = prefer not to say" in table.loc["conf_1", "missing_codes"]
    assert "term" in table.loc["started", "transformation"]
    assert "quasi-identifier" in table.loc["year_group", "transformation"]
    assert "HMAC-SHA256" in table.loc["pseudonym", "transformation"]
    assert "derived: mean" in table.loc["confidence_score", "transformation"]
    alphas = dataset.codebook.alpha_table()
    assert set(zip(alphas["construct"], alphas["wave"], strict=True)) == {
        (c, w) for c in ("confidence", "wellbeing") for w in ("baseline", "followup_1")
    }
    html = dataset.codebook.html()
    assert "Cronbach" in html and "&lt;" not in dataset.codebook.title


def test_policy_defaults_and_overrides():
    policy = Anonymisation(k=7, time_resolution="week", quasi_identifiers=["arm"])
    options = make_options(policy, formats=["csv", "sav"])
    assert (options.k, options.time_resolution, options.quasi_identifiers) == (7, "week", ("arm",))
    assert make_options(policy, k=9).k == 9
    with pytest.raises(ExportOptionsError, match="at least 7"):
        make_options(policy, k=5)
    with pytest.raises(ExportOptionsError, match="time resolution"):
        make_options(policy, time_resolution="hour")
    with pytest.raises(ExportOptionsError, match="at least one format"):
        make_options(policy, formats="")
    assert make_options(policy, include_free_text=None).include_free_text is False


def test_extra_quasi_identifier_from_the_policy_is_protected(q):
    dataset, _ = build(q, quasi_identifiers="plays_music", k=4)
    assert "plays_music" in dataset.protection.fields
    with pytest.raises(ValueError, match="neither a question nor a column"):
        build(q, quasi_identifiers="nothing_like_this")


def test_json_text_from_the_database_decodes_to_the_stored_values():
    raw = pd.Series(["3", "2.5", "[1, 3]", '"hello"', "null", None, "-7", "1e3"])
    decoded = decode_json_values(raw).tolist()
    assert decoded[:5] == [3.0, 2.5, [1, 3], "hello", None]
    assert decoded[5] is None and decoded[6] == -7 and decoded[7] == 1000.0
    assert isinstance(decoded[2], list) and isinstance(decoded[3], str)


def test_answers_of_unknown_questions_and_bad_values_are_ignored(q):
    responses, answers = input_frames(4)
    extra = pd.DataFrame(
        [
            {
                "response_id": 1,
                "question_id": "not_in_questionnaire",
                "value": 4,
                "declined": False,
            },
            {"response_id": 2, "question_id": "conf_1", "value": "oops", "declined": False},
            {"response_id": 999, "question_id": "conf_1", "value": 2, "declined": False},
        ]
    )
    answers = pd.concat(
        [answers[~((answers.response_id == 2) & (answers.question_id == "conf_1"))], extra]
    )
    dataset = build_dataset(responses, answers, [q], make_options(k=2), KEY)
    assert len(dataset.wide) == 4
    assert dataset.wide["conf_1"].isna().sum() == 1
    assert "not_in_questionnaire" not in dataset.wide.columns
    assert np.isfinite(dataset.wide["conf_2"]).all()
