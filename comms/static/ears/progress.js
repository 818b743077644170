/* EARS: live delivery progress on the message page. No libraries.
   While the message is scheduled or sending, poll its progress URL (every 2 s once it is going out; until then
   no later than its send time), put the server's one-line summary in the live region and the state on the badge;
   when it has finished, fetch the page once and swap in the delivery rows, the facts and the actions.
   Without this file the page says the same on load and offers a Refresh link. */
(function () {
  "use strict";
  var FAST = 2000, SLOW = 30000, MAX_ERRORS = 5;

  function badgeClass(progress) {
    return "state state-" + (progress.state === "scheduled" && progress.going_out ? "sending" : progress.state);
  }

  function showProgress(root, progress) {
    var text = root.querySelector("[data-progress-text]");
    if (text && text.textContent !== progress.text) text.textContent = progress.text;
    var badge = document.querySelector("#message-state .state");
    if (badge) {
      badge.className = badgeClass(progress);
      badge.dataset.state = progress.state;
      badge.textContent = progress.label;
    }
    root.dataset.state = progress.state;
  }

  function swapSections() {
    // The rows, facts and buttons as the server now renders them; the live region itself stays in place.
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("page " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["delivery-rows", "message-facts", "message-actions"].forEach(function (id) {
          var now = document.getElementById(id), next = fresh.getElementById(id);
          if (now && next) now.replaceWith(document.importNode(next, true));
        });
      });
  }

  function nextDelay(root, progress) {
    if (progress.going_out) return FAST;
    var due = Date.parse(root.dataset.scheduledFor || "");
    if (isNaN(due)) return SLOW;
    return Math.min(Math.max(due - Date.now(), FAST), SLOW);
  }

  function follow(root) {
    var url = root.dataset.progressUrl, errors = 0;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          // Signed out (sent to the login page) or refused: stop, and leave the Refresh link.
          if (!response.ok || response.redirected) throw new Error("progress " + response.status);
          return response.json();
        })
        .then(function (progress) {
          errors = 0;
          showProgress(root, progress);
          if (progress.finished) {
            var refresh = root.querySelector("[data-progress-refresh]");
            if (refresh) refresh.remove();
            root.dataset.finished = "true";
            swapSections().catch(function () { window.location.reload(); });
          } else if (progress.state === "scheduled" || progress.state === "sending") {
            window.setTimeout(poll, nextDelay(root, progress));
          }
          // Any other state (sent back for approval, say): nothing more to follow here.
        })
        .catch(function () {
          errors += 1;
          if (errors < MAX_ERRORS) window.setTimeout(poll, SLOW / 3);
        });
    }

    window.setTimeout(poll, FAST);
  }

  function start() {
    document.querySelectorAll("[data-progress-url]").forEach(follow);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
