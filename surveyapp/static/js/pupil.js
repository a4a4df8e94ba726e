/* Pupil pages: small progressive enhancements. Every page works without this file.
   - read-aloud: a speaker button per question reads it and its answers in the page's
     language (a recorded audio file named in the questionnaire takes priority); the button
     stays hidden where the browser has no voice for that language;
   - "I'd rather not say" clears the other answers of its question, and the reverse;
   - the finish page returns the shared tablet to the start page by itself. */
(function () {
  "use strict";
  var synth = window.speechSynthesis;
  var playing = null; // {button, audio}

  function voicesFor(lang) {
    if (!synth || typeof synth.getVoices !== "function" || !lang) return [];
    var want = lang.toLowerCase();
    return synth.getVoices().filter(function (v) {
      var l = String(v.lang || "").toLowerCase().replace("_", "-");
      return l === want || l.indexOf(want + "-") === 0;
    });
  }

  function readableParts(button) {
    var box = document.getElementById(button.getAttribute("data-speak"));
    var parts = [];
    if (!box) return parts;
    box.querySelectorAll("[data-read]").forEach(function (el) {
      var text = el.textContent.replace(/\s+/g, " ").trim();
      if (text) parts.push(text);
    });
    return parts;
  }

  function press(button, on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function stop() {
    if (!playing) return;
    if (playing.audio) playing.audio.pause();
    if (synth) synth.cancel();
    press(playing.button, false);
    playing = null;
  }

  function finished(button) {
    if (playing && playing.button === button) {
      press(button, false);
      playing = null;
    }
  }

  function speak(button) {
    var again = playing && playing.button === button;
    stop();
    if (again) return; // a second press stops the reading
    playing = { button: button, audio: null };
    press(button, true);
    var src = button.getAttribute("data-audio");
    if (src) {
      var audio = new Audio(src);
      playing.audio = audio;
      audio.addEventListener("ended", function () { finished(button); });
      var started = audio.play();
      if (started && started.catch) started.catch(function () { finished(button); });
      return;
    }
    var lang = button.getAttribute("data-lang");
    var voice = voicesFor(lang)[0];
    var parts = readableParts(button);
    parts.forEach(function (text, i) {
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = voice ? voice.lang : lang;
      if (voice) utterance.voice = voice;
      utterance.rate = 0.9;
      if (i === parts.length - 1) {
        utterance.onend = function () { finished(button); };
        utterance.onerror = function () { finished(button); };
      }
      synth.speak(utterance);
    });
    if (!parts.length) finished(button);
  }

  function showSpeakers() {
    document.querySelectorAll("button.speak").forEach(function (button) {
      var canPlay = button.hasAttribute("data-audio") ||
        (voicesFor(button.getAttribute("data-lang")).length > 0 && "SpeechSynthesisUtterance" in window);
      button.hidden = !canPlay;
    });
    var tip = document.querySelector(".speak-tip");
    if (tip) tip.hidden = voicesFor(document.documentElement.lang).length === 0;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.speak") : null;
    if (button) speak(button);
  });
  window.addEventListener("pagehide", stop);
  if (synth && synth.addEventListener) synth.addEventListener("voiceschanged", showSpeakers);
  showSpeakers();

  /* "I'd rather not say" and the answers of the same question exclude each other. */
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.form || !input.name) return;
    if (input.type === "checkbox" && input.checked) {
      var group = input.form.querySelectorAll('input[type="checkbox"][name="' + input.name + '"]');
      group.forEach(function (other) {
        if (other !== input && (other.value === "declined" || input.value === "declined")) other.checked = false;
      });
      if (/-declined$/.test(input.name)) {
        var typed = input.form.elements[input.name.replace(/-declined$/, "")];
        if (typed && typed.value !== undefined) typed.value = "";
      }
    }
  });
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.form || !input.name || input.type === "checkbox" || input.type === "radio") return;
    var decline = input.form.elements[input.name + "-declined"];
    if (decline && input.value) decline.checked = false;
  });

  /* One tap, one submit: a double tap on Next must not skip a page. */
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sending")) { event.preventDefault(); return; }
      form.setAttribute("data-sending", "1");
      stop();
      setTimeout(function () { form.removeAttribute("data-sending"); }, 4000);
    });
  });

  /* Pressing Next is answered with the next page itself, not a redirect to it (one request
     per page instead of two): put that page's own address in the address bar, so Reload and
     Back fetch it again rather than sending the answers a second time. */
  var pageForm = document.querySelector("form.page-form");
  if (pageForm && window.history && typeof history.replaceState === "function") {
    var own = pageForm.getAttribute("action");
    if (own) history.replaceState(null, "", own);
  }

  /* The finish page hands the tablet back to the start page. */
  var countdown = document.querySelector("[data-return-url]");
  if (countdown) {
    var seconds = parseInt(countdown.getAttribute("data-return-seconds"), 10) || 10;
    setTimeout(function () { window.location.assign(countdown.getAttribute("data-return-url")); }, seconds * 1000);
  }
})();
