// Shared by the staff pages that keep themselves up to date (teacher progress, export log):
// ask the server for JSON every few seconds and let the page update its rows in place.
// A hidden tab skips its turn; a failed request keeps the last known state and tries again.
window.surveyLive = (function () {
  "use strict";

  function setText(el, text) {
    if (el && el.textContent !== text) {
      el.textContent = text;
    }
  }

  // Call update(data) with url's JSON every intervalMs, until update returns false.
  function poll(url, intervalMs, update) {
    var timer = null;

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(tick, intervalMs);
    }

    function tick() {
      if (document.visibilityState === "hidden") {
        schedule();
        return;
      }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          if (update(data) !== false) {
            schedule();
          }
        })
        .catch(schedule);
    }

    schedule();
  }

  return { setText: setText, poll: poll };
})();
