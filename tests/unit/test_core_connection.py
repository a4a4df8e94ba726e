"""The request's Core connection (:mod:`surveyapp.core_connection`): one per request, given
back to the pool when the request ends, and never keeping uncommitted work.

On the real database: SQLite, or PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from surveyapp import core_connection, responses
from surveyapp.extensions import db
from surveyapp.models import Answer
from tests.builders import answer_rows, open_response

ANSWER = Answer.__table__


def _checked_out() -> int:
    return db.engine.pool.checkedout()


def _write_an_answer(response_id: int, key: str, value: int) -> sa.Connection:
    """An answer row written on the request's connection and not committed; the connection."""
    conn = core_connection.connection()
    conn.execute(
        sa.insert(ANSWER).values(
            response_id=response_id,
            question_id=key,
            value=value,
            declined=False,
            updated_at=datetime(2026, 11, 26, 10, 0),
        )
    )
    return conn


def test_one_connection_per_request_given_back_when_it_ends(app):
    before = _checked_out()
    with app.test_request_context("/q/p_one", method="POST"):
        first = core_connection.connection()
        assert core_connection.connection() is first
        assert _checked_out() == before + 1
    assert _checked_out() == before
    with app.test_request_context("/q/p_one"):
        assert core_connection.connection() is not first


def test_uncommitted_work_is_rolled_back_when_the_request_ends(app):
    rid = open_response()
    with app.test_request_context("/q/p_one", method="POST"):
        _write_an_answer(rid, "school_like", 3)
        # No commit: the request ends as if a view had failed half-way.
    assert answer_rows(rid) == []
    # The write lock (SQLite) or row lock (PostgreSQL) is gone: the next save goes through.
    with app.test_request_context("/q/p_one", method="POST"):
        responses.save_answers(rid, {"school_like": 4})
    assert answer_rows(rid) == [("school_like", 4, False)]


def test_saved_answers_are_seen_by_the_orm_session_in_the_same_request(app):
    rid = open_response()
    with app.test_request_context("/q/p_one", method="POST"):
        assert responses.load_answers(rid) == {}  # the session reads first
        responses.save_answers(rid, {"school_like": 2, "gender": 1})
        assert responses.load_answers(rid) == {"school_like": 2, "gender": 1}


def test_rollback_drops_this_requests_uncommitted_work(app):
    """What :mod:`surveyapp.db_errors` calls after a failed statement."""
    rid = open_response()
    with app.test_request_context("/q/p_one", method="POST"):
        conn = _write_an_answer(rid, "gender", 1)
        core_connection.rollback()
        conn.commit()  # nothing left to commit
    assert answer_rows(rid) == []
