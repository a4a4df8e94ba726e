"""Schools and classes: the operational side of a study, created in the UI, by CSV or the CLI.

A school gets an export code (S01, S02, ...) that is the only school identity that leaves the
server; a class gets ``<school code>-C01``. A school's arm must be one of the study's arms.
Every change is audited in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

from ..audit import record
from ..catalog import get_catalog
from ..cohorts import ArmChangeError, assign_school_arm
from ..extensions import db
from ..models import Participant, School, SchoolClass, Study
from ..study_sync import sync_study

SCHOOL_NAME_MAX = 200
CLASS_NAME_MAX = 20
# Letters (any script), digits, spaces and a few separators; the class name is printed on
# cards and starts every participant label ("5B-07").
CLASS_NAME_RE = re.compile(r"^[^\W_][\w .'/-]*$")
YEAR_GROUP_RANGE = (0, 14)
_SCHOOL_CODE = re.compile(r"S(\d+)")


class SchoolError(ValueError):
    """A school or class change that cannot be made; the message says why."""


def current_study() -> Study:
    """The database row of the study the app serves (synced from its file when missing)."""
    design = get_catalog().study
    if design is None:
        raise SchoolError(_("No study file is loaded, so schools cannot be added."))
    study = db.session.execute(db.select(Study).filter_by(key=design.id)).scalar_one_or_none()
    return study if study is not None else sync_study(design)


def study_arms() -> list[str]:
    design = get_catalog().study
    return design.arm_ids() if design is not None else []


def arm_required() -> bool:
    """By-school allocation needs every school's arm; randomised designs allocate it later."""
    design = get_catalog().study
    return design is None or design.allocation.method == "by_school"


def clean_arm(arm: str | None) -> str | None:
    arm = (arm or "").strip()
    arms = study_arms()
    if not arm:
        if arm_required():
            raise SchoolError(
                _("Every school needs an arm (one of: %(arms)s).", arms=", ".join(arms))
            )
        return None
    if arm not in arms:
        raise SchoolError(
            _("Unknown arm '%(arm)s' (one of: %(arms)s).", arm=arm, arms=", ".join(arms))
        )
    return arm


def clean_school_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise SchoolError(_("The school needs a name."))
    if len(name) > SCHOOL_NAME_MAX:
        raise SchoolError(_("The school name is longer than %(n)d characters.", n=SCHOOL_NAME_MAX))
    return name


def clean_class_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise SchoolError(_("The class needs a name, such as 5B."))
    if len(name) > CLASS_NAME_MAX:
        raise SchoolError(
            _(
                "The class name '%(name)s' is longer than %(n)d characters.",
                name=name,
                n=CLASS_NAME_MAX,
            )
        )
    if not CLASS_NAME_RE.match(name):
        raise SchoolError(
            _(
                "The class name '%(name)s' may contain only letters, digits, spaces and . ' / -",
                name=name,
            )
        )
    return name


def clean_year_group(value: str | int | None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        year = int(str(value).strip())
    except ValueError:
        raise SchoolError(
            _("The year group '%(value)s' is not a whole number.", value=value)
        ) from None
    low, high = YEAR_GROUP_RANGE
    if not low <= year <= high:
        raise SchoolError(
            _("The year group %(year)d is outside %(low)d-%(high)d.", year=year, low=low, high=high)
        )
    return year


def clean_stratum(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > 64:
        raise SchoolError(_("The stratum is longer than 64 characters."))
    return value or None


def find_school_by_name(study: Study, name: str) -> School | None:
    return db.session.execute(
        db.select(School).filter(
            School.study_id == study.id, db.func.lower(School.name) == name.lower()
        )
    ).scalar_one_or_none()


def find_school_by_code(study: Study, code: str) -> School | None:
    return db.session.execute(
        db.select(School).filter_by(study_id=study.id, code=code.strip().upper())
    ).scalar_one_or_none()


def find_class(school: School, name: str) -> SchoolClass | None:
    return db.session.execute(
        db.select(SchoolClass).filter(
            SchoolClass.school_id == school.id, db.func.lower(SchoolClass.name) == name.lower()
        )
    ).scalar_one_or_none()


def _next_number(codes: list[str], pattern: re.Pattern[str]) -> int:
    numbers = [int(m.group(1)) for c in codes if (m := pattern.fullmatch(c))]
    return max(numbers, default=0) + 1


def next_school_code(study: Study) -> str:
    codes = db.session.execute(db.select(School.code).filter_by(study_id=study.id)).scalars()
    number = _next_number(list(codes), _SCHOOL_CODE)
    return f"S{number:02d}"


def next_class_code(school: School) -> str:
    codes = db.session.execute(db.select(SchoolClass.code).filter_by(school_id=school.id)).scalars()
    pattern = re.compile(re.escape(school.code) + r"-C(\d+)")
    return f"{school.code}-C{_next_number(list(codes), pattern):02d}"


def create_school(
    study: Study,
    name: str,
    arm: str | None,
    actor_id: int | None,
    stratum: str | None = None,
    via: str = "web",
) -> School:
    name = clean_school_name(name)
    arm = clean_arm(arm)
    if find_school_by_name(study, name) is not None:
        raise SchoolError(_("A school called '%(name)s' exists already.", name=name))
    school = School(
        study_id=study.id,
        name=name,
        code=next_school_code(study),
        stratum=clean_stratum(stratum),
    )
    if arm is not None:
        try:
            assign_school_arm(school, arm)
        except ArmChangeError as exc:
            raise SchoolError(str(exc)) from None
    db.session.add(school)
    db.session.flush()
    record(actor_id, "school.create", f"school:{school.code}", name=name, arm=arm, via=via)
    return school


def update_school(
    school: School, name: str, arm: str | None, stratum: str | None, actor_id: int | None
) -> School:
    """Rename a school or change its arm; the arm is fixed once pupils have been allocated."""
    name = clean_school_name(name)
    arm = clean_arm(arm)
    other = find_school_by_name(school.study, name)
    if other is not None and other.id != school.id:
        raise SchoolError(_("A school called '%(name)s' exists already.", name=name))
    if arm != school.arm and has_participants(school):
        raise SchoolError(
            _(
                "The arm of %(code)s cannot change: its pupils have already been allocated "
                "to '%(arm)s'.",
                code=school.code,
                arm=school.arm or "-",
            )
        )
    changes = {}
    for attr, value in (("name", name), ("arm", arm), ("stratum", clean_stratum(stratum))):
        if getattr(school, attr) != value:
            changes[attr] = [getattr(school, attr), value]
            setattr(school, attr, value)
    if changes:
        record(actor_id, "school.update", f"school:{school.code}", **changes)
    db.session.flush()
    return school


def has_participants(school: School) -> bool:
    return (
        db.session.execute(
            db.select(Participant.id).filter_by(school_id=school.id).limit(1)
        ).first()
        is not None
    )


def create_class(
    school: School,
    name: str,
    year_group: str | int | None,
    actor_id: int | None,
    via: str = "web",
) -> SchoolClass:
    name = clean_class_name(name)
    year = clean_year_group(year_group)
    if find_class(school, name) is not None:
        raise SchoolError(
            _("%(school)s already has a class called '%(name)s'.", school=school.name, name=name)
        )
    school_class = SchoolClass(
        school_id=school.id, name=name, year_group=year, code=next_class_code(school)
    )
    db.session.add(school_class)
    db.session.flush()
    record(
        actor_id,
        "class.create",
        f"class:{school_class.code}",
        name=name,
        year_group=year,
        via=via,
    )
    return school_class
