"""Allocation against the real database: by school, randomised, the log, immutability."""

from __future__ import annotations

import csv
import io
import textwrap
from collections import Counter

import pytest

from surveyapp.catalog import get_catalog
from surveyapp.cohorts import (
    ArmChangeError,
    allocate_participant,
    allocate_units,
    assign_school_arm,
    write_allocation_log,
)
from surveyapp.extensions import db
from surveyapp.models import AllocationRecord, Participant, School, SchoolClass
from surveyapp.study.loader import load_study
from surveyapp.study_sync import sync_study
from tests.builders import add_class, add_school, shipped_study


def trial(level: str, strata: str = "[]", seed: str = "trial-seed", ratio: str = "") -> object:
    text = textwrap.dedent(
        f"""\
        id: trial
        title: {{en: "Trial"}}
        arms:
          - {{id: music, label: {{en: "Music"}}}}
          - {{id: control, label: {{en: "Control"}}}}
        waves:
          - {{id: baseline, label: {{en: "Baseline"}}, questionnaire: ih_pupil}}
        allocation:
          method: randomised
          level: {level}
          seed: "{seed}"
          block_size: 4
          strata: {strata}
        """
    )
    if ratio:
        text += f"  ratio: {ratio}\n"
    return load_study("trial.study.yaml", text)


def add_pupil(school_class: SchoolClass, number: int) -> Participant:
    participant = Participant(
        school_id=school_class.school_id,
        school_class=school_class,
        number=number,
        label=f"{school_class.name}-{number:02d}",
    )
    arm = allocate_participant(participant)
    db.session.add(participant)
    db.session.flush()
    assert participant.arm == arm
    return participant


@pytest.fixture
def shipped(app):
    study = shipped_study()
    db.session.commit()
    return study


def test_by_school_pupils_take_their_class_else_school_arm(shipped):
    s1 = add_school(shipped, "S01", arm="in_harmony")
    s2 = add_school(shipped, "S02", arm="comparison")
    s3 = add_school(shipped, "S03")
    a = add_pupil(add_class(s1, "5A"), 1)
    b = add_pupil(add_class(s2, "5B"), 1)
    c = add_pupil(add_class(s1, "6A", arm="comparison"), 1)
    d = add_pupil(add_class(s3, "4C"), 1)
    db.session.commit()
    assert (a.arm, b.arm, c.arm, d.arm) == ("in_harmony", "comparison", "comparison", None)


def test_by_school_arms_are_written_to_the_log_once(shipped):
    add_school(shipped, "S01", arm="in_harmony")
    add_school(shipped, "S02", arm="comparison")
    add_school(shipped, "S03")
    design = get_catalog().study
    first = allocate_units(shipped, design)
    again = allocate_units(shipped, design)
    db.session.commit()
    assert sorted((a.unit, a.arm) for a in first.assigned) == [
        ("S01", "in_harmony"),
        ("S02", "comparison"),
    ]
    assert again.assigned == [] and again.kept == 2
    assert db.session.query(AllocationRecord).count() == 2


def test_a_participants_arm_never_changes(shipped):
    school = add_school(shipped, "S01", arm="in_harmony")
    school_class = add_class(school, "5A")
    pupil = add_pupil(school_class, 1)
    db.session.commit()
    school_class.arm = "comparison"
    school.arm = "comparison"
    db.session.commit()
    assert allocate_participant(pupil) == "in_harmony"
    with pytest.raises(ArmChangeError, match="already in arm 'in_harmony'"):
        pupil.arm = "comparison"
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Participant, pupil.id).arm == "in_harmony"
    # Also after being loaded fresh from the database.
    db.session.expunge_all()
    fresh = db.session.get(Participant, pupil.id)
    with pytest.raises(ArmChangeError):
        fresh.arm = "comparison"
    db.session.rollback()


def test_assign_school_arm_refuses_a_change_and_unknown_arms(shipped):
    school = add_school(shipped, "S01")
    assign_school_arm(school, "in_harmony")
    assign_school_arm(school, "in_harmony")  # the same arm again is harmless
    with pytest.raises(ArmChangeError, match="already in arm"):
        assign_school_arm(school, "comparison")
    with pytest.raises(ArmChangeError, match="unknown arm 'music'"):
        assign_school_arm(add_school(shipped, "S02"), "music")


def test_school_level_randomisation_is_stratified_and_balanced(app):
    design = trial("school", strata="[stratum]")
    study = sync_study(design)
    for i in range(24):
        add_school(study, f"S{i:02d}", stratum="north" if i < 12 else "south")
    summary = allocate_units(study, design)
    db.session.commit()
    assert len(summary.assigned) == 24
    counts = Counter((s.stratum, s.arm) for s in db.session.execute(db.select(School)).scalars())
    assert counts == {
        ("north", "music"): 6,
        ("north", "control"): 6,
        ("south", "music"): 6,
        ("south", "control"): 6,
    }
    records = db.session.execute(db.select(AllocationRecord)).scalars().all()
    assert {r.stratum for r in records} == {"stratum=north", "stratum=south"}
    assert {r.seed for r in records} == {"trial-seed"}


def test_rerunning_allocation_keeps_existing_arms_and_continues_blocks(app):
    design = trial("class", strata="[school]")
    study = sync_study(design)
    school = add_school(study, "S01")
    for name in ("3A", "3B", "4A"):
        add_class(school, name)
    first = allocate_units(study, design)
    db.session.commit()
    before = {c.code: c.arm for c in school.classes}
    for name in ("4B", "5A", "5B"):
        add_class(school, name)
    second = allocate_units(study, design)
    db.session.commit()
    after = {c.code: c.arm for c in school.classes}
    assert len(first.assigned) == 3 and len(second.assigned) == 3 and second.kept == 3
    assert {k: after[k] for k in before} == before
    # The six places of the stratum are the first six of its sequence: 3 + 3 per arm
    # in the complete first block, then the start of the second.
    places = sorted(
        (r.block, r.position) for r in db.session.execute(db.select(AllocationRecord)).scalars()
    )
    assert places == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]
    first_block = Counter(
        r.arm for r in db.session.execute(db.select(AllocationRecord).filter_by(block=0)).scalars()
    )
    assert first_block == {"music": 2, "control": 2}
    assert allocate_units(study, design).assigned == []


def test_same_seed_reproduces_the_allocation_in_a_fresh_database(app):
    def run() -> dict[str, str]:
        design = trial("school", strata="[stratum]")
        study = sync_study(design)
        for i in range(10):
            add_school(study, f"S{i:02d}", stratum="ab"[i % 2])
        allocate_units(study, design)
        db.session.commit()
        result = {s.code: s.arm for s in db.session.execute(db.select(School)).scalars()}
        for table in ("allocation_record", "school", "wave", "study"):
            db.session.execute(db.text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        db.session.commit()
        return result

    assert run() == run()


def test_different_seed_gives_a_different_allocation(app):
    results = []
    for seed in ("alpha", "beta"):
        design = trial("school", seed=seed)
        study = sync_study(design)
        for i in range(16):
            add_school(study, f"S{i:02d}")
        allocate_units(study, design)
        db.session.flush()
        results.append({s.code: s.arm for s in study.schools})
        db.session.rollback()
    assert results[0] != results[1]


def test_pupil_level_randomisation_at_creation(app, monkeypatch):
    design = trial("pupil", strata="[class]")
    monkeypatch.setattr(get_catalog(), "study", design)
    study = sync_study(design)
    school = add_school(study, "S01")
    classes = [add_class(school, name) for name in ("5A", "5B")]
    pupils = [add_pupil(c, n) for c in classes for n in range(1, 10)]
    db.session.commit()
    for c in classes:
        counts = Counter(p.arm for p in pupils if p.class_id == c.id)
        # 9 pupils: two complete blocks (2 + 2 each) and one from the third block.
        assert sorted(counts.values()) == [4, 5]
    assert db.session.query(AllocationRecord).filter_by(level="pupil").count() == 18
    record = db.session.execute(
        db.select(AllocationRecord).filter_by(unit_key=pupils[0].id)
    ).scalar_one()
    assert record.arm == pupils[0].arm and record.stratum == "class=S01-5A"


def test_class_level_randomisation_happens_when_the_first_pupil_arrives(app, monkeypatch):
    design = trial("class", strata="[school]")
    monkeypatch.setattr(get_catalog(), "study", design)
    study = sync_study(design)
    school = add_school(study, "S01")
    school_class = add_class(school, "5A")
    first = add_pupil(school_class, 1)
    second = add_pupil(school_class, 2)
    db.session.commit()
    assert school_class.arm in {"music", "control"}
    assert first.arm == second.arm == school_class.arm
    assert db.session.query(AllocationRecord).count() == 1


def test_allocation_log_csv(app):
    design = trial("school")
    study = sync_study(design)
    for i in range(5):
        add_school(study, f"S{i:02d}")
    allocate_units(study, design)
    db.session.commit()
    out = io.StringIO()
    assert write_allocation_log(study, out) == 5
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["unit"] for r in rows if r["block"] == "0"] != []
    assert {r["unit"] for r in rows} == {f"S{i:02d}" for i in range(5)}
    by_unit = {s.code: s.arm for s in study.schools}
    assert all(r["arm"] == by_unit[r["unit"]] for r in rows)
    assert {r["seed"] for r in rows} == {"trial-seed"}
    assert {r["study"] for r in rows} == {"trial"}
