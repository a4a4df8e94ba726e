"""Flask extensions, created unbound so every module can import them."""

from __future__ import annotations

from flask import session
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
migrate = Migrate()
babel = Babel()
# Pupil pages must stay light on school networks: gzip HTML, CSS, JS, SVG and JSON.
compress = Compress()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def tablet_key() -> str:
    """Rate-limit key for one tablet: its session, falling back to the address.

    Pitfall 2: a whole class shares one school IP, so pupils are never limited by IP alone.
    """
    tablet = session.get("tablet_id")
    if tablet:
        return f"tablet:{tablet}"
    return f"ip:{get_remote_address()}"
