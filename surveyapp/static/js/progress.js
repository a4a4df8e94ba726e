// Teacher's live progress: refresh states and counts every few seconds without reloading.
// Progressive: without JavaScript the page has a plain "Refresh" link. No answers are sent.
(function () {
  "use strict";
  var table = document.getElementById("progress");
  if (!table || !window.fetch || !window.surveyLive) {
    return;
  }
  var url = table.getAttribute("data-progress-url");
  var knownIds = (table.getAttribute("data-ids") || "").split(",").filter(Boolean).sort().join(",");
  var INTERVAL_MS = 5000;

  var note = document.getElementById("live-note");
  if (note) {
    note.hidden = false;
  }

  var setText = window.surveyLive.setText;

  function updateRow(row, data) {
    row.setAttribute("data-state", data.state);
    setText(row.querySelector('[data-field="state"]'), data.state_label);
    var bar = row.querySelector("progress");
    if (bar && data.pages_total) {
      bar.max = data.pages_total;
      bar.value = data.state === "completed" ? data.pages_total : data.pages_done;
      bar.textContent = data.percent + "%";
    }
    setText(row.querySelector('[data-field="pages-text"]'), data.pages_done + "/" + data.pages_total);
    var replace = row.querySelector('[data-action="replace"]');
    if (replace) {
      replace.hidden = !data.can_replace;
    }
    var revoke = row.querySelector('[data-action="revoke"]');
    if (revoke) {
      revoke.hidden = !data.can_revoke;
    }
    var pick = row.querySelector('input[name="participants"]');
    if (pick && !data.can_replace) {
      pick.checked = false;
      pick.disabled = true;
    }
    if (!bar && data.pages_total) {
      // A pupil who has just started: a reload shows the bar; the text is enough meanwhile.
      var cell = row.querySelector('[data-field="pages"]');
      setText(cell, data.pages_done + "/" + data.pages_total);
    }
  }

  function update(data) {
    var ids = data.participants.map(function (p) { return p.participant_id; }).sort().join(",");
    var notice = document.getElementById("new-rows");
    if (notice) {
      notice.hidden = ids === knownIds;
    }
    data.participants.forEach(function (p) {
      var row = table.querySelector('tr[data-participant="' + p.participant_id + '"]');
      if (row) {
        updateRow(row, p);
      }
    });
    Object.keys(data.counts).forEach(function (state) {
      var item = document.querySelector('#counts [data-state="' + state + '"]');
      if (item) {
        setText(item.querySelector("[data-count]"), String(data.counts[state]));
        if (item.hasAttribute("data-optional")) {
          item.hidden = data.counts[state] === 0;
        }
      }
    });
  }

  window.surveyLive.poll(url, INTERVAL_MS, update);
})();
