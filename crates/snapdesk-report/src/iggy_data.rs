//! The report's "Iggy data" section: what a data inspector found in the Iggy data directory
//! a snapshot carries (tree, sizes, lag, findings). It is its own block beside the report,
//! rendered into the page and embedded as its own JSON element, so reports without it (and
//! every reader of [`crate::model::Report`]) are unchanged.
//!
//! The section is shaped for display (rows of a tree, findings as text), not for analysis:
//! producers fill it from their own inspection result.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::Fact;
use crate::render::escape;

/// The `id` of the `<script type="application/json">` element that carries the section.
pub const IGGY_DATA_ELEMENT_ID: &str = "snapdesk-iggy-data";

/// One row of the tree: a stream, topic, partition, segment, consumer group or stored offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IggyDataRow {
    /// 0 for a stream, 1 for a topic, 2 for a partition, 3 below.
    pub depth: u8,
    /// `stream`, `topic`, `partition`, `segment`, `group` or `consumer`.
    pub kind: String,
    pub label: String,
    #[ts(type = "number | null")]
    pub messages: Option<u64>,
    /// `first..last`, or `empty`.
    pub offsets: Option<String>,
    #[ts(type = "number | null")]
    pub log_bytes: Option<u64>,
    #[ts(type = "number | null")]
    pub index_bytes: Option<u64>,
    /// For a stored offset: the partition's last offset minus it.
    #[ts(type = "number | null")]
    pub lag: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IggyDataFinding {
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// A stable id (`torn_segment`, `index_past_log`, ...).
    pub kind: String,
    pub path: String,
    pub message: String,
    #[ts(type = "number | null")]
    pub byte_offset: Option<u64>,
}

/// The section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IggyDataSection {
    /// The format era (`0.8`, `0.9`), empty when the data could not be read.
    pub format: String,
    /// What was read.
    pub source: String,
    /// Why there is no tree, when there is none (unknown format, unreadable).
    pub note: Option<String>,
    pub totals: Vec<Fact>,
    pub rows: Vec<IggyDataRow>,
    pub findings: Vec<IggyDataFinding>,
}

fn opt(v: Option<u64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    escape(s, &mut o);
    o
}

/// The section as a page of its own, in the report's style: what a viewer shows beside any
/// report whose archive carries Iggy data (reports made before the section existed, or by
/// the Supervisor). Its one script is the theme listener; every value escaped.
pub fn page(title: &str, s: &IggyDataSection) -> String {
    let mut out = String::with_capacity(8 * 1024 + s.rows.len() * 200);
    crate::view::own_page_head(title, &[crate::render::CSS], &mut out);
    let _ = write!(
        out,
        "<header class=\"top\"><h1>{t}</h1></header><main>",
        t = esc(title)
    );
    render_section(s, &mut out);
    out.push_str("</main></body></html>\n");
    out
}

/// The section as HTML (inside the report's `<main>`).
pub fn render_section(s: &IggyDataSection, out: &mut String) {
    out.push_str(
        "<section id=\"iggy-data\" aria-labelledby=\"iggy-data-h\"><h2 id=\"iggy-data-h\">Iggy data</h2>",
    );
    let _ = write!(
        out,
        "<p class=\"iggy-source\">Format <b>{}</b>, read from <code>{}</code></p>",
        esc(if s.format.is_empty() {
            "unknown"
        } else {
            &s.format
        }),
        esc(&s.source)
    );
    if let Some(n) = &s.note {
        let _ = write!(out, "<p class=\"iggy-note\">{}</p>", esc(n));
    }
    if !s.totals.is_empty() {
        out.push_str("<table class=\"facts iggy-totals\"><tbody>");
        for f in &s.totals {
            let _ = write!(
                out,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                esc(&f.key),
                esc(&f.value)
            );
        }
        out.push_str("</tbody></table>");
    }
    if !s.rows.is_empty() {
        out.push_str(
            "<table class=\"iggy-tree\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Messages</th>\
<th scope=\"col\">Offsets</th><th scope=\"col\">.log bytes</th><th scope=\"col\">.index bytes</th>\
<th scope=\"col\">Lag</th></tr></thead><tbody>",
        );
        for r in &s.rows {
            let _ = write!(
                out,
                "<tr class=\"iggy-{kind}\" data-kind=\"{kind}\"><td style=\"padding-left:{pad}em\">{label}</td>\
<td>{m}</td><td>{o}</td><td>{l}</td><td>{i}</td><td>{lag}</td></tr>",
                kind = esc(&r.kind),
                pad = 0.3 + f32::from(r.depth) * 1.2,
                label = esc(&r.label),
                m = opt(r.messages),
                o = esc(r.offsets.as_deref().unwrap_or("")),
                l = opt(r.log_bytes),
                i = opt(r.index_bytes),
                lag = opt(r.lag),
            );
        }
        out.push_str("</tbody></table>");
    }
    if s.findings.is_empty() {
        if s.note.is_none() {
            out.push_str("<p class=\"iggy-findings-none\">No findings: every segment, index and offset is consistent.</p>");
        }
    } else {
        out.push_str(
            "<table class=\"iggy-findings\"><thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Path</th>\
<th scope=\"col\">Byte</th><th scope=\"col\">Finding</th></tr></thead><tbody>",
        );
        for f in &s.findings {
            let _ = write!(
                out,
                "<tr data-severity=\"{sev}\" data-kind=\"{kind}\"><td>{sev}</td><td><code>{p}</code></td><td>{b}</td><td>{m}</td></tr>",
                sev = esc(&f.severity),
                kind = esc(&f.kind),
                p = esc(&f.path),
                b = opt(f.byte_offset),
                m = esc(&f.message),
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}

/// The section's JSON, safe inside `<script>` (see [`crate::render::script_safe_json`]).
pub fn script_safe_json(s: &IggyDataSection) -> String {
    let json = serde_json::to_string(s).unwrap_or_else(|_| "null".to_owned());
    json.replace('<', "\\u003c")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Reads the section back from a rendered report, when it has one.
pub fn extract(html: &str) -> Option<IggyDataSection> {
    let json = crate::render::read_data_element(html, IGGY_DATA_ELEMENT_ID)?;
    serde_json::from_str(&json).ok()
}

#[cfg(test)]
mod page_tests {
    use super::*;

    #[test]
    fn the_page_escapes_every_value_and_runs_only_the_theme_listener() {
        let s = IggyDataSection {
            format: "0.8".into(),
            source: "<script>alert(1)</script>".into(),
            rows: vec![IggyDataRow {
                depth: 0,
                kind: "stream".into(),
                label: "orders <b>".into(),
                messages: Some(3),
                offsets: None,
                log_bytes: None,
                index_bytes: None,
                lag: None,
            }],
            ..IggyDataSection::default()
        };
        let html = page("Iggy data of <node>", &s);
        // One script: the theme listener (its CSP allows nothing else, see view.rs).
        assert_eq!(html.matches("<script").count(), 1, "{html}");
        assert!(html.contains(&format!("<script>{}</script>", crate::view::THEME_SCRIPT)));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("orders &lt;b&gt;"));
        assert!(html.contains("Iggy data of &lt;node&gt;"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::render_with;
    use crate::sample::sample_report;

    fn section() -> IggyDataSection {
        IggyDataSection {
            format: "0.9".into(),
            source: "/var/lib/iggy/local_data".into(),
            note: None,
            totals: vec![Fact::new("messages", 600)],
            rows: vec![IggyDataRow {
                depth: 0,
                kind: "stream".into(),
                label: "stream 0 <orders>".into(),
                messages: Some(500),
                offsets: None,
                log_bytes: Some(1),
                index_bytes: None,
                lag: None,
            }],
            findings: vec![IggyDataFinding {
                severity: "error".into(),
                kind: "torn_segment".into(),
                path: "streams/0/x.log".into(),
                message: "torn </script> segment".into(),
                byte_offset: Some(40736),
            }],
        }
    }

    #[test]
    fn the_section_renders_escaped_and_reads_back() {
        let report = sample_report(3, 2);
        let s = section();
        let html = render_with(&report, Some(&s));
        assert!(html.contains("<h2 id=\"iggy-data-h\">Iggy data</h2>"));
        assert!(html.contains("stream 0 &lt;orders&gt;"));
        assert!(html.contains("<td>40736</td>"));
        assert!(!html.contains("torn </script> segment"));
        assert_eq!(extract(&html), Some(s));
        // The report itself still parses as before, and a report without the section has none.
        let parsed = crate::parse::parse(&html).unwrap();
        assert_eq!(
            parsed.report.as_ref().map(|r| r.checks.len()),
            Some(report.checks.len())
        );
        assert_eq!(extract(&crate::render::render(&report)), None);
    }
}
