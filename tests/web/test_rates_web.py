"""Research area: response rates per wave and arm, school and class; the allocation log CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest

from surveyapp.extensions import db
from surveyapp.models import AuditEvent
from surveyapp.waves import find_wave
from tests.builders import (
    add_class,
    add_code,
    add_pupil,
    add_response,
    add_school,
    add_user,
    log_in,
    shipped_study,
)


def log_in_as(client, role: str) -> None:
    log_in(client, add_user(role, role))


@pytest.fixture
def data(app):
    """Two schools, three classes, pupils in every state for the baseline wave."""
    study = shipped_study()
    baseline = find_wave(study, "baseline")
    hill = add_school(study, "S01", "in_harmony", name="Hill Primary")
    vale = add_school(study, "S02", "comparison", name="Vale Primary")
    classes = {
        "5A": add_class(hill, "5A", code="S01-C01", year_group=None),
        "5B": add_class(hill, "5B", code="S01-C02", year_group=None),
        "6C": add_class(vale, "6C", code="S02-C01", year_group=None),
    }
    plan = {
        "5A": ["completed", "completed", "started", "issued"],
        "5B": ["completed"],
        "6C": ["issued", "completed"],
    }
    number = 0
    for name, states in plan.items():
        for state in states:
            number += 1
            pupil = add_pupil(classes[name], number, allocate=True)
            add_code(pupil, baseline)
            if state != "issued":
                completed_at = datetime(2026, 10, 2) if state == "completed" else None
                add_response(pupil, baseline, completed_at=completed_at, version="v")
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
    log_in_as(client, "researcher")
    html = client.get("/research/").get_data(as_text=True)
    # Hill (In Harmony): 5 cards, 4 started, 3 completed; Vale (comparison): 2, 1, 1.
    baseline = html.split("Follow-up 1")[0]
    assert cells(baseline, "In Harmony schools") == ["5", "4", "3", "60%"]
    assert cells(baseline, "Comparison schools") == ["2", "1", "1", "50%"]
    assert cells(baseline, "All arms") == ["7", "5", "4", "57%"]
    followup = html.split("Follow-up 1", 1)[1]
    assert cells(followup, "In Harmony schools") == ["0", "0", "0", "n/a"]


def test_rates_per_school_and_class(client, data):
    log_in_as(client, "researcher")
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
    log_in_as(client, "researcher")
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
    log_in_as(client, "teacher")
    assert client.get("/research/rates").status_code == 403
    assert client.get("/research/allocation-log.csv").status_code == 403
