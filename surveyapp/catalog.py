"""The questionnaires and the study design the running app serves, loaded once at start-up.

The app refuses to start with an invalid file: a pupil must never meet a half-valid
questionnaire in class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from .questionnaire.loader import load_questionnaire
from .questionnaire.model import Questionnaire
from .study.loader import load_study
from .study.model import StudyDesign
from .yamlsource import Problem, SourceError

STUDY_SUFFIX = ".study.yaml"


def questionnaire_files(folder: str | Path) -> list[Path]:
    return sorted(
        p
        for p in Path(folder).glob("*.y*ml")
        if p.suffix in {".yaml", ".yml"} and not p.name.endswith(STUDY_SUFFIX)
    )


@dataclass
class Catalog:
    questionnaires: dict[str, Questionnaire] = field(default_factory=dict)
    study: StudyDesign | None = None

    def questionnaire(self, questionnaire_id: str) -> Questionnaire:
        return self.questionnaires[questionnaire_id]


def load_catalog(folder: str | Path, study_file: str | Path | None) -> Catalog:
    """Load every questionnaire in ``folder`` and the study; raise SourceError with all problems."""
    problems: list[Problem] = []
    catalog = Catalog()
    for path in questionnaire_files(folder):
        try:
            q = load_questionnaire(path)
        except SourceError as exc:
            problems.extend(exc.problems)
            continue
        if q.id in catalog.questionnaires:
            problems.append(
                Problem(str(path), 1, 1, f"questionnaire id '{q.id}' is used by another file too")
            )
        catalog.questionnaires[q.id] = q
    if study_file and Path(study_file).exists():
        try:
            catalog.study = load_study(study_file)
        except SourceError as exc:
            problems.extend(exc.problems)
        else:
            study = catalog.study
            # (path in the study file, questionnaire id, audience it must have)
            wanted = [
                (("waves", i, "questionnaire"), w.questionnaire, "pupil")
                for i, w in enumerate(study.waves)
            ]
            if study.provision_questionnaire:
                wanted.append(
                    (("provision_questionnaire",), study.provision_questionnaire, "school")
                )
            for path, qid, audience in wanted:
                line, column = study.position(path)
                q = catalog.questionnaires.get(qid)
                if q is None and not problems:
                    problems.append(
                        Problem(
                            str(study_file),
                            line,
                            column,
                            f"unknown questionnaire '{qid}'",
                            f"one of: {', '.join(sorted(catalog.questionnaires)) or 'none found'}",
                        )
                    )
                elif q is not None and q.audience != audience:
                    problems.append(
                        Problem(
                            str(study_file),
                            line,
                            column,
                            f"questionnaire '{qid}' is for audience '{q.audience}'",
                            f"this key needs a questionnaire with 'audience: {audience}'",
                        )
                    )
    if problems:
        raise SourceError(problems)
    return catalog


def init_catalog(app: Flask) -> None:
    app.extensions["catalog"] = load_catalog(
        app.config["QUESTIONNAIRE_DIR"], app.config.get("STUDY_FILE")
    )


def get_catalog() -> Catalog:
    return current_app.extensions["catalog"]
