"""Settings from the environment.

SQLite in ``instance/`` is the embedded default so a newcomer needs nothing else;
``DATABASE_URL`` selects PostgreSQL for several workers or servers.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused outside development, see check_production
MIN_SECRET_LENGTH = 16


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Accept the URL forms hosting providers hand out and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def build_config(instance_path: str, overrides: dict | None = None) -> dict:
    env = os.environ
    sqlite_path = Path(instance_path) / "surveyapp.sqlite3"
    database_url = normalise_database_url(env.get("DATABASE_URL", f"sqlite:///{sqlite_path}"))
    config = {
        "ENV_NAME": env.get("SURVEYAPP_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        # Keyed hashes of access codes use their own key so rotating the session key
        # does not invalidate printed cards.
        "CODE_HASH_KEY": env.get("CODE_HASH_KEY", env.get("SECRET_KEY", DEV_SECRET_KEY)),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "QUESTIONNAIRE_DIR": env.get("QUESTIONNAIRE_DIR", str(PROJECT_ROOT / "questionnaires")),
        "STUDY_FILE": env.get(
            "STUDY_FILE", str(PROJECT_ROOT / "questionnaires" / "in_harmony.study.yaml")
        ),
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://localhost:5000"),
        # Pitfall 1: tablets idle for an hour must still be able to press Next.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": False,
        # A page whose session was lost (cookie cleared) may restore it only this long after
        # it was drawn: long enough for a lesson, short enough that a copied page goes stale.
        "PAGE_TOKEN_RECOVERY_SECONDS": int(env.get("PAGE_TOKEN_RECOVERY_SECONDS", 3 * 3600)),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "MAX_FORM_MEMORY_SIZE": 500_000,
        "MAX_FORM_PARTS": 1000,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(env.get("SESSION_HOURS", 8))),
        # Pitfall 4: the catalogs live at the top level, not inside the package.
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "BABEL_DEFAULT_LOCALE": "en",
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Pitfall 2: a class shares one IP, so the per-IP limit is generous and a
        # per-tablet (session) limit catches one tablet guessing.
        "CODE_ENTRY_LIMIT_IP": env.get("CODE_ENTRY_LIMIT_IP", "300 per minute"),
        "CODE_ENTRY_LIMIT_TABLET": env.get("CODE_ENTRY_LIMIT_TABLET", "10 per minute"),
        "LOGIN_LIMIT": env.get("LOGIN_LIMIT", "10 per minute"),
        # Failed logins per address, across usernames: staff of one school share an IP.
        "LOGIN_LIMIT_IP": env.get("LOGIN_LIMIT_IP", "30 per minute"),
        "SEND_FILE_MAX_AGE_DEFAULT": 3600 * 24,
        "COMPRESS_MIMETYPES": [
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "image/svg+xml",
        ],
        "COMPRESS_ALGORITHM": ["gzip"],
        "COMPRESS_MIN_SIZE": 500,
        "HTTPS": _bool("HTTPS", False),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        "PROXY_COUNT": int(env.get("PROXY_COUNT", 0)),
        # Web exports: their files are deleted this many hours after they were made.
        "EXPORT_RETENTION_HOURS": float(env.get("EXPORT_RETENTION_HOURS", 24)),
    }
    if overrides:
        config.update(overrides)
        if "SQLALCHEMY_DATABASE_URI" in overrides and "SQLALCHEMY_ENGINE_OPTIONS" not in overrides:
            config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
                overrides["SQLALCHEMY_DATABASE_URI"]
            )
    return config


def engine_options(database_url: str) -> dict:
    if database_url.startswith("sqlite"):
        # Pitfall 7: a busy timeout so concurrent writers wait instead of failing.
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


def check_production(config: dict) -> None:
    """Refuse to run a production server with the development secret (or a weak one)."""
    if config["ENV_NAME"] != "production":
        return
    for name in ("SECRET_KEY", "CODE_HASH_KEY"):
        if config.get(name) == DEV_SECRET_KEY:
            raise RuntimeError(
                f"{name} must be set in production (SURVEYAPP_ENV=production); "
                "refusing to start with the development default."
            )
        if len(config.get(name) or "") < MIN_SECRET_LENGTH:
            raise RuntimeError(
                f"{name} is shorter than {MIN_SECRET_LENGTH} characters; refusing to start in "
                'production. Make one with: python -c "import secrets; print(secrets.token_hex(32))"'
            )
