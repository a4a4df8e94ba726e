"""Research area: the dashboard, the allocation log, provision returns.

Wave management and response-rate pages are in :mod:`surveyapp.research.waves`; exports and
plots are added by their own modules and linked from the dashboard when they exist.
"""

from __future__ import annotations

import io

from flask import Response, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user

from .. import provision
from ..audit import record
from ..auth.access import roles_required
from ..cohorts import current_design, log_school_arms, schools_per_arm, write_allocation_log
from ..extensions import db
from ..i18n import current_language
from ..models import ProvisionReturn, School, Study
from ..questionnaire.model import localise
from ..response_rates import rate_tables
from ..study.terms import term_label
from ..study_sync import ensure_study
from . import bp

RESEARCH_ROLES = ("researcher", "admin")

# Pages other modules add to the research area: (endpoint, link text), shown when registered.
OPTIONAL_LINKS = (
    ("research.exports", "Exports"),
    ("research.plots", "Plots"),
)


def state_label(state: str) -> str:
    return {"draft": _("Not opened yet"), "open": _("Open"), "closed": _("Closed")}.get(
        state, state
    )


@bp.context_processor
def _research_context() -> dict:
    """The research section menu (pages that exist) and shared labels, for every page."""
    pages = [
        ("research.index", _("Overview")),
        ("research.waves", _("Waves")),
        ("research.rates", _("Response rates")),
    ]
    design = current_design()
    if design is not None and design.provision_questionnaire:
        pages.append(("research.provision_returns", _("Provision returns")))
    pages += [
        (endpoint, _(text))
        for endpoint, text in OPTIONAL_LINKS
        if endpoint in current_app.view_functions
    ]
    return {"research_nav": pages, "state_label": state_label}


def current_study() -> tuple[object, Study] | None:
    """The served study design and its database row (created on first use), or None."""
    design = current_design()
    if design is None:
        return None
    study = ensure_study(design)
    db.session.commit()
    return design, study


def study_or_404():
    found = current_study()
    if found is None:
        abort(404)
    return found


def csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/")
@roles_required(*RESEARCH_ROLES)
def index():
    found = current_study()
    if found is None:
        return render_template("research/index.html", design=None)
    design, study = found
    tables = rate_tables(study)
    wave_rows = {w.key: w for w in study.waves}
    arms = [(arm.id, localise(arm.label, current_language())) for arm in design.arms]
    if None in tables.arms_seen():
        arms.append((None, _("No arm")))
    links = [
        (endpoint, _(text))
        for endpoint, text in OPTIONAL_LINKS
        if endpoint in current_app.view_functions
    ]
    return render_template(
        "research/index.html",
        design=design,
        study=study,
        title=localise(design.title, current_language()),
        waves=[(w, wave_rows.get(w.id)) for w in design.waves],
        arms=arms,
        tables=tables,
        schools_per_arm=schools_per_arm(study),
        has_provision=bool(design.provision_questionnaire),
        links=links,
    )


@bp.route("/allocation-log.csv")
@roles_required(*RESEARCH_ROLES)
def allocation_log():
    design, study = study_or_404()
    log_school_arms(study, design)
    out = io.StringIO()
    count = write_allocation_log(study, out)
    record(current_user.id, "export.allocation_log", target=f"study:{study.key}", rows=count)
    db.session.commit()
    return csv_response(out.getvalue(), f"{study.key}-allocation-log.csv")


def _provision_or_404():
    design, study = study_or_404()
    questionnaire = provision.provision_questionnaire(design)
    if questionnaire is None:
        abort(404)
    return design, study, questionnaire


@bp.route("/provision")
@roles_required(*RESEARCH_ROLES)
def provision_returns():
    design, study, questionnaire = _provision_or_404()
    schools = (
        db.session.execute(db.select(School).filter_by(study_id=study.id).order_by(School.name))
        .scalars()
        .all()
    )
    returns = provision.returns_by_school_and_term([s.id for s in schools])
    terms = provision.study_terms(design)
    return render_template(
        "research/provision.html",
        questionnaire=questionnaire,
        title=questionnaire.text(questionnaire.title, current_language()),
        schools=schools,
        terms=[(t, term_label(t)) for t in terms],
        returns=returns,
        status=provision.status,
    )


@bp.route("/provision/<int:return_id>")
@roles_required(*RESEARCH_ROLES)
def provision_detail(return_id: int):
    design, study, questionnaire = _provision_or_404()
    provision_return = db.session.get(ProvisionReturn, return_id)
    if provision_return is None or provision_return.school.study_id != study.id:
        abort(404)
    language = current_language()
    if language not in questionnaire.languages:
        language = questionnaire.default_language
    return render_template(
        "research/provision_detail.html",
        questionnaire=questionnaire,
        provision_return=provision_return,
        term=term_label(provision_return.term),
        answers=provision.answer_rows(questionnaire, provision_return.answers or {}, language),
        status=provision.status(provision_return),
    )


@bp.route("/provision.csv")
@roles_required(*RESEARCH_ROLES)
def provision_csv():
    design, study, questionnaire = _provision_or_404()
    options = provision.CsvOptions(include_free_text=design.anonymisation.include_free_text)
    out = io.StringIO()
    count = provision.write_returns_csv(study, questionnaire, out, options)
    record(
        current_user.id,
        "export.provision",
        target=f"study:{study.key}",
        rows=count,
        include_free_text=options.include_free_text,
    )
    db.session.commit()
    return csv_response(out.getvalue(), f"{study.key}-{questionnaire.id}.csv")


from . import waves as _waves  # noqa: E402,F401 - registers the wave and response-rate pages
