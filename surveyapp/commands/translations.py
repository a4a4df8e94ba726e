"""``flask translations ...``: extract, update, compile and check the UI catalogs.

The catalogs live in the top-level ``translations/`` folder (pitfall 4), one per language
(``translations/<lang>/LC_MESSAGES/messages.po``); ``.mo`` files are compiled at install
(``make translations``) and never committed.

``check`` extracts the current strings from the source (so it never trusts a stale
``messages.pot``) and reports, per language, the strings with no translation and the
fuzzy ones (guesses by pybabel that a person has not confirmed). It exits 1 when any
language has either.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from ..config import PROJECT_ROOT
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES

TRANSLATIONS = PROJECT_ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
BABEL_CFG = PROJECT_ROOT / "babel.cfg"
KEYWORDS = ["-k", "_l", "-k", "lazy_gettext"]


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract_to(output: Path) -> None:
    """Extract every UI string (including lazy ones) into a .pot file.

    Runs from the project root so the locations in the file are relative paths.
    """
    with contextlib.chdir(PROJECT_ROOT):
        _extract(output.resolve())


def _extract(output: Path) -> None:
    _pybabel(
        "extract",
        "-F",
        str(BABEL_CFG),
        *KEYWORDS,
        "--add-location=file",
        "--sort-by-file",
        "--no-wrap",
        "--project=surveyapp",
        "-o",
        str(output),
        ".",  # babel.cfg's patterns are relative to the project root
    )


def catalog_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


@dataclass
class LanguageReport:
    language: str
    total: int = 0
    missing: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    no_catalog: bool = False

    @property
    def ok(self) -> bool:
        return not (self.missing or self.fuzzy or self.no_catalog)


def _msgid(message_id: object) -> str:
    return message_id[0] if isinstance(message_id, tuple) else str(message_id)


def check_catalogs(template: Catalog, languages: list[str]) -> list[LanguageReport]:
    """Per language: which of the template's strings are untranslated or fuzzy."""
    wanted = [m for m in template if m.id]
    reports = []
    for language in languages:
        report = LanguageReport(language, total=len(wanted))
        path = catalog_path(language)
        if not path.exists():
            report.no_catalog = True
            report.missing = [_msgid(m.id) for m in wanted]
            reports.append(report)
            continue
        catalog = _read(path)
        for message in wanted:
            found = catalog.get(message.id, message.context)
            strings = found.string if found is not None else None
            translated = (
                all(strings) if isinstance(strings, (list, tuple)) else bool(strings)
            ) and found is not None
            if not translated:
                report.missing.append(_msgid(message.id))
            elif found.fuzzy:
                report.fuzzy.append(_msgid(message.id))
        reports.append(report)
    return reports


def translated_languages() -> list[str]:
    return [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]


@click.group("translations")
def translations() -> None:
    """Extract, update, compile and check the UI translations (translations/)."""


@translations.command("extract")
def extract_command() -> None:
    """Write translations/messages.pot from the source (lazy strings included)."""
    extract_to(POT)
    click.echo(f"wrote {POT.relative_to(PROJECT_ROOT)}")


@translations.command("update")
def update_command() -> None:
    """Extract, then merge new strings into every language's catalog (creating missing ones)."""
    extract_to(POT)
    for language in LANGUAGES:
        if catalog_path(language).exists():
            _pybabel(
                "update",
                "-i",
                str(POT),
                "-d",
                str(TRANSLATIONS),
                "-l",
                language,
                "--no-wrap",
                "--ignore-obsolete",
            )
        else:
            _pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", language, "--no-wrap")
        click.echo(f"updated {catalog_path(language).relative_to(PROJECT_ROOT)}")


@translations.command("compile")
def compile_command() -> None:
    """Compile the .po catalogs to .mo (what `make translations` does)."""
    _pybabel("compile", "-f", "-d", str(TRANSLATIONS))
    click.echo("compiled translations/*/LC_MESSAGES/messages.mo")


@translations.command("check")
@click.option("--language", "-l", "languages", multiple=True, help="Only these languages.")
@click.option("--list/--no-list", "show", default=False, help="List the strings too.")
def check_command(languages: tuple[str, ...], show: bool) -> None:
    """Report strings that are missing or fuzzy per language; exit 1 if there are any."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract_to(pot)
        template = _read(pot)
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown:
        raise click.BadParameter(
            f"unknown language {', '.join(unknown)} (one of: {', '.join(LANGUAGES)})",
            param_hint="--language",
        )
    reports = check_catalogs(template, list(languages) or translated_languages())
    for report in reports:
        name = LANGUAGES.get(report.language, report.language)
        if report.no_catalog:
            click.echo(
                f"{report.language} ({name}): no catalog at "
                f"{catalog_path(report.language).relative_to(PROJECT_ROOT)}"
                " (run `flask --app surveyapp translations update`)"
            )
            continue
        done = report.total - len(report.missing) - len(report.fuzzy)
        click.echo(
            f"{report.language} ({name}): {done}/{report.total} translated, "
            f"{len(report.missing)} missing, {len(report.fuzzy)} fuzzy"
        )
        if show:
            for msgid in report.missing:
                click.echo(f"  missing: {msgid}")
            for msgid in report.fuzzy:
                click.echo(f"  fuzzy:   {msgid}")
    if not all(r.ok for r in reports):
        raise SystemExit(1)


COMMANDS = [translations]
