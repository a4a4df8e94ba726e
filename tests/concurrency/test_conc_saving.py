"""Saving, starting and completing under contention, at the service and at the HTTP level.

- Many threads call :func:`surveyapp.responses.save_answers` on one response as fast as they
  can, then all call :func:`complete` at once: one row per key, every value one that was
  sent, exactly one completion, and nothing written afterwards.
- Several tablets enter the same new code at the same instant: one response, never two.
- One tablet's Next (and then Finish) pressed several times so fast that the requests overlap,
  all carrying the same session cookie.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from surveyapp import responses
from surveyapp.codes import resolve_code
from surveyapp.extensions import db
from surveyapp.models import Answer, Participant, Response
from surveyapp.questionnaire.conditions import DECLINED
from tests.builders import answer_rows
from tests.concurrency.pupil_world import all_answer_problems, build_world, forget_questionnaire
from tests.concurrency.tablet import FlaskTransport, Tablet

THREADS = 8
SAVES = 40


@pytest.fixture
def world(app):
    w = build_world(app, cards=6)
    yield w
    forget_questionnaire(app)


def _in_threads(app, count: int, work) -> list:
    """Run ``work(index)`` in ``count`` threads, each in its own app context, all at once."""
    barrier = threading.Barrier(count, timeout=120)
    results: list = [None] * count
    errors: list[str] = []

    def run(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                results[index] = work(index)
            except Exception as exc:
                barrier.abort()
                errors.append(f"thread {index}: {type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


def _value_for(rng: random.Random, key: str):
    choice = rng.random()
    if choice < 0.1:
        return None
    if choice < 0.2:
        return DECLINED
    return {
        "like_music": rng.randint(1, 4),
        "plays": rng.randint(0, 1),
        "home_langs": sorted(rng.sample([1, 2, 3], rng.randint(1, 3))),
        "age": rng.randint(5, 16),
        "wish": f"violin {rng.randint(0, 9)}",
        "feel_happy": rng.randint(1, 4),
    }[key]


def test_saves_from_many_threads_then_one_completion(app, world, capsys):
    access = resolve_code(world.codes[0])[1]
    response_id = responses.start_or_resume(access, "en").id
    keys = ["like_music", "plays", "home_langs", "age", "wish", "feel_happy"]

    def saver(index: int) -> dict:
        rng = random.Random(index)
        sent: dict[str, list] = {}
        for _ in range(SAVES):
            page = {k: _value_for(rng, k) for k in rng.sample(keys, 3)}
            responses.save_answers(response_id, page, current_page="p_two")
            for k, v in page.items():
                sent.setdefault(k, []).append(v)
        # Make sure the required answer is there before everybody completes.
        responses.save_answers(response_id, {"like_music": 3, "plays": 1})
        return sent

    sent_per_thread = _in_threads(app, THREADS, saver)
    q = world.questionnaire
    completions = _in_threads(app, THREADS, lambda i: responses.complete(response_id, q))
    assert Counter(completions) == {True: 1, False: THREADS - 1}

    db.session.expire_all()
    response = db.session.get(Response, response_id)
    completed_at = response.completed_at
    assert completed_at is not None
    sent: dict[str, list] = {}
    for part in sent_per_thread:
        for k, values in part.items():
            sent.setdefault(k, []).extend(values)
    sent["like_music"].append(3)
    sent["plays"].append(1)
    final = {k: (DECLINED if declined else v) for k, v, declined in answer_rows(response_id)}
    for key, value in final.items():
        assert value in sent[key], f"{key}={value!r} was never sent"
    for key, values in sent.items():
        if key not in final:
            assert None in values, f"{key} lost"
    assert not all_answer_problems()

    # After completion every save is refused and nothing changes.
    before = answer_rows(response_id)

    def late(index: int) -> str:
        try:
            responses.save_answers(response_id, {"like_music": 1, "age": 9})
        except responses.ResponseCompletedError:
            return "refused"
        return "saved"

    assert set(_in_threads(app, THREADS, late)) == {"refused"}
    assert answer_rows(response_id) == before
    db.session.expire_all()
    assert db.session.get(Response, response_id).completed_at == completed_at
    with capsys.disabled():
        print(
            f"\n[service] {THREADS} threads x {SAVES + 1} saves on one response "
            f"({THREADS * (SAVES + 1)} write transactions), {THREADS} concurrent completions"
        )


@pytest.mark.parametrize("arm_fixed", [True, False], ids=["arm-fixed", "arm-unset"])
def test_same_code_entered_on_many_tablets_at_once(app, world, arm_fixed):
    """Only one response per participant and wave, whoever wins the race to create it."""
    if not arm_fixed:
        # Participants made before allocation: entering the code fixes the arm (a write).
        db.session.execute(
            sa.update(Participant)
            .where(Participant.id.in_(world.participant_ids))
            .values(arm=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        db.session.expire_all()
    statuses: Counter = Counter()
    for code in world.codes[1:4]:
        tablets = [Tablet(FlaskTransport(app)) for _ in range(THREADS)]
        forms = [t.tokens("/")[0] for t in tablets]

        def enter(index: int, code=code, tablets=tablets, forms=forms) -> int:
            return tablets[index].post("/", {"code": code, "csrf_token": forms[index]}).status

        statuses.update(_in_threads(app, THREADS, enter))
    assert statuses == {302: 3 * THREADS}, statuses
    db.session.expire_all()
    per_participant = Counter(
        db.session.execute(sa.select(Response.participant_id)).scalars().all()
    )
    assert sorted(per_participant.values()) == [1, 1, 1]
    arms = {db.session.get(Participant, pid).arm for pid in world.participant_ids[1:4]}
    assert arms == {"in_harmony"}


def test_overlapping_clicks_from_one_tablet(app, world):
    """Next and then Finish pressed so fast that the requests overlap (one session cookie)."""
    first = Tablet(FlaskTransport(app))
    first.begin(world.codes[4])
    cookie = first.transport.client.get_cookie("session")
    assert cookie is not None
    clicks = []
    for _ in range(THREADS):
        transport = FlaskTransport(app)
        transport.client.set_cookie("session", cookie.value)
        clicks.append(Tablet(transport))
    hidden = first.page_form("p_one")
    body = {**hidden, "like_music": "2", "plays": "0", "action": "next"}
    statuses = _in_threads(app, THREADS, lambda i: clicks[i].post("/q/p_one", body).status)
    assert set(statuses) == {200}, statuses
    hidden = first.page_form("p_three")
    body = {**hidden, "feel_happy": "4", "feel_safe": "declined", "action": "next"}
    replies = _in_threads(app, THREADS, lambda i: clicks[i].post("/q/p_three", body))
    outcomes = Counter((r.status, r.path) for r in replies)
    assert outcomes[(302, "/done")] == 1, outcomes
    assert set(outcomes) <= {(302, "/done"), (409, None)}, outcomes
    response = db.session.execute(
        sa.select(Response).filter_by(participant_id=world.participant_ids[4])
    ).scalar_one()
    assert response.completed_at is not None
    rows = {k: (v, d) for k, v, d in answer_rows(response.id)}
    assert rows == {
        "like_music": (2, False),
        "plays": (0, False),
        "feel_happy": (4, False),
        "feel_safe": (None, True),
    }
    count = db.session.execute(
        sa.select(sa.func.count()).select_from(Answer).where(Answer.response_id == response.id)
    ).scalar_one()
    assert count == 4
