"""Load a questionnaire file into the typed model, collecting every problem."""

from __future__ import annotations

from pathlib import Path

from ..yamlsource import SourceError, parse_model, read_source
from .model import Questionnaire


def load_questionnaire(path: str | Path, text: str | None = None) -> Questionnaire:
    """Parse and validate one questionnaire file; raise SourceError listing every problem."""
    source = read_source(path, text)
    questionnaire = parse_model(source, Questionnaire)
    questionnaire._version = source.content_hash
    questionnaire._source = source.file
    return questionnaire
