"""Shared fixtures: a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL).

Each xdist worker gets its own database; tables are created by running the real
migrations once, and emptied after every test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient

from surveyapp import create_app
from surveyapp.config import normalise_database_url
from surveyapp.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    base = normalise_database_url(TEST_DATABASE_URL)
    # Unique per run so concurrent runs on one server never drop each other's database.
    name = f"surveyapp_test_{_worker()}_{os.getpid()}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield base.rsplit("/", 1)[0] + f"/{name}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def app_config(database_url, tmp_path_factory) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "CODE_HASH_KEY": "test-code-key",
        "SERVER_NAME": None,
        "RATELIMIT_ENABLED": True,
        "EXPORT_DIR": str(tmp_path_factory.mktemp("exports")),
    }


@pytest.fixture(scope="session")
def _migrated_app(app_config):
    from flask_migrate import upgrade

    app = create_app(app_config)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_all_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(_migrated_app):
    app = _migrated_app
    from surveyapp.extensions import limiter

    app.test_client_class = _CleanGlobalsClient
    with app.app_context():
        limiter.reset()
        yield app
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()


class _CleanGlobalsClient(FlaskClient):
    """A test client whose every request starts with an empty ``flask.g``.

    The ``app`` fixture keeps one app context open for the whole test and Flask reuses it for
    the client's requests, so ``g`` would carry flask-login's current user and flask-wtf's CSRF
    token from one request into the next (a logged-out user would still look logged in).
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        try:
            return super().open(*args, **kwargs)
        finally:
            if has_app_context():
                g.__dict__.clear()


@pytest.fixture
def client(app):
    return app.test_client()
