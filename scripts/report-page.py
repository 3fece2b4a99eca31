#!/usr/bin/python3
"""Loads report pages in WebKitGTK, the engine the app shows them in, without the app.

    report-page.py load FILE... [--runs N] [--noscript]
        For each page: N loads (the first one warms the engine up and is not counted); prints
        the median time from the load call to a laid-out page, and the element count, for the
        page given at once and for the page served by a custom URI scheme from a stream, read
        in pieces as the app's viewer protocol serves it.
    report-page.py check FILE
        Drives a report's log viewer (a log of at least 1,000 lines whose first lines are
        `render_sample ... tricky` ones): scrolling renders more lines and keeps at most 3,000,
        Newest jumps to the end, the level filter and the search read the data, a hostile line
        stays text, and the script's levels equal the renderer's. Exits 1 on a failure.

Run under a display (scripts/bench-report-page uses xvfb-run). Needs python3-gi and the
WebKit2 4.1 introspection data (gir1.2-webkit2-4.1).
"""
import json
import statistics
import sys
import time

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gio, GLib, Gtk, WebKit2  # noqa: E402

# Forces style and layout, so the time includes what a person waits for before seeing it.
PROBE = "document.body.offsetHeight; return document.getElementsByTagName('*').length;"

CHECK = r"""
const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
const pause = ms => new Promise(r => setTimeout(r, ms));
const sec = document.querySelector('section.log');
const ol = sec.querySelector('ol.lines');
const status = () => sec.querySelector('.status').textContent;
const total = +sec.dataset.lines;
const got = {total};
const staticLevels = [...ol.children].map(li => li.dataset.level);
got.tools_shown = !sec.querySelector('.logtools').hidden;
got.note_hidden = !sec.querySelector('.more') || sec.querySelector('.more').hidden;
got.initial = ol.children.length;
sec.querySelector('details').open = true;
await frame();
for (let i = 0; i < 20; i++) { ol.scrollTop = ol.scrollHeight; ol.dispatchEvent(new Event('scroll')); await frame(); }
got.scrolled = {rendered: ol.children.length, last: +ol.lastElementChild.dataset.n};
sec.querySelector('button.newest').click(); await frame();
got.newest = {last: +ol.lastElementChild.dataset.n, rendered: ol.children.length};
sec.querySelector('button.oldest').click(); await frame();
got.oldest_first = +ol.firstElementChild.dataset.n;
const sel = sec.querySelector('select.level');
sel.value = 'error'; sel.dispatchEvent(new Event('change')); await frame();
got.errors_only = [...ol.children].every(li => li.dataset.level === 'error');
got.errors_status = status();
sel.value = 'all'; sel.dispatchEvent(new Event('change')); await frame();
const scriptLevels = [...ol.children].slice(0, staticLevels.length).map(li => li.dataset.level);
got.level_mismatches = staticLevels.map((l, i) => l === scriptLevels[i] ? null : i + 1).filter(x => x);
const q = document.getElementById('q');
const t0 = performance.now();
q.value = '</script><script>'; q.dispatchEvent(new Event('input')); await pause(200);
got.search_ms = Math.round(performance.now() - t0 - 120);
got.hostile = {
  matches: ol.children.length,
  text: ol.firstElementChild ? ol.firstElementChild.textContent : null,
  mark: ol.querySelector('mark') ? ol.querySelector('mark').textContent : null,
  // The data's continuation pieces aside: the data element and the page's own script.
  scripts: [...document.scripts].filter(s => !s.classList.contains('snapdesk-more')).length,
  pieces: document.querySelectorAll('script.snapdesk-more').length,
  open: sec.querySelector('details').open,
};
q.value = ''; q.dispatchEvent(new Event('input')); await pause(200);
got.cleared = status();
// Paper: every line while printing (once, however many times it is asked), one chunk after.
window.dispatchEvent(new Event('beforeprint'));
window.dispatchEvent(new Event('beforeprint'));
got.printing = ol.children.length;
window.dispatchEvent(new Event('afterprint'));
got.printed = ol.children.length;
return JSON.stringify(got);
"""

# A page whose embedded data cannot be read (cut or altered): the lines in the markup stay
# the log, whatever the buttons and filters do.
CHECK_NO_DATA = r"""
const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
const sec = document.querySelector('section.log');
const ol = sec.querySelector('ol.lines');
const got = {initial: ol.children.length};
sec.querySelector('details').open = true;
const sel = sec.querySelector('select.level');
sel.value = 'error'; sel.dispatchEvent(new Event('change')); await frame();
sel.value = 'all'; sel.dispatchEvent(new Event('change')); await frame();
sec.querySelector('button.newest').click(); await frame();
got.after = ol.children.length;
got.first = ol.firstElementChild ? ol.firstElementChild.textContent : null;
return JSON.stringify(got);
"""


class Page:
    def __init__(self, noscript=False):
        self.win = Gtk.OffscreenWindow()
        self.win.set_default_size(1280, 900)
        self._served = b""
        context = WebKit2.WebContext.get_default()
        context.register_uri_scheme("snapdesk-bench", self._serve)
        self.view = WebKit2.WebView.new_with_context(context)
        if noscript:
            self.view.get_settings().set_enable_javascript_markup(False)
        self.win.add(self.view)
        self.win.show_all()
        self.view.connect("load-changed", self._changed)
        self._loaded = False

    def _changed(self, _view, event):
        if event == WebKit2.LoadEvent.FINISHED:
            self._loaded = True

    def _wait(self, done):
        ctx = GLib.MainContext.default()
        deadline = time.monotonic() + 120
        while not done():
            if time.monotonic() > deadline:
                sys.exit("timed out")
            ctx.iteration(True)

    def _serve(self, request):
        body = self._served
        request.finish(Gio.MemoryInputStream.new_from_bytes(GLib.Bytes.new(body)), len(body),
                       "text/html")

    def load(self, html, served=False):
        self._loaded = False
        started = time.perf_counter()
        if served:
            self._served = html.encode("utf-8")
            self._n = getattr(self, "_n", 0) + 1
            self.view.load_uri("snapdesk-bench://report/%d" % self._n)
        else:
            self.view.load_html(html, "http://report.localhost/")
        self._wait(lambda: self._loaded)
        elements = self.run(PROBE)
        return (time.perf_counter() - started) * 1000, int(elements)

    def run(self, body):
        box = {}

        def finished(view, result, *_):
            try:
                box["value"] = view.call_async_javascript_function_finish(result)
            except GLib.Error as e:
                box["error"] = e.message

        self.view.call_async_javascript_function(body, -1, None, None, None, None, finished)
        self._wait(lambda: box)
        if "error" in box:
            sys.exit("script failed: " + box["error"])
        value = box["value"]
        return value.to_double() if value.is_number() else value.to_string()


def load(files, runs, noscript):
    page = Page(noscript)
    for path in files:
        with open(path, encoding="utf-8") as f:
            html = f.read()
        times, served = [], []
        for i in range(runs + 1):
            ms, elements = page.load(html)
            ms_served, _ = page.load(html, served=True)
            if i > 0:
                times.append(ms)
                served.append(ms_served)
        print(
            "%s: %d elements, median %.0f ms, worst %.0f ms over %d loads; served in pieces "
            "(as the viewer serves it): median %.0f ms, worst %.0f ms%s"
            % (path, elements, statistics.median(times), max(times), runs,
               statistics.median(served), max(served),
               " (scripts off)" if noscript else "")
        )


def check(path):
    page = Page()
    with open(path, encoding="utf-8") as f:
        page.load(f.read())
    got = json.loads(page.run(CHECK))
    print(json.dumps(got, indent=1))
    total = got["total"]
    expect = [
        ("the tools show with scripts on", got["tools_shown"]),
        ("the scripts-off note is hidden", got["note_hidden"]),
        ("at most 200 lines at first", got["initial"] <= 200),
        ("scrolling renders more lines", got["scrolled"]["last"] > got["initial"]),
        ("at most 3,000 lines stay rendered", got["scrolled"]["rendered"] <= 3000),
        ("Newest ends at the last line", got["newest"]["last"] == total),
        ("Oldest starts at line 1", got["oldest_first"] == 1),
        ("the level filter keeps errors only", got["errors_only"]),
        ("the script's levels are the renderer's", got["level_mismatches"] == []),
        ("a hostile line is found and stays text",
         got["hostile"]["matches"] > 0
         and got["hostile"]["mark"] == "</script><script>"
         and got["hostile"]["scripts"] == 2
         and got["hostile"]["pieces"] > 0
         and got["hostile"]["open"]),
        ("clearing the search shows every line again",
         got["cleared"].endswith("of %d." % total)),
        ("printing renders every line once", got["printing"] == total),
        ("after printing, one chunk again", got["printed"] <= 1000 < total),
    ]
    marker = 'id="snapdesk-report">'
    with open(path, encoding="utf-8") as f:
        html = f.read()
    if marker not in html:
        sys.exit("the page has no embedded data to alter")
    page.load(html.replace(marker, marker + "{cut", 1))
    no_data = json.loads(page.run(CHECK_NO_DATA))
    print(json.dumps(no_data, indent=1))
    expect.append(("unreadable data keeps the markup's lines",
                   no_data["initial"] > 0 and no_data["after"] == no_data["initial"]))
    failed = [what for what, ok in expect if not ok]
    for what, ok in expect:
        print(("ok    " if ok else "FAIL  ") + what)
    return 1 if failed else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        return check(argv[1])
    if len(argv) >= 2 and argv[0] == "load":
        args = argv[1:]
        runs = 5
        if "--runs" in args:
            at = args.index("--runs")
            runs = int(args[at + 1])
            del args[at:at + 2]
        noscript = "--noscript" in args
        load([a for a in args if a != "--noscript"], runs, noscript)
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
