"""The pupil flow in real headless Chromium: by touch, in English and Arabic, read-aloud,
resume after reload, no JavaScript, axe-core on every page type, screenshots.

Screenshots of every pupil page type at 768x1024 and 360x740 go to
test-artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import json

import pytest

from surveyapp.extensions import db
from tests.builders import forget_questionnaire, response_of, stored_answers
from tests.web.test_pupil_support import CODES, build_world

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def world(app):
    built = build_world(app)
    yield built
    forget_questionnaire(app, built.questionnaire.id)


def _context(browser, viewport=TABLET, **kwargs):
    return browser.new_context(viewport=viewport, has_touch=True, **kwargs)


def _tap_option(page, field: str, value: str) -> None:
    page.locator(f'label[for="q-{field}-{value}"]').tap()


def _tap_and_wait(page, locator) -> None:
    """Tap a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        locator.tap()


def _tap_next(page) -> None:
    _tap_and_wait(page, page.locator('button[name="action"][value="next"]'))


def _start(page, live_server: str, code: str, language_label: str) -> None:
    page.goto(f"{live_server}/s/{code}")
    _tap_and_wait(page, page.get_by_role("button", name=language_label, exact=True))
    _tap_and_wait(page, page.locator('button[name="action"][value="start"]'))


def _answer_all_by_touch(page) -> None:
    """Tap through the whole test questionnaire (pupil plays the violin)."""
    assert "/q/p_like" in page.url
    _tap_option(page, "like_music", "4")
    assert page.locator("#q-like_music-4").is_checked()
    _tap_next(page)
    _tap_option(page, "plays", "1")
    _tap_next(page)
    assert "/q/p_instrument" in page.url
    _tap_option(page, "instrument", "1")
    _tap_option(page, "practice", "3")
    _tap_next(page)
    _tap_option(page, "home_langs", "1")
    _tap_option(page, "home_langs", "2")
    _tap_next(page)
    page.locator("#q-age").tap()
    page.keyboard.type("9")
    _tap_next(page)
    _tap_option(page, "feel_happy", "3")
    _tap_option(page, "feel_safe", "declined")
    _tap_next(page)
    page.locator("#q-wish").tap()
    page.keyboard.type("drums")
    _tap_next(page)


EXPECTED = {
    "like_music": (4, False),
    "plays": (1, False),
    "instrument": (1, False),
    "practice": (3, False),
    "home_langs": ([1, 2], False),
    "age": (9, False),
    "feel_happy": (3, False),
    "feel_safe": (None, True),
    "wish": ("drums", False),
}


def test_a_whole_questionnaire_by_touch_in_english(browser, live_server, world):
    context = _context(browser)
    page = context.new_page()
    _start(page, live_server, CODES[0], "English")
    assert page.locator("html").get_attribute("dir") == "ltr"
    _answer_all_by_touch(page)
    assert page.url.endswith("/done")
    assert "You did it" in page.locator("h1").inner_text()
    participant = world.participants[0]
    assert stored_answers(participant.id) == EXPECTED
    assert response_of(participant.id).completed_at is not None
    context.close()


def test_a_whole_questionnaire_by_touch_in_arabic_right_to_left(
    browser, live_server, world, screenshot_dir
):
    context = _context(browser)
    page = context.new_page()
    _start(page, live_server, CODES[1], "العربية")
    page.screenshot(path=str(screenshot_dir / "768x1024-ar-question_faces.png"), full_page=True)
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("#question-like_music .q-text").inner_text() == "أحب الموسيقى."
    # Mirrored: the first face ("no") sits on the right, Next on the left of Back.
    first = page.locator('label[for="q-like_music-1"]').bounding_box()
    last = page.locator('label[for="q-like_music-4"]').bounding_box()
    assert first["x"] > last["x"]
    next_box = page.locator('button[value="next"]').bounding_box()
    back_box = page.locator('button[value="back"]').bounding_box()
    assert next_box["x"] < back_box["x"]
    assert page.locator('button[value="next"]').inner_text().strip() == "التالي"
    _answer_all_by_touch(page)
    assert page.url.endswith("/done")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.screenshot(path=str(screenshot_dir / "768x1024-ar-done.png"), full_page=True)
    participant = world.participants[1]
    assert stored_answers(participant.id) == EXPECTED
    assert response_of(participant.id).language == "ar"
    context.close()


SPEECH_STUB = """
(() => {
  const voices = %s;
  window.__spoken = [];
  const fake = {
    getVoices: () => voices,
    speak: (u) => window.__spoken.push({text: u.text, lang: u.lang}),
    cancel: () => {},
    addEventListener: () => {},
  };
  Object.defineProperty(window, 'speechSynthesis', {value: fake, configurable: true});
  window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ''; };
})();
"""


def test_read_aloud_speaks_the_question_and_its_answers(browser, live_server, world):
    context = _context(browser)
    context.add_init_script(SPEECH_STUB % json.dumps([{"lang": "en-GB", "name": "Test voice"}]))
    page = context.new_page()
    _start(page, live_server, CODES[2], "English")
    speaker = page.locator("#question-like_music button.speak")
    assert speaker.is_visible()
    speaker.tap()
    spoken = page.evaluate("window.__spoken")
    assert [s["text"] for s in spoken] == [
        "I like music.",
        "No",
        "Not really",
        "A bit",
        "Yes, a lot",
        "I'd rather not say",
    ]
    assert {s["lang"] for s in spoken} == {"en-GB"}
    # The keyboard works too: focus the button and press Enter (twice: stop, then read again).
    speaker.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert len(page.evaluate("window.__spoken")) == 12
    context.close()


def test_read_aloud_is_hidden_without_a_voice_for_the_language(browser, live_server, world):
    context = _context(browser)
    context.add_init_script(SPEECH_STUB % json.dumps([{"lang": "fr-FR", "name": "French"}]))
    page = context.new_page()
    _start(page, live_server, CODES[2], "English")
    assert page.locator("#question-like_music button.speak").is_hidden()
    context.close()


def test_resume_after_reload_and_on_another_tablet(browser, live_server, world):
    context = _context(browser)
    page = context.new_page()
    _start(page, live_server, CODES[3], "English")
    _tap_option(page, "like_music", "2")
    _tap_next(page)
    _tap_option(page, "plays", "0")
    _tap_next(page)
    assert "/q/p_home" in page.url  # skip logic: no instrument page for a non-player
    page.reload()
    assert "/q/p_home" in page.url
    context.close()

    other = _context(browser)  # another tablet, same card
    page = other.new_page()
    page.goto(f"{live_server}/s/{CODES[3]}")
    _tap_and_wait(page, page.get_by_role("button", name="English", exact=True))
    assert "/q/p_home" in page.url
    _tap_and_wait(page, page.locator('button[value="back"]'))
    assert "/q/p_plays" in page.url
    assert page.locator("#q-plays-0").is_checked()
    other.close()


def test_the_flow_works_with_javascript_off(browser, live_server, world):
    context = _context(browser, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/")
    page.locator("#code").fill(CODES[4])
    page.get_by_role("button", name="Start").click()
    page.get_by_role("button", name="English", exact=True).click()
    page.locator('button[value="start"]').click()
    page.locator('label[for="q-like_music-3"]').click()
    page.locator('button[value="next"]').click()
    # Without JavaScript the address bar keeps the address the answers went to; the page
    # shown is the next one, and its own form carries on from there.
    assert page.locator("#q-plays-1").count() == 1
    assert stored_answers(world.participants[4].id) == {"like_music": (3, False)}
    page.locator('label[for="q-plays-0"]').click()
    page.locator('button[value="next"]').click()
    assert page.locator('input[name="home_langs"]').count() > 0
    assert stored_answers(world.participants[4].id) == {
        "like_music": (3, False),
        "plays": (0, False),
    }
    context.close()


def test_reload_and_back_after_next_fetch_pages_without_sending_answers_again(
    browser, live_server, world
):
    """Next is answered with the next page itself; pupil.js gives it its own address, so
    Reload and Back are plain GETs: no "resend the form?" prompt, no answer sent twice."""
    context = _context(browser)
    page = context.new_page()
    _start(page, live_server, CODES[0], "English")
    _tap_option(page, "like_music", "4")
    _tap_next(page)
    assert page.url.endswith("/q/p_plays")
    sent: list[tuple[str, str]] = []
    page.on("request", lambda r: sent.append((r.method, r.url.split("?")[0])))
    page.reload()
    assert page.url.endswith("/q/p_plays")
    assert page.locator("#q-plays-1").count() == 1
    page.go_back()
    assert page.url.endswith("/q/p_like")
    assert page.locator("#q-like_music-4").is_checked()
    documents = [(m, u) for m, u in sent if "/q/" in u]
    assert documents == [("GET", f"{live_server}/q/p_plays"), ("GET", f"{live_server}/q/p_like")]
    assert stored_answers(world.participants[0].id) == {"like_music": (4, False)}
    context.close()


# --------------------------------------------------------------------------- every page type


def _tour(page, live_server: str):
    """Visit every pupil page type, yielding (name, page) at each."""
    page.goto(f"{live_server}/")
    yield "start"
    page.locator("#code").fill("WXYZ-2345")
    page.get_by_role("button", name="Start").click()
    yield "start_wrong_code"
    page.locator("#code").fill(CODES[5])
    page.get_by_role("button", name="Start").click()
    yield "language"
    page.get_by_role("button", name="English", exact=True).click()
    yield "welcome"
    page.locator('button[value="start"]').click()
    yield "question_faces"
    page.locator('button[value="next"]').click()
    yield "question_required_error"
    page.locator('label[for="q-like_music-4"]').click()
    page.locator('button[value="next"]').click()
    yield "question_yes_no"
    page.locator('label[for="q-plays-1"]').click()
    page.locator('button[value="next"]').click()
    page.locator('label[for="q-practice-2"]').click()
    yield "question_choice_and_stars"
    page.locator('button[value="next"]').click()
    page.locator('label[for="q-home_langs-2"]').click()
    yield "question_multi_choice"
    page.locator('button[value="next"]').click()
    page.locator("#q-age").fill("99")
    page.locator('button[value="next"]').click()
    yield "question_number_error"
    page.locator("#q-age").fill("10")
    page.locator('button[value="next"]').click()
    yield "question_grid"
    page.locator('button[value="next"]').click()
    yield "question_text_and_info"
    page.locator('button[value="stop"]').click()
    yield "stopped"
    page.goto(f"{live_server}/s/{CODES[5]}")
    page.get_by_role("button", name="English", exact=True).click()
    page.locator('button[value="next"]').click()
    yield "done"
    page.goto(f"{live_server}/s/{CODES[5]}")
    yield "start_already_finished"
    page.goto(f"{live_server}/no-such-page")
    yield "not_found"


@pytest.mark.parametrize(("viewport", "label"), [(TABLET, "768x1024"), (PHONE, "360x740")])
def test_every_page_type_passes_axe_fits_the_screen_and_is_photographed(
    browser, live_server, world, axe_source, screenshot_dir, viewport, label
):
    # axe is injected as an inline script, which the pages' CSP rightly forbids.
    context = _context(browser, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    problems = []
    report = {}
    for name, current in _tour_pages(page, live_server):
        current.add_script_tag(content=axe_source)
        result = current.evaluate(
            "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})); }"
        )
        report[name] = [v["id"] for v in result]
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        if bad:
            problems.append((name, bad))
        width = current.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if width[0] > width[1]:
            problems.append((name, f"horizontal scrolling: {width[0]} > {width[1]} px"))
        small = current.evaluate(SMALL_TARGETS)
        if small:
            problems.append((name, f"touch targets under 48 px: {small}"))
        tiny = current.evaluate(SMALL_TEXT)
        if tiny:
            problems.append((name, f"text under 20 px: {tiny}"))
        current.screenshot(path=str(screenshot_dir / f"{label}-{name}.png"), full_page=True)
    print(f"axe violations per page type at {label}: {json.dumps(report)}")
    context.close()
    assert not problems, problems


def _tour_pages(page, live_server):
    for name in _tour(page, live_server):
        page.wait_for_load_state()
        yield name, page


SMALL_TARGETS = """
() => Array.from(document.querySelectorAll('main button:not([hidden]), main a.btn, header a, .opt-label'))
  .filter(el => el.offsetParent !== null)
  .map(el => [el.textContent.trim().slice(0, 20), el.getBoundingClientRect()])
  .filter(([, r]) => r.height < 48 || r.width < 48)
  .map(([t, r]) => `${t} ${Math.round(r.width)}x${Math.round(r.height)}`)
"""

SMALL_TEXT = """
() => Array.from(document.querySelectorAll('main p, main label, main legend, main h1, main h2, main button, .opt-word'))
  .filter(el => el.offsetParent !== null && el.textContent.trim())
  .filter(el => parseFloat(getComputedStyle(el).fontSize) < 20)
  .map(el => el.textContent.trim().slice(0, 30))
"""


def test_pages_do_not_use_hover_only_controls(browser, live_server, world):
    """Nothing in the pupil stylesheet shows or hides a control on :hover."""
    context = _context(browser)
    page = context.new_page()
    page.goto(f"{live_server}/")
    hover_rules = page.evaluate(
        "() => Array.from(document.styleSheets).flatMap(s => Array.from(s.cssRules))"
        ".map(r => r.cssText).filter(t => t.includes(':hover'))"
    )
    assert hover_rules == []
    context.close()


def test_completed_response_is_kept_in_the_database(browser, live_server, world):
    """A sanity check that the live server writes to the same test database."""
    context = _context(browser)
    page = context.new_page()
    _start(page, live_server, CODES[0], "English")
    _tap_option(page, "like_music", "1")
    _tap_next(page)
    db.session.expire_all()
    assert stored_answers(world.participants[0].id) == {"like_music": (1, False)}
    context.close()


AUDIO_YAML = """\
id: t_audio
title: {en: "Audio", ar: "صوت"}
languages: [en, ar]
pages:
  - id: p_one
    questions:
      - id: likes_singing
        type: yes_no
        text: {en: "Do you like singing?", ar: "هل تحب الغناء؟"}
        audio: {en: "audio/en/likes_singing.wav"}
"""

AUDIO_STUB = """
(() => {
  window.__played = [];
  HTMLMediaElement.prototype.play = function () {
    window.__played.push(this.src);
    return Promise.resolve();
  };
})();
"""


def test_recorded_audio_takes_priority_over_speech(app, browser, live_server, tmp_path):
    (tmp_path / "audio" / "en").mkdir(parents=True)
    (tmp_path / "audio" / "en" / "likes_singing.wav").write_bytes(b"RIFF0000WAVEfmt ")
    old_dir = app.config["QUESTIONNAIRE_DIR"]
    app.config["QUESTIONNAIRE_DIR"] = str(tmp_path)
    built = build_world(app, AUDIO_YAML)
    context = _context(browser)
    context.add_init_script(SPEECH_STUB % "[]")  # no voice at all: only the recording can play
    context.add_init_script(AUDIO_STUB)
    try:
        page = context.new_page()
        _start(page, live_server, CODES[0], "English")
        speaker = page.locator("#question-likes_singing button.speak")
        assert speaker.is_visible()
        speaker.tap()
        played = page.evaluate("window.__played")
        assert played == [f"{live_server}/media/audio/en/likes_singing.wav"]
        assert page.evaluate("window.__spoken") == []
        # In Arabic there is no recording and no voice: no button.
        _tap_and_wait(page, page.locator(".lang-button"))
        _tap_and_wait(page, page.get_by_role("button", name="العربية", exact=True))
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("#question-likes_singing button.speak").is_hidden()
    finally:
        context.close()
        app.config["QUESTIONNAIRE_DIR"] = old_dir
        forget_questionnaire(app, built.questionnaire.id)
