"""`flask questionnaires validate`, and the app refusing to start on invalid files."""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import cli as flask_cli

from surveyapp import create_app
from surveyapp.commands.questionnaires import questionnaires
from surveyapp.yamlsource import SourceError

DATA = Path(__file__).resolve().parent.parent / "data" / "questionnaires"
GOOD = DATA / "good.yaml"
BAD = DATA / "bad"

STUDY = """id: demo
title: Demo study
arms:
  - {id: programme, label: Programme}
waves:
  - {id: baseline, label: Baseline, questionnaire: demo_pupil}
  - {id: followup, label: Follow-up, questionnaire: demo_pupli}
"""


def expected(path: Path, shown_as: Path | None = None) -> list[str]:
    """The problems a bad file lists in its '# expect:' lines, with the file name in front."""
    prefix = "# expect: "
    return [
        f"{shown_as or path}:{line[len(prefix) :]}"
        for line in path.read_text().splitlines()
        if line.startswith(prefix)
    ]


def run(*args: str):
    return CliRunner().invoke(questionnaires, ["validate", *args])


def test_clean_file_exits_0_with_a_summary():
    result = run(str(GOOD))
    assert result.exit_code == 0, result.output
    assert result.output == "1 file checked, no problems\n"


def test_every_problem_one_per_line_and_exit_1():
    files = [BAD / "unknown_key.yaml", BAD / "show_if_values.yaml", GOOD]
    result = run(*map(str, files))
    assert result.exit_code == 1
    # Sorted by file, then line and column.
    want = expected(files[1]) + expected(files[0])
    assert result.stdout.splitlines() == want
    assert result.stderr == f"{len(want)} problems in 3 files checked\n"


def test_folder_with_study_file_is_cross_checked(tmp_path):
    shutil.copy(GOOD, tmp_path / "good.yaml")
    (tmp_path / "demo.study.yaml").write_text(STUDY)
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout == (
        f"{tmp_path / 'demo.study.yaml'}:7:38: unknown questionnaire 'demo_pupli' "
        "(one of: demo_pupil)\n"
    )
    # The study file alone is cross-checked against the questionnaires beside it.
    alone = run(str(tmp_path / "demo.study.yaml"))
    assert alone.exit_code == 1 and alone.stdout == result.stdout


def test_missing_path_and_empty_folder(tmp_path):
    result = run(str(tmp_path / "nope.yaml"), str(tmp_path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path}:1:1: no questionnaire or study files found",
        f"{tmp_path / 'nope.yaml'}:1:1: no such file or folder",
    ]


def test_without_paths_uses_the_app_config(app, monkeypatch, tmp_path):
    shutil.copy(GOOD, tmp_path / "good.yaml")
    monkeypatch.setitem(app.config, "QUESTIONNAIRE_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "STUDY_FILE", None)
    result = app.test_cli_runner().invoke(args=["questionnaires", "validate"])
    assert result.exit_code == 0, result.output
    assert result.output == "1 file checked, no problems\n"
    shutil.copy(BAD / "unknown_key.yaml", tmp_path / "typo.yaml")
    result = app.test_cli_runner().invoke(args=["questionnaires", "validate"])
    assert result.exit_code == 1
    assert "typo.yaml:10:9: unknown key 'requried' (did you mean 'required'?)" in result.stdout


def _bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    shutil.copy(BAD / "unknown_key.yaml", folder / "typo.yaml")
    return folder


def test_app_refuses_to_start_and_prints_the_same_messages(tmp_path, capsys):
    folder = _bad_folder(tmp_path)
    with pytest.raises(SourceError) as info:
        create_app(
            {
                "QUESTIONNAIRE_DIR": str(folder),
                "STUDY_FILE": None,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            }
        )
    printed = capsys.readouterr().err
    messages = [str(p) for p in info.value.problems]
    assert messages == expected(BAD / "unknown_key.yaml", folder / "typo.yaml")
    assert printed.startswith("Refusing to start: invalid questionnaire or study files:\n")
    for message in messages:
        assert f"  {message}\n" in printed
    assert "flask --app surveyapp questionnaires validate" in printed


def test_validate_runs_when_the_app_refuses_to_start(tmp_path):
    """Through Flask's own `flask` group: the command is a plugin, so no app is needed."""
    names = [ep.name for ep in metadata.entry_points(group="flask.commands")]
    assert "questionnaires" in names, "reinstall the package: pip install -e ."
    folder = _bad_folder(tmp_path)
    env = {"QUESTIONNAIRE_DIR": str(folder), "STUDY_FILE": ""}
    result = CliRunner().invoke(
        flask_cli, ["--app", "surveyapp", "questionnaires", "validate"], env=env
    )
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == expected(BAD / "unknown_key.yaml", folder / "typo.yaml")
    assert "Traceback" not in result.output
    # ... while any command that needs the app is refused.
    routes = CliRunner().invoke(flask_cli, ["--app", "surveyapp", "routes"], env=env)
    assert routes.exit_code != 0
