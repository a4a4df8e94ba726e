"""Hypothesis-driven hostile input on the pupil and code endpoints.

Every example posts something a broken tablet, a curious pupil or an attacker could send:
huge fields, wrong types, unknown choice codes, lists where one value is expected, unicode edge
cases (NUL, lone surrogates as percent-encoded bytes, right-to-left overrides, 4-byte emoji),
missing or wrong CSRF and page tokens, unknown field names, thousands of fields, odd paths.
After each one: no 5xx, and every stored answer row still obeys the questionnaire (codes among
the choices, numbers in range, text within max_length, nothing for info items, no hidden
answers kept at completion).
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.extensions import db
from surveyapp.models import Response
from tests.builders import answer_rows, csrf_in, page_token_in
from tests.concurrency.pupil_world import (
    PAGES,
    all_answer_problems,
    build_world,
    forget_questionnaire,
)
from tests.concurrency.tablet import FlaskTransport, Tablet

# FUZZ_EXAMPLES=1000 for a longer hunt; the suite keeps it short.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 80)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KNOWN_FIELDS = [
    "like_music",
    "plays",
    "home_langs",
    "age",
    "minutes",
    "wish",
    "wish-declined",
    "age-declined",
    "feel_happy",
    "feel_safe",
    "instrument",
    "note",
    "action",
    "csrf_token",
    "page_token",
]
EDGE_STRINGS = [
    "",
    " ",
    "0",
    "-1",
    "5",
    "99",
    "4",
    "1.5",
    "1e309",
    "NaN",
    "inf",
    "-0",
    "0x10",
    "1_000",
    "７",  # fullwidth digit
    "٧",  # Arabic-Indic seven
    "declined",
    "DECLINED",
    "null",
    "[1, 2]",
    '{"a": 1}',
    "true",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u200e",
    "🎻" * 30,
    "🎻" * 41,
    "e\u0301" * 30,  # combining accents: NFC makes them shorter
    "x" * 41,
    "x" * 40,
    "9" * 400,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\r\n\r\n",
    "\t",
]
# Bytes that are not UTF-8 (lone surrogates, overlong forms), sent percent-encoded.
RAW_BYTES = ["%ED%A0%80", "%ED%BF%BF", "%C0%AF", "%FF%FE", "%F4%90%80%80", "%00", "%E2%80%AE"]

text_values = st.one_of(
    st.sampled_from(["1", "2", "3", "4", "0", "7", "16", "12.5", "declined", "a wish"]),
    st.sampled_from(EDGE_STRINGS),
    st.text(max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(min_size=0, max_size=3).map(lambda s: s * 5000),  # huge fields
)
# Mostly the page's own fields (so answers do get saved and checked), sometimes anything.
field_names = st.one_of(
    st.sampled_from(KNOWN_FIELDS), st.sampled_from(KNOWN_FIELDS), st.text(min_size=1, max_size=20)
)
form_fields = st.lists(st.tuples(field_names, text_values), max_size=25)


@pytest.fixture
def world(app, monkeypatch):
    # Rate limits would turn most examples into 429s: these tests are about the input.
    monkeypatch.setitem(app.config, "CODE_ENTRY_LIMIT_TABLET", "100000 per minute")
    monkeypatch.setitem(app.config, "CODE_ENTRY_LIMIT_IP", "100000 per minute")
    w = build_world(app, cards=2)
    yield w
    forget_questionnaire(app)


class Pupil:
    """One tablet kept signed in with a pupil whose response is still open."""

    def __init__(self, app, world) -> None:
        self.app = app
        self.world = world
        self.tablet = Tablet(FlaskTransport(app))
        self.client = self.tablet.transport.client
        self.examples = 0

    def ready(self) -> None:
        if self.client.get("/q/p_one").status_code == 200:
            return
        # Stopped or finished: reopen the response (a finished one is deleted) and begin again.
        db.session.execute(
            sa.delete(Response).where(
                Response.participant_id == self.world.participant_ids[0],
                Response.completed_at.is_not(None),
            )
        )
        db.session.commit()
        self.tablet.begin(self.world.codes[0])

    def hidden(self, page_id: str) -> tuple[str, str]:
        html = self.client.get(f"/q/{page_id}").get_data(as_text=True)
        return csrf_in(html) or "", page_token_in(html) or ""


def _check(reply, what: str) -> None:
    assert reply.status_code < 500, f"{what}: {reply.status_code}"
    problems = all_answer_problems()
    assert not problems, f"{what}: {problems}"


@pytest.fixture
def pupil(app, world):
    p = Pupil(app, world)
    p.tablet.begin(world.codes[0])
    return p


@FUZZ
@given(
    page_id=st.sampled_from(PAGES),
    fields=form_fields,
    raw=st.lists(st.tuples(field_names, st.sampled_from(RAW_BYTES)), max_size=3),
    csrf=st.sampled_from(["valid", "valid", "valid", "missing", "wrong"]),
    token=st.sampled_from(["valid", "valid", "valid", "missing", "garbage", "other-response"]),
    action=st.one_of(st.sampled_from(["next", "back", "stop", ""]), st.text(max_size=10)),
)
def test_hostile_page_posts(pupil, page_id, fields, raw, csrf, token, action):
    pupil.ready()
    pupil.examples += 1
    csrf_value, token_value = pupil.hidden(page_id)
    pairs = [(name, value) for name, value in fields if name not in ("csrf_token", "page_token")]
    if csrf != "missing":
        pairs.append(("csrf_token", csrf_value if csrf == "valid" else "Ijk5OSI.bad.sig"))
    if token == "valid":
        pairs.append(("page_token", token_value))
    elif token == "garbage":
        pairs.append(("page_token", "W10.bad"))
    elif token == "other-response":
        from surveyapp.pupil.tablet import page_token

        with pupil.app.test_request_context():
            pairs.append(("page_token", page_token(999_999)))
    pairs.append(("action", action))
    body = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
    if raw:
        body += "&" + "&".join(f"{quote(name)}={value}" for name, value in raw)
    reply = pupil.client.post(
        f"/q/{page_id}", data=body, content_type="application/x-www-form-urlencoded"
    )
    _check(reply, f"POST /q/{page_id} {pairs[:6]} raw={raw}")
    if csrf == "valid" and token == "valid":
        # Through both checks: the page was read, so it is saved, redrawn or refused.
        assert reply.status_code in (200, 302, 409, 422), reply.status_code


@FUZZ
@given(
    code=st.one_of(
        st.sampled_from(EDGE_STRINGS),
        st.text(max_size=50),
        st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ23456789-", min_size=7, max_size=10),
        st.text(max_size=2).map(lambda s: s * 20000),
    ),
    repeat=st.integers(min_value=1, max_value=3),
    raw=st.sampled_from(["", *RAW_BYTES]),
    csrf=st.booleans(),
)
def test_hostile_code_entry(app, world, code, repeat, raw, csrf):
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    pairs = [("code", code)] * repeat  # a list where one value is expected
    if csrf:
        pairs.append(("csrf_token", csrf_in(html) or ""))
    body = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
    if raw:
        body += f"&code={raw}"
    reply = client.post("/", data=body, content_type="application/x-www-form-urlencoded")
    assert reply.status_code in (200, 302, 400, 404, 413, 429), reply.status_code
    _check(reply, f"POST / code={code[:40]!r}")


@FUZZ
@given(
    path=st.one_of(
        st.text(max_size=60).map(lambda s: quote(s, safe="")),
        st.text(max_size=60).map(lambda s: quote(s, safe="/.%")),
        st.sampled_from(
            [
                *RAW_BYTES,
                "..%2F..%2Fadmin",
                "../../etc/passwd",
                "%2e%2e/%2e%2e/",
                "A" * 5000,
                "ABCD-2345/extra/parts",
                "ABCD%0d%0aSet-Cookie:%20x=1",
                "%3Cscript%3E",
                "%F0%9F%8E%BB",
                "%E2%80%AEABCD2345",
            ]
        ),
    ),
    prefix=st.sampled_from(["/s/", "/q/", "/media/", "/s//", "/s/%2F"]),
)
def test_odd_paths(app, world, path, prefix):
    client = app.test_client()
    reply = client.get(prefix + path)
    assert reply.status_code in (200, 302, 308, 404, 405, 409, 429), reply.status_code
    assert "Set-Cookie: x=1" not in str(reply.headers)
    _check(reply, f"GET {prefix}{path[:60]}")


def test_thousands_of_fields_and_huge_bodies(app, pupil):
    csrf_value, token_value = pupil.hidden("p_two")
    base = [("csrf_token", csrf_value), ("page_token", token_value), ("action", "next")]
    many = base + [(f"f{n}", "1") for n in range(5000)] + [("age", "7")] * 3000
    reply = pupil.client.post(
        "/q/p_two", data=urlencode(many), content_type="application/x-www-form-urlencoded"
    )
    _check(reply, "8000 fields")
    huge = base + [("wish", "x" * (app.config["MAX_CONTENT_LENGTH"] + 10))]
    reply = pupil.client.post(
        "/q/p_two", data=urlencode(huge), content_type="application/x-www-form-urlencoded"
    )
    assert reply.status_code == 413
    _check(reply, "a body over MAX_CONTENT_LENGTH")
    parts = {f"f{n}": "1" for n in range(app.config["MAX_FORM_PARTS"] + 10)}
    parts.update(dict(base))
    reply = pupil.client.post("/q/p_two", data=parts, content_type="multipart/form-data")
    assert reply.status_code in (400, 413)
    _check(reply, "too many multipart parts")
    for content_type, body in [
        ("application/json", '{"like_music": [1, 2], "age": {"$gt": 1}}'),
        ("text/plain", "like_music=4"),
        ("application/x-www-form-urlencoded; charset=latin-1", "wish=%E9t%E9"),
    ]:
        reply = pupil.client.post("/q/p_one", data=body, content_type=content_type)
        _check(reply, content_type)


def test_a_valid_page_after_the_storm_still_saves(app, pupil):
    """The fuzzing above would pass vacuously if nothing could be saved: this can."""
    csrf_value, token_value = pupil.hidden("p_two")
    reply = pupil.client.post(
        "/q/p_two",
        data={
            "csrf_token": csrf_value,
            "page_token": token_value,
            "action": "next",
            "age": "٩",
            "wish": "\u202eevil\u202c 🎻",
            "home_langs": ["3", "1", "3"],
        },
    )
    assert reply.status_code == 200
    response = db.session.execute(
        sa.select(Response).filter_by(participant_id=pupil.world.participant_ids[0])
    ).scalar_one()
    rows = {k: v for k, v, _d in answer_rows(response.id)}
    assert rows["age"] == 9
    assert rows["home_langs"] == [1, 3]
    assert rows["wish"] == "\u202eevil\u202c 🎻"
    assert not all_answer_problems()
