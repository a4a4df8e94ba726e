"""`flask export`: writes the chosen formats, logs the export, refuses bad options clearly."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest
from test_export_fixtures import serve_test_study

from surveyapp.extensions import db
from surveyapp.models import ExportRecord


@pytest.fixture
def served_study(app, monkeypatch):
    study, _ = serve_test_study(app, monkeypatch)
    return study


def test_cli_export_writes_every_format(app, served_study, tmp_path):
    out = tmp_path / "out"
    result = app.test_cli_runner().invoke(
        args=[
            "export", "--study", "in_harmony", "--wave", "baseline",
            "--format", "csv,sav,dta,xlsx,parquet", "--out", str(out), "--zip", "--k", "6",
            "--time-resolution", "week",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "12 rows" in result.output and "sha256" in result.output
    for suffix in ("csv", "sav", "dta", "xlsx", "parquet", "zip"):
        assert (out / f"in_harmony_export.{suffix}").is_file()
    frame = pd.read_csv(out / "in_harmony_export.csv")
    assert set(frame["wave"]) == {"baseline"} and set(frame["started"]) == {"2026-W38"}
    sav, _ = pyreadstat.read_sav(str(out / "in_harmony_export.sav"))
    assert len(sav) == 12
    record = db.session.execute(db.select(ExportRecord)).scalar_one()
    assert record.user_id is None and record.options["k"] == 6 and record.row_count == 12


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--study", "nope"], "unknown study 'nope'"),
        (["--study", "in_harmony", "--k", "2"], "may raise k, not lower it"),
        (["--study", "in_harmony", "--format", "csv,pdf"], "unknown format(s) pdf"),
        (["--study", "in_harmony", "--wave", "wave_9"], "unknown wave(s) wave_9"),
    ],
)
def test_cli_refuses_bad_options(app, served_study, tmp_path, args, message):
    result = app.test_cli_runner().invoke(args=["export", *args, "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.execute(db.select(ExportRecord)).first() is None
