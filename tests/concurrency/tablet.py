"""A pupil's tablet as a program: enter a code, pick a language, start, post pages.

It talks to the app through a *transport*: a Flask test client (threads in this process) or
real HTTP with ``requests`` (a served app, from threads or other processes). This module
imports nothing from the app so client processes start quickly. No tests here.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_PAGE_TOKEN = re.compile(r'name="page_token" value="([^"]+)"')

#: Statuses a pupil page may answer with while others use the same code; anything else fails.
FINE = {200, 302, 303, 409, 422}


@dataclass
class Reply:
    status: int
    text: str
    location: str | None

    @property
    def path(self) -> str | None:
        """The redirect target as a path (servers may send absolute URLs)."""
        if not self.location:
            return None
        parts = urlsplit(self.location)
        return parts.path + (f"?{parts.query}" if parts.query else "")


class FlaskTransport:
    def __init__(self, app: Any) -> None:
        self.client = app.test_client()

    def get(self, path: str) -> Reply:
        resp = self.client.get(path)
        return Reply(resp.status_code, resp.get_data(as_text=True), resp.headers.get("Location"))

    def post(self, path: str, data: Any) -> Reply:
        resp = self.client.post(path, data=data)
        return Reply(resp.status_code, resp.get_data(as_text=True), resp.headers.get("Location"))


class HttpTransport:
    def __init__(self, base_url: str) -> None:
        import requests

        self.base = base_url.rstrip("/")
        self.session = requests.Session()

    def get(self, path: str) -> Reply:
        r = self.session.get(self.base + path, allow_redirects=False, timeout=60)
        return Reply(r.status_code, r.text, r.headers.get("Location"))

    def post(self, path: str, data: Any) -> Reply:
        r = self.session.post(self.base + path, data=data, allow_redirects=False, timeout=60)
        return Reply(r.status_code, r.text, r.headers.get("Location"))


class FlowError(AssertionError):
    pass


@dataclass
class Tablet:
    transport: Any
    replies: list[tuple[str, str, int]] = field(default_factory=list)

    def _log(self, method: str, path: str, reply: Reply) -> Reply:
        self.replies.append((method, path, reply.status))
        return reply

    def get(self, path: str) -> Reply:
        return self._log("GET", path, self.transport.get(path))

    def post(self, path: str, data: Any) -> Reply:
        return self._log("POST", path, self.transport.post(path, data))

    def tokens(self, path: str) -> tuple[str, str | None]:
        page = self.get(path)
        csrf = _CSRF.search(page.text)
        if page.status != 200 or not csrf:
            raise FlowError(f"GET {path}: {page.status}, no form ({page.location})")
        token = _PAGE_TOKEN.search(page.text)
        return csrf.group(1), token.group(1) if token else None

    def begin(self, code: str, lang: str = "en") -> str:
        """Enter ``code``, choose ``lang``, pass the welcome page; the page it lands on."""
        csrf, _ = self.tokens("/")
        entered = self.post("/", {"code": code, "csrf_token": csrf})
        if entered.status != 302:
            raise FlowError(f"code entry answered {entered.status}")
        csrf, _ = self.tokens("/language")
        self.post("/language", {"lang": lang, "csrf_token": csrf})
        csrf, _ = self.tokens("/welcome")
        started = self.post("/welcome", {"action": "start", "csrf_token": csrf})
        if started.status != 302 or not (started.path or "").startswith("/q/"):
            raise FlowError(f"welcome answered {started.status} -> {started.location}")
        return started.path or ""

    def page_form(self, page_id: str) -> dict[str, str]:
        """The hidden fields of a page (CSRF and page token), from a fresh GET."""
        csrf, token = self.tokens(f"/q/{page_id}")
        return {"csrf_token": csrf, "page_token": token or ""}

    def post_page(self, page_id: str, hidden: dict, answers: dict, action: str = "next") -> Reply:
        data = dict(hidden)
        data.update(answers)
        data["action"] = action
        return self.post(f"/q/{page_id}", data)


# --------------------------------------------------------------------------- answer plans


def page_one(rng: random.Random) -> tuple[dict, dict]:
    """Form data for p_one and what it stores, key -> value (None = cleared)."""
    like = rng.choice(["1", "2", "3", "4", "declined"])
    plays = rng.choice(["0", "1", "declined", ""])
    stored = {
        "like_music": "declined" if like == "declined" else int(like),
        "plays": None if plays == "" else ("declined" if plays == "declined" else int(plays)),
    }
    return {"like_music": like, "plays": plays}, stored


def page_two(rng: random.Random, tag: str) -> tuple[dict, dict, bool]:
    """Form data for p_two, what it stores, and whether it is valid as a whole."""
    langs = sorted(rng.sample(["1", "2", "3"], rng.randint(0, 3)))
    age = rng.choice(["5", "9", "16", "٧", "", "99"])  # 99 is out of range: refused
    minutes = rng.choice(["0", "12.5", "90", "7,5", ""])
    wish = rng.choice([f"drums {tag}", "", f"viola {tag} 🎻"])
    data: dict[str, Any] = {"home_langs": langs, "age": age, "minutes": minutes, "wish": wish}
    stored: dict[str, Any] = {
        "home_langs": [int(x) for x in langs] or None,
        "minutes": float(minutes.replace(",", ".")) if minutes else None,
        "wish": wish or None,
    }
    valid = age != "99"
    if valid:
        stored["age"] = 7 if age == "٧" else (int(age) if age else None)
    if rng.random() < 0.2:
        data["wish-declined"] = "y"
        data["wish"] = ""
        stored["wish"] = "declined"
    return data, stored, valid


def page_three(rng: random.Random) -> tuple[dict, dict]:
    happy = rng.choice(["1", "2", "3", "4"])
    safe = rng.choice(["1", "4", "declined"])
    instrument = rng.choice(["1", "2"])
    return (
        {"feel_happy": happy, "feel_safe": safe, "instrument": instrument},
        {
            "feel_happy": int(happy),
            "feel_safe": "declined" if safe == "declined" else int(safe),
            "instrument": int(instrument),
        },
    )


def hammer(tablet: Tablet, code: str, seed: int, rounds: int, wait: Any = None) -> dict[str, Any]:
    """One tablet's part in a race on one code: returns what it submitted and saw.

    Every page is posted twice with the same body (a double-clicked Next), some pages are
    posted again after moving on (the back button), and the page list is interleaved with
    the other tablets'. ``wait`` (a barrier's ``wait``) lines the tablets up before the
    answers start flying and again before everyone finishes at once.
    """
    rng = random.Random(seed)
    tablet.begin(code)
    submitted: dict[str, list] = {}
    replays: list[tuple[str, dict]] = []
    if wait:
        wait()
    for i in range(rounds):
        if i % 2 == 0:
            page_id = "p_one"
            data, stored = page_one(rng)
            valid = True
        else:
            page_id = "p_two"
            data, stored, valid = page_two(rng, f"{seed}-{i}")
        hidden = tablet.page_form(page_id)
        action = rng.choice(["next", "next", "back", "stop"]) if valid else "next"
        for _click in range(2):  # double-clicked
            reply = tablet.post_page(page_id, hidden, data, action)
        if reply.status in (200, 302, 422):
            # An invalid page keeps its valid fields (``stored`` leaves the bad one out).
            for key, value in stored.items():
                submitted.setdefault(key, []).append(value)
        replays.append((page_id, {**hidden, **data, "action": action}))
        if action == "stop":
            tablet.begin(code)  # the pupil comes back on the same card
    # Everyone makes sure the required answer is there, then all finish at the same moment.
    hidden = tablet.page_form("p_one")
    like = str(rng.randint(1, 4))
    tablet.post_page("p_one", hidden, {"like_music": like, "plays": "1"}, "next")
    submitted.setdefault("like_music", []).append(int(like))
    submitted.setdefault("plays", []).append(1)
    hidden = tablet.page_form("p_three")
    data, stored = page_three(rng)
    if wait:
        wait()
    finish = tablet.post_page("p_three", hidden, data, "next")
    finish_again = tablet.post_page("p_three", hidden, data, "next")  # double-clicked Finish
    for key, value in stored.items():
        submitted.setdefault(key, []).append(value)
    return {
        "submitted": submitted,
        "replays": replays,
        "finish": (finish.status, finish.path),
        "finish_again": (finish_again.status, finish_again.path),
        "replies": tablet.replies,
    }


def replay_all(tablet: Tablet, replays: list[tuple[str, dict]]) -> list[int]:
    """Send recorded page POSTs again, byte for byte (a proxy or a browser replaying them)."""
    return [tablet.post(f"/q/{page_id}", data).status for page_id, data in replays]


def run_http_tablet(base_url: str, code: str, seed: int, rounds: int, barrier, out) -> None:
    """Entry point of a client *process*: hammer a served app and report through ``out``."""
    tablet = Tablet(HttpTransport(base_url))
    try:
        result = hammer(tablet, code, seed, rounds, barrier.wait if barrier else None)
        result["replayed"] = replay_all(tablet, result["replays"])
        result.pop("replays")
        out.put(("ok", seed, result))
    except Exception as exc:  # reported to the test, which fails with it
        if barrier is not None:
            barrier.abort()
        out.put(("error", seed, f"{type(exc).__name__}: {exc}; replies {tablet.replies[-5:]}"))
