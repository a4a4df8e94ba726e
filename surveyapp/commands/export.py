"""`flask export`: write an anonymised export of a study to a folder (logged like a web export).

    flask --app surveyapp export --study in_harmony [--wave baseline] \
        --format csv,sav,dta,xlsx,parquet --out DIR [--zip] [--k 10] [--time-resolution week]
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..export_query import ExportError, export_study, options_for, study_or_error
from ..exporting import FORMATS, TIME_RESOLUTIONS, ExportOptionsError


def _flag(value: bool) -> bool | None:
    """Unset boolean flags keep the study's policy (None), set ones override it."""
    return True if value else None


@click.command("export", help="Export an anonymised dataset with its codebook.")
@click.option("--study", "study_key", required=True, help="Study id (as in the study file).")
@click.option("--wave", "waves", multiple=True, help="Wave id; repeat for several (default: all).")
@click.option("--arm", "arms", multiple=True, help="Arm id; repeat for several (default: all).")
@click.option(
    "--format",
    "formats",
    default="csv",
    show_default=True,
    help=f"Comma-separated formats: {','.join(FORMATS)}.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into (created if missing).",
)
@click.option("--k", type=int, default=None, help="Smallest group shown (at least the study's).")
@click.option("--time-resolution", type=click.Choice(TIME_RESOLUTIONS), default=None)
@click.option(
    "--free-text", is_flag=True, help="Include free-text answers (review before sharing)."
)
@click.option("--unlinkable", is_flag=True, help="Fresh pseudonym key for this export only.")
@click.option("--language", default="en", show_default=True, help="Language of the labels.")
@click.option("--bom", is_flag=True, help="CSV with a byte-order mark (for Excel).")
@click.option("--long", "long_format", is_flag=True, help="Also write the long format.")
@click.option("--zip", "zip_", is_flag=True, help="Also zip every file together.")
@with_appcontext
def export(
    study_key: str,
    waves: tuple[str, ...],
    arms: tuple[str, ...],
    formats: str,
    out: Path,
    k: int | None,
    time_resolution: str | None,
    free_text: bool,
    unlinkable: bool,
    language: str,
    bom: bool,
    long_format: bool,
    zip_: bool,
) -> None:
    try:
        study = study_or_error(study_key)
        options = options_for(
            study,
            formats=formats,
            waves=list(waves),
            arms=list(arms),
            k=k,
            time_resolution=time_resolution,
            include_free_text=_flag(free_text),
            unlinkable=_flag(unlinkable),
            language=language,
            bom=bom,
            long_format=long_format,
            zip=zip_,
        )
        out.mkdir(parents=True, exist_ok=True)
        outcome = export_study(study.key, options, out)
    except (ExportError, ExportOptionsError) as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write to {out}: {exc.strerror}") from exc
    for warning in outcome.dataset.codebook.warnings:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    click.echo(f"{outcome.record.row_count} rows; {outcome.dataset.protection.summary()}")
    for path in outcome.files.all():
        click.echo(f"  {path}")
    click.echo(f"sha256 {outcome.record.sha256}  {outcome.record.filename}")


COMMANDS = [export]
