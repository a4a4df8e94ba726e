"""Locust users for the load benchmark; started by benchmarks/run_load.py, configured by env.

``LOAD_SCENARIO``:

- ``classes``: classes of 30 pupils. A class starts together (the teacher says "go"): each
  pupil scans a card within the first seconds, picks a language, passes the welcome page and
  answers every page of the shipped questionnaire with think times drawn from what 7-14
  year-olds take (see :data:`THINK`), divided by ``LOAD_COMPRESS``. Classes start
  ``LOAD_CLASS_GAP`` seconds apart.
- ``burst``: every pupil enters (spread out), then all of them press Next at the same
  moment, ``LOAD_BURSTS`` times, ``LOAD_TICK`` seconds apart (pupils wait for the tick
  instead of thinking).

``LOAD_TARGET``: ``app`` (the survey engine), ``floor`` (benchmarks/load/floor_app.py: one
POST doing one INSERT per answer page, same pupils, same pacing) or ``floor-prg`` (the same
POST, then the GET its redirect points to, as a browser does after a Post/Redirect/Get).

Every request is recorded (start, milliseconds, kind, status, error) and written to
``LOAD_RESULT`` as JSON when the run ends; run_load.py turns them into the table.
"""

from __future__ import annotations

import json
import os
import random
import time
from itertools import count
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

from benchmarks.load.flow import FlowError, Pause, PupilRecord, Reply, pupil_script

SCENARIO = os.environ.get("LOAD_SCENARIO", "classes")
TARGET = os.environ.get("LOAD_TARGET", "app")
COMPRESS = float(os.environ.get("LOAD_COMPRESS", "10"))
CLASS_SIZE = int(os.environ.get("LOAD_CLASS_SIZE", "30"))
CLASS_GAP = float(os.environ.get("LOAD_CLASS_GAP", "3"))
BURSTS = int(os.environ.get("LOAD_BURSTS", "5"))
TICK = float(os.environ.get("LOAD_TICK", "10"))
#: Burst scenario: pupils enter during the first ENTRY_SPREAD seconds; the first burst is at
#: BURST_START, the next ones TICK apart.
ENTRY_SPREAD = float(os.environ.get("LOAD_ENTRY_SPREAD", "10"))
BURST_START = float(os.environ.get("LOAD_BURST_START", "20"))
CODES: list[str] = json.loads(os.environ.get("LOAD_CODES", "[]"))
RESULT = os.environ.get("LOAD_RESULT", "")
PAGES = int(os.environ.get("LOAD_PAGES", "37"))  # floor: answer pages per pupil

#: Real think times in seconds (median, spread) before a request of each kind: reading a
#: question aloud or alone and choosing takes a 7-14 year-old about 5-30 s (median ~12 s);
#: the language and welcome buttons about 6 s. Lognormal, so a few pupils dawdle.
THINK = {"page": (12.0, 0.5), "entry": (6.0, 0.4)}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

_next_user = count()
_samples: list[tuple[float, float, str, int, int]] = []
_records: list[PupilRecord] = []
_finished = 0
_started_at = time.time() + 2.0  # every user is spawned by then
_errors: list[str] = []


def think_time(rng: random.Random, kind: str) -> float:
    median, sigma = THINK[kind]
    return rng.lognormvariate(0, sigma) * median / COMPRESS


def wait_for_tick() -> None:
    """Sleep until the next burst tick: BURST_START after the start, then every TICK."""
    first = _started_at + BURST_START
    now = time.time()
    ticks = 0 if now <= first else int((now - first) // TICK) + 1
    gevent.sleep(first + ticks * TICK - now)


@events.request.add_listener
def _record(request_type, name, response_time, response, exception, start_time=None, **_kw):
    status = getattr(response, "status_code", 0) or 0
    _samples.append((start_time or 0.0, response_time, name, status, 1 if exception else 0))


@events.quitting.add_listener
def _write(environment, **_kw):
    if not RESULT:
        return
    with open(RESULT, "w") as out:
        json.dump(
            {
                "scenario": SCENARIO,
                "target": TARGET,
                "started_at": _started_at,
                "tick": TICK,
                "first_tick": _started_at + BURST_START,
                "bursts": BURSTS,
                "samples": _samples,
                "pupils": len(_records),
                "finished": sum(r.finished for r in _records),
                "answer_pages": sum(r.answer_pages for r in _records),
                "busy_pages": sum(r.busy_pages for r in _records),
                "flow_errors": _errors,
            },
            out,
        )


def _one_done(user: FastHttpUser) -> None:
    global _finished
    _finished += 1
    if _finished >= len(CODES) and user.environment.runner is not None:
        gevent.spawn_later(0.5, user.environment.runner.quit)
    raise StopUser()


class Pupil(FastHttpUser):
    """One pupil on one tablet (its own cookie jar)."""

    wait_time = constant(0)
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.index = next(_next_user)
        self.code = CODES[self.index % len(CODES)]
        self.rng = random.Random(self.code)
        self.record = PupilRecord(self.code)
        _records.append(self.record)
        self.class_number = self.index // CLASS_SIZE

    def _request(self, method: str, path: str, fields, kind: str) -> Reply:
        """One request; a connection that broke before any answer is retried once.

        Browsers do the same when a kept-alive connection was closed by the server while the
        pupil was thinking (gunicorn closes idle connections after ``keepalive`` seconds);
        such attempts are reported as ``reconnect``, not as errors. A second failure is one.
        """
        reply = self._attempt(method, path, fields, kind, first=True)
        if reply.status == 0:
            reply = self._attempt(method, path, fields, kind, first=False)
        return reply

    def _attempt(self, method: str, path: str, fields, kind: str, *, first: bool) -> Reply:
        body = urlencode(fields) if fields is not None else None
        with self.client.request(
            method,
            path,
            name=kind,
            data=body,
            headers=FORM if body is not None else None,
            allow_redirects=False,
            catch_response=True,
        ) as r:
            status = r.status_code or 0
            if status == 0 and first:
                r.request_meta["name"] = "reconnect"
                r.success()
            elif status == 0 or status >= 500 or (status >= 400 and status not in (409, 422)):
                r.failure(f"HTTP {status}")
            else:
                r.success()
            return Reply(status, r.headers.get("location") if r.headers else None, r.text or "")

    def _start_delay(self) -> None:
        """Classes start CLASS_GAP apart; pupils of a class within the first few seconds."""
        if SCENARIO == "classes":
            delay = self.class_number * CLASS_GAP + self.rng.uniform(0, 20.0 / COMPRESS)
        else:
            delay = self.rng.uniform(0, ENTRY_SPREAD)
        gevent.sleep(max(0.0, _started_at + delay - time.time()))

    @task
    def answer_the_questionnaire(self) -> None:
        self._start_delay()
        if TARGET.startswith("floor"):
            self._floor()
        else:
            self._pupil()
        _one_done(self)

    def _pupil(self) -> None:
        burst = SCENARIO == "burst"
        script = pupil_script(
            self.code,
            self.rng,
            lambda kind: think_time(self.rng, kind) if not burst else self.rng.uniform(0, 0.2),
            self.record,
            max_answer_pages=BURSTS if burst else None,
        )
        sent: Reply | None = None
        try:
            while True:
                try:
                    item = script.send(sent)
                except StopIteration:
                    return
                if isinstance(item, Pause):
                    if item.kind == "burst":
                        wait_for_tick()
                    else:
                        gevent.sleep(item.seconds)
                    sent = None
                    continue
                sent = self._request(item.method, item.path, item.fields, item.kind)
        except FlowError as exc:
            _errors.append(str(exc))

    def _floor(self) -> None:
        """The same pupil pacing, but each answer page is one POST that does one INSERT."""
        for page in range(PAGES if SCENARIO == "classes" else BURSTS):
            if SCENARIO == "burst":
                wait_for_tick()
            else:
                gevent.sleep(think_time(self.rng, "page"))
            reply = self._request(
                "POST", "/insert", [("code", self.code), ("page", str(page))], "answer"
            )
            if reply.status == 303:
                self.record.answer_pages += 1
                if TARGET == "floor-prg":
                    self._request("GET", "/next", None, "page")
        self.record.finished = True
