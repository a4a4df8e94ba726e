"""`flask users ...` (staff accounts) and `flask schools ...` (schools and classes, CSV import)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..admin import schools as school_svc
from ..admin.accounts import AccountError, create_user, find_user, set_password
from ..admin.importing import MAX_BYTES, import_schools
from ..extensions import db
from ..models import ROLES, School, User


def _schools_by_code(codes: tuple[str, ...]) -> list[School]:
    study = school_svc.current_study()
    found = []
    for code in codes:
        school = school_svc.find_school_by_code(study, code)
        if school is None:
            known = ", ".join(s.code for s in study.schools) or "none yet"
            raise click.ClickException(f"unknown school '{code}' (known: {known})")
        found.append(school)
    return found


def _password(given: str | None) -> str:
    if given is not None:
        return given
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group("users", help="Staff accounts: admins, researchers, teachers.")
def users() -> None:
    pass


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--school",
    "schools",
    multiple=True,
    metavar="CODE",
    help="School code such as S01 (teachers; repeat for several schools).",
)
@click.option("--password", help="The password (asked for, hidden, when not given).")
@with_appcontext
def create(username: str, role: str, schools: tuple[str, ...], password: str | None) -> None:
    """Create a staff account."""
    school_rows = _schools_by_code(schools)
    try:
        user = create_user(username, role, _password(password), school_rows, None, via="cli")
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    where = f" for {', '.join(s.code for s in school_rows)}" if school_rows else ""
    click.echo(f"Created {user.role} '{user.username}'{where}.")


@users.command("set-password")
@click.argument("username")
@click.option("--password", help="The new password (asked for, hidden, when not given).")
@with_appcontext
def set_password_command(username: str, password: str | None) -> None:
    """Set a new password (logs the user out everywhere)."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"no account '{username}'")
    try:
        set_password(user, _password(password), None, via="cli")
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"New password set for '{user.username}'.")


@users.command("list")
@with_appcontext
def list_users() -> None:
    """List the accounts."""
    for user in db.session.execute(db.select(User).order_by(User.role, User.username)).scalars():
        schools = ",".join(s.code for s in user.schools) or "-"
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.username}\t{user.role}\t{schools}\t{state}")


@click.group("schools", help="Schools and classes of the study.")
def schools() -> None:
    pass


@schools.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
@with_appcontext
def import_command(file: Path, dry_run: bool) -> None:
    """Import schools and classes from a CSV file (all lines or nothing).

    Columns: school, arm, class, year_group, stratum (one line per class).
    """
    with file.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    report = import_schools(data, None, via="cli")
    if not report.ok:
        db.session.rollback()
        for line in report.error_lines():
            click.echo(f"{file}: {line}", err=True)
        raise click.ClickException(f"nothing imported: {len(report.errors)} problem(s)")
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "Would import" if dry_run else "Imported"
    click.echo(
        f"{verb} {report.lines} lines: {len(report.schools_created)} new schools, "
        f"{len(report.classes_created)} new classes, {len(report.classes_existing)} already there."
    )
    for item in report.schools_created:
        click.echo(f"  school {item}")
    for item in report.classes_created:
        click.echo(f"  class  {item}")


@schools.command("list")
@with_appcontext
def list_schools() -> None:
    """List schools with their arm and classes."""
    study = school_svc.current_study()
    for school in study.schools:
        classes = ", ".join(f"{c.name} ({c.code})" for c in school.classes) or "no classes"
        click.echo(f"{school.code}\t{school.arm or '-'}\t{school.name}\t{classes}")
    db.session.commit()


COMMANDS = [users, schools]
