/* EARS: live preview for the message composer, and live update countdowns. No libraries.
   Every page works without this file: the Preview button and the server-rendered countdowns say the same. */
(function () {
  "use strict";
  var CONTENT = ["headline", "explain", "acknowledge", "resolve", "study"];

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    var cookie = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return input ? input.value : cookie ? decodeURIComponent(cookie[1]) : "";
  }

  function draft(form) {
    var body = { incident: Number(form.dataset.incident), is_announcement: form.elements.is_announcement.checked };
    ["phase", "audience"].concat(CONTENT).forEach(function (name) { body[name] = form.elements[name].value; });
    body.channels = Array.prototype.map.call(
      form.querySelectorAll("input[name=channels]:checked:not(:disabled)"), function (box) { return box.value; });
    return body;
  }

  var GUIDANCE = /\[\[([\s\S]*?)\]\]/g;  // the same marks as comms.rendering.GUIDANCE_RE

  function guidanceIn(text) {
    var found = [], match;
    GUIDANCE.lastIndex = 0;
    while ((match = GUIDANCE.exec(text))) found.push(match[1].split(/\s+/).join(" ").trim());
    return found;
  }

  function listGuidance(form) {  // the server lists it too; this keeps the lists current while typing
    form.querySelectorAll("[data-guidance-for]").forEach(function (note) {
      var field = form.elements[note.dataset.guidanceFor], snippets = field ? guidanceIn(field.value) : [];
      var list = note.querySelector("ul");
      list.replaceChildren.apply(list, snippets.map(function (text) {
        var li = document.createElement("li"); li.textContent = text; return li; }));
      note.hidden = !snippets.length;
    });
  }

  function item(finding, prefix) {
    var li = document.createElement("li");
    li.className = (prefix ? "lint-error " : "") + "lint-" + finding.code;
    if (prefix) { var strong = document.createElement("strong"); strong.textContent = prefix; li.append(strong, " "); }
    li.append(finding.message);
    return li;
  }

  function showLint(root, lint) {
    var errors = lint.filter(function (f) { return f.level === "error"; });
    var warnings = lint.filter(function (f) { return f.level !== "error"; });
    var box = root.querySelector('[data-preview="lint-errors-box"]'), errorList = root.querySelector('[data-preview="lint-errors"]');
    if (box && errorList) {
      errorList.replaceChildren.apply(errorList, errors.map(function (f) { return item(f, "Error:"); }));
      box.hidden = !errors.length;
    } else {
      warnings = lint;
    }
    var ok = { code: "ok", message: errors.length ? "No other warnings." : "No warnings." };
    var list = root.querySelector('[data-preview="lint"]');
    list.replaceChildren.apply(list, (warnings.length ? warnings : [ok]).map(function (f) { return item(f); }));
  }

  function show(root, data) {
    function set(name, text) { var el = root.querySelector('[data-preview="' + name + '"]'); if (el) el.textContent = text; }
    showLint(root, data.lint);
    set("email-subject", data.email.subject);
    set("email-text", data.email.text);
    root.querySelector('[data-preview="email-html"]').srcdoc = data.email.html;  // sandboxed iframe: no scripts
    set("statuspage-title", data.statuspage.title);
    set("statuspage-body", data.statuspage.body);
    set("x-text", data.x.text);
    set("x-length", data.x.weighted_length + "/" + data.x.limit);
    ["mastodon", "bluesky", "facebook", "linkedin"].forEach(function (network) {  // only when configured
      var pane = root.querySelector('[data-preview="' + network + '-pane"]'), post = data[network];
      if (pane) pane.hidden = !post;
      if (post) { set(network + "-text", post.text); set(network + "-length", post.length + "/" + post.limit); }
    });
    var sms = data.sms, smsPane = root.querySelector('[data-preview="sms-pane"]');  // only when Twilio is configured
    if (smsPane) smsPane.hidden = !sms;
    if (sms) { set("sms-text", sms.text); set("sms-length", sms.length + "/" + sms.limit); set("sms-segments", sms.segments + " " + sms.encoding); }
    set("webhook", JSON.stringify(data.webhook, null, 2));
  }

  function preview(form, root) {
    var status = root.querySelector('[data-preview="status"]');
    status.textContent = "Updating…";
    fetch(form.dataset.previewUrl, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(draft(form)),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken(form) },
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.message || "The preview failed.");
        show(root, data);
        status.textContent = "";
      });
    }).catch(function (error) { status.textContent = error.message + " Press Preview to check it on the server."; });
  }

  function keepPublishHonest(form) {  // "Publish now" is only for the template's text, unchanged
    var edited = CONTENT.some(function (name) { var el = form.elements[name]; return el.value !== el.defaultValue; });
    form.querySelectorAll("[data-publish-unchanged], [data-publish-note]").forEach(function (el) { el.hidden = edited; });
  }

  document.querySelectorAll("form[data-composer]").forEach(function (form) {
    var root = form.closest(".composer-layout, main").querySelector("[data-preview-root]");
    var timer;
    function changed() {
      keepPublishHonest(form);
      listGuidance(form);
      clearTimeout(timer);
      if (root) timer = setTimeout(function () { preview(form, root); }, 300);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    var folded = form.closest("details");
    if (folded) folded.addEventListener("toggle", function () { if (folded.open && root) preview(form, root); });
    else if (root && !root.hasAttribute("data-rendered")) preview(form, root);
  });

  function compact(minutes) {  // the same words as the duration template filter
    var d = Math.floor(minutes / 1440), h = Math.floor((minutes % 1440) / 60), m = minutes % 60;
    return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m + "m";
  }
  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("datetime")) - Date.now();
      el.textContent = left > 0 ? "in " + compact(Math.floor(left / 60000)) : "overdue by " + compact(Math.floor(-left / 60000));
      el.classList.toggle("overdue", left <= 0);
    });
  }
  if (document.querySelector("time[data-countdown]")) setInterval(tick, 15000);
})();
