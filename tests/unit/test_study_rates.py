"""Response rates per wave and arm, school and class, counted in one GROUP BY query."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event

from surveyapp.extensions import db
from surveyapp.models import Participant, Response, School, SchoolClass
from surveyapp.response_rates import Counts, rate_tables
from surveyapp.waves import find_wave
from tests.builders import (
    add_class,
    add_code,
    add_pupil,
    add_response,
    add_school,
    shipped_study,
)


class World:
    """The study, its two waves, and pupils numbered across the whole world."""

    def __init__(self, study):
        self.study = study
        self.baseline = find_wave(study, "baseline")
        self.followup = find_wave(study, "followup_1")
        self.number = 0

    def school(self, code: str, arm: str) -> School:
        return add_school(self.study, code, arm)

    def school_class(self, school: School, name: str) -> SchoolClass:
        return add_class(school, name)

    def pupil(self, c: SchoolClass, wave=None, state: str = "issued", code_status="issued"):
        """A pupil with a card for ``wave`` in ``state``: issued, started or completed."""
        self.number += 1
        p = add_pupil(c, self.number, arm=c.school.arm)
        wave = wave or self.baseline
        add_code(p, wave, status=code_status)
        if state in ("started", "completed"):
            self.respond(p, wave, completed=state == "completed")
        return p

    def respond(self, p: Participant, wave, completed: bool) -> Response:
        completed_at = datetime(2026, 10, 1) if completed else None
        return add_response(p, wave, completed_at=completed_at, version="v1")


@pytest.fixture
def world(app):
    study = shipped_study()
    db.session.commit()
    return World(study)


def test_counts_per_wave_arm_school_and_class(world):
    s1 = world.school("S01", "in_harmony")
    s2 = world.school("S02", "comparison")
    a, b, c = (
        world.school_class(s1, "5A"),
        world.school_class(s1, "5B"),
        world.school_class(s2, "6C"),
    )
    for state in ("issued", "started", "completed", "completed"):
        world.pupil(a, state=state)
    for state in ("completed", "completed"):
        world.pupil(b, state=state)
    for state in ("issued", "issued", "started"):
        world.pupil(c, state=state)
    db.session.commit()

    tables = rate_tables(world.study)
    ih = tables.arm("baseline", "in_harmony")
    assert (ih.issued, ih.started, ih.completed) == (6, 5, 4)
    assert ih.rate == pytest.approx(4 / 6)
    assert ih.in_progress == 1
    comp = tables.arm("baseline", "comparison")
    assert (comp.issued, comp.started, comp.completed) == (3, 1, 0)
    assert comp.rate == 0
    assert tables.arm("followup_1", "in_harmony") == Counts()
    assert tables.arm("followup_1", "in_harmony").rate is None
    assert tables.by_school[("baseline", "in_harmony", s1.id)].completed == 4
    by_class = {(r.class_name, r.wave_key): r.counts for r in tables.by_class}
    assert by_class[("5A", "baseline")] == Counts(4, 3, 2)
    assert by_class[("5B", "baseline")] == Counts(2, 2, 2)
    assert tables.wave_total("baseline") == Counts(9, 6, 4)


def test_replaced_revoked_left_and_codeless_pupils(world):
    s1 = world.school("S01", "in_harmony")
    a = world.school_class(s1, "5A")
    replaced = world.pupil(a, code_status="replaced")
    add_code(replaced, world.baseline)  # its live successor: the pupil still counts once
    world.pupil(a, code_status="revoked")  # revoked, never started: not counted
    started_then_revoked = world.pupil(a, code_status="revoked")
    world.respond(started_then_revoked, world.baseline, completed=False)
    left = world.pupil(a)
    left.left_at = datetime(2026, 10, 1)  # left without starting: not counted
    left_done = world.pupil(a, state="completed")
    left_done.left_at = datetime(2026, 11, 1)  # left after completing: still counted
    db.session.commit()
    counts = rate_tables(world.study).arm("baseline", "in_harmony")
    assert (counts.issued, counts.started, counts.completed) == (3, 2, 1)


def test_waves_are_counted_apart_and_follow_up_reuses_participants(world):
    s1 = world.school("S01", "in_harmony")
    a = world.school_class(s1, "5A")
    p = world.pupil(a, state="completed")
    add_code(p, world.followup)
    db.session.commit()
    tables = rate_tables(world.study)
    assert tables.arm("baseline", "in_harmony") == Counts(1, 1, 1)
    assert tables.arm("followup_1", "in_harmony") == Counts(1, 0, 0)


def test_school_filter(world):
    s1 = world.school("S01", "in_harmony")
    s2 = world.school("S02", "comparison")
    world.pupil(world.school_class(s1, "5A"))
    world.pupil(world.school_class(s2, "5A"))
    db.session.commit()
    tables = rate_tables(world.study, school_ids={s2.id})
    assert set(tables.schools) == {s2.id}
    assert tables.arm("baseline", "in_harmony") == Counts()


def test_one_query_whatever_the_number_of_pupils(world, app):
    s1 = world.school("S01", "in_harmony")
    classes = [world.school_class(s1, f"C{i}") for i in range(5)]
    for i in range(200):
        world.pupil(classes[i % 5], state=("issued", "started", "completed")[i % 3])
    db.session.commit()
    assert world.study.id  # load the study row now, so only the counting is measured
    statements = []

    def count(*_args):
        statements.append(1)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        tables = rate_tables(world.study)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert tables.arm("baseline", "in_harmony").issued == 200
