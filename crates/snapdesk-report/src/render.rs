//! Renders a [`Report`] to one self-contained HTML file: inline CSS and JS, no external
//! request of any kind, and the report itself embedded as JSON so a machine reads exactly
//! what a person sees. The page works with scripts off (everything is in the markup), in a
//! sandboxed iframe where storage throws (the script never touches storage or cookies), and
//! on paper.

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

fn render_log(l: &LogSource, out: &mut String) {
    let _ = write!(
        out,
        "<section class=\"log\" id=\"log-{id}\" data-log=\"{id}\"><details><summary><span class=\"title\">{t}</span>\
<span class=\"src\">{s}</span><span class=\"count\">{n} lines</span></summary>\
<div class=\"logtools\"><label>Level <select class=\"level\"><option value=\"all\">all</option>\
<option value=\"error\">errors</option><option value=\"warn\">warnings and errors</option></select></label></div>\
<ol class=\"lines\">",
        id = esc(&l.id),
        t = esc(&l.title),
        s = esc(&l.source),
        n = l.lines.len()
    );
    for line in &l.lines {
        let _ = write!(out, "<li data-level=\"{}\">", log_level(line));
        escape(line, out);
        out.push_str("</li>");
    }
    out.push_str("</ol></details></section>");
}

/// Renders the report as one HTML document.
pub fn render(report: &Report) -> String {
    render_with(report, None)
}

/// Renders the report with an "Iggy data" section (after the checks) when one is given.
pub fn render_with(report: &Report, iggy: Option<&IggyDataSection>) -> String {
    let log_bytes: usize = report
        .logs
        .iter()
        .flat_map(|l| &l.lines)
        .map(|l| l.len() + 40)
        .sum();
    let mut out = String::with_capacity(32 * 1024 + log_bytes * 2 + report.checks.len() * 1024);
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
        for l in &report.logs {
            render_log(l, &mut out);
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
        let _ = write!(
            out,
            "<script type=\"application/json\" id=\"{IGGY_DATA_ELEMENT_ID}\">{}</script>",
            iggy_data::script_safe_json(section)
        );
    }
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"{DATA_ELEMENT_ID}\">{}</script><script>{JS}</script></body></html>",
        script_safe_json(report)
    );
    out
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
