"""The teacher's progress page in real headless Chromium: a pupil's new state shows up in
the row and the counts without a reload (the page polls progress.json through
static/js/live.js, shared with the export log)."""

from __future__ import annotations

import pytest

from surveyapp.codes import resolve_code
from surveyapp.extensions import db
from tests.builders import log_in_browser
from tests.web.test_auth_support import finish
from tests.web.test_auth_support import world_fixture as world  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


def test_a_finished_pupil_shows_as_completed_without_a_reload(browser, live_server, world):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    log_in_browser(page, live_server, "teacher.a")
    page.goto(f"{live_server}/teacher/classes/{world.class_a.id}/waves/{world.baseline.id}")
    assert page.locator("#live-note").is_visible()  # the script runs: it shows the note

    _, access = resolve_code(world.cards_a[0].code)
    row = page.locator(f'tr[data-participant="{access.participant_id}"]')
    assert row.get_attribute("data-state") == "not_started"
    finish(access.participant_id, world.baseline, pages=7)
    db.session.commit()

    # No reload: the poll (every 5 s) updates the row and the count.
    page.wait_for_function(
        'id => document.querySelector(`tr[data-participant="${id}"]`)'
        ".getAttribute('data-state') === 'completed'",
        arg=access.participant_id,
        timeout=15000,
    )
    assert page.locator('#counts [data-count="completed"]').text_content() == "1"
    context.close()
