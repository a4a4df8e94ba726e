"""Wave windows with real card issuing, and linkage: one pupil, one arm, one pseudonym across waves.

Uses the card-issuing service (``surveyapp.participants``) as it is; responses are created
directly here, with the cohort fields the pupil flow sets from the participant and the wave.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from surveyapp.catalog import get_catalog
from surveyapp.codes import CodeState, resolve_code
from surveyapp.exporting.coarsen import pseudonyms
from surveyapp.extensions import db
from surveyapp.models import Participant, Response
from surveyapp.participants import ParticipantError, issue_cards
from surveyapp.waves import close_wave, find_wave, open_wave, reopen_wave
from tests.builders import add_class, add_response, add_school, shipped_study


@pytest.fixture
def setting(app):
    study = shipped_study()
    hill = add_school(study, "S01", "in_harmony", name="Hill Primary")
    vale = add_school(study, "S02", "comparison", name="Vale Primary")
    classes = (add_class(hill, "5B", code="S01-C01"), add_class(vale, "5C", code="S02-C01"))
    db.session.commit()
    return study, classes


def respond(card, wave, completed: bool = True) -> Response:
    """What the pupil flow records: the participant's arm, the wave, the questionnaire version."""
    version = get_catalog().questionnaire(wave.questionnaire_id).version
    completed_at = datetime(2026, 10, 1) if completed else None
    return add_response(card.participant_id, wave, completed_at=completed_at, version=version)


def test_no_cards_for_a_wave_that_is_not_open(setting):
    study, (hill_class, _) = setting
    baseline = find_wave(study, "baseline")
    with pytest.raises(ParticipantError, match="has not been opened yet"):
        issue_cards(hill_class, baseline, 3, actor_id=None)
    open_wave(baseline)
    assert len(issue_cards(hill_class, baseline, 3, actor_id=None)) == 3
    close_wave(baseline)
    with pytest.raises(ParticipantError, match="is closed"):
        issue_cards(hill_class, baseline, 1, actor_id=None)


def test_codes_expire_when_the_wave_closes_and_return_when_it_reopens(setting):
    study, (hill_class, _) = setting
    baseline = find_wave(study, "baseline")
    open_wave(baseline)
    unused, done = issue_cards(hill_class, baseline, 2, actor_id=None)
    respond(done, baseline, completed=True)
    db.session.commit()
    assert resolve_code(unused.code)[0] == CodeState.ISSUED
    close_wave(baseline)
    db.session.commit()
    assert resolve_code(unused.code)[0] == CodeState.EXPIRED
    assert resolve_code(done.code)[0] == CodeState.COMPLETED
    reopen_wave(baseline)
    db.session.commit()
    assert resolve_code(unused.code)[0] == CodeState.ISSUED


def test_cards_carry_the_arm_and_follow_up_links_under_one_pseudonym(setting):
    study, (hill_class, vale_class) = setting
    baseline, followup = find_wave(study, "baseline"), find_wave(study, "followup_1")
    open_wave(baseline)
    base_cards = issue_cards(hill_class, baseline, 2, actor_id=None) + issue_cards(
        vale_class, baseline, 1, actor_id=None
    )
    for card in base_cards:
        respond(card, baseline)
    close_wave(baseline)
    # The school's arm is changed by hand afterwards: pupils keep the arm they were given.
    hill_class.school.arm = "comparison"
    open_wave(followup)
    follow_cards = issue_cards(hill_class, followup, 3, actor_id=None)
    for card in follow_cards[:2]:
        respond(card, followup)
    db.session.commit()

    returning = {c.participant_id for c in follow_cards[:2]}
    assert returning == {c.participant_id for c in base_cards[:2]}
    assert [c.label for c in follow_cards[:2]] == [c.label for c in base_cards[:2]]
    assert follow_cards[2].participant_id not in {c.participant_id for c in base_cards}
    assert db.session.get(Participant, follow_cards[2].participant_id).arm == "comparison"

    responses = db.session.execute(db.select(Response)).scalars().all()
    cohort = {(r.participant_id, r.wave.key): r.arm for r in responses}
    for card in base_cards[:2]:
        assert cohort[(card.participant_id, "baseline")] == "in_harmony"
        assert cohort[(card.participant_id, "followup_1")] == "in_harmony"
    assert cohort[(base_cards[2].participant_id, "baseline")] == "comparison"
    assert {r.questionnaire_id for r in responses} == {"ih_pupil"}
    assert {r.questionnaire_version for r in responses} == {
        get_catalog().questionnaire("ih_pupil").version
    }

    frame = pd.DataFrame(
        {
            "participant_id": [r.participant_id for r in responses],
            "wave": [r.wave.key for r in responses],
        }
    )
    frame["pseudonym"] = pseudonyms(frame["participant_id"], study.pseudonym_key)
    per_pupil = frame.groupby("participant_id")["pseudonym"].nunique()
    assert (per_pupil == 1).all()
    paired = frame.groupby("pseudonym")["wave"].apply(set)
    assert sum(waves == {"baseline", "followup_1"} for waves in paired) == 2
    assert frame["pseudonym"].nunique() == 3
