"""Survey engine for evaluating children's programmes in schools."""

from __future__ import annotations

import os
import sys

from flask import Flask

from .config import build_config, check_production


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, CLI; nothing else."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(build_config(app.instance_path, overrides))
    check_production(app.config)

    from . import (  # noqa: F401 - models registers the tables
        compression,
        core_connection,
        database,
        db_errors,
        i18n,
        models,
        security,
        signing,
    )
    from .catalog import init_catalog
    from .extensions import csrf, db, limiter, login_manager, migrate
    from .yamlsource import SourceError

    db.init_app(app)
    database.init_app(app)
    core_connection.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    compression.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    signing.init_app(app)
    db_errors.init_app(app)

    try:
        init_catalog(app)
    except SourceError as exc:
        # The same messages `flask questionnaires validate` prints; refuse to serve.
        print("Refusing to start: invalid questionnaire or study files:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        print("Check them with: flask --app surveyapp questionnaires validate", file=sys.stderr)
        raise

    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .pupil import bp as pupil_bp
    from .research import bp as research_bp
    from .teacher import bp as teacher_bp

    app.register_blueprint(pupil_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(teacher_bp, url_prefix="/teacher")
    app.register_blueprint(research_bp, url_prefix="/research")

    from .cli import register_commands

    register_commands(app)
    return app


def _migrations_dir():
    from .config import PROJECT_ROOT

    return PROJECT_ROOT / "migrations"
