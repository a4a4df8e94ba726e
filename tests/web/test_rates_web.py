"""Research area: response rates per wave and arm, school and class; the allocation log CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from argon2 import PasswordHasher
from flask import g

from surveyapp.catalog import get_catalog
from surveyapp.codes import generate_code, hash_code
from surveyapp.cohorts import allocate_participant
from surveyapp.extensions import db
from surveyapp.models import (
    AccessCode,
    AuditEvent,
    Participant,
    Response,
    School,
    SchoolClass,
    User,
)
from surveyapp.study_sync import sync_study
from surveyapp.waves import find_wave


def log_in(client, role: str) -> None:
    user = User(username=role, password_hash=PasswordHasher().hash("long password!"), role=role)
    db.session.add(user)
    db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = user.get_id()
        s["_fresh"] = True
    g.pop("_login_user", None)  # the test's shared app context caches the previous user


@pytest.fixture
def data(app):
    """Two schools, three classes, pupils in every state for the baseline wave."""
    study = sync_study(get_catalog().study)
    baseline = find_wave(study, "baseline")
    hill = School(study=study, name="Hill Primary", code="S01", arm="in_harmony")
    vale = School(study=study, name="Vale Primary", code="S02", arm="comparison")
    classes = {
        "5A": SchoolClass(school=hill, name="5A", code="S01-C01"),
        "5B": SchoolClass(school=hill, name="5B", code="S01-C02"),
        "6C": SchoolClass(school=vale, name="6C", code="S02-C01"),
    }
    db.session.add_all([hill, vale, *classes.values()])
    plan = {
        "5A": ["completed", "completed", "started", "issued"],
        "5B": ["completed"],
        "6C": ["issued", "completed"],
    }
    number = 0
    for name, states in plan.items():
        for state in states:
            number += 1
            p = Participant(
                school=classes[name].school,
                school_class=classes[name],
                number=number,
                label=f"{name}-{number:02d}",
            )
            allocate_participant(p)
            db.session.add(p)
            db.session.add(
                AccessCode(code_hash=hash_code(generate_code(), "k"), participant=p, wave=baseline)
            )
            if state != "issued":
                db.session.add(
                    Response(
                        participant=p,
                        wave=baseline,
                        arm=p.arm,
                        questionnaire_id="ih_pupil",
                        questionnaire_version="v",
                        completed_at=datetime(2026, 10, 2) if state == "completed" else None,
                    )
                )
    db.session.commit()
    return study


def cells(html: str, row_header: str) -> list[str]:
    """The data cells of the table row whose header contains ``row_header``."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S):
        header = re.search(r"<th[^>]*>(.*?)</th>", row, flags=re.S)
        if header and row_header in header.group(1):
            return [
                re.sub(r"<[^>]+>", "", c).strip()
                for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            ]
    raise AssertionError(f"no row for {row_header!r}")


def test_dashboard_counts_per_wave_and_arm(client, data):
    log_in(client, "researcher")
    html = client.get("/research/").get_data(as_text=True)
    # Hill (In Harmony): 5 cards, 4 started, 3 completed; Vale (comparison): 2, 1, 1.
    baseline = html.split("Follow-up 1")[0]
    assert cells(baseline, "In Harmony schools") == ["5", "4", "3", "60%"]
    assert cells(baseline, "Comparison schools") == ["2", "1", "1", "50%"]
    assert cells(baseline, "All arms") == ["7", "5", "4", "57%"]
    followup = html.split("Follow-up 1", 1)[1]
    assert cells(followup, "In Harmony schools") == ["0", "0", "0", "n/a"]


def test_rates_per_school_and_class(client, data):
    log_in(client, "researcher")
    page = client.get("/research/rates?wave=baseline")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    by_school, by_class = html.split("By class")
    assert cells(by_school, "Hill Primary") == ["In Harmony schools", "5", "4", "3", "60%"]
    assert cells(by_school, "Vale Primary") == ["Comparison schools", "2", "1", "1", "50%"]
    assert cells(by_class, "5A") == ["Hill Primary", "In Harmony schools", "4", "3", "2", "50%"]
    assert cells(by_class, "5B") == ["Hill Primary", "In Harmony schools", "1", "1", "1", "100%"]
    assert cells(by_class, "6C") == ["Vale Primary", "Comparison schools", "2", "1", "1", "50%"]
    empty = client.get("/research/rates?wave=followup_1").get_data(as_text=True)
    assert "No cards have been issued for this wave yet." in empty
    assert client.get("/research/rates?wave=nope").status_code == 404


def test_allocation_log_download(client, data):
    """By school, the school arms are written to the log when it is read (once)."""
    log_in(client, "researcher")
    client.get("/research/allocation-log.csv")
    response = client.get("/research/allocation-log.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {(r["unit"], r["arm"]) for r in rows} == {("S01", "in_harmony"), ("S02", "comparison")}
    events = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [(e.action, e.detail["rows"]) for e in events] == [
        ("export.allocation_log", 2),
        ("export.allocation_log", 2),
    ]


def test_teachers_cannot_see_rates(client, data):
    log_in(client, "teacher")
    assert client.get("/research/rates").status_code == 403
    assert client.get("/research/allocation-log.csv").status_code == 403
