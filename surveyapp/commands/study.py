"""`flask study ...`: validate and show the study, sync it, open and close waves, allocate."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..catalog import get_catalog, load_catalog
from ..cohorts import allocate_units, log_school_arms, schools_per_arm, write_allocation_log
from ..config import PROJECT_ROOT, build_config
from ..extensions import db
from ..questionnaire.model import localise
from ..study.model import StudyDesign
from ..study.terms import terms_between
from ..study_sync import find_study, sync_study_report
from ..waves import WaveError, find_wave, set_wave_state
from ..yamlsource import SourceError


def _design() -> StudyDesign:
    design = get_catalog().study
    if design is None:
        raise click.ClickException(
            f"no study file at {current_app.config.get('STUDY_FILE')} (set STUDY_FILE)"
        )
    return design


def _study_row():
    design = _design()
    study = find_study(design)
    if study is None:
        raise click.ClickException(
            f"study '{design.id}' is not in the database yet; run `flask study sync` first"
        )
    return design, study


@click.group("study", help="The study design: arms, waves, allocation.")
def study() -> None:
    pass


def _configured() -> dict:
    """The app's settings, or (when the app cannot start) the same settings from the environment.

    ``study validate`` is also a Flask CLI plugin (pyproject.toml), so it runs precisely when
    a broken study file stops the app from starting.
    """
    if current_app:
        return current_app.config
    return build_config(str(PROJECT_ROOT / "instance"))


@study.command("validate")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def validate_command(file: Path | None) -> None:
    """Check FILE (default: the configured study file) and the questionnaires it names."""
    config = _configured()
    path = file or Path(config["STUDY_FILE"])
    if not path.exists():
        raise click.ClickException(f"{path}: no such file")
    try:
        catalog = load_catalog(config["QUESTIONNAIRE_DIR"], path)
    except SourceError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) found", err=True)
        sys.exit(1)
    design = catalog.study
    click.echo(
        f"{path}: OK (study '{design.id}', {len(design.arms)} arms, {len(design.waves)} waves)"
    )


@study.command("show")
@with_appcontext
def show_command() -> None:
    """Print arms, waves with dates and state, allocation, policy and schools per arm."""
    design = _design()
    study_row = find_study(design)
    click.echo(f"Study {design.id}: {localise(design.title, 'en')}")
    click.echo(f"  file: {design.source} (version {design.version})")
    per_arm = schools_per_arm(study_row) if study_row else {}
    click.echo("Arms:")
    for arm in design.arms:
        schools = per_arm.get(arm.id, 0) if study_row else "-"
        click.echo(f"  {arm.id:<20} {localise(arm.label, 'en'):<30} schools: {schools}")
    if per_arm.get(None):
        click.echo(f"  {'(no arm yet)':<20} {'':<30} schools: {per_arm[None]}")
    states = {w.key: w.state for w in study_row.waves} if study_row else {}
    click.echo("Waves:")
    for wave in design.waves:
        opens = wave.opens.isoformat() if wave.opens else "-"
        closes = wave.closes.isoformat() if wave.closes else "-"
        state = states.get(wave.id, "not synced")
        click.echo(
            f"  {wave.id:<20} {localise(wave.label, 'en'):<20} {opens} to {closes}  "
            f"questionnaire: {wave.questionnaire}  state: {state}"
        )
    a = design.allocation
    click.echo("Allocation:")
    if a.randomised:
        ratio = ":".join(f"{arm}={w}" for arm, w in a.weights(design.arm_ids()).items())
        click.echo(
            f"  randomised at {a.level} level, seed {a.seed!r}, blocks of {a.block_size}, "
            f"ratio {ratio}, strata: {', '.join(a.strata) or 'none'}"
        )
    else:
        click.echo("  by school (each school's arm, set when the school is added)")
    p = design.anonymisation
    click.echo("Anonymisation:")
    click.echo(
        f"  k={p.k}, time resolution: {p.time_resolution}, free text: "
        f"{'included' if p.include_free_text else 'dropped'}, "
        f"{'unlinkable' if p.unlinkable else 'linked across waves by pseudonym'}"
        + (f", quasi-identifiers: {', '.join(p.quasi_identifiers)}" if p.quasi_identifiers else "")
    )
    if design.provision_questionnaire:
        first, last = design.period()
        terms = terms_between(first, last) if first and last else []
        click.echo(
            f"Provision returns: questionnaire {design.provision_questionnaire}, "
            f"terms: {', '.join(terms) or '-'}"
        )
    if study_row is None:
        click.echo("(not in the database yet: run `flask study sync`)")


@study.command("sync")
@with_appcontext
def sync_command() -> None:
    """Load the study file's arms and waves into the database (safe to repeat)."""
    report = sync_study_report(_design())
    db.session.commit()
    click.echo(f"Study '{report.study.key}' {'created' if report.created else 'up to date'}.")
    if report.waves_added:
        click.echo(
            f"  waves added as drafts (open one with `flask study open WAVE`): {', '.join(report.waves_added)}"
        )
    if report.waves_changed:
        click.echo(f"  waves updated from the file: {', '.join(report.waves_changed)}")
    if report.waves_orphaned:
        click.echo(
            f"  in the database but no longer in the file (kept): "
            f"{', '.join(report.waves_orphaned)}"
        )


def _wave_command(action: str, wave_key: str) -> None:
    _, study_row = _study_row()
    try:
        wave = find_wave(study_row, wave_key)
        set_wave_state(wave, action, user_id=None, via="cli")
    except WaveError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Wave '{wave.key}' is now {wave.state}.")


@study.command("open")
@click.argument("wave")
@with_appcontext
def open_command(wave: str) -> None:
    """Open WAVE (or reopen it if closed): cards can be issued and used."""
    _wave_command("open", wave)


@study.command("close")
@click.argument("wave")
@with_appcontext
def close_command(wave: str) -> None:
    """Close WAVE: no new cards, and its unused codes expire."""
    _wave_command("close", wave)


@study.command("reopen")
@click.argument("wave")
@with_appcontext
def reopen_command(wave: str) -> None:
    """Reopen a closed WAVE: its unused codes work again."""
    _wave_command("reopen", wave)


@study.command("allocate")
@with_appcontext
def allocate_command() -> None:
    """Randomise every unit that has no arm yet (arms already set never change)."""
    design, study_row = _study_row()
    summary = allocate_units(study_row, design)
    db.session.commit()
    if not design.allocation.randomised:
        click.echo(
            "This study allocates by school: arms come from the schools. "
            f"{len(summary.assigned)} school arm(s) newly written to the allocation log."
        )
        return
    click.echo(
        f"Allocated {len(summary.assigned)} {design.allocation.level}(s); "
        f"{summary.kept} already had an arm and were kept."
    )
    for (stratum, arm), count in sorted(summary.counts().items()):
        click.echo(f"  {stratum or '(no strata)':<40} {arm:<20} {count}")


@study.command("allocation-log")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="CSV file to write ('-' for standard output).",
)
@with_appcontext
def allocation_log_command(out: str) -> None:
    """Write the allocation log (unit, stratum, block, position, arm, seed) as CSV."""
    design, study_row = _study_row()
    log_school_arms(study_row, design)
    db.session.commit()
    if out == "-":
        write_allocation_log(study_row, sys.stdout)
        return
    try:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            count = write_allocation_log(study_row, fh)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from exc
    click.echo(f"Wrote {count} allocation record(s) to {out}.")


COMMANDS = [study]
