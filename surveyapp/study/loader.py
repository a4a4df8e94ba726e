"""Load a study file into the typed study design, collecting every problem."""

from __future__ import annotations

from pathlib import Path

from ..yamlsource import SourceError, parse_model, read_source
from .checks import check_design
from .model import StudyDesign


def load_study(path: str | Path, text: str | None = None) -> StudyDesign:
    """Parse and validate one study file; raise SourceError listing every problem.

    Whether the questionnaires it names exist is checked with the whole catalog
    (``surveyapp.catalog.load_catalog``), since that needs the other files.
    """
    source = read_source(path, text)
    study = parse_model(source, StudyDesign)
    issues = check_design(study)
    if issues:
        raise SourceError([source.problem(i.path, i.message, i.hint) for i in issues])
    study._positions = dict(source.positions)
    study._source = source.file
    study._version = source.content_hash
    return study


__all__ = ["load_study", "SourceError"]
