"""`flask codes issue ...`: issue cards for a class and write a printable HTML sheet."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from ..admin import schools as school_svc
from ..cards import render_standalone_sheet
from ..extensions import db
from ..participants import MAX_CARDS_PER_BATCH, ParticipantError, issue_cards
from ..waves import WaveError, find_wave


@click.group("codes", help="Access codes and printed cards.")
def codes() -> None:
    pass


@codes.command("issue")
@click.option(
    "--school", "school_code", required=True, metavar="CODE", help="School code, e.g. S01."
)
@click.option("--class", "class_name", required=True, metavar="NAME", help="Class name, e.g. 5B.")
@click.option("--wave", "wave_key", required=True, metavar="WAVE", help="Wave id, e.g. baseline.")
@click.option(
    "--count", type=click.IntRange(1, MAX_CARDS_PER_BATCH), required=True, help="Number of cards."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="HTML file to write the card sheet to (open it in a browser and print it).",
)
@with_appcontext
def issue(school_code: str, class_name: str, wave_key: str, count: int, out: Path) -> None:
    """Issue COUNT cards for a class and an open wave; write the sheet to OUT.

    Returning pupils of the class without a card for the wave get theirs first (same numbers);
    the rest are new pupils. The clear codes are only in OUT: keep it safe, print it, delete it.
    """
    study = school_svc.current_study()
    school = school_svc.find_school_by_code(study, school_code)
    if school is None:
        known = ", ".join(s.code for s in study.schools) or "none yet"
        raise click.ClickException(f"unknown school '{school_code}' (known: {known})")
    school_class = school_svc.find_class(school, class_name)
    if school_class is None:
        known = ", ".join(c.name for c in school.classes) or "none yet"
        raise click.ClickException(
            f"{school.code} has no class '{class_name}' (its classes: {known})"
        )
    try:
        wave = find_wave(study, wave_key)
    except WaveError as exc:
        raise click.ClickException(str(exc)) from None
    if out.exists() and out.is_dir():
        raise click.ClickException(f"{out} is a folder; give a file name")
    # Write the sheet next to OUT first, commit, then rename: the codes in the file exist
    # exactly when the file does.
    partial = out.with_name(out.name + ".partial")
    try:
        issued = issue_cards(school_class, wave, count, None, via="cli")
        html = render_standalone_sheet(issued, f"{school_class.name}, {wave.label}")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(html, encoding="utf-8")
        db.session.commit()
        partial.replace(out)
    except ParticipantError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except IntegrityError:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        raise click.ClickException(
            "cards for this class were being issued at the same moment; try again"
        ) from None
    except OSError as exc:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    labels = ", ".join(card.label for card in issued)
    click.echo(
        f"Issued {len(issued)} cards for {school.code} {school_class.name}, {wave.key}: {labels}"
    )
    click.echo(f"Card sheet: {out} (open it in a browser and print on A4)")


COMMANDS = [codes]
