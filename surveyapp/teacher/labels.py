"""What teachers read for each participant state (see ``surveyapp.progress.STATES``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATE_LABELS = {
    "no_card": _l("no card yet"),
    "not_started": _l("not started"),
    "in_progress": _l("in progress"),
    "completed": _l("completed"),
    "revoked": _l("card revoked"),
    "expired": _l("expired (wave closed)"),
    "left": _l("left"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))
