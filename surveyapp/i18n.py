"""Languages: one choice drives both the UI text (flask-babel) and the questionnaire text.

The language lives in the session (``lang``), chosen by the pupil on the language page or
the start page. Staff pages without a choice follow the browser's Accept-Language.

A UI string with no translation falls back to English. In development the fallback is
marked (``[en] Next``) so a missing translation is seen on the page; in production it is
quiet. ``I18N_MARK_MISSING`` overrides the default.
"""

from __future__ import annotations

import gettext as _gettext
from functools import lru_cache

from babel import Locale, support
from flask import (
    Flask,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
)
from flask_babel import Domain, get_locale

from .extensions import babel

# Pupil-flow languages, with each name written in that language.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "cy": "Cymraeg",
    "pl": "Polski",
    "ro": "Română",
    "ur": "اردو",
    "ar": "العربية",
}
RTL_LANGUAGES = {"ar", "ur", "he", "fa"}
DEFAULT_LANGUAGE = "en"
MISSING_MARK = "[en] "


def current_language() -> str:
    if not has_request_context():  # CLI commands translate lazy strings too
        return DEFAULT_LANGUAGE
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    best = request.accept_languages.best_match(list(LANGUAGES)) if request else None
    return best or DEFAULT_LANGUAGE


@lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def current_locale() -> Locale:
    """flask-babel's locale for this request. Parsed once per language: Babel's parse looks
    for its data file on disk every time, once per request in the load profile."""
    return _locale(current_language())


def text_direction(language: str | None = None) -> str:
    return "rtl" if (language or current_language()) in RTL_LANGUAGES else "ltr"


def set_language(language: str) -> bool:
    """Remember the pupil's language for this session; False for a language we do not offer."""
    if language not in LANGUAGES:
        return False
    session["lang"] = language
    from flask_babel import refresh

    refresh()
    g.pop(_TRANSLATIONS, None)  # this request's catalog is for the old language
    return True


class _MarkMissing(_gettext.NullTranslations):
    """Fallback catalog that marks every English fallback so it stands out in development."""

    def gettext(self, message: str) -> str:
        return MISSING_MARK + message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return MISSING_MARK + (msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        return MISSING_MARK + message

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return MISSING_MARK + (msgid1 if n == 1 else msgid2)


#: Where a request keeps its catalog: a page calls gettext dozens of times, and finding the
#: catalog through flask-babel's context lookups each time showed up in the load profile.
_TRANSLATIONS = "_surveyapp_translations"


class FallbackMarkingDomain(Domain):
    """The default domain, plus a visible mark on untranslated strings when configured."""

    def get_translations(self):  # type: ignore[override]
        if not has_request_context():
            return self._find_translations()
        translations = g.get(_TRANSLATIONS)
        if translations is None:
            translations = self._find_translations()
            setattr(g, _TRANSLATIONS, translations)
        return translations

    def _find_translations(self):
        translations = super().get_translations()
        if not (has_app_context() and current_app.config.get("I18N_MARK_MISSING")):
            return translations
        locale = get_locale()
        if locale is None or locale.language == DEFAULT_LANGUAGE:
            return translations
        key = (str(locale), self.domain[0], "marked")
        marked = self.cache.get(key)
        if marked is None:
            marked = support.Translations()
            marked.merge(translations)
            if hasattr(translations, "plural"):
                marked.plural = translations.plural
            marked.add_fallback(_MarkMissing())
            self.cache[key] = marked
        return marked


def init_app(app: Flask) -> None:
    app.config.setdefault(
        "I18N_MARK_MISSING", app.config.get("ENV_NAME", "development") == "development"
    )
    babel.init_app(app, locale_selector=current_locale)
    # Babel.domain_instance is a cached property: replace it with the marking domain.
    babel.__dict__["domain_instance"] = FallbackMarkingDomain(
        domain=app.config.get("BABEL_DOMAIN", "messages")
    )

    @app.context_processor
    def _language_context() -> dict:
        lang = current_language()
        return {
            "lang": lang,
            "text_dir": text_direction(lang),
            "languages": LANGUAGES,
        }
