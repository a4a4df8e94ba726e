"""Tablets in several client processes against the app served by several gunicorn workers.

This is the deployment shape (pitfall 7: several worker processes writing to one SQLite file,
or to one PostgreSQL): every worker has its own connection pool, so only the database orders
the writes. The same checks as the thread tests apply, plus: nothing answered 503 (a database
that stayed locked past the busy timeout).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.concurrency.outcome import check_outcome
from tests.concurrency.pupil_world import build_world, forget_questionnaire, write_questionnaire_dir
from tests.concurrency.tablet import run_http_tablet

CLIENTS = 4
ROUNDS = 6
WORKERS = 3
THREADS = 2
START_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_app(app, app_config, tmp_path):
    """gunicorn with WORKERS processes serving the app on the test database."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed in this environment (pip install gunicorn)")
    config = {
        key: value
        for key, value in app_config.items()
        if key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "CODE_HASH_KEY", "EXPORT_DIR")
    }
    config["QUESTIONNAIRE_DIR"] = str(write_questionnaire_dir(tmp_path / "questionnaires"))
    port = _free_port()
    env = dict(os.environ, SURVEYAPP_TEST_CONFIG=json.dumps(config))
    env.pop("SURVEYAPP_ENV", None)
    log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115 - read after the server stops
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "--workers", str(WORKERS),
            "--worker-class", "gthread",
            "--threads", str(THREADS),
            "--bind", f"127.0.0.1:{port}",
            "--timeout", "120",
            "tests.concurrency.served:create_served_app()",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if requests.get(base + "/", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.seek(0)
            pytest.fail(f"gunicorn did not start:\n{log.read()[-3000:]}")
        time.sleep(0.3)
    yield base, proc, log
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    log.close()


@pytest.fixture
def world(app):
    w = build_world(app, cards=1)
    yield w
    forget_questionnaire(app)


def test_client_processes_against_gunicorn_workers(app, world, gunicorn_app, capsys):
    base, _proc, log = gunicorn_app
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(CLIENTS, timeout=180)
    out = ctx.Queue()
    clients = [
        ctx.Process(target=run_http_tablet, args=(base, world.codes[0], seed, ROUNDS, barrier, out))
        for seed in range(CLIENTS)
    ]
    for c in clients:
        c.start()
    reports = [out.get(timeout=300) for _ in clients]
    for c in clients:
        c.join(timeout=30)
    errors = [r for r in reports if r[0] != "ok"]
    log.seek(0)
    server_log = log.read()
    assert not errors, f"{errors}\n{server_log[-3000:]}"
    results = [r[2] for r in reports]
    figures = check_outcome(results, world.participant_ids[0])
    assert "Traceback" not in server_log, server_log[-3000:]
    with capsys.disabled():
        print(
            f"\n[processes] {CLIENTS} client processes x {ROUNDS} rounds on one code, "
            f"gunicorn {WORKERS} workers x {THREADS} threads: {figures['requests']} requests, "
            f"statuses {figures['statuses']}, replays {figures['replayed']}"
        )
