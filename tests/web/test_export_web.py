"""Research area: the export form and download, the export log, the plots page and images."""

from __future__ import annotations

import hashlib
import io
import re
import sys
import threading
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from argon2 import PasswordHasher
from flask import g

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))

from test_export_fixtures import serve_test_study  # noqa: E402

from surveyapp.catalog import get_catalog  # noqa: E402
from surveyapp.extensions import db  # noqa: E402
from surveyapp.models import AuditEvent, ExportRecord, User, utcnow  # noqa: E402

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
    study, secrets = serve_test_study(app, monkeypatch)
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


def queue(client, **overrides):
    return client.post("/research/exports", data=form_data(client, **overrides))


def only_record() -> ExportRecord:
    db.session.expire_all()
    return db.session.execute(db.select(ExportRecord)).scalar_one()


def test_only_researchers_and_admins_may_export(client, world):
    assert client.get("/research/exports").status_code in (302, 401)
    log_in(client, "teacher")
    assert client.get("/research/exports").status_code == 403
    assert client.post("/research/exports", data={}).status_code in (400, 403)
    assert client.get("/research/exports/status").status_code == 403
    assert client.get("/research/exports/1/download").status_code == 403
    assert db.session.execute(db.select(ExportRecord)).first() is None


def test_researcher_queues_an_export_then_downloads_it(client, world):
    study, secrets = world
    user = log_in(client, "researcher")
    page = client.get("/research/exports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="free-text-warning"' in html and "Make the export" in html
    assert "js/exports.js" in html
    reply = queue(client, waves=["baseline"])
    # The request only queues: a redirect to the log (the test app runs the job at once).
    assert reply.status_code == 303
    record = only_record()
    assert reply.headers["Location"].endswith(f"/research/exports#export-{record.id}")
    assert (record.status, record.error, record.user_id) == ("done", "", user.id)
    assert record.row_count == 12 and record.options["waves"] == ["baseline"]
    assert record.started_at <= record.finished_at
    stored = Path(client.application.config["EXPORT_DIR"]) / record.path
    assert stored.is_file() and stored.parent.name.startswith(f"export-{record.id}-")
    log_page = client.get("/research/exports").get_data(as_text=True)
    assert "Ready" in log_page and f"/research/exports/{record.id}/download" in log_page
    assert "Small-cell protection" in log_page and record.sha256 in log_page
    status = client.get("/research/exports/status").get_json()
    assert status["active"] is False
    (entry,) = status["exports"]
    assert entry["status"] == "done" and entry["rows"] == 12
    assert entry["download_url"] == f"/research/exports/{record.id}/download"

    response = client.get(entry["download_url"])
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "in_harmony_export.zip" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data()
    response.close()
    assert hashlib.sha256(body).hexdigest() == record.sha256
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = set(archive.namelist())
        assert {"in_harmony_export.csv", "in_harmony_export.sav", "in_harmony_export.dta",
                "codebook.html", "datapackage.json"} <= names  # fmt: skip
        frame = pd.read_csv(archive.open("in_harmony_export.csv"))
        everything = b"".join(archive.read(n) for n in names)
    assert len(frame) == 12 and set(frame["wave"]) == {"baseline"}
    for code in secrets["codes"]:
        assert code.encode() not in everything
    actions = db.session.execute(db.select(AuditEvent.action, AuditEvent.user_id)).all()
    assert ("export.queue", user.id) in actions and ("export.download", user.id) in actions
    assert ("export", user.id) in actions


def test_free_text_export_warns(client, world):
    log_in(client, "researcher")
    reply = queue(client, formats=["csv"], include_free_text="y")
    assert reply.status_code == 303
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "free-text answers" in page and "review them" in page
    # The log keeps the codebook's warning with the export, after the flash is gone.
    (entry,) = client.get("/research/exports/status").get_json()["exports"]
    assert "comment" in entry["warnings"][0] and "review them" in entry["warnings"][0]
    assert entry["warnings"][0] in client.get("/research/exports").get_data(as_text=True)


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
    response = queue(client, **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.execute(db.select(ExportRecord)).first() is None


def test_a_failed_export_shows_its_error(client, world, monkeypatch):
    log_in(client, "researcher")
    # The questionnaire the responses were given with is no longer loaded.
    monkeypatch.delitem(get_catalog().questionnaires, "export_test")
    assert queue(client).status_code == 303
    record = only_record()
    assert record.status == "failed" and "export_test" in record.error
    assert "questionnaire(s) not loaded" in record.error
    page = client.get("/research/exports").get_data(as_text=True)
    assert "Failed" in page and "questionnaire(s) not loaded: export_test" in page
    reply = client.get(f"/research/exports/{record.id}/download")
    assert reply.status_code == 303
    assert "failed" in client.get(reply.headers["Location"]).get_data(as_text=True)
    assert list(Path(client.application.config["EXPORT_DIR"]).glob(f"export-{record.id}-*")) == []


def test_an_unwritable_export_folder_fails_with_a_message_not_a_500(
    client, world, tmp_path, monkeypatch
):
    log_in(client, "researcher")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the export folder should be")
    monkeypatch.setitem(client.application.config, "EXPORT_DIR", str(blocked))
    assert queue(client).status_code == 303
    record = only_record()
    assert record.status == "failed" and "could not be written" in record.error
    assert client.get("/research/exports").status_code == 200


def test_an_export_left_running_by_a_dead_process_is_marked_failed(client, world):
    user = log_in(client, "researcher")
    long_ago = utcnow() - timedelta(minutes=10)
    for status in ("running", "queued"):
        db.session.add(
            ExportRecord(
                user_id=user.id, study_key="in_harmony", options={"formats": ["csv"], "k": 5},
                status=status, at=long_ago, started_at=long_ago, heartbeat_at=long_ago,
            )
        )  # fmt: skip
    alive = ExportRecord(
        user_id=user.id, study_key="in_harmony", options={"formats": ["csv"], "k": 5},
        status="running", at=utcnow(), heartbeat_at=utcnow(),
    )  # fmt: skip
    db.session.add(alive)
    db.session.commit()
    page = client.get("/research/exports").get_data(as_text=True)
    assert page.count("server process running it ended") == 2
    statuses = sorted(r.status for r in db.session.execute(db.select(ExportRecord)).scalars())
    assert statuses == ["failed", "failed", "running"]
    assert db.session.get(ExportRecord, alive.id).status == "running"
    assert "Refresh the log" in page  # one is still being made


def test_files_are_deleted_after_the_retention_period(client, world):
    log_in(client, "researcher")
    queue(client, formats=["csv"])
    old = only_record()
    stored = Path(client.application.config["EXPORT_DIR"]) / old.path
    assert stored.is_file()
    old.finished_at = utcnow() - timedelta(hours=25)  # the default retention is 24 hours
    db.session.commit()
    queue(client, formats=["csv"])  # queueing runs the clean-up
    db.session.expire_all()
    old = db.session.get(ExportRecord, old.id)
    assert old.status == "expired" and old.path == "" and not stored.parent.exists()
    records = db.session.execute(db.select(ExportRecord).order_by(ExportRecord.id)).scalars()
    assert [r.status for r in records] == ["expired", "done"]
    page = client.get("/research/exports").get_data(as_text=True)
    assert "Deleted (files are kept for 24 hours)" in page
    reply = client.get(f"/research/exports/{old.id}/download")
    assert reply.status_code == 303
    assert "have been deleted" in client.get("/research/exports").get_data(as_text=True)
    assert client.get("/research/exports/999/download").status_code == 303


def wait_until(condition, seconds: float = 120):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_the_background_worker_makes_the_export_while_the_log_is_polled(client, world, monkeypatch):
    import surveyapp.export_jobs as export_jobs

    app = client.application
    log_in(client, "researcher")
    # The worker waits for this before it starts, so the test sees the request return first.
    go, threads = threading.Event(), []
    real_job = export_jobs.run_export_job

    def held_job(record_id):
        threads.append(threading.current_thread().name)
        assert go.wait(60)
        real_job(record_id)

    monkeypatch.setattr(export_jobs, "run_export_job", held_job)
    monkeypatch.setitem(app.config, "EXPORT_RUN_INLINE", False)
    monkeypatch.setitem(app.config, "EXPORT_HEARTBEAT_SECONDS", 0.1)
    try:
        reply = queue(client, formats=["csv", "xlsx"])
        assert reply.status_code == 303
        record = only_record()
        assert record.status == "queued"
        queued_beat = record.heartbeat_at
        # The page offers a plain reload link and the script while the export waits.
        page = client.get("/research/exports").get_data(as_text=True)
        assert "Refresh the log" in page and 'data-status="queued"' in page
        # The worker's heartbeat thread keeps the waiting export alive.
        wait_until(lambda: only_record().heartbeat_at > queued_beat)
        go.set()
        statuses = []

        def finished() -> bool:
            (entry,) = client.get("/research/exports/status").get_json()["exports"]
            statuses.append(entry["status"])
            return entry["status"] not in ("queued", "running")

        wait_until(finished)
        assert statuses[-1] == "done" and set(statuses) <= {"queued", "running", "done"}
        assert threads == ["export-worker"]
        record = only_record()
        assert record.row_count == 24 and record.error == ""
        entry = client.get("/research/exports/status").get_json()["exports"][0]
        download = client.get(entry["download_url"])
        assert download.status_code == 200
        assert hashlib.sha256(download.get_data()).hexdigest() == record.sha256
        download.close()
    finally:
        go.set()
        worker = app.extensions.pop("export_worker", None)
        if worker is not None:
            worker.stop()


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
    # (The header's CSRF token carries a timestamp, so compare the pages without it.)
    def without_csrf(text: str) -> str:
        return re.sub(r'name="csrf_token" value="[^"]*"', "", text)

    again = client.get("/research/plots").get_data(as_text=True)
    assert without_csrf(again) == without_csrf(html)
    assert client.get("/research/plots/0123456789abcdef01234567/x.png").status_code == 404
    assert client.get("/research/plots/../../etc/passwd.png").status_code == 404


def test_plots_need_a_researcher(client, world):
    log_in(client, "teacher")
    assert client.get("/research/plots").status_code == 403
