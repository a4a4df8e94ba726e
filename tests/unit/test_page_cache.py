"""The page cache keeps only pupil-free HTML, keyed by everything the drawing depends on."""

from __future__ import annotations

import pytest

from surveyapp.pupil import page_cache

KEY = ("q", "v1", "p1", ("a",), "en")


def _draw(holes) -> str:
    return f'<input name="csrf_token" value="{holes["csrf_token"]()}"><b>{holes["token"]}</b>'


def test_each_request_gets_its_own_tokens_in_the_same_page():
    page_cache.clear()
    drawn = []

    def draw(holes):
        drawn.append(1)
        return _draw(holes)

    first = page_cache.fresh_page(KEY, draw, csrf="C1", token="T1")
    second = page_cache.fresh_page(KEY, draw, csrf="C2", token="T2")
    assert first == '<input name="csrf_token" value="C1"><b>T1</b>'
    assert second == '<input name="csrf_token" value="C2"><b>T2</b>'
    assert len(drawn) == 1  # drawn once, filled twice


def test_a_page_without_both_placeholders_is_refused():
    page_cache.clear()
    with pytest.raises(ValueError, match="both tokens"):
        page_cache.fresh_page(KEY, lambda holes: "<p>no tokens</p>", csrf="C", token="T")
    assert not page_cache._pages


def test_the_cache_stays_bounded(monkeypatch):
    page_cache.clear()
    monkeypatch.setattr(page_cache, "MAX_ENTRIES", 3)
    for n in range(7):
        page_cache.fresh_page((*KEY, n), _draw, csrf="C", token="T")
        assert len(page_cache._pages) <= 3
    page_cache.clear()
