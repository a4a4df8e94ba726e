"""Class progress for teachers: who has a card, who has started, how far, who has finished.

Only states and page counts: never an answer. Three queries per class and wave (participants,
codes, responses), whatever the class size.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from .extensions import db
from .models import AccessCode, Participant, Response, SchoolClass, Wave

# Display order of the states, also the order of the counts.
STATES = ("no_card", "not_started", "in_progress", "completed", "revoked", "expired", "left")


@dataclass(frozen=True)
class ParticipantProgress:
    participant_id: str
    label: str
    number: int
    state: str
    pages_done: int = 0
    pages_total: int = 0
    can_replace: bool = False
    can_revoke: bool = False

    @property
    def percent(self) -> int:
        if self.state == "completed":
            return 100
        if not self.pages_total:
            return 0
        return min(100, round(100 * self.pages_done / self.pages_total))


@dataclass
class ClassProgress:
    class_id: int
    class_name: str
    wave_key: str
    wave_label: str
    wave_open: bool
    rows: list[ParticipantProgress] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def with_card(self) -> int:
        """Pupils who were given a card that still counts (working, used up or expired)."""
        return sum(
            self.counts.get(s, 0) for s in ("not_started", "in_progress", "completed", "expired")
        )

    def as_json(self) -> dict:
        return {
            "class": self.class_name,
            "wave": self.wave_key,
            "wave_open": self.wave_open,
            "counts": self.counts,
            "with_card": self.with_card,
            "participants": [{**asdict(r), "percent": r.percent} for r in self.rows],
        }


def _state(
    participant: Participant, wave: Wave, codes: list[AccessCode], response: Response | None
) -> str:
    if response is not None and response.completed_at is not None:
        return "completed"
    if participant.left_at is not None:
        return "left"
    live = any(c.status == "issued" for c in codes)
    if live:
        if not wave.is_open:
            return "expired"
        return "in_progress" if response is not None else "not_started"
    if codes:
        return "revoked"  # every code was revoked or replaced without a new one
    return "no_card"


def class_progress(school_class: SchoolClass, wave: Wave) -> ClassProgress:
    participants = list(
        db.session.execute(
            db.select(Participant)
            .filter_by(class_id=school_class.id)
            .order_by(Participant.number, Participant.label)
        ).scalars()
    )
    ids = [p.id for p in participants]
    codes: dict[str, list[AccessCode]] = {pid: [] for pid in ids}
    responses: dict[str, Response] = {}
    if ids:
        for code in db.session.execute(
            db.select(AccessCode).filter(
                AccessCode.wave_id == wave.id, AccessCode.participant_id.in_(ids)
            )
        ).scalars():
            codes[code.participant_id].append(code)
        for response in db.session.execute(
            db.select(Response).filter(
                Response.wave_id == wave.id, Response.participant_id.in_(ids)
            )
        ).scalars():
            responses[response.participant_id] = response
    progress = ClassProgress(
        class_id=school_class.id,
        class_name=school_class.name,
        wave_key=wave.key,
        wave_label=wave.label,
        wave_open=wave.is_open,
    )
    for p in participants:
        response = responses.get(p.id)
        state = _state(p, wave, codes[p.id], response)
        progress.rows.append(
            ParticipantProgress(
                participant_id=p.id,
                label=p.label,
                number=p.number,
                state=state,
                pages_done=response.pages_done if response is not None else 0,
                pages_total=response.pages_total if response is not None else 0,
                can_replace=wave.is_open and state in ("not_started", "in_progress", "revoked"),
                can_revoke=state in ("not_started", "in_progress", "expired"),
            )
        )
    counted = Counter(r.state for r in progress.rows)
    progress.counts = {s: counted.get(s, 0) for s in STATES}
    return progress


def class_counts(classes: list[SchoolClass], wave: Wave) -> dict[int, dict[str, int]]:
    """Counts per class (for the teacher's overview), one ``class_progress`` per class."""
    return {c.id: class_progress(c, wave).counts for c in classes}
