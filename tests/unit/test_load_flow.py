"""The simulated pupil's form reader (benchmarks/load/flow.py), used by the load benchmark
and the fault test: it must see exactly the fields a browser would submit."""

from __future__ import annotations

from benchmarks.load.flow import parse_forms

PAGE = """<!doctype html><html><body>
<form method="get" action="/search"><input name="q"></form>
<input type="hidden" name="outside" value="no">
<FORM METHOD="POST" ACTION="/q/p_music?x=1&amp;y=2" class="page-form">
  <input type="hidden" name="csrf_token" value="a.b-c_d">
  <input type="hidden" name='page_token' value='MQ.x&quot;y'>
  <input type="radio" name="enjoy" value="1" data-note="a > b"><input type=radio name=enjoy value=2>
  <input type="radio" name="enjoy" value="declined" checked>
  <input type="checkbox" name="langs" value="1"/><input type="checkbox" name="langs" value="3" />
  <input type="text" name="wish"><input type="number" name="age"><input name="plain">
  <textarea name="about">Some &lt;text&gt;</textarea>
  <input type="submit" value="not a button element">
  <button type="submit" name="action" value="next" class="btn">Next</button>
  <button type="button" name="read" value="aloud">Read</button>
  <button name="action" value="back">Back</button>
</form>
<form method="post" action="/next-pupil"><button>Next pupil</button></form>
</body></html>"""


def test_reads_the_post_forms_as_a_browser_would_submit_them():
    forms = parse_forms(PAGE)
    assert [f.action for f in forms] == ["/q/p_music?x=1&y=2", "/next-pupil"]
    page = forms[0]
    assert page.method == "post"
    assert page.hidden == [("csrf_token", "a.b-c_d"), ("page_token", 'MQ.x"y')]
    assert page.radios == {"enjoy": ["1", "2", "declined"]}
    assert page.checkboxes == {"langs": ["1", "3"]}
    assert page.texts == ["wish", "age", "plain", "about"]
    assert page.buttons == [("action", "next"), ("action", "back")]
    assert forms[1].buttons == [("", "")]


def test_a_page_without_post_forms_gives_none():
    assert parse_forms("<p>Thank you!</p><form action='/x'><input name='a'></form>") == []
    assert parse_forms("") == []


def test_the_median_round_is_reported_with_every_round_in_its_notes():
    from benchmarks.run_load import Row, median_row

    def row(pages: int) -> Row:
        return Row("burst", "SQLite", pages, 1.0, pages, 1, 2, 3, 0, 2, "load avg 1.0")

    chosen = median_row([row(250), row(180), row(210)])
    assert chosen.answer_pages == 210
    assert chosen.notes.startswith("median of 3 rounds (pages/s 250, 180, 210)")
    single = row(99)
    assert median_row([single]) is single
