"""Research area: the dashboard and opening, closing and reopening waves in the browser UI."""

from __future__ import annotations

import pytest

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Wave
from tests.builders import add_school, add_user, csrf_from, log_in, shipped_study


@pytest.fixture
def study(app):
    study = shipped_study()
    db.session.commit()
    return study


@pytest.fixture
def researcher(client, study):
    user = add_user("researcher", "researcher")
    log_in(client, user)
    return user


def wave(key: str) -> Wave:
    db.session.expire_all()
    return db.session.execute(db.select(Wave).filter_by(key=key)).scalar_one()


def test_research_pages_need_a_researcher_or_admin(client, study):
    assert client.get("/research/").status_code in (302, 401)
    school = add_school(study, "S01", "in_harmony", name="Hill")
    log_in(client, add_user("teacher", "teacher", [school]))
    for url in ("/research/", "/research/waves", "/research/rates", "/research/allocation-log.csv"):
        assert client.get(url).status_code == 403, url
    target = wave("baseline")
    response = client.post(f"/research/waves/{target.id}/open", data={})
    assert response.status_code in (400, 403)
    assert wave("baseline").state == "draft"


def test_dashboard_shows_every_wave_and_arm(client, researcher):
    page = client.get("/research/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("Baseline", "Follow-up 1", "In Harmony schools", "Comparison schools"):
        assert text in html
    assert 'href="/research/allocation-log.csv"' in html
    assert 'href="/research/provision"' in html
    assert 'href="/research/rates?wave=baseline"' in html


def test_dashboard_links_exports_and_plots_only_when_they_exist(client, researcher, app):
    html = client.get("/research/").get_data(as_text=True)
    assert ("research.exports" in app.view_functions) == ('href="/research/exports' in html)
    assert ("research.plots" in app.view_functions) == ('href="/research/plots' in html)


def test_open_close_reopen_a_wave(client, researcher):
    page = client.get("/research/waves")
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    baseline = wave("baseline")

    opened = client.post(
        f"/research/waves/{baseline.id}/open", data={"csrf_token": token}, follow_redirects=True
    )
    assert opened.status_code == 200
    assert "is open: cards can be issued" in opened.get_data(as_text=True)
    assert wave("baseline").state == "open"

    closed = client.post(
        f"/research/waves/{baseline.id}/close", data={"csrf_token": token}, follow_redirects=True
    )
    assert "unused codes have expired" in closed.get_data(as_text=True)
    assert wave("baseline").state == "closed"

    again = client.post(
        f"/research/waves/{baseline.id}/close", data={"csrf_token": token}, follow_redirects=True
    )
    assert again.status_code == 200
    assert "already closed" in again.get_data(as_text=True)

    reopened = client.post(
        f"/research/waves/{baseline.id}/reopen", data={"csrf_token": token}, follow_redirects=True
    )
    assert "open again" in reopened.get_data(as_text=True)
    assert wave("baseline").state == "open"
    events = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [(e.action, e.user_id) for e in events] == [
        ("wave.open", researcher.id),
        ("wave.close", researcher.id),
        ("wave.reopen", researcher.id),
    ]


def test_bad_wave_actions_are_refused_clearly(client, researcher):
    token = csrf_from(client.get("/research/waves").get_data(as_text=True))
    baseline = wave("baseline")
    unknown = client.post(
        f"/research/waves/{baseline.id}/delete", data={"csrf_token": token}, follow_redirects=True
    )
    assert unknown.status_code == 200 and "Unknown action" in unknown.get_data(as_text=True)
    assert client.post("/research/waves/999999/open", data={"csrf_token": token}).status_code == 404
    no_token = client.post(f"/research/waves/{baseline.id}/open", data={})
    assert no_token.status_code == 400
    assert wave("baseline").state == "draft"


def test_admins_may_manage_waves_too(client, study):
    log_in(client, add_user("admin", "admin"))
    token = csrf_from(client.get("/research/waves").get_data(as_text=True))
    baseline = wave("baseline")
    client.post(f"/research/waves/{baseline.id}/open", data={"csrf_token": token})
    assert wave("baseline").state == "open"
