"""Research area: plots of construct scores by arm and wave, and response rates by school.

Images are drawn server-side (matplotlib, Agg) and cached on disk under
``instance/plots/<key>/``, where the key hashes everything the plots depend on (latest
response and card change, counts, questionnaire versions, language). Every image has alt
text and a data table with the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
from flask import abort, current_app, render_template, send_file
from flask_babel import gettext as _
from sqlalchemy import func

from ..auth.access import roles_required
from ..export_query import ExportError, load_frames, options_for, questionnaires_for
from ..exporting.pipeline import build_dataset
from ..exporting.plots import plot_response_rates, plot_scores, score_summary
from ..extensions import db
from ..i18n import current_language
from ..models import AccessCode, Participant, Response, Study, Wave
from ..questionnaire.model import localise
from ..response_rates import rate_tables
from . import bp
from .views import RESEARCH_ROLES, study_or_404

_KEY = re.compile(r"^[0-9a-f]{24}$")
_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def _plots_root() -> Path:
    return Path(current_app.instance_path) / "plots"


def cache_key(study: Study, language: str) -> str:
    """Changes whenever a response, answer page or card changes, or the questionnaires do."""
    responses = db.session.execute(
        db.select(
            func.count(Response.id), func.max(Response.updated_at), func.max(Response.completed_at)
        )
        .join(Wave, Wave.id == Response.wave_id)
        .where(Wave.study_id == study.id)
    ).one()
    cards = db.session.execute(
        db.select(
            func.count(AccessCode.id),
            func.max(AccessCode.issued_at),
            func.max(AccessCode.revoked_at),
        )
        .join(Wave, Wave.id == AccessCode.wave_id)
        .where(Wave.study_id == study.id)
    ).one()
    left = db.session.execute(
        db.select(func.count(Participant.id), func.max(Participant.left_at)).where(
            Participant.left_at.is_not(None)
        )
    ).one()
    from ..catalog import get_catalog

    versions = sorted(f"{q.id}:{q.version}" for q in get_catalog().questionnaires.values())
    raw = json.dumps(
        [
            study.key,
            language,
            [str(x) for x in (*responses, *cards, *left)],
            versions,
            [w.state for w in study.waves],
        ]
    )
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def _rates_frame(study: Study) -> pd.DataFrame:
    tables = rate_tables(study)
    rows = []
    for (wave, _arm, school_id), counts in tables.by_school.items():
        rows.append(
            {
                "wave": wave,
                "school": tables.schools[school_id][1],
                "issued": counts.issued,
                "completed": counts.completed,
            }
        )
    frame = pd.DataFrame(rows, columns=["wave", "school", "issued", "completed"])
    frame = frame.groupby(["wave", "school"], as_index=False, sort=True)[
        ["issued", "completed"]
    ].sum()
    frame["rate"] = (frame["completed"] / frame["issued"].where(frame["issued"] > 0)).round(3)
    return frame


def build_plots(study: Study, design, folder: Path, language: str) -> dict:
    """Draw every plot into ``folder`` and return the page's description of them."""
    folder.mkdir(parents=True, exist_ok=True)
    charts = []
    wave_order = [w.key for w in study.waves]
    arm_order = [a.id for a in design.arms] if design is not None else []
    responses, answers = load_frames(study)
    if len(responses):
        questionnaires = questionnaires_for(study, (), responses)
        options = options_for(study, formats="csv", language=language)
        dataset = build_dataset(responses, answers, questionnaires, options, study.pseudonym_key)
        wide = dataset.wide
        arms = [a for a in arm_order if a in set(wide["arm"])] + sorted(
            {str(a) for a in wide["arm"].dropna()} - set(arm_order)
        )
        waves = [w for w in wave_order if w in set(wide["wave"])]
        for v in dataset.variables:
            if v.kind != "score":
                continue
            title = v.label_in(language)
            name = v.name
            plot_scores(wide, name, title, folder / f"{name}.png", waves, arms)
            summary = score_summary(wide, name)
            charts.append(
                {
                    "name": name,
                    "title": title,
                    "kind": "score",
                    "table": json.loads(summary.to_json(orient="records")),
                }
            )
    rates = _rates_frame(study)
    if len(rates):
        plot_response_rates(rates, folder / "response_rates.png")
        charts.append(
            {
                "name": "response_rates",
                "title": "response_rates",
                "kind": "rates",
                "table": json.loads(rates.to_json(orient="records")),
            }
        )
    description = {"charts": charts}
    (folder / "plots.json").write_text(json.dumps(description), encoding="utf-8")
    return description


def cached_plots(study: Study, design, language: str) -> tuple[str, dict]:
    key = cache_key(study, language)
    folder = _plots_root() / key
    index = folder / "plots.json"
    if index.exists():
        return key, json.loads(index.read_text(encoding="utf-8"))
    tmp = _plots_root() / f"{key}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    description = build_plots(study, design, tmp, language)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    for old in _plots_root().iterdir():  # keep the cache small: only the current set
        if old.name != key and _KEY.match(old.name):
            shutil.rmtree(old, ignore_errors=True)
    return key, description


@bp.route("/plots")
@roles_required(*RESEARCH_ROLES)
def plots():
    design, study = study_or_404()
    language = current_language()
    try:
        key, description = cached_plots(study, design, language)
    except ExportError as exc:
        return render_template("research/plots.html", key=None, charts=[], error=str(exc))
    title = localise(design.title, language) if design is not None else study.title
    return render_template(
        "research/plots.html", key=key, charts=description["charts"], error=None, title=title
    )


@bp.route("/plots/<key>/<name>.png")
@roles_required(*RESEARCH_ROLES)
def plot_image(key: str, name: str):
    if not _KEY.match(key) or not _NAME.match(name):
        abort(404)
    path = _plots_root() / key / f"{name}.png"
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/png", max_age=3600)


def chart_alt(chart: dict) -> str:
    if chart["kind"] == "rates":
        return _(
            "Bar chart of the completion rate (completed as a share of cards issued) for each "
            "school code and wave. The same numbers are in the table below."
        )
    return _(
        "Box plots of the %(title)s score: one group per wave, one box per arm, showing the "
        "median, quartiles and range. The same numbers are in the table below.",
        title=chart["title"],
    )


@bp.app_template_global("plot_alt")
def _plot_alt(chart: dict) -> str:
    return chart_alt(chart)
