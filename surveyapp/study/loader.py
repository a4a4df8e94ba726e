"""Load a study file into the typed study design, collecting every problem."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from ..yamlsource import Problem, SourceError, parse_model, read_source
from .checks import check_design
from .model import StudyDesign


def load_study(path: str | Path, text: str | None = None) -> StudyDesign:
    """Parse and validate one study file; raise SourceError listing every problem.

    Whether the questionnaires it names exist is checked with the whole catalog
    (``surveyapp.catalog.load_catalog``), since that needs the other files.
    """
    try:
        source = read_source(path, text)
    except SourceError as exc:
        raise SourceError(_locate_bad_dates(str(path), text, exc.problems)) from exc
    study = parse_model(source, StudyDesign)
    issues = check_design(study)
    if issues:
        raise SourceError([source.problem(i.path, i.message, i.hint) for i in issues])
    study._positions = dict(source.positions)
    study._source = source.file
    study._version = source.content_hash
    return study


_DATE_LIKE = re.compile(r"(?<![\w.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w.-])")


def _locate_bad_dates(file: str, text: str | None, problems: list[Problem]) -> list[Problem]:
    """Point an impossible date (``2026-13-45``) at its line instead of at line 1.

    The YAML reader turns unquoted dates into date objects and fails, without a position,
    on one that cannot exist; this finds the culprit so the author sees where it is.
    """
    if not any((p.line, p.column) == (1, 1) and "YAML error" in p.message for p in problems):
        return problems
    if text is None:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return problems
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _DATE_LIKE.finditer(line.split("#", 1)[0]):
            try:
                date(*(int(part) for part in match.groups()))
            except ValueError:
                found.append(
                    Problem(
                        file,
                        number,
                        match.start() + 1,
                        f"'{match.group(0)}' is not a valid date",
                        "write dates as YYYY-MM-DD, e.g. 2026-09-01",
                    )
                )
    return found or problems


__all__ = ["load_study", "SourceError"]
