"""Seed a database for simulated pupils with the app's own services.

The shipped study (questionnaires/in_harmony.study.yaml) is synced, its first wave opened,
and schools, classes and cards are created exactly as an admin and a teacher would create
them (``admin.schools`` and ``participants.issue_cards``), so the pupils answer the shipped
questionnaire with real access codes. Runs inside an app context; commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveyapp.admin import schools as school_svc
from surveyapp.catalog import get_catalog
from surveyapp.extensions import db
from surveyapp.participants import issue_cards
from surveyapp.study_sync import sync_study
from surveyapp.waves import open_wave

CLASS_NAMES = ("3A", "4A", "5A", "6A", "3B", "4B", "5B", "6B")


@dataclass(frozen=True)
class World:
    """What the simulated pupils need: the clear codes, grouped by class (30 a class)."""

    study_key: str
    wave_key: str
    classes: list[list[str]]

    @property
    def codes(self) -> list[str]:
        return [code for codes in self.classes for code in codes]


def make_world(pupils: int, class_size: int = 30, classes_per_school: int = 2) -> World:
    """A study with an open first wave and ``pupils`` cards in classes of ``class_size``."""
    design = get_catalog().study
    if design is None:
        raise RuntimeError("no study file is loaded (STUDY_FILE)")
    study = sync_study(design)
    wave = study.waves[0]
    if not wave.is_open:
        open_wave(wave, None, via="bench")
    arms = [arm.id for arm in design.arms]
    n_classes = -(-pupils // class_size)
    classes: list[list[str]] = []
    school = None
    existing = len(study.schools)
    for index in range(n_classes):
        if index % classes_per_school == 0:
            number = existing + index // classes_per_school + 1
            arm = arms[(number - 1) % len(arms)] if arms else None
            school = school_svc.create_school(
                study, f"Load school {number}", arm, None, via="bench"
            )
        assert school is not None
        name = CLASS_NAMES[index % classes_per_school]
        school_class = school_svc.create_class(school, name, 4, None, via="bench")
        count = min(class_size, pupils - index * class_size)
        cards = issue_cards(school_class, wave, count, None, via="bench")
        classes.append([card.code for card in cards])
    db.session.commit()
    return World(study_key=study.key, wave_key=wave.key, classes=classes)
