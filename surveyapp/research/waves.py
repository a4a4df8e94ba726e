"""Research area: open, close and reopen waves; response rates per school and class."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user

from ..auth.access import roles_required
from ..changes import commit_or_flash
from ..extensions import db
from ..i18n import current_language
from ..models import Wave
from ..questionnaire.model import localise
from ..response_rates import rate_tables
from ..waves import WaveError, set_wave_state
from . import bp
from .views import RESEARCH_ROLES, state_label, study_or_404

# What a researcher can do to a wave in each state.
ACTIONS = {"draft": ("open",), "open": ("close",), "closed": ("reopen",)}


def action_label(action: str) -> str:
    # The button's verb; the wave's state "Open" is an adjective, which many languages spell apart.
    return {
        "open": pgettext("wave action", "Open"),
        "close": pgettext("wave action", "Close"),
        "reopen": pgettext("wave action", "Reopen"),
    }[action]


@bp.route("/waves")
@roles_required(*RESEARCH_ROLES)
def waves():
    design, study = study_or_404()
    return render_template(
        "research/waves.html",
        waves=study.waves,
        in_file=set(design.wave_ids()),
        actions=ACTIONS,
        action_label=action_label,
        state_label=state_label,
    )


@bp.route("/waves/<int:wave_id>/<action>", methods=["POST"])
@roles_required(*RESEARCH_ROLES)
def wave_action(wave_id: int, action: str):
    _design, study = study_or_404()
    wave = db.session.get(Wave, wave_id)
    if wave is None or wave.study_id != study.id:
        abort(404)
    with commit_or_flash(WaveError) as change:
        set_wave_state(wave, action, user_id=current_user.id, via="web")
    if change.saved:
        messages = {
            "open": _("The wave '%(label)s' is open: cards can be issued.", label=wave.label),
            "close": _(
                "The wave '%(label)s' is closed: no new cards, and unused codes have expired.",
                label=wave.label,
            ),
            "reopen": _(
                "The wave '%(label)s' is open again: its unused codes work again.",
                label=wave.label,
            ),
        }
        flash(messages[action], "info")
    return redirect(url_for("research.waves"))


@bp.route("/rates")
@roles_required(*RESEARCH_ROLES)
def rates():
    design, study = study_or_404()
    wave_keys = design.wave_ids()
    wave_key = request.args.get("wave") or wave_keys[0]
    if wave_key not in wave_keys:
        abort(404)
    tables = rate_tables(study)
    language = current_language()
    arm_labels = {arm.id: localise(arm.label, language) for arm in design.arms}
    schools = sorted(
        {
            (row.school_name, row.school_id, row.arm)
            for row in tables.by_class
            if row.wave_key == wave_key
        },
        key=lambda s: (s[0], s[1], s[2] or ""),
    )
    classes = [row for row in tables.by_class if row.wave_key == wave_key]
    return render_template(
        "research/rates.html",
        waves=[(w.id, localise(w.label, language)) for w in design.waves],
        wave_key=wave_key,
        tables=tables,
        schools=schools,
        classes=classes,
        arm_labels=arm_labels,
    )
