"""UI languages: catalogs, fallback marking, direction, and the `translations` commands."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from babel.support import Translations
from flask import session
from flask_babel import gettext, refresh

from surveyapp.commands import translations as commands
from surveyapp.i18n import LANGUAGES, MISSING_MARK, text_direction

ROOT = Path(__file__).resolve().parents[2]
PUPIL_SOURCES = (
    "surveyapp/templates/pupil/",
    "surveyapp/templates/errors/",
    "surveyapp/templates/base.html",
    "surveyapp/forms/",
    "surveyapp/pupil/",
)
UNTRANSLATED = "A sentence nobody has translated yet"


def _in(app, lang: str):
    ctx = app.test_request_context("/")
    ctx.push()
    session["lang"] = lang
    refresh()
    return ctx


@pytest.mark.parametrize("lang", ["cy", "pl", "ro", "ur", "ar"])
def test_every_pupil_flow_string_is_translated_in_every_language(lang):
    with (ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    pupil = [
        m for m in catalog if m.id and any(loc.startswith(PUPIL_SOURCES) for loc, _ in m.locations)
    ]
    assert len(pupil) >= 80
    untranslated = [m.id for m in pupil if not m.string or m.fuzzy]
    assert untranslated == []
    same_as_english = [m.id for m in pupil if m.string == m.id and m.id not in {"Start"}]
    assert same_as_english == [], "copies of the English are not translations"


def test_a_missing_translation_is_marked_in_development(app):
    app.config["I18N_MARK_MISSING"] = True
    ctx = _in(app, "ar")
    try:
        assert gettext(UNTRANSLATED) == MISSING_MARK + UNTRANSLATED
        assert gettext("Next") == "التالي"
    finally:
        ctx.pop()


def test_a_missing_translation_falls_back_quietly_in_production(app):
    app.config["I18N_MARK_MISSING"] = False
    ctx = _in(app, "ar")
    try:
        assert gettext(UNTRANSLATED) == UNTRANSLATED
        assert gettext("Next") == "التالي"
    finally:
        ctx.pop()
        app.config["I18N_MARK_MISSING"] = True


def test_english_is_never_marked(app):
    app.config["I18N_MARK_MISSING"] = True
    ctx = _in(app, "en")
    try:
        assert gettext(UNTRANSLATED) == UNTRANSLATED
    finally:
        ctx.pop()


def test_the_default_follows_the_environment(app_config):
    from surveyapp import create_app

    production = create_app(
        {
            **app_config,
            "ENV_NAME": "production",
            "SECRET_KEY": "a-real-secret-for-this-test",
            "CODE_HASH_KEY": "another-real-secret-for-this-test",
        }
    )
    development = create_app({**app_config, "ENV_NAME": "development"})
    assert production.config["I18N_MARK_MISSING"] is False
    assert development.config["I18N_MARK_MISSING"] is True


def test_right_to_left_languages():
    assert [code for code in LANGUAGES if text_direction(code) == "rtl"] == ["ur", "ar"]
    assert text_direction("cy") == "ltr"


def test_language_names_are_written_in_their_own_language():
    assert LANGUAGES == {
        "en": "English",
        "cy": "Cymraeg",
        "pl": "Polski",
        "ro": "Română",
        "ur": "اردو",
        "ar": "العربية",
    }


# --------------------------------------------------------------------------- commands


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)


def test_check_reports_missing_and_fuzzy_strings_per_language(tmp_path, monkeypatch):
    monkeypatch.setattr(commands, "TRANSLATIONS", tmp_path)
    template = Catalog()
    for msgid in ("Next", "Back", "Finish"):
        template.add(msgid)
    polish = Catalog(locale="pl")
    polish.add("Next", "Dalej")
    polish.add("Back", "Wstecz", flags=["fuzzy"])
    _write(tmp_path / "pl" / "LC_MESSAGES" / "messages.po", polish)
    welsh = Catalog(locale="cy")
    for msgid, text in (("Next", "Nesaf"), ("Back", "Yn ôl"), ("Finish", "Gorffen")):
        welsh.add(msgid, text)
    _write(tmp_path / "cy" / "LC_MESSAGES" / "messages.po", welsh)

    reports = {r.language: r for r in commands.check_catalogs(template, ["pl", "cy", "ro"])}
    assert reports["pl"].missing == ["Finish"]
    assert reports["pl"].fuzzy == ["Back"]
    assert not reports["pl"].ok
    assert reports["cy"].ok
    assert reports["ro"].no_catalog


def test_check_command_prints_a_line_per_language(app):
    result = app.test_cli_runner().invoke(args=["translations", "check", "--list"])
    for code, name in LANGUAGES.items():
        if code != "en":
            assert f"{code} ({name}): " in result.output
    assert result.exit_code in (0, 1)
    assert (result.exit_code == 0) == ("missing:" not in result.output)


def test_check_command_refuses_an_unknown_language(app):
    result = app.test_cli_runner().invoke(args=["translations", "check", "-l", "xx"])
    assert result.exit_code == 2
    assert "unknown language xx" in result.output


def test_compile_works_from_a_fresh_clone(tmp_path, monkeypatch):
    """.mo files are not committed: compiling the committed .po files must be enough."""
    fresh = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", fresh, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(commands, "TRANSLATIONS", fresh)
    from click.testing import CliRunner

    result = CliRunner().invoke(commands.translations, ["compile"])
    assert result.exit_code == 0, result.output
    for lang in ("cy", "pl", "ro", "ur", "ar"):
        loaded = Translations.load(str(fresh), [lang])
        assert loaded.gettext("Next") != "Next", lang


def test_extract_finds_lazy_strings(tmp_path):
    pot = tmp_path / "messages.pot"
    commands.extract_to(pot)
    with pot.open("rb") as handle:
        ids = {m.id for m in read_po(handle)}
    assert "Please answer this question." in ids  # a lazy_gettext (_l) string in forms/
    assert "Let's start!" in ids  # a template string
    assert all(not loc.startswith("/") for m in read_po(pot.open("rb")) for loc, _ in m.locations)
