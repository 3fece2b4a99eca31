//! Reads reports back. A Snapdesk report gives its embedded JSON exactly; any other HTML
//! report is read with `scraper`: title, headings, tables, and every table row with a cell
//! that reads pass/ok/warn/fail/error becomes a check.

use std::collections::HashSet;

use scraper::{ElementRef, Html};
use serde::{Deserialize, Serialize};
use snapdesk_core::{Cancel, Stop};
use ts_rs::TS;

use crate::model::{Check, Fact, Report, Status};
use crate::render::DATA_ELEMENT_ID;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the embedded report data is not valid: {0}")]
    BadData(#[from] serde_json::Error),
    #[error("the report uses format version {0}, newer than this Snapdesk understands")]
    NewerFormat(u32),
    #[error("reading the report stopped: {0}")]
    Stopped(Stop),
}

/// Caps on reading HTML we did not write. A security review built a 1.4 KB archive of 40,000
/// empty tables that took 53 s of CPU with the old quadratic walk, and 8 MB of `<p>` that
/// cost 1.5 GB across the app and WebKit. Reading is one pass over the document; these bound
/// what that pass builds.
#[derive(Debug, Clone)]
pub struct ParseLimits {
    /// Past this many elements the document is not parsed at all (nor shown: see
    /// [`crate::view`]): building its tree is what costs the memory, and WebKit stalls the
    /// whole UI while it lays it out (measured here: 50,000 `<p>` about 2 s).
    pub max_elements: usize,
    /// Past this many tables the document is not shown: WebKit's table layout grows faster
    /// than the count (measured here: 10,000 empty tables 1.9 s, 40,000 over 20 s).
    pub max_tables_shown: usize,
    pub max_tables: usize,
    pub max_rows: usize,
    pub max_cells_per_row: usize,
    pub max_headings: usize,
    /// Characters of text kept per cell or heading, and nodes visited to find them.
    pub max_text_chars: usize,
    pub max_text_nodes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_elements: 50_000,
            max_tables_shown: 5_000,
            max_tables: 2_000,
            max_rows: 20_000,
            max_cells_per_row: 64,
            max_headings: 2_000,
            max_text_chars: 2_000,
            max_text_nodes: 10_000,
        }
    }
}

/// Counts start tags (`<` and a letter) without building anything: what decides whether a
/// document is small enough to parse and to show.
pub fn count_elements(html: &str) -> usize {
    count_tags(html).0
}

/// Start tags, and among them `<table` ones, in one scan.
pub fn count_tags(html: &str) -> (usize, usize) {
    let bytes = html.as_bytes();
    let (mut elements, mut tables) = (0, 0);
    for (i, w) in bytes.windows(2).enumerate() {
        if w[0] == b'<' && w[1].is_ascii_alphabetic() {
            elements += 1;
            if bytes
                .get(i + 1..i + 6)
                .is_some_and(|t| t.eq_ignore_ascii_case(b"table"))
            {
                tables += 1;
            }
        }
    }
    (elements, tables)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Heading {
    pub level: u8,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Table {
    pub caption: Option<String>,
    pub rows: Vec<Vec<String>>,
}

/// What a report says, whoever wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedReport {
    pub title: Option<String>,
    pub headings: Vec<Heading>,
    pub tables: Vec<Table>,
    pub checks: Vec<Check>,
    /// The full report when the HTML is a Snapdesk report.
    pub report: Option<Report>,
    /// How many elements the document has (start tags counted before parsing).
    pub elements: usize,
    /// How many of them are tables.
    pub tables_in_source: usize,
    /// What a cap left out, in words for the person reading (empty when nothing was).
    pub notes: Vec<String>,
}

/// Finds the embedded JSON of a Snapdesk report without building a DOM (its pieces joined,
/// see `render::write_data_element`).
fn embedded_json(html: &str) -> Option<String> {
    crate::render::read_data_element(html, DATA_ELEMENT_ID)
}

/// Parses any HTML report with the default caps and no deadline.
pub fn parse(html: &str) -> Result<ParsedReport, ParseError> {
    parse_with(html, &ParseLimits::default(), &Cancel::new())
}

/// Parses any HTML report within `limits`, stopping when `cancel` says so.
pub fn parse_with(
    html: &str,
    limits: &ParseLimits,
    cancel: &Cancel,
) -> Result<ParsedReport, ParseError> {
    let (elements, tables_in_source) = count_tags(html);
    if let Some(json) = embedded_json(html) {
        let report: Report = serde_json::from_str(&json)?;
        if report.format_version > crate::model::FORMAT_VERSION {
            return Err(ParseError::NewerFormat(report.format_version));
        }
        return Ok(ParsedReport {
            title: Some(report.title.clone()),
            headings: Vec::new(),
            tables: Vec::new(),
            checks: report.checks.clone(),
            report: Some(report),
            elements,
            tables_in_source,
            notes: Vec::new(),
        });
    }
    parse_foreign_with(html, limits, cancel)
}

/// Text of an element, whitespace collapsed, within the caps (a cell that holds a deep
/// nest of elements is not walked to its end).
fn text_of(el: ElementRef<'_>, limits: &ParseLimits) -> String {
    let mut s = String::new();
    for (visited, node) in el.descendants().enumerate() {
        if visited >= limits.max_text_nodes || s.len() >= limits.max_text_chars {
            break;
        }
        if let Some(t) = node.value().as_text() {
            s.push_str(t);
        }
    }
    let mut out = String::with_capacity(s.len().min(limits.max_text_chars));
    for word in s.split_whitespace() {
        if out.len() >= limits.max_text_chars {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('_');
            dash = true;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        "check".to_owned()
    } else {
        out
    }
}

/// Reads an HTML report we did not write, with the default caps.
pub fn parse_foreign(html: &str) -> ParsedReport {
    match parse_foreign_with(html, &ParseLimits::default(), &Cancel::new()) {
        Ok(p) => p,
        // Unreachable without a cancel switch or deadline; an empty result is still honest.
        Err(_) => ParsedReport {
            title: None,
            headings: Vec::new(),
            tables: Vec::new(),
            checks: Vec::new(),
            report: None,
            elements: 0,
            tables_in_source: 0,
            notes: vec!["reading stopped".into()],
        },
    }
}

/// One pass over the document in order: the last heading seen names the category of the
/// tables after it; each table's rows are its own (nested tables are read on their own turn).
pub fn parse_foreign_with(
    html: &str,
    limits: &ParseLimits,
    cancel: &Cancel,
) -> Result<ParsedReport, ParseError> {
    let (elements, tables_in_source) = count_tags(html);
    let mut out = ParsedReport {
        title: None,
        headings: Vec::new(),
        tables: Vec::new(),
        checks: Vec::new(),
        report: None,
        elements,
        tables_in_source,
        notes: Vec::new(),
    };
    if elements > limits.max_elements {
        out.notes.push(format!(
            "The report has {elements} elements, more than the {} Snapdesk reads: its checks were not read.",
            limits.max_elements
        ));
        return Ok(out);
    }
    cancel.check().map_err(ParseError::Stopped)?;
    let doc = Html::parse_document(html);
    cancel.check().map_err(ParseError::Stopped)?;

    let mut ids = HashSet::new();
    let mut last_heading: Option<String> = None;
    let mut rows_read = 0usize;
    let (mut tables_skipped, mut rows_skipped) = (0usize, 0usize);
    for (i, node) in doc.tree.root().descendants().enumerate() {
        if i % 1024 == 0 {
            cancel.check().map_err(ParseError::Stopped)?;
        }
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        match el.value().name() {
            "title" if out.title.is_none() => {
                out.title = Some(text_of(el, limits)).filter(|t| !t.is_empty());
            }
            name @ ("h1" | "h2" | "h3" | "h4" | "h5" | "h6") => {
                let text = text_of(el, limits);
                if text.is_empty() {
                    continue;
                }
                if out.headings.len() < limits.max_headings {
                    out.headings.push(Heading {
                        level: name[1..].parse().unwrap_or(1),
                        text: text.clone(),
                    });
                }
                last_heading = Some(text);
            }
            "table" => {
                if out.tables.len() >= limits.max_tables {
                    tables_skipped += 1;
                    continue;
                }
                let caption = el
                    .children()
                    .filter_map(ElementRef::wrap)
                    .find(|c| c.value().name() == "caption")
                    .map(|c| text_of(c, limits))
                    .filter(|c| !c.is_empty());
                let category = last_heading.clone().or_else(|| caption.clone());
                let mut rows = Vec::new();
                let mut header: Option<Vec<String>> = None;
                for tr in table_rows(el) {
                    if rows_read >= limits.max_rows {
                        rows_skipped += 1;
                        continue;
                    }
                    rows_read += 1;
                    let cells: Vec<ElementRef<'_>> = tr
                        .children()
                        .filter_map(ElementRef::wrap)
                        .filter(|c| matches!(c.value().name(), "td" | "th"))
                        .take(limits.max_cells_per_row)
                        .collect();
                    let all_th = cells.iter().all(|c| c.value().name() == "th");
                    let cells: Vec<String> =
                        cells.into_iter().map(|c| text_of(c, limits)).collect();
                    if all_th && header.is_none() {
                        header = Some(cells.clone());
                    } else if let Some(check) =
                        row_check(&cells, header.as_deref(), category.as_deref())
                    {
                        let mut id = check.id.clone();
                        let mut n = 2;
                        while !ids.insert(id.clone()) {
                            id = format!("{}_{n}", check.id);
                            n += 1;
                        }
                        out.checks.push(Check { id, ..check });
                    }
                    rows.push(cells);
                }
                out.tables.push(Table { caption, rows });
            }
            _ => {}
        }
    }
    if tables_skipped > 0 {
        out.notes.push(format!(
            "Only the first {} tables were read; {tables_skipped} more were not.",
            limits.max_tables
        ));
    }
    if rows_skipped > 0 {
        out.notes.push(format!(
            "Only the first {} table rows were read; {rows_skipped} more were not.",
            limits.max_rows
        ));
    }
    Ok(out)
}

/// A table's own rows: `tr` children of the table or of its `thead`, `tbody` and `tfoot`.
fn table_rows<'a>(table: ElementRef<'a>) -> impl Iterator<Item = ElementRef<'a>> + 'a {
    table.children().filter_map(ElementRef::wrap).flat_map(
        |c| -> Box<dyn Iterator<Item = ElementRef<'a>> + 'a> {
            match c.value().name() {
                "tr" => Box::new(std::iter::once(c)),
                "thead" | "tbody" | "tfoot" => Box::new(
                    c.children()
                        .filter_map(ElementRef::wrap)
                        .filter(|r| r.value().name() == "tr"),
                ),
                _ => Box::new(std::iter::empty()),
            }
        },
    )
}

fn row_check(cells: &[String], header: Option<&[String]>, category: Option<&str>) -> Option<Check> {
    let status_at = cells.iter().position(|c| Status::from_word(c).is_some())?;
    let status = Status::from_word(&cells[status_at])?;
    let others: Vec<(usize, &String)> = cells
        .iter()
        .enumerate()
        .filter(|(i, c)| *i != status_at && !c.is_empty())
        .collect();
    let (_, title) = others.first()?;
    let category = category.unwrap_or("report").to_owned();
    let facts = others
        .iter()
        .skip(1)
        .map(|(i, v)| {
            let key = header
                .and_then(|h| h.get(*i))
                .filter(|k| !k.is_empty())
                .cloned()
                .unwrap_or_else(|| format!("column {}", i + 1));
            Fact {
                key,
                value: (*v).clone(),
            }
        })
        .collect::<Vec<_>>();
    let summary = others
        .iter()
        .skip(1)
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join(" · ");
    Some(Check {
        id: format!("{}.{}", slug(&category), slug(title)),
        category,
        title: (*title).clone(),
        status,
        summary,
        facts,
        evidence: Vec::new(),
        remediation: None,
        duration_ms: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOREIGN: &str = r#"<!doctype html><html><head><title>Node health</title></head><body>
<h1>Node health</h1>
<h2>Kernel</h2>
<table><tr><th>Check</th><th>Result</th><th>Value</th></tr>
<tr><td>vm.swappiness</td><td>WARN</td><td>60</td></tr>
<tr><td>vm.max_map_count</td><td>ok</td><td>262144</td></tr>
<tr><td>just a row</td><td>eth0</td></tr></table>
<h2>Disks</h2>
<table><caption>Mounts</caption><tr><td>/var/lib/iggy</td><td><b>Failed</b></td><td>97% used</td></tr></table>
</body></html>"#;

    #[test]
    fn foreign_report_rows_with_status_words_become_checks() {
        let p = parse(FOREIGN).unwrap();
        assert_eq!(p.title.as_deref(), Some("Node health"));
        assert_eq!(p.headings.len(), 3);
        assert_eq!(p.tables.len(), 2);
        let ids: Vec<_> = p.checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "kernel.vm_swappiness",
                "kernel.vm_max_map_count",
                "disks.var_lib_iggy"
            ]
        );
        assert_eq!(p.checks[0].status, Status::Warn);
        assert_eq!(
            p.checks[0].facts[0],
            Fact {
                key: "Value".into(),
                value: "60".into()
            }
        );
        assert_eq!(p.checks[2].status, Status::Fail);
        assert_eq!(p.checks[2].summary, "97% used");
    }

    #[test]
    fn hostile_html_does_not_panic() {
        for html in [
            "",
            "<table><tr><td>ok",
            "<<<>>>",
            "<script>alert(1)</script><tr><td>fail</td></tr>",
        ] {
            let _ = parse(html).unwrap();
        }
    }

    #[test]
    fn forty_thousand_tables_parse_in_one_pass_within_the_caps() {
        // The review's archive: 40,000 empty tables, each after the previous one. The old walk
        // looked at every previous sibling of every table (53 s of CPU).
        let mut html = String::from("<h2>Many</h2>");
        for _ in 0..40_000 {
            html.push_str("<table></table>");
        }
        html.push_str("<table><tr><td>late</td><td>fail</td></tr></table>");
        let started = std::time::Instant::now();
        let p = parse(&html).unwrap();
        assert_eq!(p.tables.len(), 2_000);
        assert!(p.notes[0].contains("38001 more"), "{:?}", p.notes);
        // Linear: seconds in a debug build on a loaded CI machine, not minutes. The real proof
        // is the benchmark; this only catches a return of the quadratic walk.
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn too_many_elements_are_not_parsed_and_say_so() {
        let html = "<p>".repeat(60_000);
        let p = parse(&html).unwrap();
        assert_eq!(p.elements, 60_000);
        assert!(p.tables.is_empty() && p.checks.is_empty());
        assert!(p.notes[0].contains("60000 elements"), "{:?}", p.notes);
    }

    #[test]
    fn tags_and_tables_are_counted_in_one_scan() {
        assert_eq!(
            count_tags("<TABLE><tr><td>a<tables><p>x</p> a < b <table"),
            (6, 3)
        );
        assert_eq!(count_tags(""), (0, 0));
    }

    #[test]
    fn the_heading_nearest_before_a_table_in_document_order_names_it() {
        let html = "<div><h2>Inside a div</h2></div><section><table><tr><td>a</td><td>ok</td></tr></table></section>\
                    <table><tr><td><table><tr><td>inner</td><td>warn</td></tr></table></td><td>outer</td><td>fail</td></tr></table>";
        let p = parse(html).unwrap();
        let got: Vec<(&str, Status)> = p.checks.iter().map(|c| (c.id.as_str(), c.status)).collect();
        assert_eq!(
            got,
            [
                ("inside_a_div.a", Status::Pass),
                ("inside_a_div.innerwarn", Status::Fail),
                ("inside_a_div.inner", Status::Warn),
            ]
        );
    }

    #[test]
    fn a_cancelled_parse_stops_with_stopped() {
        let cancel = Cancel::new();
        cancel.cancel();
        let r = parse_with("<table></table>", &ParseLimits::default(), &cancel);
        assert!(
            matches!(r, Err(ParseError::Stopped(Stop::Cancelled))),
            "{r:?}"
        );
    }

    #[test]
    fn broken_embedded_json_is_an_error_not_a_panic() {
        let html =
            format!("<script type=\"application/json\" id=\"{DATA_ELEMENT_ID}\">{{nope</script>");
        assert!(matches!(parse(&html), Err(ParseError::BadData(_))));
    }
}
