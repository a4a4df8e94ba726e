"""Statements run on the driver's cursor (:mod:`surveyapp.prepared`) read and write exactly
what SQLAlchemy's own execution reads and writes, and fail the way it fails.

On the real database: SQLite, or PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, Response
from surveyapp.prepared import Prepared, prepared
from surveyapp.responses import DECLINED_KEYS, GIVEN_KEYS, _upsert_answer
from tests.builders import open_response

ANSWER = Answer.__table__
RESPONSE = Response.__table__
READ = sa.select(
    RESPONSE.c.id, RESPONSE.c.completed_at, ANSWER.c.question_id, ANSWER.c.value, ANSWER.c.declined
).select_from(RESPONSE.join(ANSWER, ANSWER.c.response_id == RESPONSE.c.id))
READ = READ.where(RESPONSE.c.id == sa.bindparam("rid")).order_by(ANSWER.c.question_id)
VALUES = {"a_list": [1, 3], "b_text": "Ça va — 🎻 «ok»", "c_float": 2.5, "d_int": 0}


def _converted(query: Prepared, conn: sa.Connection, rid: int) -> list[tuple]:
    return [
        tuple(query.converter(i)(value) for i, value in enumerate(row))
        for row in query.rows(conn, {"rid": rid})
    ]


def test_written_and_read_back_like_sqlalchemy(app):
    rid = open_response()
    now = datetime(2026, 11, 26, 9, 30, 0)  # microsecond 0: stored like the ORM's all the same
    done = datetime(2026, 11, 26, 9, 45, 12, 345678)
    db.session.execute(sa.update(RESPONSE).where(RESPONSE.c.id == rid).values(completed_at=done))
    conn = db.session.connection()
    given = [
        {"response_id": rid, "question_id": key, "updated_at": now, "value": value}
        for key, value in VALUES.items()
    ]
    prepared(_upsert_answer(declined=False), conn, GIVEN_KEYS).execute_many(conn, given)
    prepared(_upsert_answer(declined=True), conn, DECLINED_KEYS).execute_many(
        conn, [{"response_id": rid, "question_id": "e_declined", "updated_at": now}]
    )
    db.session.commit()

    conn = db.session.connection()
    ours = _converted(prepared(READ, conn), conn, rid)
    theirs = [tuple(row) for row in conn.execute(READ, {"rid": rid})]
    assert ours == theirs
    assert ours == [
        (rid, done, "a_list", [1, 3], False),
        (rid, done, "b_text", VALUES["b_text"], False),
        (rid, done, "c_float", 2.5, False),
        (rid, done, "d_int", 0, False),
        (rid, done, "e_declined", None, True),
    ]
    # The time is stored in the ORM's own form: it reads back equal through the ORM.
    stored = db.session.scalars(sa.select(Answer.updated_at).where(Answer.response_id == rid))
    assert set(stored) == {now}


def test_upsert_replaces_and_counts_rows(app):
    rid = open_response()
    conn = db.session.connection()
    upsert = prepared(_upsert_answer(declined=False), conn, GIVEN_KEYS)
    row = {"response_id": rid, "question_id": "q", "updated_at": datetime(2026, 1, 1)}
    upsert.execute_many(conn, [{**row, "value": 1}])
    upsert.execute_many(conn, [{**row, "value": 2}])
    touched = prepared(
        sa.update(RESPONSE)
        .where(RESPONSE.c.id == sa.bindparam("r"))
        .values(current_page=sa.bindparam("p")),
        conn,
    )
    assert touched.execute(conn, {"r": rid, "p": "p2"}) == 1
    assert touched.execute(conn, {"r": rid + 1000, "p": "p2"}) == 0
    db.session.commit()
    values = db.session.scalars(sa.select(Answer.value).where(Answer.response_id == rid)).all()
    assert values == [2]
    assert db.session.get(Response, rid).current_page == "p2"


def test_driver_errors_are_raised_as_sqlalchemy_errors(app):
    rid = open_response()
    conn = db.session.connection()
    bad = prepared(
        sa.update(RESPONSE)
        .where(RESPONSE.c.id == sa.bindparam("r"))
        .values(questionnaire_id=sa.bindparam("q")),
        conn,
    )
    with pytest.raises(sa.exc.IntegrityError):  # questionnaire_id may not be NULL
        bad.execute(conn, {"r": rid, "q": None})
    db.session.rollback()
    assert db.session.get(Response, rid).questionnaire_id is not None


def test_statements_needing_column_defaults_are_refused(app):
    conn = db.session.connection()
    # Answer.updated_at and .declined have Python-side defaults that only SQLAlchemy's
    # execution would fill in.
    with pytest.raises(ValueError, match="defaults do not run"):
        Prepared(sa.insert(ANSWER), conn.dialect, ["response_id", "question_id"])


def test_a_write_on_a_fresh_core_connection_is_committed_by_its_commit(app):
    """SQLAlchemy begins a transaction only in its own execute: a write on the driver's
    cursor must begin one, or ``commit()`` would not reach the driver (and on SQLite the
    write lock would stay held)."""
    rid = open_response()
    now = datetime(2026, 11, 26, 10, 0, 0)
    with db.engine.connect() as conn:
        assert not conn.in_transaction()
        prepared(_upsert_answer(declined=False), conn, GIVEN_KEYS).execute_many(
            conn, [{"response_id": rid, "question_id": "a_list", "updated_at": now, "value": 2}]
        )
        assert conn.in_transaction()
        conn.commit()
    with db.engine.connect() as other:
        stored = other.execute(
            sa.select(ANSWER.c.value).where(ANSWER.c.response_id == rid)
        ).scalar_one()
    assert stored == 2
