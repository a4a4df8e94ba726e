"""Research area: choose and download an anonymised export, see the export log.

The view only orchestrates: the form's choices go to :func:`surveyapp.export_query.export_study`,
which writes the files to a temporary folder on disk; the zip is streamed from there and the
folder removed once the response is closed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import current_app, flash, render_template, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from ..auth.access import roles_required
from ..export_query import ExportError, export_study, options_for, policy_for
from ..exporting import FORMATS, ExportOptionsError
from ..exporting.options import FORMAT_NAMES, MIN_K
from ..extensions import db
from ..i18n import current_language
from ..models import ExportRecord, User
from ..questionnaire.model import localise
from . import bp
from .views import RESEARCH_ROLES, study_or_404

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice.
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def _choices(pairs) -> list:
    pairs = list(pairs)
    return pairs if SelectChoice is None else [SelectChoice(v, label) for v, label in pairs]


TIME_LABELS = {
    "term": _l("School term (e.g. 2026-autumn)"),
    "week": _l("Week (e.g. 2026-W37)"),
    "date": _l("Date (no time of day)"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ExportForm(FlaskForm):
    waves = MultiCheckboxField(_l("Waves (none ticked: every wave)"), validate_choice=True)
    arms = MultiCheckboxField(_l("Arms (none ticked: every arm)"), validate_choice=True)
    formats = MultiCheckboxField(
        _l("Formats"),
        choices=_choices((f, FORMAT_NAMES[f]) for f in FORMATS),
        validate_choice=True,
        validators=[InputRequired(_l("Choose at least one format."))],
    )
    language = SelectField(_l("Language of labels"))
    time_resolution = SelectField(_l("Dates shown as"), choices=_choices(TIME_LABELS.items()))
    k = IntegerField(
        _l("Smallest group shown (k)"),
        validators=[InputRequired(_l("Enter k, a whole number."))],
    )
    include_free_text = BooleanField(_l("Include free-text answers"))
    unlinkable = BooleanField(_l("Unlinkable pseudonyms (a fresh key for this export only)"))
    long_format = BooleanField(_l("Also a long file (one row per answer)"))
    bom = BooleanField(_l("CSV with a byte-order mark (for Excel)"))


def _form(design, study) -> ExportForm:
    policy = policy_for(study)
    form = ExportForm()
    language = current_language()
    form.waves.choices = _choices((w.key, f"{w.label} ({w.key})") for w in study.waves)
    form.arms.choices = _choices((a.id, localise(a.label, language)) for a in design.arms)
    languages = list(
        dict.fromkeys(
            lang
            for w in study.waves
            if w.questionnaire_id in _catalog_questionnaires()
            for lang in _catalog_questionnaires()[w.questionnaire_id].languages
        )
    ) or ["en"]
    form.language.choices = _choices((lang, lang) for lang in languages)
    minimum = policy.k if policy is not None else MIN_K
    form.k.validators = [
        InputRequired(_l("Enter k, a whole number.")),
        NumberRange(
            min=minimum,
            message=_l(
                "k must be at least %(k)s: the study sets it; an export may only raise it.",
                k=minimum,
            ),
        ),
    ]
    if not form.is_submitted():
        form.formats.data = ["csv", "xlsx"]
        form.language.data = language if language in languages else languages[0]
        if policy is not None:
            form.k.data = policy.k
            form.time_resolution.data = policy.time_resolution
            form.include_free_text.data = policy.include_free_text
            form.unlinkable.data = policy.unlinkable
        else:
            form.k.data = 5
    return form


def _catalog_questionnaires() -> dict:
    from ..catalog import get_catalog

    return get_catalog().questionnaires


def _history(study) -> list[tuple[ExportRecord, str]]:
    rows = db.session.execute(
        db.select(ExportRecord, User.username)
        .outerjoin(User, User.id == ExportRecord.user_id)
        .where(ExportRecord.study_key == study.key)
        .order_by(ExportRecord.at.desc(), ExportRecord.id.desc())
        .limit(20)
    ).all()
    return [(record, username or _("command line")) for record, username in rows]


@bp.route("/exports", methods=["GET"])
@roles_required(*RESEARCH_ROLES)
def exports():
    design, study = study_or_404()
    form = _form(design, study)
    return render_template("research/exports.html", form=form, history=_history(study))


@bp.route("/exports/download", methods=["POST"])
@roles_required(*RESEARCH_ROLES)
def export_download():
    design, study = study_or_404()
    form = _form(design, study)
    if not form.validate_on_submit():
        return render_template("research/exports.html", form=form, history=_history(study)), 400
    try:
        options = options_for(
            study,
            formats=form.formats.data,
            waves=form.waves.data,
            arms=form.arms.data,
            k=form.k.data,
            time_resolution=form.time_resolution.data,
            include_free_text=form.include_free_text.data,
            unlinkable=form.unlinkable.data,
            language=form.language.data,
            bom=form.bom.data,
            long_format=form.long_format.data,
            zip=True,
        )
    except ExportOptionsError as exc:
        form.formats.errors = [*form.formats.errors, str(exc)]
        return render_template("research/exports.html", form=form, history=_history(study)), 400
    base = Path(current_app.config.get("EXPORT_DIR") or Path(current_app.instance_path) / "exports")
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="export-", dir=base))
    try:
        outcome = export_study(study.key, options, folder, user_id=current_user.id)
    except (ExportError, ValueError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        db.session.rollback()
        flash(_("The export could not be made: %(reason)s", reason=str(exc)), "error")
        return render_template("research/exports.html", form=form, history=_history(study)), 400
    for warning in outcome.dataset.codebook.warnings:
        flash(warning, "warning")
    flash(
        _(
            "Export of %(rows)s rows made. Small-cell protection: %(summary)s.",
            rows=outcome.record.row_count,
            summary=outcome.dataset.protection.summary(),
        ),
        "info",
    )
    # Open the zip, then delete the folder: the open handle streams the file from disk and
    # its space is freed when the download ends, whatever happens to the connection.
    handle = open(outcome.download, "rb")  # noqa: SIM115 - closed by the response
    shutil.rmtree(folder, ignore_errors=True)
    response = send_file(
        handle,
        as_attachment=True,
        download_name=outcome.download.name,
        mimetype="application/zip",
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
