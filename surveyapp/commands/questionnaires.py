"""`flask questionnaires validate [PATH ...]`: check questionnaire and study files.

A researcher must be able to run this precisely when the files are broken, which is
when ``create_app`` refuses to start. So the group is also registered as a Flask CLI
plugin (entry point ``flask.commands`` in pyproject.toml): Flask offers plugin commands
even when the app fails to load. Without an app it reads QUESTIONNAIRE_DIR and
STUDY_FILE from the environment exactly as the app's config does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from ..catalog import STUDY_SUFFIX, load_catalog, questionnaire_files
from ..config import PROJECT_ROOT, build_config
from ..questionnaire.loader import load_questionnaire
from ..study.loader import load_study
from ..yamlsource import Problem, SourceError


def _configured_paths() -> tuple[Path, Path | None]:
    """The questionnaire folder and study file of the app, or of the environment."""
    config = current_app.config if current_app else build_config(str(PROJECT_ROOT / "instance"))
    study = config.get("STUDY_FILE")
    return Path(config["QUESTIONNAIRE_DIR"]), Path(study) if study else None


def _problems_of(load, *args) -> list[Problem]:
    try:
        load(*args)
    except SourceError as exc:
        return list(exc.problems)
    return []


def _check_folder(folder: Path, study: Path | None) -> tuple[list[Problem], int]:
    """Every questionnaire in ``folder`` and the study file(s), cross-checked."""
    studies = [study] if study else sorted(folder.glob(f"*{STUDY_SUFFIX}"))
    studies = [s for s in studies if s.exists()]
    problems: set[Problem] = set()
    for each in studies or [None]:
        problems.update(_problems_of(load_catalog, folder, each))
    return sorted(problems), len(questionnaire_files(folder)) + len(studies)


def _check_file(path: Path) -> list[Problem]:
    if path.name.endswith(STUDY_SUFFIX):
        # Cross-checked against the questionnaires beside it; their own problems are
        # reported when their files (or the folder) are validated.
        own = _problems_of(load_study, path)
        if own:
            return own
        crossed = _problems_of(load_catalog, path.parent, path)
        return [p for p in crossed if p.file == str(path)]
    return _problems_of(load_questionnaire, path)


def validate_paths(paths: list[Path]) -> tuple[list[Problem], int]:
    """All problems in ``paths`` (files or folders; none: the configured ones) and a file count."""
    if not paths:
        folder, study = _configured_paths()
        if not folder.is_dir():
            return [Problem(str(folder), 1, 1, "no such folder", "set QUESTIONNAIRE_DIR")], 0
        problems, count = _check_folder(folder, study)
        if count == 0:
            problems.append(
                Problem(str(folder), 1, 1, "no questionnaire files found", "add *.yaml files")
            )
        return problems, count
    problems: list[Problem] = []
    count = 0
    for path in paths:
        if path.is_dir():
            found, files = _check_folder(path, None)
            if files == 0:
                found = [Problem(str(path), 1, 1, "no questionnaire or study files found")]
            problems.extend(found)
            count += files
        elif path.is_file():
            problems.extend(_check_file(path))
            count += 1
        else:
            problems.append(Problem(str(path), 1, 1, "no such file or folder"))
    return sorted(set(problems)), count


@click.group("questionnaires", help="Questionnaire files: check them before a wave opens.")
def questionnaires() -> None:
    pass


@questionnaires.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate_command(paths: tuple[Path, ...]) -> None:
    """Check questionnaire and study files (default: the app's folder and study file).

    Prints every problem as file:line:column: what is wrong (what would be right);
    exits 1 if there is any.
    """
    problems, count = validate_paths(list(paths))
    files = f"{count} file{'s' if count != 1 else ''}"
    for problem in problems:
        click.echo(str(problem))
    if problems:
        n = len(problems)
        click.echo(f"{n} problem{'s' if n != 1 else ''} in {files} checked", err=True)
        sys.exit(1)
    click.echo(f"{files} checked, no problems")


COMMANDS = [questionnaires]
