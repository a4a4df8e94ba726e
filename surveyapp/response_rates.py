"""Response rates: per wave and arm, per school and class, how many pupils were issued cards,
started and completed, with the completion rate.

One GROUP BY query at the finest level (wave, arm, school, class) does the counting in the
database; coarser tables are sums of it, since each pupil is counted once per wave.

Counting rules:
- *issued*: pupils with a card for the wave that was not revoked (a replaced card has a live
  successor, so the pupil still counts once), plus any pupil who has a response for it;
- *started*: pupils with a response for the wave (completed ones included);
- *completed*: pupils whose response is completed.
Pupils marked as left who never started are not counted: they can no longer respond.
The arm is the one the response recorded, else the participant's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, literal_column, or_, union

from .extensions import db
from .models import AccessCode, Participant, Response, School, SchoolClass, Study, Wave


@dataclass
class Counts:
    issued: int = 0
    started: int = 0
    completed: int = 0

    @property
    def rate(self) -> float | None:
        """Completed as a share of issued (None when nobody was issued a card)."""
        return self.completed / self.issued if self.issued else None

    @property
    def in_progress(self) -> int:
        return self.started - self.completed

    def add(self, other: Counts) -> None:
        self.issued += other.issued
        self.started += other.started
        self.completed += other.completed


@dataclass(frozen=True)
class ClassRow:
    wave_key: str
    arm: str | None
    school_id: int
    school_name: str
    school_code: str
    class_id: int
    class_name: str
    counts: Counts


def class_rows(study: Study, school_ids: set[int] | None = None) -> list[ClassRow]:
    """Counts per wave, arm, school and class (only groups with at least one pupil)."""
    cohort = union(
        db.select(AccessCode.participant_id, AccessCode.wave_id).where(
            AccessCode.status != "revoked"
        ),
        db.select(Response.participant_id, Response.wave_id),
    ).subquery("cohort")
    arm = func.coalesce(Response.arm, Participant.arm)
    query = (
        db.select(
            Wave.key,
            arm.label("arm"),
            School.id,
            School.name,
            School.code,
            SchoolClass.id,
            SchoolClass.name,
            func.count(literal_column("*")).label("issued"),
            func.count(Response.id).label("started"),
            func.count(Response.completed_at).label("completed"),
        )
        .select_from(cohort)
        .join(Wave, Wave.id == cohort.c.wave_id)
        .join(Participant, Participant.id == cohort.c.participant_id)
        .join(SchoolClass, SchoolClass.id == Participant.class_id)
        .join(School, School.id == Participant.school_id)
        .outerjoin(
            Response,
            and_(
                Response.participant_id == cohort.c.participant_id,
                Response.wave_id == cohort.c.wave_id,
            ),
        )
        .where(Wave.study_id == study.id)
        .where(or_(Participant.left_at.is_(None), Response.id.is_not(None)))
        .group_by(
            Wave.key, arm, School.id, School.name, School.code, SchoolClass.id, SchoolClass.name
        )
        .order_by(Wave.key, School.name, SchoolClass.name)
    )
    if school_ids is not None:
        query = query.where(School.id.in_(school_ids))
    return [
        ClassRow(
            wave_key=w,
            arm=a,
            school_id=sid,
            school_name=sname,
            school_code=scode,
            class_id=cid,
            class_name=cname,
            counts=Counts(issued, started, completed),
        )
        for w, a, sid, sname, scode, cid, cname, issued, started, completed in db.session.execute(
            query
        )
    ]


@dataclass
class RateTables:
    """The same counts at three levels, keyed for templates."""

    by_arm: dict[tuple[str, str | None], Counts]
    by_school: dict[tuple[str, str | None, int], Counts]
    by_class: list[ClassRow]
    schools: dict[int, tuple[str, str]]  # id -> (name, code)

    def arm(self, wave_key: str, arm: str | None) -> Counts:
        return self.by_arm.get((wave_key, arm), Counts())

    def arms_seen(self) -> list[str | None]:
        return sorted({arm for _, arm in self.by_arm}, key=lambda a: (a is None, a or ""))

    def wave_total(self, wave_key: str) -> Counts:
        total = Counts()
        for (w, _), counts in self.by_arm.items():
            if w == wave_key:
                total.add(counts)
        return total


def rate_tables(study: Study, school_ids: set[int] | None = None) -> RateTables:
    rows = class_rows(study, school_ids)
    by_arm: dict[tuple[str, str | None], Counts] = defaultdict(Counts)
    by_school: dict[tuple[str, str | None, int], Counts] = defaultdict(Counts)
    schools: dict[int, tuple[str, str]] = {}
    for row in rows:
        by_arm[(row.wave_key, row.arm)].add(row.counts)
        by_school[(row.wave_key, row.arm, row.school_id)].add(row.counts)
        schools[row.school_id] = (row.school_name, row.school_code)
    return RateTables(dict(by_arm), dict(by_school), rows, schools)
