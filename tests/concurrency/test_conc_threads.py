"""Several tablets on one code at once, from threads: nothing duplicated, lost or corrupted.

Each thread is a tablet with its own session (a Flask test client, or real HTTP to a werkzeug
server running in a thread of this process). They all enter the same code, post pages with
double clicks, the back button and "stop", then all press Finish at the same moment, then
replay every POST they sent. Afterwards the answer table must hold exactly one row per answer
key, each value one that some tablet submitted, the response completed exactly once, and no
request may have failed with a 5xx.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Response
from tests.builders import threaded_server
from tests.concurrency.outcome import check_outcome, snapshot
from tests.concurrency.pupil_world import build_world, forget_questionnaire
from tests.concurrency.tablet import (
    FlaskTransport,
    HttpTransport,
    Tablet,
    hammer,
    replay_all,
)

TABLETS = 6
ROUNDS = 8


@pytest.fixture
def world(app):
    w = build_world(app, cards=2)
    yield w
    forget_questionnaire(app)


def run_tablets(make_transport: Callable[[], object], code: str, tablets: int) -> list[dict]:
    barrier = threading.Barrier(tablets, timeout=120)
    results: list[dict | None] = [None] * tablets
    errors: list[str] = []

    def one(index: int) -> None:
        tablet = Tablet(make_transport())
        try:
            result = hammer(tablet, code, seed=index, rounds=ROUNDS, wait=barrier.wait)
            result["replayed"] = replay_all(tablet, result["replays"])
            result["tablet"] = tablet
            results[index] = result
        except Exception as exc:
            barrier.abort()
            errors.append(f"tablet {index}: {type(exc).__name__}: {exc} {tablet.replies[-5:]}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(tablets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def test_tablets_as_test_clients_share_one_code(app, world, capsys):
    code, participant = world.codes[0], world.participant_ids[0]
    results = run_tablets(lambda: FlaskTransport(app), code, TABLETS)
    figures = check_outcome(results, participant)
    before = snapshot(figures["response_id"])
    # A second round of replays from every tablet: still nothing changes.
    again = [s for r in results for s in replay_all(r["tablet"], r["replays"])]
    assert set(again) <= {302, 409}, again
    assert snapshot(figures["response_id"]) == before
    with capsys.disabled():
        print(
            f"\n[threads/test client] {TABLETS} tablets x {ROUNDS} rounds on one code: "
            f"{figures['requests']} requests, statuses {figures['statuses']}, "
            f"replays {figures['replayed']}"
        )


@pytest.fixture
def served(app):
    """The test app behind a real threaded werkzeug server on a free loopback port."""
    with threaded_server(app) as url:
        yield url


def test_tablets_over_real_http_share_one_code(app, world, served, capsys):
    code, participant = world.codes[1], world.participant_ids[1]
    results = run_tablets(lambda: HttpTransport(served), code, TABLETS)
    figures = check_outcome(results, participant)
    # The other card's pupil was never touched.
    other = db.session.execute(
        sa.select(Response).filter_by(participant_id=world.participant_ids[0])
    ).scalar_one_or_none()
    assert other is None
    with capsys.disabled():
        print(
            f"\n[threads/http] {TABLETS} tablets x {ROUNDS} rounds on one code: "
            f"{figures['requests']} requests, statuses {figures['statuses']}, "
            f"replays {figures['replayed']}"
        )
