// Snapdesk report: filters, search, expand/collapse, log levels, copy, theme, print.
// Works inside a sandboxed iframe: no storage, no cookies, no network, no eval.
// Logs: the markup holds the first lines of each log; every line is in the embedded report
// data, and the lines past those are rendered from it in chunks as a person scrolls (WebKitGTK
// took seconds to lay out 18,000 list items). Search and the level filter read the data.
(function () {
  "use strict";
  var doc = document;
  var $ = function (s, r) { return (r || doc).querySelector(s); };
  var $$ = function (s, r) { return Array.prototype.slice.call((r || doc).querySelectorAll(s)); };
  var state = { status: "all", cat: "", q: "" };
  var checks = $$("article.check");
  var shown = $("#shown");
  var empty = $("#checks .empty");

  // The report's data, read once when first needed (a log scrolled or searched, a copy):
  // parsing megabytes of JSON is not worth doing for a person who only reads the checks.
  var data, dataRead = false;
  function report() {
    if (!dataRead) {
      dataRead = true;
      // The data comes in pieces (one element of megabytes is slow to build): the element
      // with the id, then each next sibling of class snapdesk-more.
      var parts = [], el = $("#snapdesk-report");
      for (var n = el; n && (n === el || n.classList.contains("snapdesk-more")); n = n.nextElementSibling) {
        parts.push(n.textContent);
      }
      try { data = JSON.parse(parts.join("")); } catch (e) { data = null; }
    }
    return data;
  }

  // The same words as the renderer's `log_level`, in the first 160 characters of a line.
  var ERRORISH = /(^|[^A-Za-z0-9])(PANIC|PANICKED|FATAL|CRIT|CRITICAL|ERROR|ERR)(?![A-Za-z0-9])/i;
  var WARNISH = /(^|[^A-Za-z0-9])(WARN|WARNING)(?![A-Za-z0-9])/i;
  var DEBUGISH = /(^|[^A-Za-z0-9])(DEBUG|TRACE)(?![A-Za-z0-9])/i;
  function levelOf(line) {
    var head = line.length > 160 ? line.slice(0, 160) : line;
    if (ERRORISH.test(head)) { return "error"; }
    if (WARNISH.test(head)) { return "warn"; }
    if (DEBUGISH.test(head)) { return "debug"; }
    return "info";
  }

  var CHUNK = 300;  // lines rendered at a time
  var KEEP = 3000;  // lines kept rendered; the far side is dropped past this
  var EDGE = 600;   // pixels from an edge of the list at which the next chunk is rendered

  // One log: a window [from, to) over its view (the indices of the lines that pass the level
  // filter and the search, or every line), rendered into its scrolling list.
  function logView(section) {
    var details = $("details", section), ol = $("ol.lines", section);
    var tools = $(".logtools", section), sel = $("select.level", section);
    var status = $(".status", section), more = $(".more", section);
    var index = +section.getAttribute("data-index");
    var total = +section.getAttribute("data-lines") || 0;
    var lines = null, levels = [], lower = null, view = null;
    var level = "all", query = "";
    var from = 0, to = ol.children.length, pending = false, printed = false;

    function source() {
      if (!lines) {
        var d = report(), l = d && d.logs && d.logs[index];
        // Without readable data (cut or altered), the lines already in the markup are the log.
        lines = (l && l.lines) || Array.prototype.map.call(ol.children, function (li) { return li.textContent; });
        if (lines.length !== total) { total = lines.length; }
      }
      return lines;
    }
    function levelAt(i) {
      if (levels[i] === undefined) { levels[i] = levelOf(lines[i]); }
      return levels[i];
    }
    // Known without reading the data: the markup says how many lines the log has.
    function size() { return view ? view.length : total; }
    function item(i) {
      var li = doc.createElement("li"), line = lines[i];
      li.setAttribute("data-n", String(i + 1));
      li.setAttribute("data-level", levelAt(i));
      var at = query ? lower[i].indexOf(query) : -1;
      if (at < 0) {
        li.textContent = line;
      } else {
        var mark = doc.createElement("mark");
        mark.textContent = line.slice(at, at + query.length);
        li.appendChild(doc.createTextNode(line.slice(0, at)));
        li.appendChild(mark);
        li.appendChild(doc.createTextNode(line.slice(at + query.length)));
      }
      return li;
    }
    function fill(p0, p1) {
      source();
      var f = doc.createDocumentFragment();
      for (var p = p0; p < p1; p++) { f.appendChild(item(view ? view[p] : p)); }
      return f;
    }
    function say() {
      var n = size(), text;
      if (total === 0) {
        text = "No lines.";
      } else if (n === 0) {
        text = "No line of " + total + " matches.";
      } else if (view) {
        text = n + " of " + total + " lines match; showing " + (from + 1) + " to " + to + " of them.";
      } else {
        text = "Showing lines " + (from + 1) + " to " + to + " of " + total + ".";
      }
      status.textContent = text;
      if (more) { more.hidden = true; }
    }
    // Renders one chunk of the view around position p (clamped), replacing what was there.
    function reset(p) {
      source();
      var n = size();
      from = Math.max(0, Math.min(p, n - CHUNK));
      to = Math.min(n, from + CHUNK);
      ol.textContent = "";
      ol.appendChild(fill(from, to));
      say();
    }
    // Near an edge of the list: the next chunk that way; past KEEP lines, the far side goes.
    function grow() {
      pending = false;
      var n = size(), h;
      if (ol.scrollHeight - ol.scrollTop - ol.clientHeight < EDGE && to < n) {
        var t = Math.min(n, to + CHUNK);
        ol.appendChild(fill(to, t));
        to = t;
        if (to - from > KEEP) {
          h = ol.scrollHeight;
          while (to - from > KEEP) { ol.removeChild(ol.firstChild); from++; }
          ol.scrollTop -= h - ol.scrollHeight;
        }
      } else if (ol.scrollTop < EDGE && from > 0) {
        var f = Math.max(0, from - CHUNK);
        h = ol.scrollHeight;
        ol.insertBefore(fill(f, from), ol.firstChild);
        from = f;
        ol.scrollTop += ol.scrollHeight - h;
        while (to - from > KEEP) { ol.removeChild(ol.lastChild); to--; }
      } else {
        return;
      }
      say();
      schedule();
    }
    function schedule() {
      if (!pending) { pending = true; requestAnimationFrame(grow); }
    }
    function refilter() {
      source();
      if (!query && level === "all") {
        view = null;
      } else {
        if (query && !lower) { lower = lines.map(function (l) { return l.toLowerCase(); }); }
        view = [];
        for (var i = 0; i < lines.length; i++) {
          if (level === "error" && levelAt(i) !== "error") { continue; }
          if (level === "warn" && levelAt(i) !== "error" && levelAt(i) !== "warn") { continue; }
          if (query && lower[i].indexOf(query) < 0) { continue; }
          view.push(i);
        }
      }
      reset(0);
      ol.scrollTop = 0;
    }

    tools.hidden = false;
    say();
    ol.addEventListener("scroll", schedule);
    sel.addEventListener("change", function () { level = sel.value; refilter(); });
    $("button.oldest", section).addEventListener("click", function () { reset(0); ol.scrollTop = 0; });
    $("button.newest", section).addEventListener("click", function () {
      reset(size());
      ol.scrollTop = ol.scrollHeight;
    });
    return {
      // Filters by the search; returns how many lines match. An unchanged query costs nothing
      // (an empty one at load reads no data).
      search: function (q) {
        if (q !== query) { query = q; refilter(); }
        return size();
      },
      open: function () { details.open = true; },
      // For paper: every line of the view of an open log, not just the window.
      printAll: function () {
        if (!details.open) { return; }
        source();
        if (from === 0 && to === size()) { return; }
        printed = true;
        from = 0;
        to = size();
        ol.textContent = "";
        ol.appendChild(fill(from, to));
        say();
      },
      // After paper, back to one chunk: a long log does not stay whole in the page.
      afterPrint: function () {
        if (!printed) { return; }
        printed = false;
        reset(0);
        ol.scrollTop = 0;
      }
    };
  }
  var logs = $$("section.log").map(logView);
  function printLogs() { logs.forEach(function (l) { l.printAll(); }); }
  window.addEventListener("beforeprint", printLogs);
  window.addEventListener("afterprint", function () { logs.forEach(function (l) { l.afterPrint(); }); });

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
    logs.forEach(function (log) {
      if (log.search(q) > 0 && q) { log.open(); }
    });
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
      printLogs();
      try { window.print(); } catch (e) { /* printing may be unavailable in a sandbox */ }
    });
  }

  function checkText(id) {
    var c = null, data = report();
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
