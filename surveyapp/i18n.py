"""Languages: one choice drives both the UI text (flask-babel) and the questionnaire text."""

from __future__ import annotations

from flask import Flask, has_request_context, request, session

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


def current_language() -> str:
    if not has_request_context():  # CLI commands translate lazy strings too
        return DEFAULT_LANGUAGE
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    best = request.accept_languages.best_match(list(LANGUAGES)) if request else None
    return best or DEFAULT_LANGUAGE


def text_direction(language: str | None = None) -> str:
    return "rtl" if (language or current_language()) in RTL_LANGUAGES else "ltr"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=current_language)

    @app.context_processor
    def _language_context() -> dict:
        lang = current_language()
        return {"lang": lang, "text_dir": text_direction(lang), "languages": LANGUAGES}
