"""Who may see what: roles and school scoping.

A teacher sees only the schools they belong to; researchers and admins see every school.
Crossing a boundary answers 404 (not 403) so a page never confirms that another school's
class or participant exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from ..extensions import db, login_manager
from ..models import Participant, School, SchoolClass, User, Wave

STAFF_ROLES = ("admin", "researcher", "teacher")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The id carries the session token, so changing it logs out every session.
    raw_id, _, token = (user_id or "").partition(":")
    if not raw_id.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def roles_required(*roles: str) -> Callable:
    """Allow only logged-in users with one of ``roles``; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_see_all_schools(user: User) -> bool:
    return user.role in ("admin", "researcher")


def visible_school_ids(user: User) -> set[int] | None:
    """The school ids ``user`` may see, or None for all."""
    if can_see_all_schools(user):
        return None
    return {s.id for s in user.schools}


def school_or_404(school_id: int) -> School:
    """The school, if the current user may see it; 404 otherwise."""
    school = db.session.get(School, school_id)
    allowed = visible_school_ids(current_user)
    if school is None or (allowed is not None and school.id not in allowed):
        abort(404)
    return school


def class_or_404(class_id: int) -> SchoolClass:
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None:
        abort(404)
    school_or_404(school_class.school_id)
    return school_class


def participant_or_404(participant_id: str) -> Participant:
    """The participant, if the current user may see their school; 404 otherwise."""
    participant = db.session.get(Participant, participant_id) if participant_id else None
    if participant is None:
        abort(404)
    school_or_404(participant.school_id)
    return participant


def wave_for_school_or_404(wave_id: int, school: School) -> Wave:
    """A wave of the school's study; 404 for a wave of another study."""
    wave = db.session.get(Wave, wave_id)
    if wave is None or wave.study_id != school.study_id:
        abort(404)
    return wave
