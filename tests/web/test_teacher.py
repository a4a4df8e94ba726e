"""Teacher's area through the test client: issue -> print -> scan -> complete -> progress,
replace and revoke, and every school boundary (403/404 and nothing of the other school shown).
"""

from __future__ import annotations

from datetime import date

import pytest

from surveyapp.catalog import get_catalog
from surveyapp.codes import CodeState, resolve_code
from surveyapp.extensions import db
from surveyapp.models import Answer, Participant
from surveyapp.participants import live_code
from surveyapp.study.terms import term_of
from tests.builders import csrf_token, login
from tests.web.test_auth_support import (  # noqa: F401 - world_fixture is a fixture
    BATCH,
    codes_on_sheet,
    finish,
    issue_sheet,
    post,
    world_fixture,
)

# What school B's pages would show; none of it may reach school A's teacher.
B_MARKERS = ("Zeta Academy", "ZZ9", "teacher.b")


def _scan(app, code: str):
    """A pupil's tablet opening the card's link; the pupil flow lands in the survey."""
    tablet = app.test_client()
    if "pupil.scan" in app.view_functions:
        response = tablet.get(f"/s/{code}")
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response
    state, access = resolve_code(code)  # until the pupil flow is in place
    assert state in (CodeState.ISSUED, CodeState.STARTED) and access is not None
    return None


def _participant_for(code: str) -> Participant:
    state, access = resolve_code(code)
    assert access is not None, state
    return access.participant


@pytest.fixture
def teacher(client, world):
    assert login(client, "teacher.a").status_code == 302
    return client


def test_issue_print_scan_complete_and_the_teacher_sees_it(app, teacher, world):
    sheet = issue_sheet(teacher, world, 2)
    assert sheet.status_code == 200
    assert "no-store" in sheet.headers["Cache-Control"]
    html = sheet.get_data(as_text=True)
    codes = codes_on_sheet(html)
    assert len(codes) == 2
    assert "5B-04" in html and "5B-05" in html  # after the 3 cards of the fixture
    assert html.count('<svg version="1.1" viewBox=') == 2
    assert html.count("Name:") == 2
    assert "Baseline" in html
    for code in codes:
        assert f"http://localhost:5000/s/{code.replace('-', '')}" in html

    first = codes[0]
    _scan(app, first)
    participant = _participant_for(first)
    progress_url = f"/teacher/classes/{world.class_a.id}/waves/{world.baseline.id}/progress.json"
    rows = {r["label"]: r for r in teacher.get(progress_url).get_json()["participants"]}
    if "pupil.scan" in app.view_functions:
        assert rows["5B-04"]["state"] == "in_progress"
    else:
        assert rows["5B-04"]["state"] == "not_started"
    finish(participant.id, world.baseline, pages=7)
    db.session.commit()

    data = teacher.get(progress_url).get_json()
    rows = {r["label"]: r for r in data["participants"]}
    assert rows["5B-04"]["state"] == "completed"
    assert rows["5B-04"]["state_label"] == "completed"
    assert rows["5B-04"]["percent"] == 100
    assert rows["5B-05"]["state"] == "not_started"
    assert data["counts"]["completed"] == 1 and data["counts"]["not_started"] == 4
    assert data["with_card"] == 5
    page = teacher.get(f"/teacher/classes/{world.class_a.id}/waves/{world.baseline.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-state="completed"' in text
    assert "js/progress.js" in text and "Refresh" in text
    assert resolve_code(first)[0] == CodeState.COMPLETED


def test_progress_shows_states_and_page_counts_but_never_answers(teacher, world):
    participant = _participant_for(world.cards_a[0].code)
    response = finish(participant.id, world.baseline, pages=8, completed=False)
    db.session.add(Answer(response_id=response.id, question_id="q_secret", value="my dog Rex"))
    db.session.commit()
    json_url = f"/teacher/classes/{world.class_a.id}/waves/{world.baseline.id}/progress.json"
    data = teacher.get(json_url).get_json()
    row = next(r for r in data["participants"] if r["label"] == "5B-01")
    assert row["state"] == "in_progress" and (row["pages_done"], row["pages_total"]) == (4, 8)
    assert set(row) == {
        "participant_id",
        "label",
        "number",
        "state",
        "state_label",
        "pages_done",
        "pages_total",
        "percent",
        "can_replace",
        "can_revoke",
    }
    for url in (json_url, f"/teacher/classes/{world.class_a.id}/waves/{world.baseline.id}"):
        body = teacher.get(url).get_data(as_text=True)
        assert "Rex" not in body and "q_secret" not in body


def test_reloading_the_printed_sheet_does_not_issue_twice(teacher, world):
    url = f"/teacher/classes/{world.class_a.id}/waves/{world.baseline.id}/issue"
    html = teacher.get(url).get_data(as_text=True)
    data = {
        "count": "2",
        "batch": BATCH.search(html).group(1),
        "csrf_token": csrf_token(teacher, url),
    }
    assert teacher.post(url, data=data).status_code == 200
    again = teacher.post(url, data=data, follow_redirects=True)
    assert "were issued already" in again.get_data(as_text=True)
    assert len(world.class_a.participants) == 5


def test_bad_card_counts_get_a_message(teacher, world):
    for count in ("0", "abc", "500", ""):
        response = issue_sheet(teacher, world, count)  # type: ignore[arg-type]
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "card-code" not in body
        assert "Choose between 1 and 100 cards." in body or "Enter how many" in body


def test_no_cards_for_a_wave_that_is_not_open(teacher, world):
    url = f"/teacher/classes/{world.class_a.id}/waves/{world.followup.id}/issue"
    page = teacher.get(url)
    assert "This wave is not open" in page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert 'name="batch"' not in html
    response = post(teacher, url, {"count": "2", "batch": "x"})
    assert response.status_code == 200
    assert "has not been opened yet" in response.get_data(as_text=True)
    assert "card-code" not in response.get_data(as_text=True)


def test_replace_prints_one_new_card_and_keeps_the_answers(teacher, world):
    old_code = world.cards_a[0].code
    participant = _participant_for(old_code)
    response = finish(participant.id, world.baseline, completed=False)
    db.session.add(Answer(response_id=response.id, question_id="q1", value=3))
    db.session.commit()
    sheet = post(
        teacher, f"/teacher/participants/{participant.id}/waves/{world.baseline.id}/replace"
    )
    assert sheet.status_code == 200
    (new_code,) = codes_on_sheet(sheet.get_data(as_text=True))
    assert resolve_code(old_code)[0] == CodeState.REPLACED
    state, access = resolve_code(new_code)
    assert state == CodeState.STARTED and access.participant_id == participant.id
    assert [a.question_id for a in response.answers] == ["q1"]


def test_reprint_chosen_pupils_after_a_printer_jam(teacher, world):
    ids = [c.participant_id for c in world.cards_a[:2]]
    url = f"/teacher/classes/{world.class_a.id}/waves/{world.baseline.id}/reprint"
    sheet = post(teacher, url, {"participants": ids})
    assert sheet.status_code == 200
    codes = codes_on_sheet(sheet.get_data(as_text=True))
    assert len(codes) == 2
    assert {resolve_code(c)[1].participant_id for c in codes} == set(ids)
    for card in world.cards_a[:2]:
        assert resolve_code(card.code)[0] == CodeState.REPLACED
    assert resolve_code(world.cards_a[2].code)[0] == CodeState.ISSUED
    # Another school's pupil cannot be slipped into the list.
    sneaky = post(teacher, url, {"participants": [world.cards_b[0].participant_id]})
    assert sneaky.status_code == 302
    assert resolve_code(world.cards_b[0].code)[0] == CodeState.ISSUED


def test_revoke_from_the_progress_page(app, teacher, world):
    card = world.cards_a[1]
    participant = _participant_for(card.code)
    response = post(
        teacher,
        f"/teacher/participants/{participant.id}/waves/{world.baseline.id}/revoke",
        follow_redirects=True,
    )
    assert "no longer works" in response.get_data(as_text=True)
    assert resolve_code(card.code)[0] == CodeState.REVOKED
    if "pupil.scan" in app.view_functions:
        refused = app.test_client().get(f"/s/{card.code}")
        assert refused.status_code == 200 and "card-code" not in refused.get_data(as_text=True)
        assert live_code(participant, world.baseline) is None


def test_expired_codes_are_refused_after_the_wave_closes(app, teacher, world):
    world.baseline.state = "closed"
    db.session.commit()
    assert resolve_code(world.cards_a[0].code)[0] == CodeState.EXPIRED
    if "pupil.scan" in app.view_functions:
        refused = app.test_client().get(f"/s/{world.cards_a[0].code}")
        assert refused.status_code != 302
    data = teacher.get(
        f"/teacher/classes/{world.class_a.id}/waves/{world.baseline.id}/progress.json"
    ).get_json()
    assert data["counts"]["expired"] == 3


def test_leave_return_and_move_from_the_class_page(teacher, world):
    participant = _participant_for(world.cards_a[0].code)
    page = f"/teacher/classes/{world.class_a.id}"
    left = post(teacher, f"/teacher/participants/{participant.id}/left", follow_redirects=True)
    assert "is marked as left" in left.get_data(as_text=True)
    assert participant.left_at is not None
    back = post(teacher, f"/teacher/participants/{participant.id}/returned", follow_redirects=True)
    assert "is back" in back.get_data(as_text=True)
    moved = post(
        teacher,
        f"/teacher/participants/{participant.id}/move",
        {"class_id": str(world.class_a2.id)},
        follow_redirects=True,
    )
    assert "is now in 6C" in moved.get_data(as_text=True)
    assert participant.class_id == world.class_a2.id and participant.label == "5B-01"
    refused = post(
        teacher,
        f"/teacher/participants/{participant.id}/move",
        {"class_id": str(world.class_b.id)},
        follow_redirects=True,
    )
    assert "Choose one of this school" in refused.get_data(as_text=True)
    assert participant.class_id == world.class_a2.id
    assert teacher.get(page).status_code == 200


# --- boundaries ----------------------------------------------------------------------------


def _teacher_rules(app):
    return [
        r for r in app.url_map.iter_rules() if r.endpoint.startswith("teacher.") and r.arguments
    ]


def _args(rule, world, school_row, class_row, participant_id):
    term = term_of(get_catalog().study.waves[0].opens or date(2026, 10, 1))
    values = {
        "school_id": school_row.id,
        "class_id": class_row.id,
        "participant_id": participant_id,
        "wave_id": world.baseline.id,
        "term": term,
    }
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.rule}: teach this test the argument(s) {missing}"
    return {name: values[name] for name in rule.arguments}


def test_every_teacher_url_of_another_school_is_refused_and_shows_nothing(app, teacher, world):
    rules = _teacher_rules(app)
    assert {r.endpoint for r in rules} >= {
        "teacher.class_detail",
        "teacher.issue",
        "teacher.progress",
        "teacher.progress_json",
        "teacher.replace",
        "teacher.revoke",
        "teacher.reprint",
        "teacher.left",
        "teacher.move",
    }
    token = csrf_token(teacher, "/teacher/")
    before = {c.code: resolve_code(c.code)[0] for c in world.cards_b}
    checked = 0
    for rule in rules:
        with app.test_request_context():
            from flask import url_for

            url = url_for(
                rule.endpoint,
                **_args(
                    rule, world, world.school_b, world.class_b, world.cards_b[0].participant_id
                ),
            )
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = teacher.get(url)
            else:
                response = teacher.post(
                    url,
                    data={
                        "csrf_token": token,
                        "count": "2",
                        "batch": "b",
                        "class_id": str(world.class_b.id),
                        "participants": [world.cards_b[0].participant_id],
                    },
                )
            assert response.status_code in (403, 404), (method, url, response.status_code)
            body = response.get_data(as_text=True)
            for marker in B_MARKERS:
                assert marker not in body, (method, url, marker)
            checked += 1
    assert checked >= 12
    # Nothing of school B changed.
    assert {c.code: resolve_code(c.code)[0] for c in world.cards_b} == before
    assert len(world.class_b.participants) == 3


def test_the_same_urls_work_for_their_own_school(app, teacher, world):
    """So the 404s above are about the boundary, not about broken URLs."""
    for rule in _teacher_rules(app):
        if "GET" not in rule.methods:
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(
                rule.endpoint,
                **_args(
                    rule, world, world.school_a, world.class_a, world.cards_a[0].participant_id
                ),
            )
        assert teacher.get(url).status_code == 200, url


def test_teacher_overview_lists_only_their_schools(teacher, world):
    for url in ("/teacher/", f"/teacher/classes/{world.class_a.id}"):
        body = teacher.get(url).get_data(as_text=True)
        assert "Alpha Primary" in body or "5B" in body
        for marker in B_MARKERS:
            assert marker not in body, (url, marker)


def test_a_wave_of_another_study_is_not_found(teacher, world):
    missing = f"/teacher/classes/{world.class_a.id}/waves/999999"
    assert teacher.get(missing).status_code == 404
    assert teacher.get(missing + "/progress.json").status_code == 404


def test_teachers_cannot_open_admin_or_research_pages(app, teacher, world):
    token = csrf_token(teacher, "/teacher/")
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("admin.", "research.")):
            continue
        args = {name: world.baseline.id if name == "wave_id" else 1 for name in rule.arguments}
        if "action" in args:
            args["action"] = "close"
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":
                response = teacher.get(url)
            else:
                response = teacher.post(url, data={"csrf_token": token})
            assert response.status_code in (403, 404), (method, url, response.status_code)
            for marker in B_MARKERS:
                assert marker not in response.get_data(as_text=True)
            checked += 1
    assert checked >= 15
    assert world.baseline.state == "open"  # the wave-closing POST did nothing


def test_researchers_and_admins_see_every_school(client, world):
    login(client, "researcher")
    body = client.get("/teacher/").get_data(as_text=True)
    assert "Alpha Primary" in body and "Zeta Academy" in body
    assert client.get(f"/teacher/classes/{world.class_b.id}").status_code == 200
