"""The floor: the least a web answer can cost here. One Flask endpoint, one INSERT.

Served by the same gunicorn settings against the same database as the survey engine, and
driven by the same simulated pupils, it shows what the framework, the server and the
database cost before any survey logic: the engine's answer pages are compared with it.
The ``floor-prg`` variant also follows the redirect to ``GET /next`` (a fixed page, no
work): two requests a page, what a Post/Redirect/Get design costs (the engine used one until
it began to answer a page's POST with the next page itself).
SQLite gets the engine's own pragmas (WAL, synchronous=NORMAL, busy timeout) so the
comparison is fair. ``FLOOR_DATABASE_URL`` names the database; the table is created by
:func:`create_table` before the server starts (workers never race to create it).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, redirect, request

from surveyapp.config import normalise_database_url

metadata = sa.MetaData()
floor_answer = sa.Table(
    "floor_answer",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("question_id", sa.String(32), nullable=False),
    sa.Column("value", sa.Text),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


def make_engine(url: str) -> sa.Engine:
    url = normalise_database_url(url)
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    engine = sa.create_engine(url, connect_args={"timeout": 15})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=15000"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    return engine


def create_table(url: str) -> None:
    engine = make_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()


def create_floor_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["FLOOR_DATABASE_URL"])

    @app.post("/insert")
    def insert():
        with engine.begin() as conn:
            conn.execute(
                floor_answer.insert().values(
                    code=request.form.get("code", "")[:16],
                    question_id=request.form.get("page", "")[:32],
                    value=json.dumps(3),
                    updated_at=datetime.now(UTC).replace(tzinfo=None),
                )
            )
        return redirect("/next", code=303)

    @app.get("/next")
    def next_page():
        # What the redirect after the POST lands on: a page, but no work.
        return "<!doctype html><title>Next</title><p>Next question</p>"

    @app.get("/")
    def ready():
        return "ok"

    return app


if os.environ.get("FLOOR_DATABASE_URL"):
    app = create_floor_app()
