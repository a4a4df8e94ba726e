"""Waves: open, close, reopen; no cards for a wave that is not open; closed waves expire codes."""

from __future__ import annotations

import pytest

from surveyapp.catalog import get_catalog
from surveyapp.codes import CodeState, code_state
from surveyapp.extensions import db
from surveyapp.models import AccessCode, AuditEvent
from surveyapp.study_sync import sync_study_report
from surveyapp.waves import (
    WaveError,
    WaveNotOpenError,
    close_wave,
    find_wave,
    open_wave,
    reopen_wave,
    require_open,
    set_wave_state,
)
from tests.builders import add_class, add_code, add_pupil, add_response, add_school, shipped_study


@pytest.fixture
def study(app):
    study = shipped_study()
    db.session.commit()
    return study


def make_code(study, wave_key: str) -> AccessCode:
    school = add_school(study, "S01", "in_harmony", name="Hill Primary")
    participant = add_pupil(add_class(school, "5B", code="S01-C01"), 7, arm="in_harmony")
    access = add_code(participant, find_wave(study, wave_key))
    db.session.commit()
    return access


def test_a_wave_starts_as_draft_and_refuses_cards(study):
    wave = find_wave(study, "baseline")
    assert wave.state == "draft"
    with pytest.raises(WaveNotOpenError, match="has not been opened yet"):
        require_open(wave)


def test_open_close_reopen_with_audit(study):
    wave = find_wave(study, "baseline")
    open_wave(wave, user_id=None)
    require_open(wave)  # no error
    close_wave(wave, user_id=None)
    with pytest.raises(WaveNotOpenError, match="is closed"):
        require_open(wave)
    reopen_wave(wave, user_id=None, via="cli")
    db.session.commit()
    assert wave.state == "open"
    events = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [e.action for e in events] == ["wave.open", "wave.close", "wave.reopen"]
    assert events[0].target == "wave:in_harmony/baseline"
    assert events[1].detail == {"from_state": "open", "to_state": "closed", "via": "web"}
    assert events[2].detail["via"] == "cli"


def test_impossible_changes_are_refused_with_a_reason(study):
    wave = find_wave(study, "followup_1")
    with pytest.raises(WaveError, match="not been opened yet, so it cannot be closed"):
        close_wave(wave)
    with pytest.raises(WaveError, match="Only a closed wave can be reopened"):
        reopen_wave(wave)
    open_wave(wave)
    with pytest.raises(WaveError, match="already open"):
        open_wave(wave)
    close_wave(wave)
    with pytest.raises(WaveError, match="already closed"):
        close_wave(wave)
    with pytest.raises(WaveError, match="Unknown action"):
        set_wave_state(wave, "delete")
    with pytest.raises(WaveError, match=r"Unknown wave 'followup_2' \(known waves: baseline"):
        find_wave(study, "followup_2")
    # Refused changes leave no audit trace.
    assert [e.action for e in db.session.execute(db.select(AuditEvent)).scalars()] == [
        "wave.open",
        "wave.close",
    ]


def test_closing_a_wave_expires_its_unused_codes_and_reopening_restores_them(study):
    access = make_code(study, "baseline")
    wave = access.wave
    open_wave(wave)
    db.session.commit()
    assert code_state(access) == CodeState.ISSUED
    close_wave(wave)
    db.session.commit()
    assert code_state(access) == CodeState.EXPIRED
    reopen_wave(wave)
    db.session.commit()
    assert code_state(access) == CodeState.ISSUED


def test_a_completed_code_stays_completed_after_close(study):
    from datetime import datetime

    access = make_code(study, "baseline")
    open_wave(access.wave)
    add_response(access.participant, access.wave, completed_at=datetime(2026, 10, 1))
    close_wave(access.wave)
    db.session.commit()
    assert code_state(access) == CodeState.COMPLETED


def test_sync_never_changes_a_wave_state_and_reports_changes(study):
    wave = find_wave(study, "baseline")
    open_wave(wave)
    db.session.commit()
    report = sync_study_report(get_catalog().study)
    db.session.commit()
    assert not report.created and report.waves_added == [] and report.waves_changed == []
    assert find_wave(study, "baseline").state == "open"
    assert find_wave(study, "baseline").opens_on.date().isoformat() == "2026-09-01"
    assert find_wave(study, "baseline").closes_on.date().isoformat() == "2026-12-18"
