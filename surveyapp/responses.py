"""Responses: start or resume one, save a page's answers, complete it exactly once.

Every write is a short transaction that *starts* with a write, so SQLite takes its write lock
at once instead of upgrading a read lock (pitfall 7), and PostgreSQL locks the response row
first, which orders a page save against a completion of the same response:

- saving a page is ``UPDATE response ... WHERE completed_at IS NULL`` followed by an upsert
  of each answer keyed by (response, answer key), so saving the same page twice is
  harmless and nothing is ever written to a completed response;
- completing is ``UPDATE response SET completed_at = now WHERE completed_at IS NULL``: of two
  concurrent completions exactly one wins; it also drops the answers to questions that skip
  logic now hides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from . import core_connection
from .catalog import get_catalog
from .cohorts import allocate_participant
from .extensions import db
from .models import AccessCode, Answer, Response, utcnow
from .prepared import prepared
from .questionnaire import navigation
from .questionnaire.conditions import DECLINED
from .questionnaire.model import InfoItem, Page, Questionnaire


class ResponseCompletedError(Exception):
    """The response is completed; it cannot be changed any more."""


def _insert(table: Any) -> Any:
    """An INSERT with ON CONFLICT support for the database in use."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")  # pragma: no cover


def questionnaire_for(response: Response | ResponseState) -> Questionnaire:
    return get_catalog().questionnaire(response.questionnaire_id)


def find_response(participant_id: str, wave_id: int) -> Response | None:
    return db.session.execute(
        db.select(Response).filter_by(participant_id=participant_id, wave_id=wave_id)
    ).scalar_one_or_none()


def start_or_resume(access: AccessCode, language: str) -> Response:
    """The participant's response for the code's wave, created on first entry.

    Creation fixes the participant's arm (cohort allocation) and records the questionnaire
    id and version the pupil answers. Two tablets entering the same code at once get the
    same response (INSERT ... ON CONFLICT DO NOTHING on (participant, wave)).
    """
    existing = find_response(access.participant_id, access.wave_id)
    if existing is not None:
        return existing
    wave = access.wave
    questionnaire = get_catalog().questionnaire(wave.questionnaire_id)
    arm = allocate_participant(access.participant)
    db.session.flush()
    now = utcnow()
    db.session.execute(
        _insert(Response)
        .values(
            participant_id=access.participant_id,
            wave_id=wave.id,
            arm=arm,
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            language=language,
            current_page=None,
            pages_done=0,
            pages_total=len(navigation.visible_pages(questionnaire, {})),
            started_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["participant_id", "wave_id"])
    )
    db.session.commit()
    response = find_response(access.participant_id, access.wave_id)
    assert response is not None
    return response


# The pupil's hot path uses Core statements on the tables, compiled once per database and
# run on the driver's cursor (:mod:`.prepared`) over the request's Core connection
# (:mod:`.core_connection`): the ORM's bookkeeping, and then Core's own per-execution work,
# cost more than the SQL itself (load profiles).
ANSWER = Answer.__table__
RESPONSE = Response.__table__


_STATE_QUERY = (
    sa.select(
        RESPONSE.c.id,
        RESPONSE.c.questionnaire_id,
        RESPONSE.c.current_page,
        RESPONSE.c.completed_at,
        ANSWER.c.question_id,
        ANSWER.c.value,
        ANSWER.c.declined,
    )
    .select_from(RESPONSE.outerjoin(ANSWER, ANSWER.c.response_id == RESPONSE.c.id))
    .where(RESPONSE.c.id == sa.bindparam("response_id"))
)


@dataclass(frozen=True)
class ResponseState:
    """What a question page needs of a response: read with its answers in one query."""

    id: int
    questionnaire_id: str
    current_page: str | None
    completed_at: datetime | None


def load_state(response_id: int) -> tuple[ResponseState, dict[str, Any]] | None:
    """The response and its answers (as :func:`load_answers`), or None if there is none."""
    conn = core_connection.connection()
    query = prepared(_STATE_QUERY, conn)
    rows = query.rows(conn, {"response_id": response_id})
    if not rows:
        return None
    state = ResponseState(*(query.converter(i)(v) for i, v in enumerate(rows[0][:4])))
    value, declined = query.converter(5), query.converter(6)
    return state, _answers_from(
        (row[4], value(row[5]), declined(row[6])) for row in rows if row[4] is not None
    )


def _answers_from(rows: Iterable[tuple[str, Any, bool]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for key, value, declined in rows:
        if declined:
            answers[key] = DECLINED
        elif value is not None:
            answers[key] = value
    return answers


def load_answers(response_id: int) -> dict[str, Any]:
    """Answer key -> stored value, or DECLINED; unanswered keys are absent."""
    rows = db.session.execute(
        sa.select(ANSWER.c.question_id, ANSWER.c.value, ANSWER.c.declined).where(
            ANSWER.c.response_id == response_id
        )
    ).all()
    return _answers_from(rows)


_claims: dict[tuple[str, ...], Any] = {}


def _claim_statement(columns: tuple[str, ...]) -> Any:
    """UPDATE response SET updated_at, <columns> WHERE not completed, built once per column set.

    Like the upserts, built once and reused: building it per request showed in the profile.
    """
    stmt = _claims.get(columns)
    if stmt is None:
        stmt = (
            sa.update(RESPONSE)
            .where(
                RESPONSE.c.id == sa.bindparam("claim_id"),
                RESPONSE.c.completed_at.is_(None),
            )
            .values(
                updated_at=sa.bindparam("claim_at"),
                **{column: sa.bindparam(f"claim_{column}") for column in columns},
            )
        )
        _claims[columns] = stmt
    return stmt


def _claim(conn: sa.Connection, response_id: int, **values: Any) -> None:
    """Update the response unless it is completed; raise ResponseCompletedError if it is."""
    params = {f"claim_{column}": value for column, value in values.items()}
    claimed = prepared(_claim_statement(tuple(sorted(values))), conn).execute(
        conn, {"claim_id": response_id, "claim_at": utcnow(), **params}
    )
    if claimed == 0:
        conn.rollback()
        raise ResponseCompletedError(response_id)


_upserts: dict[tuple[str, bool], Any] = {}
#: The columns an upserted answer row carries (``declined`` is fixed in the statement).
DECLINED_KEYS = ("response_id", "question_id", "updated_at")
GIVEN_KEYS = (*DECLINED_KEYS, "value")


def _upsert_answer(*, declined: bool) -> Any:
    """INSERT ... ON CONFLICT (response, key) DO UPDATE for answer rows, built once per dialect.

    A declined answer stores SQL NULL as its value (not JSON null), so it is put in the
    statement rather than passed as a parameter. Statements are immutable, so one object
    serves every request (building ``excluded`` showed up in the load profile).
    """
    key = (db.session.get_bind().dialect.name, declined)
    cached = _upserts.get(key)
    if cached is not None:
        return cached
    stmt = _insert(ANSWER).values(declined=declined)
    if declined:
        stmt = stmt.values(value=sa.null())
    upsert = stmt.on_conflict_do_update(
        index_elements=["response_id", "question_id"],
        set_={
            "value": stmt.excluded.value,
            "declined": stmt.excluded.declined,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    _upserts[key] = upsert
    return upsert


def save_answers(
    response_id: int,
    answers: Mapping[str, Any],
    *,
    current_page: str | None = None,
    position: tuple[int, int] | None = None,
    language: str | None = None,
) -> None:
    """Store one page's answers (key -> value, DECLINED, or None to clear) in one transaction.

    ``current_page`` is where the pupil goes next (where a resume starts); ``position`` is
    (page number, visible pages) for progress views.
    """
    # No commit before the write: the reads before it (load_state) leave no SQLite
    # transaction open (pysqlite begins one only at a write), so the transaction below still
    # starts with its write and takes the write lock at once; on PostgreSQL the reads and
    # the write share one transaction and one pool checkout (one pre-ping, not two).
    progress: dict[str, Any] = {}
    if current_page is not None:
        progress["current_page"] = current_page
    if position is not None:
        progress["pages_done"] = position[0] - 1
        progress["pages_total"] = position[1]
    if language is not None:
        progress["language"] = language
    conn = core_connection.connection()
    _claim(conn, response_id, **progress)

    now = utcnow()
    given: list[dict[str, Any]] = []
    declined: list[dict[str, Any]] = []
    cleared = []
    for key, value in answers.items():
        if value is None:
            cleared.append(key)
            continue
        row = {"response_id": response_id, "question_id": key, "updated_at": now}
        if value is DECLINED:
            declined.append(row)
        else:
            given.append({**row, "value": value})
    # One statement per kind of row, each sent once for all its rows (executemany).
    if given:
        prepared(_upsert_answer(declined=False), conn, GIVEN_KEYS).execute_many(conn, given)
    if declined:
        prepared(_upsert_answer(declined=True), conn, DECLINED_KEYS).execute_many(conn, declined)
    if cleared:
        conn.execute(
            sa.delete(ANSWER).where(
                ANSWER.c.response_id == response_id, ANSWER.c.question_id.in_(cleared)
            )
        )
    conn.commit()


def set_position(
    response_id: int,
    current_page: str,
    position: tuple[int, int] | None = None,
    language: str | None = None,
) -> None:
    """Move the pupil's place without changing answers (e.g. after the welcome page)."""
    save_answers(response_id, {}, current_page=current_page, position=position, language=language)


def complete(response_id: int, questionnaire: Questionnaire) -> bool:
    """Mark the response completed, exactly once; False if it already was.

    Answers to questions that skip logic hides (say the pupil went back and changed an
    earlier answer) are dropped in the same transaction, so they never reach an export.
    """
    db.session.commit()
    now = utcnow()
    result = db.session.execute(
        sa.update(Response)
        .where(Response.id == response_id, Response.completed_at.is_(None))
        .values(completed_at=now, updated_at=now, current_page=None)
    )
    if result.rowcount == 0:
        db.session.rollback()
        return False
    answers = load_answers(response_id)
    route = navigation.route(questionnaire, answers)
    hidden = route.hidden_answer_keys()
    known = {key for q in questionnaire.questions() for key in navigation.answer_keys(q)}
    # Keys the questionnaire does not know (a row left by an edited file) go too.
    drop = hidden | (set(answers) - known)
    if drop:
        db.session.execute(
            sa.delete(Answer).where(
                Answer.response_id == response_id, Answer.question_id.in_(sorted(drop))
            )
        )
    total = len(route.pages)
    db.session.execute(
        sa.update(Response)
        .where(Response.id == response_id)
        .values(pages_done=total, pages_total=total)
    )
    db.session.commit()
    return True


def missing_required(
    questionnaire: Questionnaire, answers: Mapping[str, Any]
) -> tuple[Page, list[str]] | None:
    """The first visible page with a required, visible question left unanswered, and its keys."""
    route = navigation.route(questionnaire, answers)
    for page in route.pages:
        keys = [
            key
            for question in route.visible_questions(page)
            if question.required and not isinstance(question, InfoItem)
            for key in navigation.answer_keys(question)
            if key not in route.effective
        ]
        if keys:
            return page, keys
    return None


def resume_page(
    questionnaire: Questionnaire, response: Response | ResponseState, answers: Mapping[str, Any]
):
    """Where a returning pupil carries on: their last page if it is still shown, else the next."""
    route = navigation.route(questionnaire, answers)
    here = response.current_page
    if here in route.page_ids():
        return questionnaire.page(here)
    if here is not None:
        try:
            later = route.next_page(here)
        except KeyError:  # the page is gone from an edited questionnaire
            later = None
        if later is not None:
            return later
    return route.first_page()
