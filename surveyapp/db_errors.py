"""A busy or briefly unreachable database gives a friendly "try again" page, never a 500.

SQLite answers "database is locked" when another writer holds the lock for longer than the
busy timeout; PostgreSQL can time out on a lock or a statement, drop a connection when the
server restarts, or the connection pool can run dry under a burst. None of these is the
pupil's fault and every one of them usually passes within seconds, so the answer is a 503
with ``Retry-After`` and a page that keeps what was sent:

- for a POST the page re-posts the submitted fields to the same URL (hidden inputs, every
  value of a multi-valued field, a fresh CSRF token) behind one big "Try again" button.
  Saving a page is idempotent (an upsert per answer key), so sending it again is harmless;
- for a GET it links to the same URL.

The session and the request's Core connection are rolled back first, so the half-done
transaction is gone and the next request starts clean. Passwords are never echoed into a
page, and files cannot be re-posted: such forms get a "go back" link instead.
"""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from . import core_connection
from .extensions import db, login_manager
from .signing import csrf_token

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
#: Errors that mean "busy or briefly gone": retrying soon is the right advice.
TRANSIENT = (OperationalError, PoolTimeoutError)
#: Fields never written back into a page.
SECRET_FIELD_MARKERS = ("password", "secret")
CSRF_FIELD = "csrf_token"


def _rollback() -> None:
    for rollback in (db.session.rollback, core_connection.rollback):
        try:
            rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone; the pool will replace it
            log.warning("rollback after a database error failed", exc_info=True)


def _retry_url() -> str:
    """The URL that failed, with its query string, relative to this site."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_FIELD_MARKERS)


def repost_fields() -> list[tuple[str, str]] | None:
    """The submitted form fields to send again, in order; None if they cannot be re-posted.

    None means a password or a file was part of the form: the person has to go back and
    enter it again rather than find it written into the page.
    """
    if request.files:
        return None
    fields: list[tuple[str, str]] = []
    for name, values in request.form.lists():
        if name == CSRF_FIELD:
            continue
        if _is_secret(name):
            return None
        fields.extend((name, value) for value in values)
    return fields


def _quiet_user() -> None:
    """Make sure drawing the page does not ask the database who is logged in.

    flask-login's template context loads the user on first use; with the database down
    that would fail again inside this handler.
    """
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()


def _fallback_page() -> str:
    """Plain page for when even the friendly template cannot be drawn."""
    title = escape(_("Please try again in a moment"))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'</head><body><main><h1>{title}</h1><p><a href="{escape(_retry_url())}">'
        f"{escape(_('Try again'))}</a></p></main></body></html>"
    )


def database_busy(exc: Exception) -> tuple[str, int, dict[str, str]]:
    """Error handler: roll back, log, and answer 503 with a page that keeps the input."""
    _rollback()
    if isinstance(exc, TRANSIENT):
        log.warning("database busy or unreachable on %s %s: %s", request.method, request.path, exc)
    else:
        # Not a classic "busy" error (an integrity or programming error): still no 500 page
        # for a pupil, but it is logged with its traceback so a bug does not hide here.
        log.error("database error on %s %s", request.method, request.path, exc_info=exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    is_post = request.method == "POST"
    fields = repost_fields() if is_post else None
    _quiet_user()
    try:
        html = render_template(
            "errors/db_busy.html",
            is_post=is_post,
            fields=fields,
            retry_url=_retry_url(),
            csrf=csrf_token() if fields is not None else "",
        )
    except (DBAPIError, PoolTimeoutError):
        _rollback()
        html = _fallback_page()
    return html, 503, headers


def init_app(app: Flask) -> None:
    app.register_error_handler(DBAPIError, database_busy)
    app.register_error_handler(PoolTimeoutError, database_busy)
