"""What every race on one code must end with. No tests here."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, Response
from tests.builders import answer_rows
from tests.concurrency.pupil_world import all_answer_problems
from tests.concurrency.tablet import FINE


def check_outcome(results: list[dict], participant_id: str) -> dict:
    """The assertions every race shares; returns figures for the report."""
    statuses = Counter(status for r in results for _m, _p, status in r["replies"])
    failed = [(m, p, s) for r in results for m, p, s in r["replies"] if s >= 500]
    assert not failed, f"server errors: {failed[:10]}"
    odd = {s for s in statuses if s not in FINE}
    assert not odd, f"unexpected statuses {odd}"

    # Finish was pressed on every tablet at once, twice: exactly one completion.
    finishes = [r["finish"] for r in results] + [r["finish_again"] for r in results]
    done = [f for f in finishes if f == (302, "/done")]
    assert len(done) == 1, f"completions seen by tablets: {finishes}"
    assert all(f == (302, "/done") or f[0] in (302, 409) for f in finishes), finishes

    response = db.session.execute(
        sa.select(Response).filter_by(participant_id=participant_id)
    ).scalar_one()
    assert response.completed_at is not None

    # One row per key (the constraint guarantees it; this shows the upserts never fought it).
    per_key = Counter(
        db.session.execute(
            sa.select(Answer.question_id).where(Answer.response_id == response.id)
        ).scalars()
    )
    assert per_key and max(per_key.values()) == 1, per_key

    # Every final value is one that some tablet submitted for that key.
    submitted: dict[str, list] = {}
    for r in results:
        for key, values in r["submitted"].items():
            submitted.setdefault(key, []).extend(values)
    final = {
        key: ("declined" if declined else value)
        for key, value, declined in answer_rows(response.id)
    }
    for key, value in final.items():
        assert key in submitted, f"{key} stored but never submitted"
        assert value in submitted[key], f"{key}={value!r} is none of {submitted[key]!r}"
    for key, values in submitted.items():
        if key not in final:
            assert None in values, f"{key} lost: submitted {values!r}, nothing stored"
    assert not all_answer_problems()

    # Replaying every POST after completion changed nothing.
    replayed = Counter(s for r in results for s in r["replayed"])
    assert set(replayed) <= {302, 409}, replayed
    return {
        "requests": sum(statuses.values()) + sum(replayed.values()),
        "statuses": dict(statuses),
        "replayed": dict(replayed),
        "completed_at": response.completed_at,
        "response_id": response.id,
        "final": final,
    }


def snapshot(response_id: int) -> tuple:
    db.session.expire_all()
    response = db.session.get(Response, response_id)
    return (response.completed_at, tuple(answer_rows(response_id)))
