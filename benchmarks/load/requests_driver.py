"""Carry :func:`benchmarks.load.flow.pupil_script` over HTTP with ``requests`` (one thread each).

A request that fails to connect, or whose connection drops (the server was killed), is sent
again until the server answers or ``deadline`` passes: exactly what a pupil pressing the
button again does. Saving a page is idempotent, so a re-sent POST is harmless.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from .flow import FlowError, Pause, PupilRecord, Reply, Step, pupil_script


@dataclass
class DriveResult:
    record: PupilRecord
    statuses: Counter = field(default_factory=Counter)
    connection_errors: int = 0  # failed attempts, retries included
    broken_requests: int = 0  # requests that needed at least one retry
    error: str | None = None


def drive_pupil(
    base_url: str,
    code: str,
    *,
    seed: int,
    think: tuple[float, float] = (0.01, 0.05),
    stop: threading.Event | None = None,
    deadline: float | None = None,
    result: DriveResult | None = None,
) -> DriveResult:
    """Walk one pupil through the flow; ``result`` (if given) is filled in as it goes."""
    rng = random.Random(seed)
    result = result or DriveResult(PupilRecord(code))
    script = pupil_script(code, rng, lambda _kind: rng.uniform(*think), result.record)
    session = requests.Session()
    sent: Reply | None = None
    try:
        while True:
            try:
                item = script.send(sent)
            except StopIteration:
                return result
            if isinstance(item, Pause):
                if stop is not None and stop.is_set():
                    return result
                time.sleep(item.seconds)
                sent = None
                continue
            sent = _send(session, base_url, item, result, stop, deadline)
            if sent is None:
                return result
    except FlowError as exc:
        result.error = str(exc)
        return result
    finally:
        session.close()


def _send(
    session: requests.Session,
    base_url: str,
    step: Step,
    result: DriveResult,
    stop: threading.Event | None,
    deadline: float | None,
) -> Reply | None:
    attempts = 0
    while True:
        attempts += 1
        try:
            r = session.request(
                step.method,
                base_url + step.path,
                data=step.fields,
                allow_redirects=False,
                timeout=20,
            )
        except requests.RequestException:
            result.connection_errors += 1
            if attempts == 1:
                result.broken_requests += 1
            if (stop is not None and stop.is_set()) or (
                deadline is not None and time.monotonic() > deadline
            ):
                return None
            time.sleep(0.1)
            continue
        result.statuses[r.status_code] += 1
        return Reply(r.status_code, r.headers.get("Location"), r.text)
