"""Research area: the export form and download, the export log, the plots page and images."""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher
from flask import g

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))

from test_export_fixtures import build_study_in_db, questionnaire  # noqa: E402

from surveyapp.catalog import get_catalog  # noqa: E402
from surveyapp.extensions import db  # noqa: E402
from surveyapp.models import AuditEvent, ExportRecord, User  # noqa: E402
from surveyapp.study_sync import ensure_study  # noqa: E402

_CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def log_in(client, role: str) -> User:
    user = User(
        username=f"{role}1", password_hash=PasswordHasher().hash("long password!"), role=role
    )
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = user.get_id()
        s["_fresh"] = True
    g.pop("_login_user", None)  # the test's shared app context caches the previous user
    return user


@pytest.fixture
def world(app, monkeypatch):
    """The served study with two schools of pupils who answered the test questionnaire in both
    waves (the catalog's questionnaire is swapped for the test one, so the shipped one can
    change freely)."""
    q = questionnaire()
    design = get_catalog().study
    for wave in design.waves:
        monkeypatch.setitem(get_catalog().questionnaires, wave.questionnaire, q)
    monkeypatch.setitem(get_catalog().questionnaires, q.id, q)
    study = ensure_study(design)
    secrets = build_study_in_db(app, study, list(study.waves), q, n=12)
    return study, secrets


def token(client, url="/research/exports") -> str:
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, page.status_code
    return match.group(1) or match.group(2)


def form_data(client, **overrides):
    data = {
        "csrf_token": token(client),
        "formats": ["csv", "sav", "dta"],
        "language": "en",
        "time_resolution": "term",
        "k": "5",
    }
    data.update(overrides)
    return data


def test_only_researchers_and_admins_may_export(client, world):
    assert client.get("/research/exports").status_code in (302, 401)
    log_in(client, "teacher")
    assert client.get("/research/exports").status_code == 403
    assert client.post("/research/exports/download", data={}).status_code in (400, 403)
    assert db.session.execute(db.select(ExportRecord)).first() is None


def test_researcher_downloads_a_zip_and_the_export_is_logged(client, world):
    study, secrets = world
    user = log_in(client, "researcher")
    page = client.get("/research/exports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="free-text-warning"' in html and "Make and download" in html
    response = client.post("/research/exports/download", data=form_data(client, waves=["baseline"]))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "in_harmony_export.zip" in response.headers["Content-Disposition"]
    body = response.get_data()
    response.close()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = set(archive.namelist())
        assert {"in_harmony_export.csv", "in_harmony_export.sav", "in_harmony_export.dta",
                "codebook.html", "datapackage.json"} <= names  # fmt: skip
        frame = pd.read_csv(archive.open("in_harmony_export.csv"))
        everything = b"".join(archive.read(n) for n in names)
    assert len(frame) == 12 and set(frame["wave"]) == {"baseline"}
    for code in secrets["codes"]:
        assert code.encode() not in everything
    record = db.session.execute(db.select(ExportRecord)).scalar_one()
    assert record.user_id == user.id and record.row_count == 12
    assert record.options["waves"] == ["baseline"] and record.options["k"] == 5
    import hashlib

    assert record.sha256 == hashlib.sha256(body).hexdigest()
    assert db.session.execute(db.select(AuditEvent).filter_by(action="export")).scalar_one()
    # The temporary folder is gone once the download is closed.
    leftovers = list(Path(client.application.config["EXPORT_DIR"]).glob("export-*"))
    assert leftovers == []
    # The log lists it, and the page tells what small-cell protection did.
    log_page = client.get("/research/exports").get_data(as_text=True)
    assert record.sha256 in log_page and "researcher1" in log_page
    assert "Small-cell protection" in log_page


def test_free_text_export_warns(client, world):
    log_in(client, "researcher")
    response = client.post(
        "/research/exports/download", data=form_data(client, formats=["csv"], include_free_text="y")
    )
    assert response.status_code == 200
    response.close()
    page = client.get("/research/exports").get_data(as_text=True)
    assert "free-text answers" in page and "review them" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"k": "2"}, "k must be at least 5"),
        ({"k": "five"}, "Not a valid integer value"),
        ({"formats": []}, "Choose at least one format"),
        ({"formats": ["pdf"]}, "not a valid choice"),
        ({"waves": ["wave_9"]}, "not a valid choice"),
    ],
)
def test_bad_choices_are_refused_with_a_message(client, world, overrides, message):
    log_in(client, "researcher")
    response = client.post("/research/exports/download", data=form_data(client, **overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.execute(db.select(ExportRecord)).first() is None


def test_plots_page_shows_images_with_alt_text_and_tables(client, world):
    log_in(client, "researcher")
    page = client.get("/research/plots")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', html)
    names = {src.rsplit("/", 1)[-1] for src, _ in images}
    assert names == {"confidence_score.png", "wellbeing_score.png", "response_rates.png"}
    assert all(len(alt) > 40 for _, alt in images)
    assert html.count("<table") == 3 and "S01" in html and "Greenfield" not in html
    for src, _ in images:
        image = client.get(src)
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert image.get_data().startswith(b"\x89PNG")
    # Cached: the same key until the data change.
    assert client.get("/research/plots").get_data(as_text=True) == html
    assert client.get("/research/plots/0123456789abcdef01234567/x.png").status_code == 404
    assert client.get("/research/plots/../../etc/passwd.png").status_code == 404


def test_plots_need_a_researcher(client, world):
    log_in(client, "teacher")
    assert client.get("/research/plots").status_code == 403
