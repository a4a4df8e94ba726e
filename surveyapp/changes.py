"""A change a staff member makes in one request: saved, or refused with a message.

The services (accounts, schools, participants, waves, provision returns) raise an error whose
message says why a change cannot be made; a unique constraint refuses what another request
did at the same moment. Every staff view handles both the same way: commit, or roll back and
show the message. :func:`commit_or_flash` is that one way::

    with commit_or_flash(SchoolError, conflict=_("Please try again.")) as change:
        school = create_school(...)
    if change.saved:
        flash(_("School added."), "info")
        return redirect(...)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from sqlalchemy.exc import IntegrityError

from .extensions import db


@dataclass
class Change:
    """What became of the change made in a :func:`commit_or_flash` block."""

    saved: bool = False


@contextmanager
def commit_or_flash(*refusals: type[Exception], conflict: str | None = None) -> Iterator[Change]:
    """Commit what the block changed, or roll it back and flash why.

    ``refusals``: the service errors whose message is shown as it is. ``conflict``: the
    message for an IntegrityError (a concurrent change); without it, one propagates.
    """
    change = Change()
    try:
        yield change
        db.session.commit()
    except refusals as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return
    except IntegrityError:
        if conflict is None:
            raise
        db.session.rollback()
        flash(conflict, "error")
        return
    change.saved = True
