"""The database side of an export: two set-based queries that turn the database into the plain
input frames of :mod:`surveyapp.exporting`, and the logged export itself.

One query reads the responses joined to participant, class, school and wave; one reads their
answers. Never one query per response (pitfall 8). Only export codes leave this module:
school and class *names*, access codes, user names and devices are never selected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Text, cast, func

from . import audit
from .catalog import get_catalog
from .exporting import ExportOptions, make_options, run_export, sha256_file
from .exporting.frames import decode_json_values
from .exporting.pipeline import Dataset, ExportFiles
from .extensions import db
from .models import Answer, ExportRecord, Participant, Response, School, SchoolClass, Study, Wave
from .questionnaire.model import Questionnaire, localise


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
    # The value as JSON text: decoded in bulk (numbers by a vectorised fast path).
    query = (
        db.select(
            Answer.response_id.label("response_id"),
            Answer.question_id.label("question_id"),
            cast(Answer.value, Text).label("value"),
            Answer.declined.label("declined"),
        )
        .join(Response, Response.id == Answer.response_id)
        .join(Wave, Wave.id == Response.wave_id)
        .join(Participant, Participant.id == Response.participant_id)
    )
    return _filters(query, study, waves, arms)


def load_frames(
    study: Study, waves: Sequence[str] = (), arms: Sequence[str] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The responses and answers frames for the export (two queries)."""
    connection = db.session.connection()
    responses = pd.read_sql_query(response_query(study, waves, arms), connection)
    answers = pd.read_sql_query(answer_query(study, waves, arms), connection)
    for column in ("started_at", "completed_at"):
        responses[column] = pd.to_datetime(responses[column], errors="coerce")
    answers["value"] = decode_json_values(answers["value"])
    answers["declined"] = answers["declined"].fillna(False).astype(bool)
    return responses, answers


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
    study_key: str, options: ExportOptions, folder: Path, user_id: int | None = None
) -> ExportOutcome:
    """Run and log one export into ``folder``: ExportRecord plus an audit event, committed."""
    study = study_or_error(study_key)
    known_waves = {w.key for w in study.waves}
    unknown = [w for w in options.waves if w not in known_waves]
    if unknown:
        raise ExportError(
            f"unknown wave(s) {', '.join(unknown)}; the study has {', '.join(sorted(known_waves))}"
        )
    responses, answers = load_frames(study, options.waves, options.arms)
    questionnaires = questionnaires_for(study, options.waves, responses)
    name = f"{study.key}_export"
    dataset, files = run_export(
        responses,
        answers,
        questionnaires,
        options,
        study.pseudonym_key,
        folder,
        name=name,
        title=localise(study.title, options.language),
    )
    checksums = {path.name: sha256_file(path) for path in files.all()}
    main = files.archive or files.files[0]
    record = ExportRecord(
        user_id=user_id,
        study_key=study.key,
        options={**options.as_record(), "files": checksums},
        row_count=len(dataset.wide),
        sha256=checksums[main.name],
        filename=main.name,
    )
    db.session.add(record)
    audit.record(
        user_id,
        "export",
        study.key,
        rows=len(dataset.wide),
        sha256=record.sha256,
        filename=main.name,
        options=options.as_record(),
        protection=dataset.protection.summary(),
    )
    db.session.commit()
    return ExportOutcome(dataset, files, record)
