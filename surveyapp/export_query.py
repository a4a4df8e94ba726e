"""The database side of an export: two set-based queries that turn the database into the plain
input frames of :mod:`surveyapp.exporting`, and the logged export itself.

One query reads the responses joined to participant, class, school and wave; one reads their
answers. Never one query per response (pitfall 8). Only export codes leave this module:
school and class *names*, access codes, user names and devices are never selected.

Both queries stream (a server-side cursor on PostgreSQL) and arrive in chunks of plain rows
that become NumPy columns at once (:mod:`surveyapp.exporting.stored`): at 100,000 responses
x 60 items the answer query returns six million rows, far too many for a frame of Python
objects built by ``pandas.read_sql``.
"""

from __future__ import annotations

import gc
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Text, cast, func

from . import audit
from .catalog import get_catalog
from .exporting import ExportOptions, build_dataset, make_options, sha256_file, write_dataset
from .exporting.pipeline import Dataset, ExportFiles, Timer, no_timer
from .exporting.provision import ProvisionInput
from .exporting.stored import AnswerColumns
from .extensions import db
from .models import (
    Answer,
    ExportRecord,
    Participant,
    ProvisionReturn,
    Response,
    School,
    SchoolClass,
    Study,
    Wave,
    utcnow,
)
from .questionnaire.model import Questionnaire, localise

CHUNK_ROWS = 50_000


class ExportError(ValueError):
    """An export that cannot run (unknown study, wave or questionnaire); the message says why."""


def _filters(query, study: Study, waves: Sequence[str], arms: Sequence[str]):
    query = query.where(Wave.study_id == study.id)
    if waves:
        query = query.where(Wave.key.in_(list(waves)))
    if arms:
        query = query.where(func.coalesce(Response.arm, Participant.arm).in_(list(arms)))
    return query


def response_query(study: Study, waves: Sequence[str] = (), arms: Sequence[str] = ()):
    query = (
        db.select(
            Response.id.label("response_id"),
            Response.participant_id.label("participant_id"),
            func.coalesce(Response.arm, Participant.arm).label("arm"),
            Wave.key.label("wave"),
            Wave.position.label("wave_position"),
            School.code.label("school"),
            SchoolClass.code.label("class"),
            Response.questionnaire_id.label("questionnaire_id"),
            Response.questionnaire_version.label("questionnaire_version"),
            Response.language.label("language"),
            Response.started_at.label("started_at"),
            Response.completed_at.label("completed_at"),
        )
        .join(Wave, Wave.id == Response.wave_id)
        .join(Participant, Participant.id == Response.participant_id)
        .join(SchoolClass, SchoolClass.id == Participant.class_id)
        .join(School, School.id == Participant.school_id)
    )
    return _filters(query, study, waves, arms)


def answer_query(study: Study, waves: Sequence[str] = (), arms: Sequence[str] = ()):
    # The value as JSON text: decoded a column at a time (see exporting.stored).
    query = (
        db.select(
            Answer.response_id.label("response_id"),
            Answer.question_id.label("question_id"),
            cast(Answer.value, Text).label("value"),
            Answer.declined.label("declined"),
        )
        .join(Response, Response.id == Answer.response_id)
        .join(Wave, Wave.id == Response.wave_id)
    )
    if arms:  # the participant's arm counts only where the response has none
        query = query.join(Participant, Participant.id == Response.participant_id)
    return _filters(query, study, waves, arms)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of rows pass through.

    Every chunk allocates tens of thousands of row objects, each of which counts towards the
    next collection, and a full collection walks every object in the process: measured on
    the 100,000 x 60 benchmark, collections took longer than reading the rows. Reference
    counting still frees each chunk as soon as it has been turned into columns.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chunks(statement) -> Iterator[Sequence]:
    """The rows of ``statement`` in chunks, streamed (server-side cursor on PostgreSQL)."""
    # Options for this statement only: Connection.execution_options() would change the
    # session's connection for every later statement too.
    result = db.session.connection().execute(
        statement, execution_options={"stream_results": True, "yield_per": CHUNK_ROWS}
    )
    try:
        yield from result.partitions()
    finally:
        result.close()


def raw_cursor(connection):
    """A DBAPI cursor on the session's connection: server-side (named) on PostgreSQL, so the
    rows stream instead of arriving all at once."""
    dbapi_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        return dbapi_connection.cursor(name=f"export_{secrets.token_hex(6)}")
    return dbapi_connection.cursor()


def _raw_chunks(statement) -> Iterator[Sequence[tuple]]:
    """The rows of ``statement`` as plain tuples from the DBAPI cursor, in chunks.

    For the six million answer rows of a large export, SQLAlchemy's row objects and its row
    buffer (one ``popleft`` per row) cost about as much as the database read itself; the
    statement is still built and compiled by SQLAlchemy, with bound parameters.
    """
    connection = db.session.connection()
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.params
    if compiled.positiontup is not None:  # qmark style (SQLite)
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = raw_cursor(connection)
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            yield rows
    finally:
        cursor.close()


def load_responses(
    study: Study, waves: Sequence[str] = (), arms: Sequence[str] = ()
) -> pd.DataFrame:
    statement = response_query(study, waves, arms)
    names = [column.name for column in statement.selected_columns]
    rows = [row for chunk in _chunks(statement) for row in chunk]
    responses = pd.DataFrame.from_records(rows, columns=names)
    for column in ("started_at", "completed_at"):
        responses[column] = pd.to_datetime(responses[column], errors="coerce")
    return responses


def load_answers(study: Study, waves: Sequence[str] = (), arms: Sequence[str] = ()) -> pd.DataFrame:
    columns = AnswerColumns()
    with _cyclic_gc_paused():
        for chunk in _raw_chunks(answer_query(study, waves, arms)):
            columns.add(chunk)
    return columns.frame()


def load_frames(
    study: Study, waves: Sequence[str] = (), arms: Sequence[str] = (), timer: Timer = no_timer
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The responses and answers frames for the export (two queries)."""
    with timer("query: responses"):
        responses = load_responses(study, waves, arms)
    with timer("query: answers"):
        answers = load_answers(study, waves, arms)
    return responses, answers


def provision_questionnaire_for(study: Study) -> Questionnaire | None:
    """The study's school questionnaire for provision returns, if it has one."""
    design = get_catalog().study
    if design is None or design.id != study.key or not design.provision_questionnaire:
        return None
    return get_catalog().questionnaires.get(design.provision_questionnaire)


def load_provision(study: Study, arms: Sequence[str] = ()) -> ProvisionInput | None:
    """The provision returns of the study's schools (of ``arms``), in one query: schools by
    their export code only. None when the study has no provision questionnaire."""
    questionnaire = provision_questionnaire_for(study)
    if questionnaire is None:
        return None
    query = (
        db.select(
            ProvisionReturn.id.label("return_id"),
            School.code.label("school"),
            ProvisionReturn.term.label("term"),
            ProvisionReturn.questionnaire_version.label("questionnaire_version"),
            ProvisionReturn.answers.label("answers"),
            ProvisionReturn.submitted_at.label("submitted_at"),
        )
        .join(School, School.id == ProvisionReturn.school_id)
        .where(School.study_id == study.id)
        .where(ProvisionReturn.questionnaire_id == questionnaire.id)
    )
    if arms:
        query = query.where(School.arm.in_(list(arms)))
    rows = db.session.execute(query).all()
    submitted = [row for row in rows if row.submitted_at is not None]
    returns = pd.DataFrame(
        [(r.return_id, r.school, r.term, r.questionnaire_version) for r in submitted],
        columns=["return_id", "school", "term", "questionnaire_version"],
    )
    answers = pd.DataFrame(
        [
            (r.return_id, key, value)
            for r in submitted
            for key, value in (r.answers or {}).items()
            if value is not None
        ],
        columns=["return_id", "question_id", "value"],
    )
    return ProvisionInput(
        returns=returns,
        answers=answers,
        questionnaire=questionnaire,
        drafts=len(rows) - len(submitted),
    )


def study_or_error(study_key: str) -> Study:
    study = db.session.execute(db.select(Study).filter_by(key=study_key)).scalar_one_or_none()
    if study is None:
        raise ExportError(f"unknown study '{study_key}' (has the study file been synced?)")
    return study


def questionnaires_for(
    study: Study, waves: Sequence[str], responses: pd.DataFrame
) -> list[Questionnaire]:
    """The questionnaires of the chosen waves (and any other the responses used), in wave order."""
    catalog = get_catalog()
    wanted = [w.questionnaire_id for w in study.waves if not waves or w.key in waves]
    wanted += [q for q in pd.unique(responses["questionnaire_id"]) if q not in wanted]
    missing = [q for q in wanted if q not in catalog.questionnaires]
    if missing:
        raise ExportError(f"questionnaire(s) not loaded: {', '.join(sorted(set(missing)))}")
    return [catalog.questionnaire(q) for q in dict.fromkeys(wanted)]


def policy_for(study: Study):
    design = get_catalog().study
    return design.anonymisation if design is not None and design.id == study.key else None


def options_for(study: Study, **choices) -> ExportOptions:
    """The study's policy overridden by ``choices`` (ExportOptionsError if not allowed)."""
    return make_options(policy_for(study), **choices)


@dataclass
class ExportOutcome:
    dataset: Dataset
    files: ExportFiles
    record: ExportRecord

    @property
    def download(self) -> Path:
        return self.files.archive or self.files.files[0]


def export_study(
    study_key: str,
    options: ExportOptions,
    folder: Path,
    user_id: int | None = None,
    timer: Timer = no_timer,
    record: ExportRecord | None = None,
    stored_under: Path | None = None,
) -> ExportOutcome:
    """Run and log one export into ``folder``: ExportRecord plus an audit event, committed.

    ``record``: a queued export's log entry to complete (a new one otherwise); with
    ``stored_under``, the main file's path relative to it is kept for the download.
    ``timer(step)`` is entered around each step (queries, build, each format, zip): the
    benchmark measures through it."""
    started = utcnow()
    study = study_or_error(study_key)
    known_waves = {w.key for w in study.waves}
    unknown = [w for w in options.waves if w not in known_waves]
    if unknown:
        raise ExportError(
            f"unknown wave(s) {', '.join(unknown)}; the study has {', '.join(sorted(known_waves))}"
        )
    responses, answers = load_frames(study, options.waves, options.arms, timer)
    questionnaires = questionnaires_for(study, options.waves, responses)
    provision = load_provision(study, options.arms)
    key, pseudonym_key = study.key, study.pseudonym_key
    title = localise(study.title, options.language)
    # End the read transaction before the long build: nothing is read after this point, and
    # a snapshot held for the minute the files take would keep PostgreSQL's vacuum from
    # cleaning up behind the pupils' writes.
    db.session.commit()
    name = f"{key}_export"
    dataset = build_dataset(
        responses,
        answers,
        questionnaires,
        options,
        pseudonym_key,
        name=name,
        title=title,
        timer=timer,
        provision=provision,
    )
    del responses, answers  # the input frames are not needed while the files are written
    files = write_dataset(dataset, folder, options, timer)
    with timer("checksums"):
        checksums = {path.name: sha256_file(path) for path in files.all()}
    main = files.archive or files.files[0]
    if record is None:
        record = ExportRecord(user_id=user_id, study_key=key)
    record.options = {
        **options.as_record(),
        "files": checksums,
        "protection": dataset.protection.summary(),
        "warnings": list(dataset.codebook.warnings),
    }
    record.started_at = record.started_at or started
    record.row_count = len(dataset.wide)
    record.sha256 = checksums[main.name]
    record.filename = main.name
    record.status, record.error, record.finished_at = "done", "", utcnow()
    record.path = main.relative_to(stored_under).as_posix() if stored_under else ""
    db.session.add(record)
    audit.record(
        user_id,
        "export",
        key,
        rows=len(dataset.wide),
        sha256=record.sha256,
        filename=main.name,
        options=options.as_record(),
        protection=dataset.protection.summary(),
    )
    db.session.commit()
    return ExportOutcome(dataset, files, record)
