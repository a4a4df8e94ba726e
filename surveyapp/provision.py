"""Provision and participation returns: one per school and term, editable until submitted.

A school contact fills in the study's school-audience questionnaire
(``provision_questionnaire`` in the study file) once a term for their school. Answers are
stored in ``ProvisionReturn.answers`` keyed by question id, with values as in the storage
contract (numbers, sorted lists of codes, text). Researchers see a table per school and term
and download the returns as CSV.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .audit import record
from .exporting.cells import spreadsheet_safe
from .extensions import db
from .models import ProvisionReturn, School, Study, User, utcnow
from .provision_form import variables
from .questionnaire.model import (
    GridQuestion,
    InfoItem,
    MultiChoiceQuestion,
    NumberQuestion,
    Questionnaire,
    TextQuestion,
)
from .study.model import StudyDesign
from .study.terms import term_of, terms_between


class ProvisionError(ValueError):
    """A return that cannot be changed (already submitted) or a term outside the study."""


def provision_questionnaire(design: StudyDesign | None) -> Questionnaire | None:
    """The study's school questionnaire, or None when the study has none."""
    from .catalog import get_catalog

    if design is None or not design.provision_questionnaire:
        return None
    return get_catalog().questionnaires.get(design.provision_questionnaire)


def study_terms(design: StudyDesign, today: date | None = None) -> list[str]:
    """The terms a return can be made for: from the first wave's opening to the last closing.

    A study without dates offers the current term only.
    """
    first, last = design.period()
    if first and last:
        return terms_between(first, last)
    return [term_of(today or date.today())]


def status(provision_return: ProvisionReturn | None) -> str:
    """``missing``, ``draft`` or ``submitted``."""
    if provision_return is None:
        return "missing"
    return "submitted" if provision_return.submitted_at else "draft"


def find_return(school: School, term: str) -> ProvisionReturn | None:
    return db.session.execute(
        db.select(ProvisionReturn).filter_by(school_id=school.id, term=term)
    ).scalar_one_or_none()


def returns_by_school_and_term(school_ids: list[int]) -> dict[tuple[int, str], ProvisionReturn]:
    if not school_ids:
        return {}
    rows = db.session.execute(
        db.select(ProvisionReturn).where(ProvisionReturn.school_id.in_(school_ids))
    ).scalars()
    return {(r.school_id, r.term): r for r in rows}


def save_return(
    school: School,
    term: str,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
    user: User | None,
    submit: bool = False,
) -> ProvisionReturn:
    """Save (and optionally submit) the school's return for ``term``; the caller commits.

    Refuses to change a submitted return. Saving the same answers twice is harmless. If
    another person creates the same school's return for the term at the same moment, this
    one updates theirs instead of failing on the one-per-school-and-term constraint.
    """
    provision_return = find_return(school, term)
    if provision_return is None:
        provision_return = ProvisionReturn(
            school_id=school.id,
            term=term,
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            answers={},
        )
        try:
            with db.session.begin_nested():
                db.session.add(provision_return)
        except IntegrityError:
            provision_return = find_return(school, term)
    if provision_return.submitted_at is not None:
        raise ProvisionError(
            _(
                "The return for %(term)s was submitted on %(day)s and can no longer be changed.",
                term=term,
                day=provision_return.submitted_at.date().isoformat(),
            )
        )
    provision_return.answers = dict(answers)
    provision_return.questionnaire_id = questionnaire.id
    provision_return.questionnaire_version = questionnaire.version
    provision_return.updated_at = utcnow()
    provision_return.submitted_by_id = user.id if user else None
    if submit:
        provision_return.submitted_at = utcnow()
        record(
            user.id if user else None,
            "provision.submit",
            target=f"school:{school.code}/{term}",
            questionnaire_version=questionnaire.version,
        )
    db.session.flush()
    return provision_return


def answer_rows(
    questionnaire: Questionnaire, answers: dict[str, Any], language: str
) -> list[tuple[str, str, str | None]]:
    """(variable, question text, answer shown in words or None if unanswered), in order."""

    def text(value) -> str:
        return questionnaire.text(value, language)

    rows: list[tuple[str, str, str | None]] = []
    for q in questionnaire.questions():
        if isinstance(q, InfoItem):
            continue
        labels = {c.code: text(c.label) for c in questionnaire.choices_for(q)}
        if isinstance(q, GridQuestion):
            for row in q.rows:
                value = answers.get(row.id)
                rows.append(
                    (
                        row.id,
                        text(row.text),
                        None if value is None else labels.get(value, str(value)),
                    )
                )
            continue
        value = answers.get(q.id)
        if value is None or value == []:
            shown = None
        elif isinstance(q, MultiChoiceQuestion):
            shown = ", ".join(labels.get(code, str(code)) for code in value)
        elif isinstance(q, NumberQuestion):
            shown = f"{value} {text(q.unit)}".strip()
        elif isinstance(q, TextQuestion):
            shown = str(value)
        else:
            shown = labels.get(value, str(value))
        rows.append((q.id, text(q.text), shown))
    return rows


# --- the researchers' CSV ------------------------------------------------------------------


@dataclass(frozen=True)
class CsvOptions:
    # Free text marked ``identifying: direct`` (comments) follows the study's policy.
    include_free_text: bool = False


def csv_columns(questionnaire: Questionnaire, options: CsvOptions) -> list[str]:
    dropped = _dropped(questionnaire, options)
    return [
        "school",
        "arm",
        "term",
        "status",
        "submitted_at",
        "updated_at",
        "questionnaire_version",
        *(v for v in variables(questionnaire) if v not in dropped),
    ]


def _dropped(questionnaire: Questionnaire, options: CsvOptions) -> set[str]:
    if options.include_free_text:
        return set()
    return {
        q.id
        for q in questionnaire.questions()
        if isinstance(q, TextQuestion) and q.identifying == "direct"
    }


def _cell(value: Any) -> Any:
    # A multi-choice answer is a list of codes: written "1;5;13" so one cell holds it.
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, str):
        return spreadsheet_safe(value)  # a comment starting "=" must not run in Excel
    return "" if value is None else value


def write_returns_csv(
    study: Study, questionnaire: Questionnaire, out: TextIO, options: CsvOptions
) -> int:
    """Every return of the study's schools, one row each; schools by export code only."""
    columns = csv_columns(questionnaire, options)
    multi = {q.id for q in questionnaire.questions() if isinstance(q, MultiChoiceQuestion)}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    rows = db.session.execute(
        db.select(ProvisionReturn, School)
        .join(School, School.id == ProvisionReturn.school_id)
        .where(School.study_id == study.id)
        .order_by(School.code, ProvisionReturn.term)
    ).all()
    for provision_return, school in rows:
        answers = provision_return.answers or {}
        fixed = {
            "school": school.code,
            "arm": school.arm or "",
            "term": provision_return.term,
            "status": status(provision_return),
            "submitted_at": _iso(provision_return.submitted_at),
            "updated_at": _iso(provision_return.updated_at),
            "questionnaire_version": provision_return.questionnaire_version,
        }
        writer.writerow(
            [
                fixed[c] if c in fixed else _cell(answers.get(c, [] if c in multi else None))
                for c in columns
            ]
        )
    return len(rows)


def _iso(value) -> str:
    return value.isoformat(timespec="seconds") if value else ""
