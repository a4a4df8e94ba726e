"""Load a study file into the typed study design, collecting every problem."""

from __future__ import annotations

from pathlib import Path

from ..yamlsource import SourceError, parse_model, read_source
from .model import StudyDesign


def load_study(path: str | Path, text: str | None = None) -> StudyDesign:
    source = read_source(path, text)
    study = parse_model(source, StudyDesign)
    return study


__all__ = ["load_study", "SourceError"]
