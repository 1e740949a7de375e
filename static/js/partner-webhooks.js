// Webhook settings: while the last test event waits to be sent, fetch this page
// again every two seconds and put the new result in place (the result is in a
// role="status" region, so screen readers hear it). Without JavaScript the page
// offers a refresh link instead.
(function () {
  "use strict";

  var INTERVAL_MS = 2000;
  var MAX_TRIES = 30;

  function poll(tries) {
    var section = document.getElementById("test-result");
    if (!section || !section.hasAttribute("data-refresh-while-pending") || tries >= MAX_TRIES) {
      return;
    }
    window.setTimeout(function () {
      fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("test-result");
          if (!fresh) { return; }
          section.querySelector(".test-result").innerHTML = fresh.querySelector(".test-result").innerHTML;
          if (fresh.hasAttribute("data-refresh-while-pending")) {
            poll(tries + 1);
          } else {
            section.removeAttribute("data-refresh-while-pending");
          }
        })
        .catch(function () { /* offline for a moment: the refresh link still works */ });
    }, INTERVAL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () { poll(0); });
})();
