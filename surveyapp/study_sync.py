"""Bring the study file's arms and waves into the database (idempotent).

The YAML is the design; the database holds what changes while the study runs (which waves
are open). Syncing never closes or reopens a wave a researcher has changed.
"""

from __future__ import annotations

from datetime import datetime, time

from .extensions import db
from .models import Study, Wave
from .questionnaire.model import localise
from .study.model import StudyDesign


def sync_study(design: StudyDesign) -> Study:
    study = db.session.execute(db.select(Study).filter_by(key=design.id)).scalar_one_or_none()
    if study is None:
        study = Study(key=design.id, title=localise(design.title, "en"))
        db.session.add(study)
        db.session.flush()
    existing = {w.key: w for w in study.waves}
    for position, wave_design in enumerate(design.waves):
        wave = existing.get(wave_design.id)
        if wave is None:
            wave = Wave(study=study, key=wave_design.id, state="draft")
            db.session.add(wave)
        wave.label = localise(wave_design.label, "en")
        wave.position = position
        wave.questionnaire_id = wave_design.questionnaire
        wave.opens_on = (
            datetime.combine(wave_design.opens, time.min) if wave_design.opens else None
        )
        wave.closes_on = (
            datetime.combine(wave_design.closes, time.max.replace(microsecond=0))
            if wave_design.closes
            else None
        )
    db.session.flush()
    return study
