"""Waves: open, close and reopen them; the rule that cards are issued only for an open wave.

A wave goes ``draft -> open -> closed``, and a closed wave can be reopened (a school that
surveyed late). Closing a wave expires its unused codes: ``surveyapp.codes.code_state`` derives
EXPIRED from the wave's state, so reopening brings them back without touching any code.

Every change is written to the audit log in the same transaction; the caller commits.
"""

from __future__ import annotations

from flask_babel import gettext as _

from .audit import record
from .extensions import db
from .models import Study, Wave


class WaveError(ValueError):
    """A wave change that cannot be made; the message says why, for the user."""


class WaveNotOpenError(WaveError):
    """Codes were asked for a wave that is not open."""


def find_wave(study: Study, key: str) -> Wave:
    """The study's wave with id ``key``; WaveError naming the known waves otherwise."""
    wave = db.session.execute(
        db.select(Wave).filter_by(study_id=study.id, key=key)
    ).scalar_one_or_none()
    if wave is None:
        known = ", ".join(w.key for w in study.waves) or _("none")
        raise WaveError(_("Unknown wave '%(key)s' (known waves: %(known)s).", key=key, known=known))
    return wave


def require_open(wave: Wave) -> None:
    """Refuse to issue codes for a wave that is not open (raise WaveNotOpenError)."""
    if wave.state == "open":
        return
    if wave.state == "closed":
        raise WaveNotOpenError(
            _(
                "The wave '%(label)s' is closed: cards can only be issued while a wave is open.",
                label=wave.label,
            )
        )
    raise WaveNotOpenError(
        _(
            "The wave '%(label)s' has not been opened yet: cards can only be issued "
            "while a wave is open.",
            label=wave.label,
        )
    )


def _change(wave: Wave, new_state: str, action: str, user_id: int | None, via: str) -> Wave:
    old_state = wave.state
    wave.state = new_state
    record(
        user_id,
        action,
        target=f"wave:{wave.study.key}/{wave.key}",
        from_state=old_state,
        to_state=new_state,
        via=via,
    )
    db.session.flush()
    return wave


def open_wave(wave: Wave, user_id: int | None = None, via: str = "web") -> Wave:
    """Open a draft wave, or reopen a closed one."""
    if wave.state == "open":
        raise WaveError(_("The wave '%(label)s' is already open.", label=wave.label))
    action = "wave.reopen" if wave.state == "closed" else "wave.open"
    return _change(wave, "open", action, user_id, via)


def close_wave(wave: Wave, user_id: int | None = None, via: str = "web") -> Wave:
    """Close an open wave: no new cards, and its unused codes expire."""
    if wave.state == "closed":
        raise WaveError(_("The wave '%(label)s' is already closed.", label=wave.label))
    if wave.state != "open":
        raise WaveError(
            _(
                "The wave '%(label)s' has not been opened yet, so it cannot be closed.",
                label=wave.label,
            )
        )
    return _change(wave, "closed", "wave.close", user_id, via)


def reopen_wave(wave: Wave, user_id: int | None = None, via: str = "web") -> Wave:
    """Reopen a closed wave; its unused codes work again."""
    if wave.state != "closed":
        raise WaveError(
            _("Only a closed wave can be reopened; '%(label)s' is not closed.", label=wave.label)
        )
    return open_wave(wave, user_id, via)


def set_wave_state(wave: Wave, action: str, user_id: int | None = None, via: str = "web") -> Wave:
    """Apply ``open``, ``close`` or ``reopen`` (the verbs the UI and CLI offer)."""
    actions = {"open": open_wave, "close": close_wave, "reopen": reopen_wave}
    if action not in actions:
        raise WaveError(_("Unknown action '%(action)s'.", action=action))
    return actions[action](wave, user_id, via)
