"""One Core connection per request for the pupil's hot path, beside the ORM session.

Why: a question page reads its response and saves its answers with three statements
(:mod:`.responses`, :mod:`.prepared`). Running them on the ORM session's connection cost
about 110 µs more per request than on a plain Core connection (the session's transaction
objects, state checks and teardown; measured in-process on SQLite: 156 against 48 µs for
the same two statements and commit), more than the statements themselves.

The connection is taken from the engine's pool on first use and given back when the request
(or the app context, outside a request) ends; whatever was not committed is then rolled
back. The first write of a transaction still comes first on SQLite (pysqlite begins a
transaction only at a write), and on PostgreSQL the reads and the write of one request share
one checkout, so one pre-ping.

The ORM session may be used in the same request (the welcome page reads the response through
it); each of the two commits its own writes, and neither holds a write open while the other
writes.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, g

from .extensions import db

log = logging.getLogger(__name__)
_KEY = "_core_connection"


def connection() -> sa.Connection:
    """This request's Core connection (taken from the pool on first use)."""
    conn = g.get(_KEY)
    if conn is None:
        conn = db.engine.connect()
        setattr(g, _KEY, conn)
    return conn


def rollback() -> None:
    """Drop this request's uncommitted work (after a database error)."""
    conn = g.get(_KEY)
    if conn is not None:
        conn.rollback()


def release(_exc: BaseException | None = None) -> None:
    """Give the connection back to the pool; an uncommitted transaction is rolled back."""
    conn = g.pop(_KEY, None)
    if conn is None:
        return
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - a dead connection: the pool replaces it
        log.warning("closing the request's database connection failed", exc_info=True)


def init_app(app: Flask) -> None:
    # After each request, and at the end of an app context used without one (CLI, tests):
    # an app context kept open across requests must not keep a connection checked out.
    app.teardown_request(release)
    app.teardown_appcontext(release)
