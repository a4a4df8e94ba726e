"""Question pages nobody has answered yet, drawn once per language and process.

Every pupil who reaches a page they have not answered yet sees the same HTML in the same
language at the same point of the questionnaire; only the form's two tokens (CSRF and page)
differ. The load profile showed drawing a page (building the WTForms form, running the Jinja
macros and layouts) as the largest single cost of an answer, so such a page is drawn once
with two unguessable placeholders where the tokens go, kept, and filled in per request.
A page with any stored or submitted answer, or with a message on it, is drawn every time.
Nothing kept here belongs to a pupil, so nothing here can pass from one pupil to another.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..questionnaire.model import Page, Question, Questionnaire, answer_keys

#: Pages x positions x languages x branches of skip logic: a few thousand at most.
MAX_ENTRIES = 4096

# Random per process, so no questionnaire text can ever contain them by accident.
_CSRF_HOLE = f"csrf-hole-{secrets.token_hex(16)}"
_TOKEN_HOLE = f"page-hole-{secrets.token_hex(16)}"
#: Template context that draws the placeholders instead of the tokens.
HOLES: Mapping[str, Any] = {"csrf_token": lambda: _CSRF_HOLE, "token": _TOKEN_HOLE}

_pages: dict[tuple[Any, ...], str] = {}


def fresh_page_key(
    questionnaire: Questionnaire,
    page: Page,
    questions: Iterable[Question],
    stored: Mapping[str, Any],
    *context: Any,
) -> tuple[Any, ...] | None:
    """The page's key if none of the shown questions has a stored answer, else None.

    ``context`` is whatever else the drawing depends on (languages, URL prefix, position).
    The questionnaire's content hash is part of the key, so an edited file never reuses
    an old page.
    """
    shown = tuple(questions)
    if any(key in stored for question in shown for key in answer_keys(question)):
        return None
    return (
        questionnaire.id,
        questionnaire.version,
        page.id,
        tuple(question.id for question in shown),
        *context,
    )


def fresh_page(
    key: tuple[Any, ...], draw: Callable[[Mapping[str, Any]], str], *, csrf: str, token: str
) -> str:
    """The page for ``key`` with these tokens; ``draw(HOLES)`` draws it on first use."""
    html = _pages.get(key)
    if html is None:
        html = draw(HOLES)
        if _CSRF_HOLE not in html or _TOKEN_HOLE not in html:
            raise ValueError("a cached page must draw both tokens from HOLES")
        if len(_pages) >= MAX_ENTRIES:
            _pages.clear()
        _pages[key] = html
    return html.replace(_CSRF_HOLE, csrf).replace(_TOKEN_HOLE, token)


def clear() -> None:
    _pages.clear()
