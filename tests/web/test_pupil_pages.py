"""Every pupil page type: under 30 KB over the wire (HTML, CSS, JS, icons, gzip), nothing
inline that the CSP forbids, nothing fetched from elsewhere, and it works without JavaScript
(plain forms and links)."""

from __future__ import annotations

import gzip
import re

import pytest

from tests.builders import csrf_from
from tests.web.test_pupil_support import (  # noqa: F401
    CODES,
    begin,
    enter_code,
    pupil_world_fixture,
    submit_page,
)

BUDGET = 30 * 1024
_ASSET = re.compile(r'(?:href|src)="(/static/[^"#]+)')
_USE = re.compile(r'<use href="(/static/[^"#]+)#')


def collect_pages(client) -> dict[str, str]:
    """The HTML of each pupil page type, visited through the real flow."""
    pages: dict[str, str] = {}
    pages["start"] = client.get("/").get_data(as_text=True)
    pages["start_wrong_code"] = enter_code(client, "WXYZ-2345", follow=False).get_data(as_text=True)
    enter_code(client, CODES[0])
    pages["language"] = client.get("/language").get_data(as_text=True)
    html = pages["language"]
    client.post("/language", data={"lang": "en", "csrf_token": csrf_from(html)})
    pages["welcome"] = client.get("/welcome").get_data(as_text=True)
    begin(client)
    pages["question_faces"] = client.get("/q/p_like").get_data(as_text=True)
    pages["question_error"] = submit_page(client, "p_like", {}).get_data(as_text=True)
    submit_page(client, "p_like", {"like_music": "4"})
    pages["question_yes_no"] = client.get("/q/p_plays").get_data(as_text=True)
    submit_page(client, "p_plays", {"plays": "1"})
    pages["question_choice_stars"] = client.get("/q/p_instrument").get_data(as_text=True)
    submit_page(client, "p_instrument", {})
    pages["question_multi"] = client.get("/q/p_home").get_data(as_text=True)
    submit_page(client, "p_home", {})
    pages["question_number"] = client.get("/q/p_age").get_data(as_text=True)
    submit_page(client, "p_age", {})
    pages["question_grid"] = client.get("/q/p_feel").get_data(as_text=True)
    submit_page(client, "p_feel", {})
    pages["question_text_info"] = client.get("/q/p_words").get_data(as_text=True)
    submit_page(client, "p_words", {}, action="stop")
    pages["stopped"] = client.get("/stopped").get_data(as_text=True)
    enter_code(client, CODES[0])
    client.post(
        "/language",
        data={
            "lang": "en",
            "csrf_token": csrf_from(client.get("/language").get_data(as_text=True)),
        },
    )
    submit_page(client, "p_words", {})
    pages["done"] = client.get("/done").get_data(as_text=True)
    pages["not_found"] = client.get("/no/such/page").get_data(as_text=True)
    return pages


@pytest.fixture
def pages(client, pupil_world):
    return collect_pages(client)


def _wire_size(client, url: str) -> tuple[int, int]:
    """Bytes the server really sends to a browser that accepts gzip, and the bytes unpacked."""
    reply = client.get(url, headers={"Accept-Encoding": "gzip"})
    body = reply.get_data()
    if reply.headers.get("Content-Encoding") == "gzip":
        return len(body), len(gzip.decompress(body))
    return len(body), len(body)


def test_every_pupil_page_is_under_30_kb_compressed(client, pages):
    figures = []
    for name, html in pages.items():
        assets = sorted(set(_ASSET.findall(html)) | set(_USE.findall(html)))
        # The page itself, as the server compresses it (same HTML size and template).
        packed = client.application.make_response(html)
        packed.headers["Content-Type"] = "text/html; charset=utf-8"
        with client.application.test_request_context(headers={"Accept-Encoding": "gzip"}):
            from surveyapp.extensions import compress

            packed = compress.after_request(packed)
        assert packed.headers.get("Content-Encoding") == "gzip", name
        total = len(packed.get_data())
        total_raw = len(html.encode())
        for url in assets:
            wire, raw = _wire_size(client, url)
            total += wire
            total_raw += raw
        figures.append((name, total_raw, total))
        assert total < BUDGET, f"{name}: {total} bytes over the wire"
    print("\npupil page weight (HTML + CSS + JS + icons), bytes raw / gzip:")
    for name, raw, packed in figures:
        print(f"  {name:24} {raw:7d} / {packed:6d}")


def test_no_inline_script_or_style_and_nothing_from_elsewhere(pages):
    for name, html in pages.items():
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), name
        assert "<style" not in html, name
        assert not re.search(r"\sstyle=", html), name
        assert not re.search(r"\son[a-z]+=", html), name
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html), name
        assert "fonts.googleapis" not in html, name


def test_every_page_says_its_language_and_direction(pages):
    for name, html in pages.items():
        assert html.startswith('<!doctype html>\n<html lang="en" dir="ltr">'), name


def test_the_pages_work_without_javascript(pages):
    """Every action is a real form or link; the speaker (JS only) starts hidden."""
    question_pages = [html for name, html in pages.items() if name.startswith("question_")]
    for html in question_pages:
        assert '<form method="post"' in html
        assert 'name="action" value="next"' in html
        assert 'name="action" value="back"' in html
        assert re.search(r'<button type="button" class="speak" hidden', html)
    assert '<a class="btn btn-primary btn-big" href="/">' in pages["done"]


def test_likert_faces_are_pictures_with_words_on_real_radio_inputs(pages):
    html = pages["question_faces"]
    assert html.count('type="radio"') == 5  # four faces and "I'd rather not say"
    for word in ("No", "Not really", "A bit", "Yes, a lot"):
        assert f'<span class="opt-word" data-read>{word}</span>' in html
    assert html.count('class="face" aria-hidden="true"') == 4
    assert not re.search("[\U0001f600-\U0001f64f]", html)  # no raw emoji (pitfall 11)
