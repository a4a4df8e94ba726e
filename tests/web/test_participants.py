"""Participants and codes: issuing, linkage across waves, replace, revoke, leave, move."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from surveyapp.codes import CodeState, code_hash_key, hash_code, resolve_code
from surveyapp.extensions import db
from surveyapp.models import AccessCode, Answer, AuditEvent, Participant, Response
from surveyapp.participants import (
    ParticipantError,
    issue_cards,
    live_code,
    mark_left,
    mark_returned,
    move_participant,
    replace_code,
    revoke_code,
)
from tests.web.test_auth_support import finish, world_fixture  # noqa: F401 - fixture


def _participant(pid: str) -> Participant:
    return db.session.get(Participant, pid)


def test_issue_creates_numbered_participants_with_hashed_codes_and_arm(world):
    cards = world.cards_a
    assert [c.label for c in cards] == ["5B-01", "5B-02", "5B-03"]
    assert all(c.wave_key == "baseline" and c.class_name == "5B" for c in cards)
    for card in cards:
        participant = _participant(card.participant_id)
        assert participant.arm == "in_harmony"  # allocated from the school's arm
        assert participant.number == int(card.label[-2:])
        state, access = resolve_code(card.code)
        assert state == CodeState.ISSUED and access.participant_id == participant.id
    # Only the keyed hash is stored: the clear code appears in no column of the code table.
    rows = db.session.execute(db.select(AccessCode)).scalars().all()
    stored = {r.code_hash for r in rows}
    for card in cards:
        assert card.code not in stored
        assert hash_code(card.code, code_hash_key()) in stored
    assert world.cards_b[0].label == "ZZ9-01"
    assert _participant(world.cards_b[0].participant_id).arm == "comparison"


def test_codes_are_kept_out_of_the_audit_log(world):
    events = db.session.execute(db.select(AuditEvent)).scalars().all()
    text = repr([(e.action, e.target, e.detail) for e in events])
    assert "codes.issue" in text
    for card in world.cards_a + world.cards_b:
        assert card.code not in text


def test_more_cards_for_the_same_wave_go_to_new_pupils(world):
    more = issue_cards(world.class_a, world.baseline, 2, None)
    assert [c.label for c in more] == ["5B-04", "5B-05"]


def test_cards_only_for_an_open_wave(world):
    with pytest.raises(ParticipantError, match="has not been opened yet"):
        issue_cards(world.class_a, world.followup, 1, None)
    world.baseline.state = "closed"
    with pytest.raises(ParticipantError, match="is closed"):
        issue_cards(world.class_a, world.baseline, 1, None)


@pytest.mark.parametrize("count", [0, -1, 101])
def test_card_count_is_checked(world, count):
    with pytest.raises(ParticipantError, match="between 1 and 100"):
        issue_cards(world.class_a, world.baseline, count, None)


def test_followup_reuses_participants_skips_leavers_and_numbers_new_joiners(world):
    p1, p2, p3 = (_participant(c.participant_id) for c in world.cards_a)
    mark_left(p2, None)
    world.followup.state = "open"
    follow = issue_cards(world.class_a, world.followup, 4, None)
    labels = [c.label for c in follow]
    # Returning pupils first with their own numbers, the leaver skipped, then two new joiners.
    assert labels == ["5B-01", "5B-03", "5B-04", "5B-05"]
    assert follow[0].participant_id == p1.id and follow[1].participant_id == p3.id
    # Asking again gives new pupils only: nobody gets a second live code for the wave.
    again = issue_cards(world.class_a, world.followup, 1, None)
    assert [c.label for c in again] == ["5B-06"]


def test_a_moved_pupil_keeps_participant_and_label_and_gets_cards_in_the_new_class(world):
    moved = _participant(world.cards_a[2].participant_id)  # 5B-03
    move_participant(moved, world.class_a2, None)
    assert moved.label == "5B-03" and moved.school_class.name == "6C"
    world.followup.state = "open"
    in_6c = issue_cards(world.class_a2, world.followup, 2, None)
    assert in_6c[0].participant_id == moved.id
    assert in_6c[0].label == "5B-03" and in_6c[0].class_name == "6C"
    assert in_6c[1].label == "6C-04"  # new numbers continue above the moved-in pupil
    in_5b = issue_cards(world.class_a, world.followup, 3, None)
    assert [c.label for c in in_5b] == ["5B-01", "5B-02", "5B-04"]  # 03 is never reused


def test_move_only_within_the_school(world):
    pupil = _participant(world.cards_a[0].participant_id)
    with pytest.raises(ParticipantError, match="same school"):
        move_participant(pupil, world.class_b, None)
    with pytest.raises(ParticipantError, match="already"):
        move_participant(pupil, world.class_a, None)


def test_replace_keeps_the_response_and_answers_and_stops_the_old_code(world):
    card = world.cards_a[0]
    participant = _participant(card.participant_id)
    response = finish(participant.id, world.baseline, completed=False)
    db.session.add(Answer(response_id=response.id, question_id="q_enjoy", value=4))
    db.session.commit()
    assert resolve_code(card.code)[0] == CodeState.STARTED

    new = replace_code(participant, world.baseline, None)
    db.session.commit()
    assert new.participant_id == participant.id and new.code != card.code
    state, old_access = resolve_code(card.code)
    assert state == CodeState.REPLACED and old_access.status == "replaced"
    state, new_access = resolve_code(new.code)
    assert state == CodeState.STARTED  # continues the same response
    same = db.session.execute(
        db.select(Response).filter_by(participant_id=participant.id, wave_id=world.baseline.id)
    ).scalar_one()
    assert same.id == response.id
    assert [(a.question_id, a.value) for a in same.answers] == [("q_enjoy", 4)]
    assert live_code(participant, world.baseline).id == new_access.id


def test_completed_cards_can_be_neither_replaced_nor_revoked(world):
    participant = _participant(world.cards_a[1].participant_id)
    finish(participant.id, world.baseline)
    assert resolve_code(world.cards_a[1].code)[0] == CodeState.COMPLETED
    with pytest.raises(ParticipantError, match="completed"):
        replace_code(participant, world.baseline, None)
    with pytest.raises(ParticipantError, match="completed"):
        revoke_code(participant, world.baseline, None)


def test_revoke_then_issue_a_new_card(world):
    card = world.cards_a[0]
    participant = _participant(card.participant_id)
    revoke_code(participant, world.baseline, None)
    assert resolve_code(card.code)[0] == CodeState.REVOKED
    with pytest.raises(ParticipantError, match="no working card"):
        revoke_code(participant, world.baseline, None)
    # A revoked pupil is not given a card by "issue" (revoking is deliberate) ...
    more = issue_cards(world.class_a, world.baseline, 1, None)
    assert more[0].participant_id != participant.id
    # ... but a new card can be made for them on purpose.
    again = replace_code(participant, world.baseline, None)
    assert resolve_code(again.code)[0] == CodeState.ISSUED


def test_codes_expire_when_the_wave_closes_and_work_again_when_reopened(world):
    code = world.cards_a[0].code
    world.baseline.state = "closed"
    db.session.flush()
    assert resolve_code(code)[0] == CodeState.EXPIRED
    world.baseline.state = "open"
    db.session.flush()
    assert resolve_code(code)[0] == CodeState.ISSUED


def test_leaving_revokes_unfinished_codes_and_keeps_completed_ones(world):
    done, unfinished = (_participant(c.participant_id) for c in world.cards_a[:2])
    finish(done.id, world.baseline)
    assert mark_left(done, None) == []
    assert resolve_code(world.cards_a[0].code)[0] == CodeState.COMPLETED
    assert mark_left(unfinished, None) == ["baseline"]
    assert resolve_code(world.cards_a[1].code)[0] == CodeState.REVOKED
    with pytest.raises(ParticipantError, match="already marked as left"):
        mark_left(unfinished, None)
    with pytest.raises(ParticipantError, match="left"):
        replace_code(unfinished, world.baseline, None)
    mark_returned(unfinished, None)
    assert unfinished.left_at is None
    with pytest.raises(ParticipantError, match="not marked as left"):
        mark_returned(unfinished, None)


def test_the_database_refuses_two_live_codes_for_one_participant_and_wave(world):
    participant_id = world.cards_a[0].participant_id
    db.session.add(
        AccessCode(
            code_hash="f" * 64,
            participant_id=participant_id,
            wave_id=world.baseline.id,
            status="issued",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_every_change_is_audited(world):
    participant = _participant(world.cards_a[0].participant_id)
    replace_code(participant, world.baseline, world.teacher_a.id)
    revoke_code(participant, world.baseline, world.teacher_a.id)
    move_participant(participant, world.class_a2, world.teacher_a.id)
    mark_left(participant, world.teacher_a.id)
    db.session.commit()
    actions = [
        e.action
        for e in db.session.execute(
            db.select(AuditEvent).filter_by(user_id=world.teacher_a.id).order_by(AuditEvent.id)
        ).scalars()
    ]
    assert actions == [
        "codes.replace",
        "codes.revoke",
        "participant.move",
        "participant.left",
    ]
