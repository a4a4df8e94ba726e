"""Staff accounts: create, change role and schools, deactivate, set passwords.

Changing a password or deactivating an account rotates the user's ``session_token``, which
logs every open session of that user out (the user loader compares it). Every change is
audited in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

from ..audit import record
from ..extensions import db
from ..models import ROLES, School, User, random_id
from ..passwords import hash_password, password_problem

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,119}$")


class AccountError(ValueError):
    """An account change that cannot be made; the message says why."""


def normalise_username(username: str | None) -> str:
    return (username or "").strip().lower()


def clean_username(username: str | None) -> str:
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise AccountError(
            _(
                "A username has 2-120 characters: letters, digits and . _ @ - "
                "(starting with a letter or digit)."
            )
        )
    return name


def find_user(username: str | None) -> User | None:
    name = normalise_username(username)
    if not name:
        return None
    return db.session.execute(db.select(User).filter_by(username=name)).scalar_one_or_none()


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(
            _("Unknown role '%(role)s' (one of: %(roles)s).", role=role, roles=", ".join(ROLES))
        )
    return role


def _check_schools(role: str, schools: list[School]) -> list[School]:
    if role == "teacher" and not schools:
        raise AccountError(_("A teacher needs at least one school."))
    # Admins and researchers see every school; a list would only mislead.
    return list(schools) if role == "teacher" else []


def _check_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem:
        raise AccountError(str(problem))


def create_user(
    username: str,
    role: str,
    password: str,
    schools: list[School],
    actor_id: int | None,
    via: str = "web",
) -> User:
    name = clean_username(username)
    role = _check_role(role)
    schools = _check_schools(role, schools)
    if find_user(name) is not None:
        raise AccountError(_("The username '%(name)s' is taken.", name=name))
    _check_password(password, name)
    user = User(username=name, role=role, password_hash=hash_password(password), active=True)
    user.schools = schools
    db.session.add(user)
    db.session.flush()
    record(
        actor_id,
        "user.create",
        f"user:{name}",
        role=role,
        schools=[s.code for s in schools],
        via=via,
    )
    return user


def active_admin_count() -> int:
    return db.session.execute(
        db.select(db.func.count(User.id)).filter_by(role="admin", active=True)
    ).scalar_one()


def update_user(
    user: User, role: str, schools: list[School], active: bool, actor_id: int | None
) -> User:
    """Change role, schools or active flag; the last active admin cannot lose admin rights."""
    role = _check_role(role)
    losing_admin = user.role == "admin" and user.active and (role != "admin" or not active)
    if losing_admin and active_admin_count() <= 1:
        raise AccountError(_("This is the last active admin: make another admin first."))
    schools = _check_schools(role, schools)
    changes: dict[str, list] = {}
    if user.role != role:
        changes["role"] = [user.role, role]
        user.role = role
    old_codes = sorted(s.code for s in user.schools)
    new_codes = sorted(s.code for s in schools)
    if old_codes != new_codes:
        changes["schools"] = [old_codes, new_codes]
        user.schools = schools
    if user.active != active:
        changes["active"] = [user.active, active]
        user.active = active
        if not active:
            user.session_token = random_id()  # log out every session now
    if changes:
        record(actor_id, "user.update", f"user:{user.username}", **changes)
    db.session.flush()
    return user


def set_password(user: User, password: str, actor_id: int | None, via: str = "web") -> User:
    """Set a new password and log out every session of the user (by rotating its token)."""
    _check_password(password, user.username)
    user.password_hash = hash_password(password)
    user.session_token = random_id()
    record(actor_id, "user.password", f"user:{user.username}", via=via)
    db.session.flush()
    return user
