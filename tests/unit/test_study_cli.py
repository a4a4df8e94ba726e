"""`flask study ...` on the shipped study and on broken files."""

from __future__ import annotations

import csv
import io

import pytest

from surveyapp.catalog import get_catalog
from surveyapp.config import PROJECT_ROOT
from surveyapp.extensions import db
from surveyapp.models import AllocationRecord, AuditEvent, Study, Wave
from tests.builders import add_school


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def run(runner, *args: str):
    return runner.invoke(args=["study", *args])


def test_validate_the_shipped_study(runner):
    result = run(runner, "validate")
    assert result.exit_code == 0, result.output
    assert "in_harmony.study.yaml: OK (study 'in_harmony', 2 arms, 2 waves)" in result.output


def test_validate_reports_every_problem_with_positions(runner, tmp_path):
    text = (PROJECT_ROOT / "questionnaires" / "in_harmony.study.yaml").read_text()
    broken = tmp_path / "broken.study.yaml"
    broken.write_text(
        text.replace("closes: 2026-12-18", "closes: 2026-08-01").replace(
            "questionnaire: ih_pupil}\nallocation", "questionnaire: ih_pupl}\nallocation"
        )
    )
    result = run(runner, "validate", str(broken))
    assert result.exit_code == 1
    assert (
        f"{broken}:7:" in result.output and "closes (2026-08-01) before it opens" in result.output
    )
    missing = run(runner, "validate", str(tmp_path / "nope.study.yaml"))
    assert missing.exit_code != 0 and "no such file" in missing.output


def test_show_before_and_after_sync(runner):
    before = run(runner, "show")
    assert before.exit_code == 0, before.output
    assert "state: not synced" in before.output
    assert "run `flask study sync`" in before.output
    sync = run(runner, "sync")
    assert sync.exit_code == 0 and "created" in sync.output
    again = run(runner, "sync")
    assert "up to date" in again.output and "waves added" not in again.output
    study = db.session.execute(db.select(Study)).scalar_one()
    add_school(study, "S01", "in_harmony", name="Hill")
    add_school(study, "S02", "in_harmony", name="Dale")
    add_school(study, "S03", "comparison", name="Vale")
    db.session.commit()
    shown = run(runner, "show").output
    assert "baseline" in shown and "2026-09-01 to 2026-12-18" in shown and "state: draft" in shown
    assert "by school" in shown and "k=5, time resolution: term" in shown
    lines = {line.split()[0]: line for line in shown.splitlines() if line.startswith("  ")}
    assert lines["in_harmony"].endswith("schools: 2")
    assert lines["comparison"].endswith("schools: 1")
    assert "terms: 2026-autumn, 2027-spring, 2027-summer" in shown


def test_open_close_reopen_from_the_cli(runner):
    assert "needs" not in run(runner, "sync").output
    opened = run(runner, "open", "baseline")
    assert opened.exit_code == 0 and "now open" in opened.output
    twice = run(runner, "open", "baseline")
    assert twice.exit_code == 1 and "already open" in twice.output
    assert "now closed" in run(runner, "close", "baseline").output
    assert "now open" in run(runner, "reopen", "baseline").output
    unknown = run(runner, "close", "followup_9")
    assert unknown.exit_code == 1 and "Unknown wave 'followup_9'" in unknown.output
    wave = db.session.execute(db.select(Wave).filter_by(key="baseline")).scalar_one()
    assert wave.state == "open"
    actions = [e.action for e in db.session.execute(db.select(AuditEvent)).scalars()]
    assert actions == ["wave.open", "wave.close", "wave.reopen"]


def test_wave_commands_need_a_synced_study(runner):
    result = run(runner, "open", "baseline")
    assert result.exit_code == 1 and "flask study sync" in result.output


def test_allocate_and_allocation_log(runner, tmp_path):
    run(runner, "sync")
    study = db.session.execute(db.select(Study)).scalar_one()
    add_school(study, "S01", "in_harmony", name="Hill")
    add_school(study, "S02", "comparison", name="Vale")
    db.session.commit()
    result = run(runner, "allocate")
    assert result.exit_code == 0 and "allocates by school" in result.output
    assert "2 school arm(s) newly written" in result.output
    assert db.session.query(AllocationRecord).count() == 2
    out = tmp_path / "log.csv"
    written = run(runner, "allocation-log", "--out", str(out))
    assert written.exit_code == 0 and "Wrote 2 allocation record(s)" in written.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {(r["unit"], r["arm"]) for r in rows} == {("S01", "in_harmony"), ("S02", "comparison")}
    stdout = run(runner, "allocation-log", "--out", "-")
    assert stdout.output.splitlines()[0] == "study,level,unit,stratum,block,position,arm,seed,at"
    bad = run(runner, "allocation-log", "--out", str(tmp_path / "missing" / "log.csv"))
    assert bad.exit_code == 1 and "cannot write" in bad.output


def test_allocate_randomised_design(runner, monkeypatch):
    from surveyapp.study.loader import load_study

    text = (PROJECT_ROOT / "questionnaires" / "in_harmony.study.yaml").read_text()
    text = text.replace(
        "allocation:\n  method: by_school\n",
        'allocation:\n  method: randomised\n  level: school\n  seed: "cli"\n  strata: [stratum]\n',
    )
    design = load_study("randomised.study.yaml", text)
    monkeypatch.setattr(get_catalog(), "study", design)
    run(runner, "sync")
    study = db.session.execute(db.select(Study)).scalar_one()
    for i in range(8):
        add_school(study, f"S{i}", name=f"School {i}", stratum="ab"[i % 2])
    db.session.commit()
    result = run(runner, "allocate")
    assert result.exit_code == 0, result.output
    assert "Allocated 8 school(s); 0 already had an arm" in result.output
    assert "stratum=a" in result.output
    again = run(runner, "allocate")
    assert "Allocated 0 school(s); 8 already had an arm" in again.output


def test_allocation_log_includes_school_arms_without_allocate(runner, tmp_path):
    run(runner, "sync")
    study = db.session.execute(db.select(Study)).scalar_one()
    add_school(study, "S01", "in_harmony", name="Hill")
    db.session.commit()
    out = tmp_path / "log.csv"
    assert "Wrote 1 allocation record(s)" in run(runner, "allocation-log", "--out", str(out)).output
    assert "Wrote 1 allocation record(s)" in run(runner, "allocation-log", "--out", str(out)).output
