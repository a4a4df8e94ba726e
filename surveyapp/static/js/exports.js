// Export log: while an export is waiting or being made, ask the server for the log's
// statuses every few seconds and update the rows in place; a finished export gets its
// download link, a failed one its error. Progressive: without JavaScript the page has a
// plain "Refresh the log" link, and the server renders the same rows.
(function () {
  "use strict";
  var table = document.getElementById("exports");
  if (!table || !window.fetch || !window.surveyLive) {
    return;
  }
  var url = table.getAttribute("data-status-url");
  var INTERVAL_MS = 3000;
  var ACTIVE = { queued: true, running: true };

  var setText = window.surveyLive.setText;

  function show(el, visible) {
    if (el) {
      el.hidden = !visible;
    }
  }

  function anyActive() {
    return table.querySelector('tr[data-status="queued"], tr[data-status="running"]') !== null;
  }

  function updateRow(row, data) {
    row.setAttribute("data-status", data.status);
    setText(row.querySelector('[data-field="status"]'), data.status_label);
    var error = row.querySelector('[data-field="error"]');
    setText(error, data.error);
    show(error, Boolean(data.error));
    setText(row.querySelector('[data-field="rows"]'), data.rows === null ? "" : String(data.rows));
    setText(row.querySelector('[data-field="protection-text"]'), data.protection);
    show(row.querySelector('[data-field="protection"]'), Boolean(data.protection));
    setText(row.querySelector('[data-field="warnings-text"]'), data.warnings.join(" "));
    show(row.querySelector('[data-field="warnings"]'), data.warnings.length > 0);
    setText(row.querySelector('[data-field="sha256"]'), data.sha256);
    var link = row.querySelector('[data-field="download"]');
    if (link) {
      if (data.download_url) {
        link.setAttribute("href", data.download_url);
        setText(link.querySelector('[data-field="filename"]'), data.filename);
      }
      show(link, Boolean(data.download_url));
    }
  }

  function update(data) {
    data.exports.forEach(function (entry) {
      var row = table.querySelector('tr[data-export="' + entry.id + '"]');
      if (row) {
        updateRow(row, entry);
      }
    });
    show(document.getElementById("export-refresh"), data.active);
    return data.active;
  }

  if (anyActive()) {
    show(document.getElementById("export-live"), true);
    window.surveyLive.poll(url, INTERVAL_MS, update);
  }
})();
