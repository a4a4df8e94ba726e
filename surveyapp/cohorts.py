"""Cohorts: which arm a participant belongs to (the wave comes from the code they use).

By default a participant takes their class's arm, else their school's arm. Randomised
designs allocate at school, class or pupil level (see ``surveyapp.study.allocation``) and
write every decision to the allocation log (``AllocationRecord``).

An arm, once set on a participant, never changes: :func:`allocate_participant` only fills an
empty arm, and an attribute listener refuses any later change, whoever attempts it.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import event, func

from .extensions import db
from .models import AllocationRecord, Participant, School, SchoolClass, Study, random_id
from .study.allocation import Assignment, Unit, inherited_arm, randomise, stratum_label
from .study.model import StudyDesign


class ArmChangeError(ValueError):
    """Someone tried to change an arm that is already fixed."""


@event.listens_for(Participant.arm, "set", active_history=True)
def _arm_is_fixed(target: Participant, value, oldvalue, _initiator):
    if isinstance(oldvalue, str) and value != oldvalue:
        raise ArmChangeError(
            f"participant {target.label or target.id} is already in arm '{oldvalue}'; "
            "an arm never changes once allocated"
        )
    return value


@dataclass
class AllocationSummary:
    level: str
    assigned: list[Assignment] = field(default_factory=list)
    # Units that already had an arm (randomised earlier, or set by hand): left as they are.
    kept: int = 0

    def counts(self) -> dict[tuple[str, str], int]:
        """(stratum, arm) -> number of units assigned in this run."""
        return dict(Counter((a.stratum, a.arm) for a in self.assigned))


# --- design and study row ------------------------------------------------------------------


def current_design() -> StudyDesign | None:
    """The study design the running app serves (from the catalog)."""
    from .catalog import get_catalog

    return get_catalog().study


def design_for(study: Study) -> StudyDesign | None:
    design = current_design()
    if design is None or design.id != study.key:
        return None
    return design


def _lock_study(study: Study) -> None:
    """Serialise allocations within one study (PostgreSQL row lock; SQLite has one writer)."""
    db.session.execute(db.select(Study.id).where(Study.id == study.id).with_for_update()).all()


# --- units ---------------------------------------------------------------------------------


def _school_values(school: School) -> dict[str, object]:
    return {"school": school.code, "stratum": school.stratum}


def _class_values(school_class: SchoolClass) -> dict[str, object]:
    return {**_school_values(school_class.school), "year_group": school_class.year_group}


def _participant_values(participant: Participant, school_class: SchoolClass) -> dict[str, object]:
    return {**_class_values(school_class), "class": school_class.code}


def _used_places(study: Study, level: str, seed: str) -> dict[str, int]:
    """Per stratum, how many places of the permuted-block sequence earlier runs used.

    Counts the records in the database and those added to this session but not yet flushed,
    without flushing: a participant being created may not be complete yet.
    """
    with db.session.no_autoflush:
        rows = db.session.execute(
            db.select(AllocationRecord.stratum, func.count())
            .where(
                AllocationRecord.study_id == study.id,
                AllocationRecord.level == level,
                AllocationRecord.seed == seed,
            )
            .group_by(AllocationRecord.stratum)
        ).all()
    used = Counter({stratum: count for stratum, count in rows})
    for pending in db.session.new:
        if (
            isinstance(pending, AllocationRecord)
            and pending.study_id == study.id
            and pending.level == level
            and pending.seed == seed
        ):
            used[pending.stratum] += 1
    return dict(used)


def _randomise_into(
    study: Study, design: StudyDesign, units: dict[str, tuple[object, dict]]
) -> list[Assignment]:
    """Randomise ``units`` (key -> (row, stratum values)), set their arms, write the log."""
    allocation = design.allocation
    level = allocation.level
    seed = allocation.seed or ""
    if not units:
        return []
    with db.session.no_autoflush:
        _lock_study(study)
    already = _used_places(study, level, seed)
    assignments = randomise(
        [Unit(key, stratum_label(values, allocation.strata)) for key, (_, values) in units.items()],
        seed=seed,
        weights=allocation.weights(design.arm_ids()),
        block_size=allocation.block_size,
        already=already,
    )
    for a in assignments:
        row = units[a.unit][0]
        row.arm = a.arm
        db.session.add(
            AllocationRecord(
                study_id=study.id,
                level=level,
                unit_key=a.unit,
                stratum=a.stratum,
                block=a.block,
                position=a.position,
                arm=a.arm,
                seed=seed,
            )
        )
    return assignments


def allocate_units(study: Study, design: StudyDesign) -> AllocationSummary:
    """Allocate every unit of a randomised design that has no arm yet; keep every other arm.

    For a design by school there is nothing to randomise: the school arms that are set are
    written to the allocation log (once), so the log is complete for every design.
    """
    allocation = design.allocation
    if not allocation.randomised:
        return _log_school_arms(study)
    level = allocation.level
    summary = AllocationSummary(level=level)
    units: dict[str, tuple[object, dict]] = {}
    schools = db.session.execute(db.select(School).filter_by(study_id=study.id)).scalars().all()
    if level == "school":
        for school in schools:
            if school.arm is None:
                units[school.code] = (school, _school_values(school))
            else:
                summary.kept += 1
    elif level == "class":
        for school in schools:
            for school_class in school.classes:
                if school_class.arm is None:
                    units[school_class.code] = (school_class, _class_values(school_class))
                else:
                    summary.kept += 1
    else:
        participants = db.session.execute(
            db.select(Participant).join(School).where(School.study_id == study.id)
        ).scalars()
        for participant in participants:
            if participant.arm is None:
                values = _participant_values(participant, participant.school_class)
                units[participant.id] = (participant, values)
            else:
                summary.kept += 1
    summary.assigned = _randomise_into(study, design, units)
    return summary


def _log_school_arms(study: Study) -> AllocationSummary:
    summary = AllocationSummary(level="school")
    logged = set(
        db.session.execute(
            db.select(AllocationRecord.unit_key).filter_by(study_id=study.id, level="school")
        ).scalars()
    )
    schools = db.session.execute(
        db.select(School).filter_by(study_id=study.id).order_by(School.code)
    ).scalars()
    for position, school in enumerate(schools):
        if school.arm is None:
            continue
        if school.code in logged:
            summary.kept += 1
            continue
        record = AllocationRecord(
            study_id=study.id,
            level="school",
            unit_key=school.code,
            stratum=school.stratum or "",
            position=position,
            arm=school.arm,
        )
        db.session.add(record)
        summary.assigned.append(Assignment(school.code, record.stratum, 0, position, school.arm))
    db.session.flush()
    return summary


def log_school_arms(study: Study, design: StudyDesign) -> None:
    """For a design by school, write school arms set since the last time to the log.

    Schools get their arm when they are added or imported; calling this before the log is
    read keeps the log complete without every place that sets an arm having to know of it.
    """
    if not design.allocation.randomised:
        _log_school_arms(study)


def assign_school_arm(school: School, arm: str, design: StudyDesign | None = None) -> None:
    """Set a school's arm (allocation by school) once; refuse to change it later.

    For use where schools are added or imported. Pupils keep their arm regardless, but a
    school moving arm would split it between arms, so that is refused too.
    """
    design = design or current_design()
    if design is not None and arm not in design.arm_ids():
        raise ArmChangeError(f"unknown arm '{arm}' (one of: {', '.join(design.arm_ids())})")
    if school.arm is not None and school.arm != arm:
        raise ArmChangeError(f"school {school.code} is already in arm '{school.arm}'")
    school.arm = arm


# --- participants --------------------------------------------------------------------------


def allocate_participant(participant: Participant) -> str | None:
    """Fix the participant's arm if it is not fixed yet; return it.

    The class's arm, else the school's arm. In a randomised design whose class or school has
    no arm yet, that unit is randomised now; at pupil level, the pupil is. Returns None only
    when the design is by school and the school has no arm.
    """
    if participant.arm is not None:
        return participant.arm
    # The participant may be half-built (not yet added to the session): never flush it here.
    with db.session.no_autoflush:
        return _allocate_new_participant(participant)


def _allocate_new_participant(participant: Participant) -> str | None:
    school_class = participant.school_class or db.session.get(SchoolClass, participant.class_id)
    school = school_class.school
    design = design_for(school.study)
    if design is not None and design.allocation.randomised:
        level = design.allocation.level
        if level == "school" and school.arm is None:
            _randomise_into(school.study, design, {school.code: (school, _school_values(school))})
        elif level == "class" and school_class.arm is None and school.arm is None:
            _randomise_into(
                school.study,
                design,
                {school_class.code: (school_class, _class_values(school_class))},
            )
        elif level == "pupil" and school_class.arm is None and school.arm is None:
            if participant.id is None:
                # The log refers to the participant by id; give it one now (before its insert).
                participant.id = random_id()
            _randomise_into(
                school.study,
                design,
                {participant.id: (participant, _participant_values(participant, school_class))},
            )
            return participant.arm
    participant.arm = inherited_arm(school_class.arm, school.arm)
    return participant.arm


# --- the allocation log --------------------------------------------------------------------

LOG_COLUMNS = ("study", "level", "unit", "stratum", "block", "position", "arm", "seed", "at")


def allocation_log(study: Study) -> list[AllocationRecord]:
    return list(
        db.session.execute(
            db.select(AllocationRecord)
            .filter_by(study_id=study.id)
            .order_by(
                AllocationRecord.level,
                AllocationRecord.stratum,
                AllocationRecord.seed,
                AllocationRecord.block,
                AllocationRecord.position,
                AllocationRecord.id,
            )
        ).scalars()
    )


def write_allocation_log(study: Study, out: TextIO) -> int:
    """Write the allocation log as CSV; return the number of rows.

    Units are schools and classes by their export codes, pupils by their random participant
    id; the log holds no names.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LOG_COLUMNS)
    rows = allocation_log(study)
    for r in rows:
        writer.writerow(
            [
                study.key,
                r.level,
                r.unit_key,
                r.stratum,
                r.block,
                r.position,
                r.arm,
                r.seed,
                r.allocated_at.isoformat(timespec="seconds") if r.allocated_at else "",
            ]
        )
    return len(rows)


def schools_per_arm(study: Study) -> dict[str | None, int]:
    rows = db.session.execute(
        db.select(School.arm, func.count()).filter_by(study_id=study.id).group_by(School.arm)
    ).all()
    return {arm: count for arm, count in rows}
