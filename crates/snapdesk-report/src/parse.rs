//! Reads reports back. A Snapdesk report gives its embedded JSON exactly; any other HTML
//! report is read with `scraper`: title, headings, tables, and every table row with a cell
//! that reads pass/ok/warn/fail/error becomes a check.

use std::collections::HashSet;

use scraper::{ElementRef, Html, Selector};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::{Check, Fact, Report, Status};
use crate::render::DATA_ELEMENT_ID;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the embedded report data is not valid: {0}")]
    BadData(#[from] serde_json::Error),
    #[error("the report uses format version {0}, newer than this Snapdesk understands")]
    NewerFormat(u32),
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
}

/// Finds the embedded JSON of a Snapdesk report without building a DOM. The renderer
/// escapes every `<` inside it, so the first `</script>` after the opening tag closes it.
fn embedded_json(html: &str) -> Option<&str> {
    let marker = format!("id=\"{DATA_ELEMENT_ID}\">");
    let at = html.rfind(&marker)?;
    let start = at + marker.len();
    let len = html[start..].find("</script>")?;
    Some(&html[start..start + len])
}

/// Parses any HTML report.
pub fn parse(html: &str) -> Result<ParsedReport, ParseError> {
    if let Some(json) = embedded_json(html) {
        let report: Report = serde_json::from_str(json)?;
        if report.format_version > crate::model::FORMAT_VERSION {
            return Err(ParseError::NewerFormat(report.format_version));
        }
        return Ok(ParsedReport {
            title: Some(report.title.clone()),
            headings: Vec::new(),
            tables: Vec::new(),
            checks: report.checks.clone(),
            report: Some(report),
        });
    }
    Ok(parse_foreign(html))
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("static selector {s}: {e}"))
}

fn text_of(el: ElementRef<'_>) -> String {
    let mut s = String::new();
    for t in el.text() {
        s.push_str(t);
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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

/// Reads an HTML report we did not write.
pub fn parse_foreign(html: &str) -> ParsedReport {
    let doc = Html::parse_document(html);
    let title = doc
        .select(&sel("title"))
        .next()
        .map(text_of)
        .filter(|t| !t.is_empty());
    let heading_sel = sel("h1, h2, h3, h4, h5, h6");
    let headings = doc
        .select(&heading_sel)
        .map(|h| Heading {
            level: h.value().name()[1..].parse().unwrap_or(1),
            text: text_of(h),
        })
        .filter(|h| !h.text.is_empty())
        .collect::<Vec<_>>();

    let mut tables = Vec::new();
    let mut checks = Vec::new();
    let mut ids = HashSet::new();
    let row_sel = sel("tr");
    let cell_sel = sel("th, td");
    let caption_sel = sel("caption");
    for table in doc.select(&sel("table")) {
        let caption = table
            .select(&caption_sel)
            .next()
            .map(text_of)
            .filter(|c| !c.is_empty());
        // The nearest heading before the table names the category.
        let category = nearest_heading(table).or_else(|| caption.clone());
        let mut rows = Vec::new();
        let mut header: Option<Vec<String>> = None;
        for tr in table.select(&row_sel) {
            // Skip rows of nested tables; they are read with their own table.
            if tr
                .ancestors()
                .filter_map(ElementRef::wrap)
                .find(|a| a.value().name() == "table")
                != Some(table)
            {
                continue;
            }
            let cells: Vec<String> = tr.select(&cell_sel).map(text_of).collect();
            let all_th = tr.select(&cell_sel).all(|c| c.value().name() == "th");
            if all_th && header.is_none() {
                header = Some(cells.clone());
            } else if let Some(check) = row_check(&cells, header.as_deref(), category.as_deref()) {
                let mut id = check.id.clone();
                let mut n = 2;
                while !ids.insert(id.clone()) {
                    id = format!("{}_{n}", check.id);
                    n += 1;
                }
                checks.push(Check { id, ..check });
            }
            rows.push(cells);
        }
        tables.push(Table { caption, rows });
    }
    ParsedReport {
        title,
        headings,
        tables,
        checks,
        report: None,
    }
}

fn nearest_heading(el: ElementRef<'_>) -> Option<String> {
    let mut node = Some(*el);
    while let Some(n) = node {
        let mut sib = n.prev_sibling();
        while let Some(s) = sib {
            if let Some(e) = ElementRef::wrap(s) {
                if matches!(e.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
                    let t = text_of(e);
                    if !t.is_empty() {
                        return Some(t);
                    }
                }
            }
            sib = s.prev_sibling();
        }
        node = n.parent();
    }
    None
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
    fn broken_embedded_json_is_an_error_not_a_panic() {
        let html =
            format!("<script type=\"application/json\" id=\"{DATA_ELEMENT_ID}\">{{nope</script>");
        assert!(matches!(parse(&html), Err(ParseError::BadData(_))));
    }
}
