"""Stored answers (JSON text from the database, in chunks) -> the answers frame: numbers as a
float column, everything else decoded, the same dataset whichever way the input comes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from test_export_fixtures import input_frames, questionnaire

from surveyapp.exporting import build_dataset, make_options
from surveyapp.exporting.stored import answers_from_chunks, decode_json_texts, json_numbers


def test_json_numbers_follow_the_json_grammar():
    texts = ["3", "-7", "2.50", "1e3", '"12"', "[1, 3]", "null", None, "NaN", "007", "true"]
    numbers, is_number = json_numbers(texts)
    assert is_number.tolist() == [True] * 4 + [False] * 7
    assert numbers[:4].tolist() == [3.0, -7.0, 2.5, 1000.0]
    assert np.isnan(numbers[4:]).all()


def test_other_values_are_decoded_and_nothing_crashes():
    numbers, values = decode_json_texts(['"12"', "[1, 3]", "null", None, "{bad", "4"])
    assert values.tolist() == ["12", [1, 3], None, None, None, None]
    assert numbers[-1] == 4.0 and np.isnan(numbers[:-1]).all()


json_values = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: not float(x).is_integer()),
    st.lists(st.integers(0, 20), max_size=4).map(sorted),
    st.text(max_size=20),
    st.none(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values, max_size=40))
def test_any_stored_value_decodes_to_itself(stored):
    texts = [None if v is None else json.dumps(v) for v in stored]
    numbers, values = decode_json_texts(texts)
    for original, number, value in zip(stored, numbers, values, strict=True):
        if isinstance(original, (int, float)):
            assert number == original and value is None
        else:
            assert np.isnan(number) and value == original


def _rows(answers: pd.DataFrame) -> list[tuple]:
    """The answers as the database returns them: JSON text, SQL NULL when declined."""
    return [
        (int(r), q, None if d else json.dumps(v), bool(d))
        for r, q, v, d in answers[["response_id", "question_id", "value", "declined"]].itertuples(
            index=False
        )
    ]


def test_chunks_of_any_size_give_the_same_frame():
    _, answers = input_frames(12, ("baseline", "followup_1"))
    rows = _rows(answers)
    whole = answers_from_chunks([rows])
    for size in (1, 7, 50):
        chunked = answers_from_chunks(rows[i : i + size] for i in range(0, len(rows), size))
        pd.testing.assert_frame_equal(chunked, whole)
    assert answers_from_chunks([]).empty
    assert whole["question_id"].dtype == "category"
    assert len(whole) == len(answers)


def test_the_stored_form_gives_the_same_dataset_as_python_values():
    q = questionnaire()
    responses, answers = input_frames(12, ("baseline", "followup_1"))
    stored = answers_from_chunks([_rows(answers)])
    options = make_options(k=2, include_free_text=True)
    from_values = build_dataset(responses, answers, [q], options, "key").wide
    from_stored = build_dataset(responses, stored, [q], options, "key").wide
    pd.testing.assert_frame_equal(from_stored, from_values)
    assert (from_values["instruments_1"] == -98).any()  # routing saw the stored numbers
