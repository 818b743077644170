/* The status page is cached and rendered in the site's time zone, the same for every visitor. This shows each
   <time datetime="…"> in the visitor's own zone instead, with its abbreviation, and offers a button to show them
   in UTC. Without JavaScript the site's times stay, each with its zone, and the footer names the zone. */
(function () {
  "use strict";

  var STORAGE_KEY = "ears-status-times-in-utc";
  var times = Array.prototype.slice.call(document.querySelectorAll("time[datetime]"));
  if (!times.length || typeof Intl === "undefined" || !Intl.DateTimeFormat.prototype.formatToParts) return;

  var visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  // "5 Jan 2026, 05:55 EST": the server's format ("j M Y, H:i T"), in en-US for zone abbreviations such as EST.
  function formatter(timeZone) {
    return new Intl.DateTimeFormat("en-US", {
      timeZone: timeZone, day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"
    });
  }

  function format(date, dateFormat) {
    var parts = {};
    dateFormat.formatToParts(date).forEach(function (part) { parts[part.type] = part.value; });
    return parts.day + " " + parts.month + " " + parts.year + ", " + parts.hour + ":" + parts.minute + " " +
      parts.timeZoneName;
  }

  var formats = { local: formatter(visitorZone), utc: formatter("UTC") };
  times.forEach(function (time) {
    time.setAttribute("data-site-time", time.textContent);
    time.title = "Status page time: " + time.textContent;
  });

  var note = document.getElementById("time-zone-note");
  if (!note) {
    note = document.createElement("p");
    note.id = "time-zone-note";
    var main = document.querySelector("main") || document.body;
    main.appendChild(note);
  }
  var noteText = document.createElement("span");
  var toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "zone-toggle";
  toggle.textContent = "Show times in UTC";
  note.textContent = "";
  note.appendChild(noteText);
  note.appendChild(document.createTextNode(" "));
  note.appendChild(toggle);

  function show(inUtc) {
    var dateFormat = inUtc ? formats.utc : formats.local;
    times.forEach(function (time) {
      var date = new Date(time.getAttribute("datetime"));
      if (!isNaN(date.getTime())) time.textContent = format(date, dateFormat);
    });
    toggle.setAttribute("aria-pressed", inUtc ? "true" : "false");
    noteText.textContent = inUtc ? "Times are shown in UTC." : "Times are shown in your time zone (" + visitorZone + ").";
  }

  function remembered() {
    try { return window.localStorage.getItem(STORAGE_KEY) === "1"; } catch (error) { return false; }
  }

  function remember(inUtc) {
    try { window.localStorage.setItem(STORAGE_KEY, inUtc ? "1" : "0"); } catch (error) { /* private mode */ }
  }

  toggle.addEventListener("click", function () {
    var inUtc = toggle.getAttribute("aria-pressed") !== "true";
    remember(inUtc);
    show(inUtc);
  });

  show(remembered());
})();
