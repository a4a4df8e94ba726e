"""Reading a response with its answers in one query, and writing a page's answers.

The question page reads :func:`surveyapp.responses.load_state` on every request and saves
with one statement per kind of row; these tests pin what both must keep meaning, on the
real database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from surveyapp import responses
from surveyapp.extensions import db
from surveyapp.models import Answer
from surveyapp.questionnaire.conditions import DECLINED
from tests.builders import answer_rows, open_response


def test_no_response_gives_none(app):
    assert responses.load_state(987654) is None


def test_a_response_without_answers_reads_as_no_answers(app):
    response_id = open_response()
    loaded = responses.load_state(response_id)
    assert loaded is not None
    state, answers = loaded
    assert (state.id, state.current_page, state.completed_at) == (response_id, None, None)
    assert state.questionnaire_id == "ih_pupil"
    assert answers == {}


def test_saved_answers_read_back_with_the_response(app):
    response_id = open_response()
    responses.save_answers(
        response_id,
        {"school_like": 3, "home_languages": [1, 3], "gender": 2, "school_fun": DECLINED},
        current_page="p_school_learn",
        position=(4, 30),
    )
    state, answers = responses.load_state(response_id)
    assert state.current_page == "p_school_learn"
    assert answers == {
        "school_like": 3,
        "home_languages": [1, 3],
        "gender": 2,
        "school_fun": DECLINED,
    }
    assert answers == responses.load_answers(response_id)


def test_a_declined_answer_stores_sql_null_and_changing_it_back_stores_the_value(app):
    response_id = open_response()
    responses.save_answers(response_id, {"school_like": DECLINED, "gender": 1})
    null_values = db.session.execute(
        sa.select(sa.func.count())
        .select_from(Answer)
        .where(Answer.response_id == response_id, Answer.value.is_(None))
    ).scalar_one()
    assert null_values == 1  # SQL NULL, not the JSON text 'null'
    responses.save_answers(response_id, {"school_like": 2, "gender": None})
    assert answer_rows(response_id) == [("school_like", 2, False)]


def test_a_completed_response_reads_as_completed_and_refuses_answers(app):
    response_id = open_response()
    responses.save_answers(response_id, {"school_like": 4})
    questionnaire = responses.questionnaire_for(responses.load_state(response_id)[0])
    assert responses.complete(response_id, questionnaire)
    state, answers = responses.load_state(response_id)
    assert state.completed_at is not None
    assert answers == {"school_like": 4}
    with pytest.raises(responses.ResponseCompletedError):
        responses.save_answers(response_id, {"school_like": 1})
    assert answer_rows(response_id) == [("school_like", 4, False)]
