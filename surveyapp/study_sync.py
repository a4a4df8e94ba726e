"""Bring the study file's arms and waves into the database (idempotent).

The YAML is the design; the database holds what changes while the study runs (which waves
are open). Syncing never opens, closes or reopens a wave: that is a researcher's decision.
Waves that were removed from the file stay in the database (they may hold responses) and are
reported, not deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from .extensions import db
from .models import Study, Wave
from .questionnaire.model import localise
from .study.model import StudyDesign


@dataclass
class SyncReport:
    study: Study
    created: bool = False
    waves_added: list[str] = field(default_factory=list)
    waves_changed: list[str] = field(default_factory=list)
    # In the database but no longer in the file.
    waves_orphaned: list[str] = field(default_factory=list)


def find_study(design: StudyDesign) -> Study | None:
    return db.session.execute(db.select(Study).filter_by(key=design.id)).scalar_one_or_none()


def sync_study(design: StudyDesign) -> Study:
    return sync_study_report(design).study


def sync_study_report(design: StudyDesign) -> SyncReport:
    """Create or update the study and its waves from ``design``; say what changed."""
    study = find_study(design)
    report = SyncReport(study=study)  # type: ignore[arg-type]
    if study is None:
        study = Study(key=design.id, title=localise(design.title, "en"))
        db.session.add(study)
        db.session.flush()
        report.study = study
        report.created = True
    study.title = localise(design.title, "en")
    existing = {w.key: w for w in study.waves}
    for position, wave_design in enumerate(design.waves):
        wave = existing.get(wave_design.id)
        if wave is None:
            wave = Wave(study=study, key=wave_design.id, state="draft")
            db.session.add(wave)
            report.waves_added.append(wave_design.id)
        values = {
            "label": localise(wave_design.label, "en"),
            "position": position,
            "questionnaire_id": wave_design.questionnaire,
            "opens_on": (
                datetime.combine(wave_design.opens, time.min) if wave_design.opens else None
            ),
            "closes_on": (
                datetime.combine(wave_design.closes, time.max.replace(microsecond=0))
                if wave_design.closes
                else None
            ),
        }
        changed = False
        for name, value in values.items():
            if getattr(wave, name) != value:
                setattr(wave, name, value)
                changed = True
        if changed and wave_design.id not in report.waves_added:
            report.waves_changed.append(wave_design.id)
    report.waves_orphaned = sorted(set(existing) - set(design.wave_ids()))
    db.session.flush()
    return report


def ensure_study(design: StudyDesign) -> Study:
    """The study row for ``design``, created (with its waves) on first use."""
    return find_study(design) or sync_study(design)
