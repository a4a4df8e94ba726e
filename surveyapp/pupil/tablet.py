"""The shared tablet's session: which tablet this is, and which pupil is using it now.

A tablet keeps its random ``tablet_id`` for good (the code-entry rate limit keys on it,
pitfall 2); the pupil part (``response_id``, ``lang``) is replaced when the next pupil enters
a code and cleared when a pupil finishes or stops.

Every question page carries a *page token*: the response id signed with the app's secret.
It ties a submitted page to the pupil it was drawn for, so a page left open from an earlier
pupil can never write into the next pupil's response, and it lets a page be recovered when
the session was lost (see :func:`surveyapp.pupil.errors.csrf_error`).
"""

from __future__ import annotations

import secrets

from flask import current_app, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import tablet_key
from ..signing import serializer

PUPIL_KEYS = ("response_id", "lang", "finished")
_SALT = "pupil-page"


def ensure_tablet_id() -> str:
    tablet = session.get("tablet_id")
    if not tablet:
        tablet = secrets.token_urlsafe(12)
        session["tablet_id"] = tablet
    return tablet


def pupil_tablet_key() -> str:
    """Rate-limit key for code entry: this tablet (a first visit gets its id now)."""
    ensure_tablet_id()
    return tablet_key()


def start_pupil(response_id: int) -> None:
    """A new code on this tablet: forget the previous pupil, keep the tablet and language."""
    session.pop("finished", None)
    session["response_id"] = response_id


def clear_pupil(*, keep_language: bool = False) -> None:
    for key in PUPIL_KEYS:
        if keep_language and key == "lang":
            continue
        session.pop(key, None)


def current_response_id() -> int | None:
    value = session.get("response_id")
    return value if isinstance(value, int) else None


def _serializer() -> URLSafeTimedSerializer:
    return serializer(current_app.config["SECRET_KEY"], _SALT)


def page_token(response_id: int) -> str:
    return _serializer().dumps(response_id)


def response_from_token(token: str | None, max_age: int | None = None) -> int | None:
    """The response id a page token was made for, or None if it is not one of ours.

    With ``max_age`` (seconds) an older token is refused too: a token that restores a lost
    session must be fresh, so a copied page cannot be used to walk into a pupil's answers later.
    """
    if not token or len(token) > 200:
        return None
    try:
        value = _serializer().loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    return value if isinstance(value, int) else None
