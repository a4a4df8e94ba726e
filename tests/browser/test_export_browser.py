"""The export log in real headless Chromium: a queued export turns into a download link
without a reload (the page polls the status endpoint); without JavaScript the page offers a
plain reload link instead."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from surveyapp.extensions import db
from tests.builders import add_user, log_in_browser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from test_export_fixtures import serve_test_study  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture
def world(app, monkeypatch):
    study, _ = serve_test_study(app, monkeypatch)
    add_user("researcher.browser", "researcher")
    db.session.commit()
    return study


@pytest.fixture
def held_worker(app, monkeypatch):
    """Background exports whose worker waits for ``go`` before it starts."""
    import surveyapp.export_jobs as export_jobs

    go = threading.Event()
    real_job = export_jobs.run_export_job

    def held_job(record_id):
        go.wait(60)
        real_job(record_id)

    monkeypatch.setattr(export_jobs, "run_export_job", held_job)
    monkeypatch.setitem(app.config, "EXPORT_RUN_INLINE", False)
    yield go
    go.set()
    worker = app.extensions.pop("export_worker", None)
    if worker is not None:
        worker.stop()


def _log_in_and_queue(page, live_server: str) -> None:
    log_in_browser(page, live_server, "researcher.browser")
    page.goto(f"{live_server}/research/exports")
    with page.expect_navigation():
        page.click("form.export-form button[type=submit]")


def test_the_log_shows_the_download_when_the_export_is_done(
    browser, live_server, world, held_worker
):
    context = browser.new_context()
    page = context.new_page()
    _log_in_and_queue(page, live_server)
    row = page.locator("tr[data-export]").first
    assert row.get_attribute("data-status") == "queued"
    assert row.locator('[data-field="status"]').inner_text() == "Waiting"
    assert not row.locator('[data-field="download"]').is_visible()
    assert page.locator("#export-live").is_visible()
    held_worker.set()
    # No reload: the script polls the status endpoint and fills the row in.
    row.locator('[data-field="download"]').wait_for(state="visible", timeout=60_000)
    assert row.get_attribute("data-status") == "done"
    assert row.locator('[data-field="status"]').inner_text() == "Ready"
    assert row.locator('[data-field="rows"]').inner_text() == "24"
    assert not page.locator("#export-refresh").is_visible()
    with page.expect_download() as download:
        row.locator('[data-field="download"]').click()
    assert download.value.suggested_filename == "in_harmony_export.zip"
    context.close()


def test_without_javascript_the_log_offers_a_reload_link(browser, live_server, world, held_worker):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _log_in_and_queue(page, live_server)
    assert page.locator("#export-refresh").is_visible()
    assert not page.locator("#export-live").is_visible()
    held_worker.set()
    row = page.locator("tr[data-export]").first
    for _ in range(600):  # a person pressing "Refresh the log" now and then
        if row.get_attribute("data-status") == "done":
            break
        page.wait_for_timeout(100)
        with page.expect_navigation():
            page.click("#export-refresh a")
        row = page.locator("tr[data-export]").first
    assert row.get_attribute("data-status") == "done"
    assert row.locator('[data-field="download"]').is_visible()
    context.close()


def test_the_export_page_passes_axe(browser, live_server, world, held_worker, axe_source):
    # axe is injected as an inline script, which the page's CSP rightly forbids.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    _log_in_and_queue(page, live_server)
    held_worker.set()
    page.locator('tr[data-export] [data-field="download"]').wait_for(
        state="visible", timeout=60_000
    )
    page.add_script_tag(content=axe_source)
    violations = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})); }"
    )
    assert [v for v in violations if v["impact"] in ("serious", "critical")] == []
    context.close()
