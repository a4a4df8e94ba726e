"""CSV import of a whole study's schools and classes: all lines or nothing.

One line per class::

    school,arm,class,year_group,stratum
    Hillside Primary,in_harmony,5B,5,north

``school`` and ``class`` are required; ``arm`` is required for by-school allocation;
``year_group`` and ``stratum`` are optional. A school named on several lines must have the same
arm on each. Schools and classes that exist already are left as they are (so importing the
same file twice is harmless). Every problem is reported with its line number, and if there is
any problem nothing is imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..audit import record
from ..extensions import db
from ..models import Study
from . import schools as svc

MAX_BYTES = 1_000_000
MAX_LINES = 5000
MAX_FIELD = 300

COLUMNS = ("school", "arm", "class", "year_group", "stratum")
REQUIRED = ("school", "class")
ALIASES = {
    "school_name": "school",
    "class_name": "class",
    "group": "class",
    "year": "year_group",
    "yeargroup": "year_group",
}


@dataclass
class ImportLine:
    line: int
    school: str
    arm: str | None
    class_name: str
    year_group: int | None
    stratum: str | None


@dataclass
class ImportReport:
    errors: list[tuple[int, str]] = field(default_factory=list)
    schools_created: list[str] = field(default_factory=list)
    classes_created: list[str] = field(default_factory=list)
    classes_existing: list[str] = field(default_factory=list)
    lines: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_lines(self) -> list[str]:
        return [
            _("line %(line)d: %(message)s", line=line, message=message) if line else message
            for line, message in self.errors
        ]


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ValueError(
            _(
                "The file is larger than %(kb)d kB; split it into several files.",
                kb=MAX_BYTES // 1000,
            )
        )
    if b"\x00" in data:
        raise ValueError(_("This is not a CSV text file (it contains binary data)."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(
            _("The file is not UTF-8 text: save it from your spreadsheet as 'CSV UTF-8'.")
        ) from None


def _header_key(raw: str) -> str:
    key = "_".join(raw.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def parse_csv(data: bytes) -> tuple[list[ImportLine], list[tuple[int, str]]]:
    """Read and check the file's shape and every field; return the lines and the problems."""
    try:
        text = _decode(data)
    except ValueError as exc:
        return [], [(0, str(exc))]
    if not text.strip():
        return [], [(0, _("The file is empty."))]
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    errors: list[tuple[int, str]] = []
    try:
        header = next(reader)
    except csv.Error as exc:
        return [], [(1, _("The header line cannot be read as CSV (%(error)s).", error=exc))]
    keys = [_header_key(h) for h in header]
    for key, raw in zip(keys, header, strict=True):
        if key not in COLUMNS:
            errors.append(
                (
                    1,
                    _(
                        "Unknown column '%(column)s' (expected: %(columns)s).",
                        column=raw.strip(),
                        columns=", ".join(COLUMNS),
                    ),
                )
            )
    for key in REQUIRED:
        if key not in keys:
            errors.append((1, _("The column '%(column)s' is missing.", column=key)))
    duplicates = sorted({k for k in keys if keys.count(k) > 1 and k in COLUMNS})
    for key in duplicates:
        errors.append((1, _("The column '%(column)s' appears twice.", column=key)))
    if errors:
        return [], errors

    lines: list[ImportLine] = []
    line_no = 1
    try:
        for row in reader:
            line_no = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(lines) >= MAX_LINES:
                errors.append((line_no, _("More than %(n)d lines; split the file.", n=MAX_LINES)))
                break
            parsed = _parse_row(line_no, keys, row, errors)
            if parsed is not None:
                lines.append(parsed)
    except csv.Error as exc:
        errors.append((line_no + 1, _("This line cannot be read as CSV (%(error)s).", error=exc)))
    if not lines and not errors:
        errors.append((0, _("The file has a header but no lines to import.")))
    return lines, errors


def _parse_row(
    line_no: int, keys: list[str], row: list[str], errors: list[tuple[int, str]]
) -> ImportLine | None:
    if len(row) != len(keys):
        errors.append(
            (
                line_no,
                _(
                    "%(found)d fields, but the header has %(expected)d.",
                    found=len(row),
                    expected=len(keys),
                ),
            )
        )
        return None
    values = dict(zip(keys, (cell.strip() for cell in row), strict=True))
    if any(len(v) > MAX_FIELD for v in values.values()):
        errors.append((line_no, _("A field is longer than %(n)d characters.", n=MAX_FIELD)))
        return None
    problems = []
    parsed: dict = {}
    for key, clean in (
        ("school", svc.clean_school_name),
        ("class", svc.clean_class_name),
        ("arm", svc.clean_arm),
        ("year_group", svc.clean_year_group),
        ("stratum", svc.clean_stratum),
    ):
        try:
            parsed[key] = clean(values.get(key))
        except svc.SchoolError as exc:
            problems.append(str(exc))
    if problems:
        errors.extend((line_no, p) for p in problems)
        return None
    return ImportLine(
        line=line_no,
        school=parsed["school"],
        arm=parsed["arm"],
        class_name=parsed["class"],
        year_group=parsed["year_group"],
        stratum=parsed["stratum"],
    )


def _check_against_database(study: Study, lines: list[ImportLine]) -> list[tuple[int, str]]:
    errors: list[tuple[int, str]] = []
    arms: dict[str, tuple[str | None, int]] = {}
    seen_classes: dict[tuple[str, str], int] = {}
    for line in lines:
        key = line.school.lower()
        if key in arms and arms[key][0] != line.arm:
            errors.append(
                (
                    line.line,
                    _(
                        "'%(school)s' has arm '%(arm)s' here but '%(other)s' on line %(first)d.",
                        school=line.school,
                        arm=line.arm or "-",
                        other=arms[key][0] or "-",
                        first=arms[key][1],
                    ),
                )
            )
        arms.setdefault(key, (line.arm, line.line))
        class_key = (key, line.class_name.lower())
        if class_key in seen_classes:
            errors.append(
                (
                    line.line,
                    _(
                        "The class '%(name)s' of '%(school)s' is listed on line %(first)d already.",
                        name=line.class_name,
                        school=line.school,
                        first=seen_classes[class_key],
                    ),
                )
            )
        seen_classes.setdefault(class_key, line.line)
        existing = svc.find_school_by_name(study, line.school)
        if existing is not None and existing.arm != line.arm:
            errors.append(
                (
                    line.line,
                    _(
                        "'%(school)s' exists already with arm '%(arm)s', not '%(new)s'.",
                        school=existing.name,
                        arm=existing.arm or "-",
                        new=line.arm or "-",
                    ),
                )
            )
    return errors


def _import_line(
    study: Study, line: ImportLine, report: ImportReport, actor_id: int | None, via: str
) -> None:
    school = svc.find_school_by_name(study, line.school)
    if school is None:
        school = svc.create_school(
            study, line.school, line.arm, actor_id, stratum=line.stratum, via=via
        )
        report.schools_created.append(f"{school.code} {school.name}")
    if svc.find_class(school, line.class_name) is not None:
        report.classes_existing.append(f"{school.code} {line.class_name}")
        return
    created = svc.create_class(school, line.class_name, line.year_group, actor_id, via=via)
    report.classes_created.append(f"{created.code} {created.name}")


def import_schools(data: bytes, actor_id: int | None, via: str = "web") -> ImportReport:
    """Check the whole file, then create what is missing in the current transaction.

    With any problem, the report lists them all and the database is left untouched; the
    caller commits on success (or rolls back).
    """
    report = ImportReport()
    lines, errors = parse_csv(data)
    report.lines = len(lines)
    study = svc.current_study()
    # The lines that could be read are checked against each other and the database too, so
    # one upload reports every problem at once.
    errors += _check_against_database(study, lines)
    if errors:
        report.errors = sorted(errors, key=lambda e: e[0])
        return report
    for line in lines:
        try:
            _import_line(study, line, report, actor_id, via)
        except svc.SchoolError as exc:
            # Checked above, so only a concurrent change gets here; the caller rolls back.
            report.errors.append((line.line, str(exc)))
            return report
    record(
        actor_id,
        "schools.import",
        f"study:{study.key}",
        lines=len(lines),
        schools_created=len(report.schools_created),
        classes_created=len(report.classes_created),
        via=via,
    )
    db.session.flush()
    return report
