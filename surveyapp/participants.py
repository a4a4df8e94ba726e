"""Participants and their access codes: issue cards, replace a lost card, revoke, leave, move.

A participant is one pupil, known only by a random id and a label such as ``5B-07`` (their
first class and number). Linkage across waves works by reusing participants: cards for a
follow-up wave go first to the class's existing participants who have none for that wave yet
(same numbers, so the export pairs baseline and follow-up under one pseudonym), then to new
joiners with new numbers. Leavers are skipped; a pupil who moved class keeps their participant
and label and is issued cards under their new class.

Clear codes exist only in the :class:`IssuedCard` objects these functions return, for the card
sheet rendered right away; the database keeps the keyed hash and the audit log never sees them.
Every change is audited in the caller's transaction; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from .audit import record
from .codes import code_hash_key, generate_code, hash_code
from .cohorts import allocate_participant
from .extensions import db
from .models import AccessCode, Participant, Response, SchoolClass, Wave, utcnow
from .waves import WaveError, require_open

MAX_CARDS_PER_BATCH = 100
LIVE = "issued"


class ParticipantError(ValueError):
    """A participant or code change that cannot be made; the message says why."""


@dataclass(frozen=True)
class IssuedCard:
    """What one printed card needs. ``code`` is the clear code: print it, never store it."""

    code: str
    participant_id: str
    label: str
    class_name: str
    wave_key: str
    wave_label: str


def _require_open(wave: Wave) -> None:
    try:
        require_open(wave)
    except WaveError as exc:
        raise ParticipantError(str(exc)) from None


def _same_study(school_class: SchoolClass, wave: Wave) -> None:
    if school_class.school.study_id != wave.study_id:
        raise ParticipantError(_("This wave belongs to another study."))


def response_for(participant: Participant, wave: Wave) -> Response | None:
    return db.session.execute(
        db.select(Response).filter_by(participant_id=participant.id, wave_id=wave.id)
    ).scalar_one_or_none()


def has_completed(participant: Participant, wave: Wave) -> bool:
    response = response_for(participant, wave)
    return response is not None and response.completed_at is not None


def _stop(code: AccessCode, status: str) -> None:
    """The code stops working: ``revoked`` (by a teacher, or the pupil left) or ``replaced``."""
    code.status = status
    code.revoked_at = utcnow()


def live_code(participant: Participant, wave: Wave) -> AccessCode | None:
    """The participant's working (not revoked or replaced) code for the wave, if any."""
    return db.session.execute(
        db.select(AccessCode).filter_by(participant_id=participant.id, wave_id=wave.id, status=LIVE)
    ).scalar_one_or_none()


def _new_code(participant: Participant, wave: Wave, actor_id: int | None) -> IssuedCard:
    key = code_hash_key()
    while True:
        code = generate_code()
        code_hash = hash_code(code, key)
        taken = db.session.execute(db.select(AccessCode.id).filter_by(code_hash=code_hash)).first()
        if taken is None:
            break
    db.session.add(
        AccessCode(
            code_hash=code_hash,
            participant_id=participant.id,
            wave_id=wave.id,
            status=LIVE,
            issued_by_id=actor_id,
        )
    )
    return IssuedCard(
        code=code,
        participant_id=participant.id,
        label=participant.label,
        class_name=participant.school_class.name,
        wave_key=wave.key,
        wave_label=wave.label,
    )


def _labels_in_school(school_id: int) -> set[str]:
    return set(
        db.session.execute(db.select(Participant.label).filter_by(school_id=school_id)).scalars()
    )


def next_number(school_class: SchoolClass, taken_labels: set[str] | None = None) -> int:
    """The next free participant number in a class.

    Higher than every number in the class now, and never a label already used in the school
    (a pupil who moved away keeps ``5B-07``, so 07 is not given to anyone else in 5B).
    """
    taken = taken_labels if taken_labels is not None else _labels_in_school(school_class.school_id)
    current = db.session.execute(
        db.select(db.func.max(Participant.number)).filter_by(class_id=school_class.id)
    ).scalar_one()
    number = (current or 0) + 1
    while make_label(school_class, number) in taken:
        number += 1
    return number


def make_label(school_class: SchoolClass, number: int) -> str:
    return f"{school_class.name}-{number:02d}"


def create_participant(
    school_class: SchoolClass, taken_labels: set[str] | None = None
) -> Participant:
    """A new participant in the class, with the next number and its arm fixed."""
    taken = taken_labels if taken_labels is not None else _labels_in_school(school_class.school_id)
    number = next_number(school_class, taken)
    participant = Participant(
        school_id=school_class.school_id,
        school_class=school_class,
        number=number,
        label=make_label(school_class, number),
    )
    taken.add(participant.label)
    allocate_participant(participant)
    db.session.add(participant)
    return participant


def returning_participants(school_class: SchoolClass, wave: Wave) -> list[Participant]:
    """The class's participants who are still here and have had no code for ``wave`` yet."""
    had_code = db.select(AccessCode.participant_id).filter_by(wave_id=wave.id)
    has_response = db.select(Response.participant_id).filter_by(wave_id=wave.id)
    return list(
        db.session.execute(
            db.select(Participant)
            .filter(
                Participant.class_id == school_class.id,
                Participant.left_at.is_(None),
                Participant.id.not_in(had_code),
                Participant.id.not_in(has_response),
            )
            .order_by(Participant.number)
        ).scalars()
    )


def issue_cards(
    school_class: SchoolClass, wave: Wave, count: int, actor_id: int | None, via: str = "web"
) -> list[IssuedCard]:
    """Issue ``count`` cards for a class and an open wave: returning pupils first, then new."""
    _same_study(school_class, wave)
    _require_open(wave)
    if not isinstance(count, int) or not 1 <= count <= MAX_CARDS_PER_BATCH:
        raise ParticipantError(_("Choose between 1 and %(n)d cards.", n=MAX_CARDS_PER_BATCH))
    reused = returning_participants(school_class, wave)[:count]
    taken = _labels_in_school(school_class.school_id)
    new = [create_participant(school_class, taken) for _i in range(count - len(reused))]
    db.session.flush()
    cards = [_new_code(p, wave, actor_id) for p in reused + new]
    db.session.flush()
    record(
        actor_id,
        "codes.issue",
        f"class:{school_class.code}",
        wave=wave.key,
        count=len(cards),
        returning=[p.label for p in reused],
        new=[p.label for p in new],
        via=via,
    )
    return cards


def replace_code(
    participant: Participant, wave: Wave, actor_id: int | None, via: str = "web"
) -> IssuedCard:
    """A new code for the same participant and wave; the old one stops working.

    The participant's response (and its saved answers) belongs to the participant, not to the
    code, so the new card continues where the old one stopped.
    """
    _same_study(participant.school_class, wave)
    _require_open(wave)
    if participant.left_at is not None:
        raise ParticipantError(
            _("%(label)s is marked as left: mark them as back first.", label=participant.label)
        )
    if has_completed(participant, wave):
        raise ParticipantError(
            _(
                "%(label)s has completed this wave: there is nothing to replace.",
                label=participant.label,
            )
        )
    old = live_code(participant, wave)
    if old is not None:
        _stop(old, "replaced")
        db.session.flush()  # the old code stops being live before the new one exists
    card = _new_code(participant, wave, actor_id)
    db.session.flush()
    record(
        actor_id,
        "codes.replace",
        f"participant:{participant.label}",
        school=participant.school.code,
        wave=wave.key,
        old_code_id=old.id if old is not None else None,
        via=via,
    )
    return card


def revoke_code(
    participant: Participant, wave: Wave, actor_id: int | None, via: str = "web"
) -> AccessCode:
    """Stop the participant's code for the wave from working (before completion only)."""
    code = live_code(participant, wave)
    if code is None:
        raise ParticipantError(
            _("%(label)s has no working card for this wave.", label=participant.label)
        )
    if has_completed(participant, wave):
        raise ParticipantError(
            _(
                "%(label)s has completed this wave: a completed card cannot be revoked.",
                label=participant.label,
            )
        )
    _stop(code, "revoked")
    record(
        actor_id,
        "codes.revoke",
        f"participant:{participant.label}",
        school=participant.school.code,
        wave=wave.key,
        code_id=code.id,
        via=via,
    )
    db.session.flush()
    return code


def mark_left(participant: Participant, actor_id: int | None, via: str = "web") -> list[str]:
    """Mark a pupil as left: no more cards, and their unfinished working codes are revoked.

    Returns the keys of the waves whose codes were revoked. Their saved answers stay.
    """
    if participant.left_at is not None:
        raise ParticipantError(_("%(label)s is already marked as left.", label=participant.label))
    participant.left_at = utcnow()
    revoked = []
    codes = db.session.execute(
        db.select(AccessCode).filter_by(participant_id=participant.id, status=LIVE)
    ).scalars()
    for code in codes:
        if not has_completed(participant, code.wave):
            _stop(code, "revoked")
            revoked.append(code.wave.key)
    record(
        actor_id,
        "participant.left",
        f"participant:{participant.label}",
        school=participant.school.code,
        revoked_waves=revoked,
        via=via,
    )
    db.session.flush()
    return revoked


def mark_returned(participant: Participant, actor_id: int | None, via: str = "web") -> None:
    """Undo "left": the pupil can be issued cards again (revoked codes stay revoked)."""
    if participant.left_at is None:
        raise ParticipantError(_("%(label)s is not marked as left.", label=participant.label))
    participant.left_at = None
    record(
        actor_id,
        "participant.returned",
        f"participant:{participant.label}",
        school=participant.school.code,
        via=via,
    )
    db.session.flush()


def move_participant(
    participant: Participant, new_class: SchoolClass, actor_id: int | None, via: str = "web"
) -> None:
    """Move a pupil to another class of the same school; they keep their participant and label."""
    if new_class.school_id != participant.school_id:
        raise ParticipantError(_("A pupil can only move to a class of the same school."))
    old_class = participant.school_class
    if new_class.id == old_class.id:
        raise ParticipantError(
            _("%(label)s is in %(name)s already.", label=participant.label, name=new_class.name)
        )
    participant.school_class = new_class
    record(
        actor_id,
        "participant.move",
        f"participant:{participant.label}",
        school=participant.school.code,
        from_class=old_class.code,
        to_class=new_class.code,
        via=via,
    )
    db.session.flush()
