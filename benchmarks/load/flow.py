"""One simulated pupil, independent of the HTTP client that carries it.

:func:`pupil_script` is a generator that walks the real pupil flow (card link -> language ->
welcome -> every question page -> done) the way a browser with JavaScript off does: it
yields a :class:`Step` (an HTTP request) and is sent back a :class:`Reply`, or it yields a
:class:`Pause` (think time) and is sent ``None``. The fault test drives it with ``requests``
in threads, the load benchmark with locust; both see the same pupil.

Answers are picked at random from what each page offers (any radio group, checkbox group,
text box), so the script follows whatever the questionnaire asks without knowing it. Every
answer page the server acknowledged (the next page drawn in the POST's reply, or a redirect
after it) is recorded with the values the storage contract says must now be in the
``answer`` table.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlsplit

#: Replies to an answer POST that mean "saved": the next page itself (200), or a redirect (to
#: the finish, or back). 422 (a question to look at again) keeps the page and saves only part.
ACKNOWLEDGED = (200, 302, 303)
DECLINE_VALUE = "declined"
DECLINE_SUFFIX = "-declined"
#: Expected value of an answer the pupil declined ("I'd rather not say").
DECLINED = "<declined>"
TEXTS = ("Playing the violin", "More music at school please", "drums!", "I like singing")


@dataclass
class Step:
    """An HTTP request for the driver to make (never following redirects)."""

    method: str
    path: str
    fields: list[tuple[str, str]] | None = None
    kind: str = "page"  # scan | language | welcome | page | answer | done | retry


@dataclass
class Reply:
    status: int
    location: str | None
    text: str


@dataclass
class Pause:
    """Think time before the next request (``burst`` pauses wait for the class's signal)."""

    seconds: float
    kind: str = "think"


@dataclass
class Form:
    action: str
    method: str
    hidden: list[tuple[str, str]] = field(default_factory=list)
    radios: dict[str, list[str]] = field(default_factory=dict)
    checkboxes: dict[str, list[str]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)


#: The tags a pupil's browser needs to submit a form; attribute values may hold ">" only when
#: quoted, which the pattern respects. A regex scan costs a fraction of html.parser's, and
#: the simulated pupils share the two CPUs with the server they measure.
_TAG = re.compile(
    r"<(/?)(form|input|textarea|button)\b((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*/?>",
    re.IGNORECASE,
)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def _attributes(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTRIBUTE.finditer(text)
    }


def parse_forms(html: str) -> list[Form]:
    """The POST forms of a page: hidden fields, radio and checkbox groups, text boxes, buttons."""
    forms: list[Form] = []
    form: Form | None = None
    for match in _TAG.finditer(html):
        closing, tag, rest = match.group(1), match.group(2).lower(), match.group(3)
        if tag == "form":
            if closing:
                form = None
            else:
                a = _attributes(rest)
                form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
                forms.append(form)
            continue
        if form is None or closing:
            continue
        a = _attributes(rest)
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "hidden":
                form.hidden.append((name, a.get("value", "")))
            elif kind == "radio":
                form.radios.setdefault(name, []).append(a.get("value", "on"))
            elif kind == "checkbox":
                form.checkboxes.setdefault(name, []).append(a.get("value", "on"))
            elif kind in {"text", "number"}:
                form.texts.append(name)
        elif tag == "textarea" and name:
            form.texts.append(name)
        elif tag == "button" and a.get("type", "submit") == "submit":
            form.buttons.append((name, a.get("value", "")))
    return [f for f in forms if f.method == "post"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def choose_answers(form: Form, rng: random.Random) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Fields to post for a question page, and what the ``answer`` table must then hold.

    Mostly real answers, sometimes "I'd rather not say", now and then a skipped question.
    """
    fields: list[tuple[str, str]] = []
    expected: dict[str, Any] = {}
    for name, values in form.radios.items():
        real = [v for v in values if v != DECLINE_VALUE]
        roll = rng.random()
        if roll < 0.03:
            continue
        if roll < 0.08 and DECLINE_VALUE in values:
            fields.append((name, DECLINE_VALUE))
            expected[name] = DECLINED
            continue
        value = rng.choice(real)
        fields.append((name, value))
        expected[name] = int(value)
    for name, values in form.checkboxes.items():
        if name.endswith(DECLINE_SUFFIX):
            continue
        real = [v for v in values if v != DECLINE_VALUE]
        picked = sorted(rng.sample(real, k=min(len(real), rng.randint(1, 3))), key=int)
        fields.extend((name, v) for v in picked)
        expected[name] = sorted(int(v) for v in picked)
    for name in form.texts:
        text = rng.choice(TEXTS)
        fields.append((name, text))
        expected[name] = text
    return fields, expected


def _submit_fields(form: Form, action: str | None = None) -> list[tuple[str, str]]:
    fields = list(form.hidden)
    if action is not None:
        fields.append(("action", action))
    return fields


class FlowError(RuntimeError):
    """The server answered something a pupil could not carry on from."""


@dataclass
class PupilRecord:
    """What happened to one pupil: acknowledged answers, pages, errors, finished or not."""

    code: str
    acknowledged: dict[str, Any] = field(default_factory=dict)
    answer_pages: int = 0
    busy_pages: int = 0
    finished: bool = False
    #: 409s: a page sent again after its answer was lost (the server had already finished it).
    conflicts: int = 0


def pupil_script(
    code: str,
    rng: random.Random,
    think: Callable[[str], float],
    record: PupilRecord,
    *,
    language: str = "en",
    max_answer_pages: int | None = None,
) -> Generator[Step | Pause, Reply | None, None]:
    """Walk one pupil through the flow; see the module docstring for the protocol.

    ``think(kind)`` gives the pause before a request of that kind (``page`` for an answer,
    ``entry`` for the language and welcome buttons). ``max_answer_pages`` stops after that
    many answered pages (the burst scenario), leaving the response unfinished.
    """
    step = Step("GET", f"/s/{code}", kind="scan")
    pending: dict[str, Any] | None = None  # what the last answer POST sent
    reply = yield step
    while True:
        assert reply is not None
        if reply.status == 503:
            # The friendly busy page: wait a moment, press Try again (its form, or its link).
            record.busy_pages += 1
            yield Pause(1.0, "retry")
            forms = parse_forms(reply.text)
            if forms:
                step = Step("POST", path_of(forms[0].action), list(forms[0].hidden), "retry")
            reply = yield step
            if reply is not None and reply.status in ACKNOWLEDGED and pending is not None:
                record.acknowledged.update(pending)
                record.answer_pages += 1
                pending = None
            continue
        pending = None
        if reply.status in (301, 302, 303, 307, 308):
            target = path_of(reply.location or "/")
            step = Step("GET", target, kind="done" if target == "/done" else "page")
            reply = yield step
            if target == "/done" and reply is not None and reply.status == 200:
                record.finished = True
                return
            continue
        if reply.status == 409:
            # "Already finished" (or a page of another pupil): nothing more to answer here.
            record.conflicts += 1
            return
        if reply.status >= 400 and reply.status != 422:
            raise FlowError(f"HTTP {reply.status} on {step.path} for pupil {code}")
        forms = parse_forms(reply.text)
        if not forms:
            raise FlowError(f"no form on {step.path} for pupil {code}")
        form = forms[0]
        action = path_of(form.action)
        if action == "/language":
            yield Pause(think("entry"))
            step = Step("POST", action, [*form.hidden, ("lang", language)], "language")
        elif action == "/welcome":
            yield Pause(think("entry"))
            step = Step("POST", action, _submit_fields(form, "start"), "welcome")
        elif action.startswith("/q/"):
            if max_answer_pages is not None and record.answer_pages >= max_answer_pages:
                return
            fields, expected = choose_answers(form, rng)
            yield Pause(think("page"), "burst" if max_answer_pages is not None else "think")
            step = Step("POST", action, _submit_fields(form, "next") + fields, "answer")
        else:
            raise FlowError(f"unexpected form {action!r} for pupil {code}")
        reply = yield step
        if step.kind == "answer":
            if reply is not None and reply.status in ACKNOWLEDGED:
                record.acknowledged.update(expected)
                record.answer_pages += 1
            else:
                pending = expected
