"""Helpers for the staff-area tests (card sheets, posting as a logged-in user). No tests here.

The world these tests share is :func:`tests.builders.staff_world`; importing
``world_fixture`` into a test module gives its tests the ``world`` fixture. Import as
``from tests.web.test_auth_support import ...``; the general builders (login, CSRF tokens,
users, schools) are in :mod:`tests.builders`.
"""

from __future__ import annotations

import re

import pytest

from surveyapp.extensions import db
from surveyapp.models import Response, Wave, utcnow
from tests.builders import StaffWorld, add_response, csrf_from, csrf_token, staff_world

BATCH = re.compile(r'name="batch"[^>]*value="([^"]+)"')
_CODE_ON_CARD = re.compile(r'<p class="card-code">([A-Z0-9]{4}-[A-Z0-9]{4})</p>')


def post(client, url: str, data: dict | None = None, token_from: str = "/teacher/", **kwargs):
    """POST with the session's CSRF token (taken from a page the user may see)."""
    payload = {"csrf_token": csrf_token(client, token_from)}
    payload.update(data or {})
    return client.post(url, data=payload, **kwargs)


def issue_sheet(client, world: StaffWorld, count: int, class_row=None, wave_row=None):
    """Issue ``count`` cards through the teacher's form; the reply is the card sheet."""
    class_row = class_row or world.class_a
    wave_row = wave_row or world.baseline
    url = f"/teacher/classes/{class_row.id}/waves/{wave_row.id}/issue"
    form = client.get(url)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    batch = BATCH.search(html).group(1)
    return client.post(
        url, data={"count": str(count), "batch": batch, "csrf_token": csrf_from(html)}
    )


def codes_on_sheet(html: str) -> list[str]:
    return _CODE_ON_CARD.findall(html)


def finish(participant_id: str, wave_row: Wave, pages: int = 6, completed: bool = True) -> Response:
    """What the pupil flow stores when a pupil works through the survey (state only)."""
    response = db.session.execute(
        db.select(Response).filter_by(participant_id=participant_id, wave_id=wave_row.id)
    ).scalar_one_or_none()
    if response is None:
        response = add_response(participant_id, wave_row, pages=pages)
    response.pages_done = pages if completed else max(1, pages // 2)
    response.completed_at = utcnow() if completed else None
    db.session.flush()
    return response


@pytest.fixture(name="world")
def world_fixture(app) -> StaffWorld:
    return staff_world()
