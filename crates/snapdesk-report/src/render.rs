//! Renders a [`Report`] to one self-contained HTML file: inline CSS and JS, no external
//! request of any kind, and the report itself embedded as JSON so a machine reads exactly
//! what a person sees. The page works with scripts off (everything is in the markup but the
//! lines of a log past its first [`STATIC_LOG_LINES`], which the script renders from the data
//! as a person scrolls, and which the markup counts), in a sandboxed iframe where storage
//! throws (the script never touches storage or cookies), and on paper.

use std::fmt::Write as _;

use crate::iggy_data::{self, IggyDataSection, IGGY_DATA_ELEMENT_ID};
use crate::model::{Check, LogSource, Report, Status};

/// The `id` of the `<script type="application/json">` element that carries the report.
pub const DATA_ELEMENT_ID: &str = "snapdesk-report";

pub(crate) const CSS: &str = include_str!("../assets/report.css");
const JS: &str = include_str!("../assets/report.js");

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    escape(s, &mut o);
    o
}

/// The largest piece of embedded data in one `<script type="application/json">` element,
/// bytes. WebKit grows a script element's text by copying it whole for each piece of the
/// page that arrives, so one element of megabytes cost a page served in pieces (the viewer's
/// protocol) 300 ms more than the same page given at once; pieces of this size cost nothing.
pub const DATA_PART_BYTES: usize = 32 * 1024;

/// The class of the elements that continue a data element, in order, right after it.
pub const DATA_MORE_CLASS: &str = "snapdesk-more";

/// Writes `json` (already script-safe) as the data element `id`, split into elements of at
/// most [`DATA_PART_BYTES`]: the first carries the id, each next one [`DATA_MORE_CLASS`].
/// Readers join the texts ([`read_data_element`], and `report.js` in the page).
pub fn write_data_element(out: &mut String, id: &str, json: &str) {
    let mut rest = json;
    let mut first = true;
    loop {
        let mut cut = rest.len().min(DATA_PART_BYTES);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (part, tail) = rest.split_at(cut);
        if first {
            let _ = write!(out, "<script type=\"application/json\" id=\"{id}\">");
        } else {
            let _ = write!(
                out,
                "<script type=\"application/json\" class=\"{DATA_MORE_CLASS}\">"
            );
        }
        out.push_str(part);
        out.push_str("</script>");
        first = false;
        rest = tail;
        if rest.is_empty() {
            break;
        }
    }
}

/// The text of the data element `id` written by [`write_data_element`] (or a single element
/// of an older page), its pieces joined, found without building a DOM: the data holds no
/// `<`, so the first `</script>` after each opening tag closes it.
pub fn read_data_element(html: &str, id: &str) -> Option<String> {
    let marker = format!("<script type=\"application/json\" id=\"{id}\">");
    let more = format!("<script type=\"application/json\" class=\"{DATA_MORE_CLASS}\">");
    let mut at = html.rfind(&marker)? + marker.len();
    let mut text = String::new();
    loop {
        let len = html[at..].find("</script>")?;
        text.push_str(&html[at..at + len]);
        at += len + "</script>".len();
        match html[at..].strip_prefix(more.as_str()) {
            Some(_) => at += more.len(),
            None => return Some(text),
        }
    }
}

/// JSON that is safe inside `<script>`: every `<` becomes `\u003c`, so neither `</script>`
/// nor `<!--` can end or confuse the element. `JSON.parse` and serde read it unchanged.
pub fn script_safe_json(report: &Report) -> String {
    let json = serde_json::to_string(report).unwrap_or_else(|_| "null".to_owned());
    json.replace('<', "\\u003c")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Detects a log line's level for the level filter.
pub fn log_level(line: &str) -> &'static str {
    let head: String = line
        .chars()
        .take(160)
        .collect::<String>()
        .to_ascii_uppercase();
    let has = |w: &str| {
        head.match_indices(w).any(|(i, _)| {
            let before = head[..i].chars().next_back();
            let after = head[i + w.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric())
                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
        })
    };
    let errorish = [
        "PANIC", "PANICKED", "FATAL", "CRIT", "CRITICAL", "ERROR", "ERR",
    ];
    if errorish.iter().any(|w| has(w)) {
        "error"
    } else if has("WARN") || has("WARNING") {
        "warn"
    } else if has("DEBUG") || has("TRACE") {
        "debug"
    } else {
        "info"
    }
}

fn status_badge(status: Status, out: &mut String) {
    let _ = write!(
        out,
        "<span class=\"badge s-{0}\" data-status=\"{0}\">{0}</span>",
        status.as_str()
    );
}

fn render_check(c: &Check, out: &mut String) {
    let _ = write!(
        out,
        "<article class=\"check\" id=\"check-{id}\" data-id=\"{id}\" data-status=\"{st}\" data-category=\"{cat}\">\
<details{open}><summary>",
        id = esc(&c.id),
        st = c.status.as_str(),
        cat = esc(&c.category),
        open = if matches!(c.status, Status::Fail | Status::Error) { " open" } else { "" },
    );
    status_badge(c.status, out);
    let _ = write!(
        out,
        "<span class=\"title\">{}</span><span class=\"cat\">{}</span><span class=\"sum\">{}</span>\
<span class=\"dur\">{} ms</span></summary><div class=\"body\">",
        esc(&c.title),
        esc(&c.category),
        esc(&c.summary),
        c.duration_ms
    );
    let _ = write!(out, "<p class=\"summary\">{}</p>", esc(&c.summary));
    if !c.facts.is_empty() {
        out.push_str("<table class=\"facts\"><tbody>");
        for f in &c.facts {
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                esc(&f.key),
                esc(&f.value)
            );
        }
        out.push_str("</tbody></table>");
    }
    for e in &c.evidence {
        let _ = write!(
            out,
            "<figure class=\"evidence\"><figcaption>{}</figcaption><pre>{}</pre></figure>",
            esc(&e.source),
            esc(&e.excerpt)
        );
    }
    if let Some(r) = &c.remediation {
        let _ = write!(
            out,
            "<p class=\"remediation\"><strong>Remediation:</strong> {}</p>",
            esc(r)
        );
    }
    let _ = write!(
        out,
        "<p class=\"meta\"><code>{}</code> <button type=\"button\" class=\"copy\" data-copy=\"{}\">Copy as text</button></p>",
        esc(&c.id),
        esc(&c.id)
    );
    out.push_str("</div></details></article>");
}

/// Lines of each log written as markup; the others live only in the embedded data, and the
/// page's script renders them in chunks as a person scrolls. Measured in WebKitGTK: a log of
/// 18,000 `<li>` took 15 s to load under Xvfb (4 s in the app), most of it their line-number
/// counters; 200 lines plus the data load in a fraction of a second. With scripts off a
/// person still reads these lines and a note that says how many more the data holds.
pub const STATIC_LOG_LINES: usize = 200;

fn render_log(index: usize, l: &LogSource, out: &mut String) {
    let total = l.lines.len();
    let shown = total.min(STATIC_LOG_LINES);
    // The tools only work with scripts: hidden until the script shows them.
    let _ = write!(
        out,
        "<section class=\"log\" id=\"log-{id}\" data-log=\"{id}\" data-index=\"{index}\" data-lines=\"{total}\">\
<details><summary><span class=\"title\">{t}</span><span class=\"src\">{s}</span><span class=\"count\">{total} lines</span></summary>\
<div class=\"logtools\" hidden><label>Level <select class=\"level\"><option value=\"all\">all</option>\
<option value=\"error\">errors</option><option value=\"warn\">warnings and errors</option></select></label>\
<button type=\"button\" class=\"oldest\">Oldest</button><button type=\"button\" class=\"newest\">Newest</button>\
<span class=\"status\" aria-live=\"polite\"></span></div><ol class=\"lines\">",
        id = esc(&l.id),
        t = esc(&l.title),
        s = esc(&l.source),
    );
    for (i, line) in l.lines[..shown].iter().enumerate() {
        let _ = write!(
            out,
            "<li data-n=\"{}\" data-level=\"{}\">",
            i + 1,
            log_level(line)
        );
        escape(line, out);
        out.push_str("</li>");
    }
    out.push_str("</ol>");
    if total > shown {
        let _ = write!(
            out,
            "<p class=\"more\">Lines {} to {total} ({} more) are in this file&#39;s embedded data; \
with scripts on, they appear as you scroll.</p>",
            shown + 1,
            total - shown
        );
    }
    out.push_str("</details></section>");
}

/// Renders the report as one HTML document.
pub fn render(report: &Report) -> String {
    render_with(report, None)
}

/// Renders the report with an "Iggy data" section (after the checks) when one is given.
pub fn render_with(report: &Report, iggy: Option<&IggyDataSection>) -> String {
    // Every log line is in the data; the first few are in the markup too.
    let log_bytes: usize = report
        .logs
        .iter()
        .flat_map(|l| &l.lines)
        .map(|l| l.len() + 8)
        .sum();
    let static_log_bytes = report.logs.len() * STATIC_LOG_LINES * 200;
    let mut out = String::with_capacity(
        32 * 1024 + log_bytes + static_log_bytes + report.checks.len() * 2048,
    );
    let counts = report.counts();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"generator\" content=\"{gen}\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\
<title>{title}</title><style>{CSS}</style></head><body>",
        gen = esc(&format!("{} {}", report.collector.name, report.collector.version)),
        title = esc(&report.title),
    );
    let _ = write!(
        out,
        "<header class=\"top\"><h1>{}</h1><dl class=\"meta\">",
        esc(&report.title)
    );
    let mut meta = |k: &str, v: &str| {
        let _ = write!(out, "<div><dt>{}</dt><dd>{}</dd></div>", esc(k), esc(v));
    };
    meta("Host", &report.host_name);
    meta("Snapshot", &report.snapshot_name);
    if let Some(d) = &report.deployment_name {
        meta("Deployment", d);
    }
    if let Some(d) = &report.deployment_id {
        meta("Deployment id", d);
    }
    if let Some(n) = &report.node_id {
        meta("Node id", n);
    }
    meta(
        "Created",
        &report
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    if let Some(c) = report.completed_at {
        meta(
            "Completed",
            &c.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
    }
    meta(
        "Collector",
        &format!("{} {}", report.collector.name, report.collector.version),
    );
    meta(
        "Secrets",
        if report.redacted {
            "redacted"
        } else {
            "NOT redacted"
        },
    );
    out.push_str("</dl></header>");

    out.push_str("<nav class=\"totals\" aria-label=\"Totals by status\"><ul>");
    let _ = write!(
        out,
        "<li><button type=\"button\" class=\"filter-status active\" data-filter=\"all\" aria-pressed=\"true\">all <b>{}</b></button></li>",
        counts.total()
    );
    for s in Status::ALL {
        let _ = write!(
            out,
            "<li><button type=\"button\" class=\"filter-status s-{0}\" data-filter=\"{0}\" aria-pressed=\"false\">{0} <b data-count=\"{0}\">{1}</b></button></li>",
            s.as_str(),
            counts.get(s)
        );
    }
    out.push_str("</ul></nav>");

    let mut categories: Vec<&str> = report.checks.iter().map(|c| c.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    out.push_str(
        "<div class=\"toolbar\" role=\"toolbar\" aria-label=\"Report tools\">\
<input type=\"search\" id=\"q\" placeholder=\"Search checks and logs (/)\" aria-label=\"Search\">\
<select id=\"cat\" aria-label=\"Category\"><option value=\"\">All categories</option>",
    );
    for c in &categories {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", esc(c));
    }
    out.push_str(
        "</select><button type=\"button\" id=\"expand\">Expand all</button>\
<button type=\"button\" id=\"collapse\">Collapse all</button>\
<button type=\"button\" id=\"theme\">Theme</button>\
<button type=\"button\" id=\"print\">Print</button><span id=\"shown\" aria-live=\"polite\"></span></div>",
    );

    out.push_str(
        "<main><section id=\"checks\" aria-labelledby=\"checks-h\"><h2 id=\"checks-h\">Checks</h2>",
    );
    for c in report.checks_failures_first() {
        render_check(c, &mut out);
    }
    out.push_str("<p class=\"empty\" hidden>No check matches the filters.</p></section>");
    if let Some(section) = iggy {
        iggy_data::render_section(section, &mut out);
    }
    if !report.logs.is_empty() {
        out.push_str("<section id=\"logs\" aria-labelledby=\"logs-h\"><h2 id=\"logs-h\">Logs</h2>");
        for (i, l) in report.logs.iter().enumerate() {
            render_log(i, l, &mut out);
        }
        out.push_str("</section>");
    }
    out.push_str("</main><footer class=\"foot\">Generated by ");
    escape(
        &format!("{} {}", report.collector.name, report.collector.version),
        &mut out,
    );
    out.push_str(". This file is self-contained and makes no network requests.</footer>");
    if let Some(section) = iggy {
        write_data_element(
            &mut out,
            IGGY_DATA_ELEMENT_ID,
            &iggy_data::script_safe_json(section),
        );
    }
    write_data_element(&mut out, DATA_ELEMENT_ID, &script_safe_json(report));
    let _ = writeln!(out, "<script>{JS}</script></body></html>");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_data_is_written_in_pieces_a_browser_and_the_reader_join_back() {
        // Megabytes of data with multi-byte characters across the cuts, and a `<` in it.
        let lines: Vec<String> = (0..30_000)
            .map(|i| format!("ünïcödé line {i} </script> \u{2028}"))
            .collect();
        let report = report_with_lines(lines);
        let html = render(&report);
        let doc = scraper::Html::parse_document(&html);
        let data: Vec<_> = doc
            .select(&scraper::Selector::parse("script[type='application/json']").unwrap())
            .collect();
        assert!(data.len() > 20, "{} pieces", data.len());
        assert_eq!(data[0].value().attr("id"), Some(DATA_ELEMENT_ID));
        let mut joined = String::new();
        for (i, piece) in data.iter().enumerate() {
            let text: String = piece.text().collect();
            assert!(
                text.len() <= DATA_PART_BYTES,
                "piece {i}: {} bytes",
                text.len()
            );
            if i > 0 {
                assert_eq!(piece.value().attr("class"), Some(DATA_MORE_CLASS));
            }
            joined.push_str(&text);
        }
        let from_dom: Report = serde_json::from_str(&joined).unwrap();
        assert_eq!(from_dom, report);
        // Our reader joins them the same way; the report parses whole.
        assert_eq!(
            read_data_element(&html, DATA_ELEMENT_ID).as_deref(),
            Some(joined.as_str())
        );
        assert_eq!(crate::parse::parse(&html).unwrap().report, Some(report));
    }

    #[test]
    fn a_page_with_its_data_in_one_element_still_reads() {
        let html = "<body><script type=\"application/json\" id=\"x\">{\"a\":1}</script>\
                    <script type=\"application/json\" class=\"other\">2</script></body>";
        assert_eq!(read_data_element(html, "x").as_deref(), Some("{\"a\":1}"));
        assert_eq!(read_data_element(html, "y"), None);
    }

    use super::*;

    #[test]
    fn log_levels_are_detected_by_word() {
        assert_eq!(
            log_level("2026-01-01T00:00:00Z ERROR server: boom"),
            "error"
        );
        assert_eq!(log_level("thread 'main' panicked at src/main.rs"), "error");
        assert_eq!(log_level(" WARN something"), "warn");
        assert_eq!(log_level("DEBUG x"), "debug");
        assert_eq!(log_level("INFO errors_total=0"), "info");
        assert_eq!(log_level("terror"), "info");
    }

    fn report_with_lines(lines: Vec<String>) -> Report {
        let mut r = crate::sample::sample_report(3, 0);
        r.logs[0].lines = lines;
        r
    }

    #[test]
    fn a_long_log_keeps_its_first_lines_in_the_markup_and_every_line_in_the_data() {
        let report = crate::sample::sample_report(3, 18_000);
        let html = render(&report);
        assert_eq!(html.matches("<li data-n=").count(), STATIC_LOG_LINES);
        assert!(html.contains("<li data-n=\"200\" data-level=\"debug\">"));
        assert!(!html.contains("<li data-n=\"201\""));
        assert!(
            html.contains("Lines 201 to 18000 (17800 more) are in this file&#39;s embedded data"),
            "the markup says how many lines only the data holds"
        );
        assert!(html.contains("data-index=\"0\" data-lines=\"18000\""));
        let parsed = crate::parse::parse(&html).unwrap();
        assert_eq!(parsed.report.as_ref(), Some(&report));
    }

    #[test]
    fn a_short_log_is_all_markup_and_says_nothing_more() {
        let report = report_with_lines((0..STATIC_LOG_LINES).map(|i| format!("l{i}")).collect());
        let html = render(&report);
        assert_eq!(html.matches("<li data-n=").count(), STATIC_LOG_LINES);
        assert!(!html.contains("class=\"more\""));
    }

    #[test]
    fn hostile_log_lines_stay_data_in_the_markup_and_in_the_json() {
        let hostile = [
            "</script><script>alert(1)</script>",
            "</SCRIPT >",
            "<!-- <script>",
            "id=\"snapdesk-report\">{\"checks\":[]}</script>",
            "\u{2028}\u{2029} \\u003c/script>",
        ];
        // Each line twice: once among the lines in the markup, once past them (data only).
        let mut lines: Vec<String> = (0..400).map(|i| format!("line {i}")).collect();
        for (k, h) in hostile.iter().enumerate() {
            lines[10 + k] = (*h).to_owned();
            lines[300 + k] = (*h).to_owned();
        }
        let report = report_with_lines(lines);
        let html = render(&report);
        // Our two elements end the only `</script` of the page (any case).
        let lower = html.to_ascii_lowercase();
        assert_eq!(
            lower.matches("</script").count(),
            2,
            "a log line closed a script"
        );
        assert_eq!(lower.matches("<script").count(), 2);
        // A browser's parser sees the same: two scripts, the data one holding all the lines.
        let doc = scraper::Html::parse_document(&html);
        let scripts: Vec<_> = doc
            .select(&scraper::Selector::parse("script").unwrap())
            .collect();
        assert_eq!(scripts.len(), 2);
        assert_eq!(scripts[0].value().attr("id"), Some(DATA_ELEMENT_ID));
        let text: String = scripts[0].text().collect();
        let from_dom: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(from_dom, report);
        assert_eq!(
            crate::parse::parse(&html).unwrap().report.as_ref(),
            Some(&report)
        );
        let items = doc
            .select(&scraper::Selector::parse("ol.lines li").unwrap())
            .count();
        assert_eq!(items, STATIC_LOG_LINES);
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
