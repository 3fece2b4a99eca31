// Snapdesk report: filters, search, expand/collapse, log levels, copy, theme, print.
// Works inside a sandboxed iframe: no storage, no cookies, no network, no eval.
(function () {
  "use strict";
  var doc = document;
  var $ = function (s, r) { return (r || doc).querySelector(s); };
  var $$ = function (s, r) { return Array.prototype.slice.call((r || doc).querySelectorAll(s)); };
  var state = { status: "all", cat: "", q: "" };
  var checks = $$("article.check");
  var shown = $("#shown");
  var empty = $("#checks .empty");

  function apply() {
    var q = state.q.toLowerCase();
    var n = 0;
    checks.forEach(function (el) {
      var ok = (state.status === "all" || el.getAttribute("data-status") === state.status) &&
        (!state.cat || el.getAttribute("data-category") === state.cat) &&
        (!q || el.textContent.toLowerCase().indexOf(q) >= 0);
      el.hidden = !ok;
      if (ok) { n++; if (q) { $("details", el).open = true; } }
    });
    $$("ol.lines li").forEach(function (li) {
      var hit = q && li.textContent.toLowerCase().indexOf(q) >= 0;
      li.classList.toggle("hit", !!hit);
    });
    if (q) {
      $$("section.log").forEach(function (s) {
        if ($("li.hit", s)) { $("details", s).open = true; }
      });
    }
    if (shown) { shown.textContent = n + " of " + checks.length + " checks"; }
    if (empty) { empty.hidden = n !== 0; }
  }

  $$(".filter-status").forEach(function (b) {
    b.addEventListener("click", function () {
      state.status = b.getAttribute("data-filter");
      $$(".filter-status").forEach(function (o) {
        var on = o === b;
        o.classList.toggle("active", on);
        o.setAttribute("aria-pressed", on ? "true" : "false");
      });
      apply();
    });
  });
  var cat = $("#cat");
  if (cat) { cat.addEventListener("change", function () { state.cat = cat.value; apply(); }); }
  var q = $("#q");
  var timer = null;
  if (q) {
    q.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.q = q.value.trim(); apply(); }, 120);
    });
  }
  function setAll(open) {
    checks.forEach(function (el) { if (!el.hidden) { $("details", el).open = open; } });
  }
  var ex = $("#expand"), co = $("#collapse");
  if (ex) { ex.addEventListener("click", function () { setAll(true); }); }
  if (co) { co.addEventListener("click", function () { setAll(false); }); }

  $$("section.log").forEach(function (s) {
    var sel = $("select.level", s), ol = $("ol.lines", s);
    sel.addEventListener("change", function () {
      ol.classList.toggle("only-error", sel.value === "error");
      ol.classList.toggle("only-warn", sel.value === "warn");
    });
  });

  var theme = $("#theme");
  if (theme) {
    theme.addEventListener("click", function () {
      var root = doc.documentElement;
      var cur = root.getAttribute("data-theme");
      if (!cur) { cur = window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"; }
      root.setAttribute("data-theme", cur === "dark" ? "light" : "dark");
    });
  }
  var pr = $("#print");
  if (pr) {
    pr.addEventListener("click", function () {
      checks.forEach(function (el) { $("details", el).open = true; });
      try { window.print(); } catch (e) { /* printing may be unavailable in a sandbox */ }
    });
  }

  var data = null;
  try { data = JSON.parse($("#snapdesk-report").textContent); } catch (e) { data = null; }
  function checkText(id) {
    var c = null;
    if (data && data.checks) { for (var i = 0; i < data.checks.length; i++) { if (data.checks[i].id === id) { c = data.checks[i]; } } }
    if (!c) { return ""; }
    var t = "[" + c.status.toUpperCase() + "] " + c.title + " (" + c.id + ", " + c.category + ")\n" + c.summary + "\n";
    (c.facts || []).forEach(function (f) { t += "  " + f.key + ": " + f.value + "\n"; });
    (c.evidence || []).forEach(function (e) { t += "--- " + e.source + "\n" + e.excerpt + "\n"; });
    if (c.remediation) { t += "Remediation: " + c.remediation + "\n"; }
    return t;
  }
  function toast(msg) {
    var t = $("#copied");
    if (!t) { t = doc.createElement("div"); t.id = "copied"; t.setAttribute("role", "status"); doc.body.appendChild(t); }
    t.textContent = msg;
    t.hidden = false;
    setTimeout(function () { t.hidden = true; }, 1500);
  }
  function fallbackCopy(text, btn) {
    var ta = doc.createElement("textarea");
    ta.className = "copybox";
    ta.value = text;
    ta.setAttribute("readonly", "");
    btn.parentNode.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = doc.execCommand("copy"); } catch (e) { ok = false; }
    if (ok) { ta.parentNode.removeChild(ta); toast("Copied"); } else { toast("Select the text and copy it"); }
  }
  $$("button.copy").forEach(function (b) {
    b.addEventListener("click", function () {
      var text = checkText(b.getAttribute("data-copy"));
      try {
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(function () { toast("Copied"); }, function () { fallbackCopy(text, b); });
          return;
        }
      } catch (e) { /* clipboard API refused in a sandbox */ }
      fallbackCopy(text, b);
    });
  });

  doc.addEventListener("keydown", function (e) {
    if (e.key === "/" && doc.activeElement !== q && q) { e.preventDefault(); q.focus(); }
    if (e.key === "Escape" && doc.activeElement === q) { q.value = ""; state.q = ""; apply(); }
  });
  apply();
  // Inside a viewer's sandboxed iframe: say the report is ready (no data, just a count).
  // The parent must check `event.source`, as the origin of a sandboxed frame is "null".
  try {
    if (window.parent && window.parent !== window) {
      window.parent.postMessage({ type: "snapdesk-report-ready", checks: checks.length }, "*");
    }
  } catch (e) { /* no parent to tell */ }
})();
