//! What a viewer needs to show an archive, without its content: a summary for the UI (this
//! crosses IPC) and the HTML page to serve to a sandboxed frame (this never does).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::archive::{self, ArchiveKind, Integrity, OpenedArchive, TextSection, Truncation};
use crate::model::{Status, StatusCounts};
use crate::parse::ParseLimits;
use crate::render::escape;

/// An opened archive as the UI lists it. Metadata only: the report itself is served to a
/// sandboxed frame by the host's `report:` scheme.
///
/// What the archive says of itself (its manifest: names, times, redaction, counts) is a
/// claim; what Snapdesk established (the counts of the checks it read, the integrity of the
/// entries against the manifest) is kept apart so a viewer can label each for what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ArchiveSummary {
    pub kind: ArchiveKind,
    pub file_name: String,
    pub path: String,
    pub title: String,
    pub host_name: Option<String>,
    pub snapshot_name: Option<String>,
    pub deployment_id: Option<String>,
    pub deployment_name: Option<String>,
    pub node_id: Option<String>,
    pub created_at: Option<String>,
    /// The collector that wrote the archive, as `name version` (from the manifest).
    pub collector: Option<String>,
    /// What the manifest claims of redaction; `None` when the archive does not say.
    /// Not verified by Snapdesk.
    pub redacted: Option<bool>,
    /// Counted by Snapdesk from the checks it read in the report (not the manifest's totals).
    pub counts: Option<StatusCounts>,
    /// The manifest's own totals, only when they differ from what was counted.
    pub claimed_counts: Option<StatusCounts>,
    /// The entries checked against the manifest's sizes and sha256 values at open.
    pub integrity: Integrity,
    /// Titles of the text sections (Iggy's own snapshot ZIPs).
    pub sections: Vec<String>,
    /// What a budget cut or left out while opening, in words (empty when nothing was).
    pub notes: Vec<String>,
    /// False when the report is too large to show and the frame gets a notice instead.
    pub report_shown: bool,
    pub has_iggy_data: bool,
    #[ts(type = "number")]
    pub size_bytes: u64,
}

/// An archive opened for viewing: its summary, and where the sandboxed frame loads it from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OpenedReport {
    pub token: String,
    /// The URL of the report page, on the host's `report:` scheme.
    pub url: String,
    /// The URL of the "Iggy data" page, when the archive carries Iggy data.
    pub iggy_url: Option<String>,
    pub summary: ArchiveSummary,
    /// The checks read from the report, failures first (what the app lists beside it).
    pub checks: Vec<CheckBrief>,
    /// The library entry the archive is stored as, when the host keeps one.
    pub entry_id: Option<String>,
}

/// One check as listed beside a report: enough to find it, not its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CheckBrief {
    pub id: String,
    pub category: String,
    pub title: String,
    pub status: Status,
    pub summary: String,
    /// The element of the report that shows it (`check-<id>`), for a jump into the frame;
    /// `None` for reports of other tools.
    pub anchor: Option<String>,
}

impl CheckBrief {
    /// The checks of an archive, the worst first (fail, error, warn, then the rest), each
    /// group in report order.
    pub fn list(o: &OpenedArchive) -> Vec<CheckBrief> {
        let Some(parsed) = &o.parsed else {
            return Vec::new();
        };
        let ours = parsed.report.is_some();
        let mut out: Vec<CheckBrief> = parsed
            .checks
            .iter()
            .map(|c| CheckBrief {
                id: c.id.clone(),
                category: c.category.clone(),
                title: c.title.clone(),
                status: c.status,
                summary: c.summary.clone(),
                anchor: ours.then(|| format!("check-{}", c.id)),
            })
            .collect();
        out.sort_by_key(|c| c.status.rank());
        out
    }
}

/// What a viewer serves for one archive, built once at open: the page bytes are shared by
/// every request for them and never re-read from the archive.
#[derive(Debug, Clone)]
pub struct PreparedView {
    pub summary: ArchiveSummary,
    pub checks: Vec<CheckBrief>,
    pub page: Arc<[u8]>,
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// How a cut section is described, on the page and in the summary's notes.
pub fn truncation_note(t: &Truncation) -> String {
    let part = if t.from_end { "last" } else { "first" };
    match t.total_bytes {
        Some(total) => format!(
            "showing the {part} {} of {}",
            mib(t.shown_bytes),
            mib(total)
        ),
        None => format!(
            "showing the {part} {} (the rest was not read)",
            mib(t.shown_bytes)
        ),
    }
}

impl ArchiveSummary {
    pub fn of(o: &OpenedArchive, limits: &ParseLimits) -> Self {
        let file_name = o
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let report = o.parsed.as_ref().and_then(|p| p.report.as_ref());
        let title = report
            .map(|r| r.title.clone())
            .or_else(|| o.parsed.as_ref().and_then(|p| p.title.clone()))
            .unwrap_or_else(|| match o.kind {
                ArchiveKind::IggySnapshot => format!("Iggy snapshot {file_name}"),
                _ => file_name.clone(),
            });
        let counts = o
            .parsed
            .as_ref()
            .filter(|p| !p.checks.is_empty() || p.report.is_some())
            .map(|p| StatusCounts::of(&p.checks));
        let claimed_counts = o
            .manifest
            .as_ref()
            .map(|m| m.checks.clone())
            .filter(|claimed| Some(claimed) != counts.as_ref());
        let mut notes: Vec<String> = o
            .parsed
            .as_ref()
            .map(|p| p.notes.clone())
            .unwrap_or_default();
        let not_shown = too_large_because(o, limits);
        let report_shown = not_shown.is_none();
        notes.extend(not_shown);
        for s in &o.sections {
            if let Some(t) = &s.truncated {
                notes.push(format!("{}: {}.", s.title, truncation_note(t)));
            }
            if let Some(why) = &s.left_out {
                notes.push(format!("{}: {why}.", s.title));
            }
        }
        if o.sections_left_out > 0 {
            notes.push(format!(
                "{} more text files were not shown (at most {} sections are).",
                o.sections_left_out,
                o.sections.len()
            ));
        }
        Self {
            kind: o.kind,
            file_name,
            path: o.path.display().to_string(),
            title,
            host_name: o.manifest.as_ref().map(|m| m.host_name.clone()),
            snapshot_name: o.manifest.as_ref().map(|m| m.snapshot_name.clone()),
            deployment_id: o.manifest.as_ref().and_then(|m| m.deployment_id.clone()),
            deployment_name: o.manifest.as_ref().and_then(|m| m.deployment_name.clone()),
            node_id: o.manifest.as_ref().and_then(|m| m.node_id.clone()),
            created_at: o.manifest.as_ref().map(|m| m.created_at.to_rfc3339()),
            collector: o
                .manifest
                .as_ref()
                .map(|m| format!("{} {}", m.collector.name, m.collector.version)),
            redacted: o.manifest.as_ref().map(|m| m.redaction.redacted),
            counts,
            claimed_counts,
            integrity: o.integrity.clone(),
            sections: o.sections.iter().map(|s| s.title.clone()).collect(),
            notes,
            report_shown,
            has_iggy_data: o.entries.iter().any(|e| e.name == archive::IGGY_DATA_ENTRY),
            size_bytes: o.size_bytes,
        }
    }
}

/// Why a report is not shown, when it is too large: building its document costs memory in
/// the app and in WebKit, and WebKit lays it out on the thread the whole UI shares.
fn too_large_because(o: &OpenedArchive, limits: &ParseLimits) -> Option<String> {
    let p = o.parsed.as_ref()?;
    if p.elements > limits.max_elements {
        return Some(format!(
            "This report has {} elements, more than the {} Snapdesk shows safely, so it is not displayed.",
            p.elements, limits.max_elements
        ));
    }
    if p.tables_in_source > limits.max_tables_shown {
        return Some(format!(
            "This report has {} tables, more than the {} Snapdesk shows safely, so it is not displayed.",
            p.tables_in_source, limits.max_tables_shown
        ));
    }
    None
}

/// The one message the viewer sends a page: the app's theme (`light`, `dark`, or none to
/// follow the system), which becomes the page root's `data-theme` (our report format and the
/// pages Snapdesk builds read it). Only the parent window is listened to, and only those two
/// words are applied.
macro_rules! theme_listener {
    () => {
        "window.addEventListener('message',function(e){var d=e.data;\
if(e.source!==parent||!d||d.type!=='snapdesk-theme')return;var r=document.documentElement;\
if(d.theme==='light'||d.theme==='dark')r.setAttribute('data-theme',d.theme);\
else r.removeAttribute('data-theme');});"
    };
}

/// The theme listener alone: the one script of the pages Snapdesk builds itself (a file, the
/// Iggy data, text sections, a notice). Their own CSP lets this script run, by its hash, and
/// nothing else, whatever text from the archive they show.
pub const THEME_SCRIPT: &str = theme_listener!();

/// The one message a report page may send its viewer: "the person clicked this web link".
/// A capturing click listener, first in the page, stops the navigation (the frame could
/// not leave anyway: the viewer's CSP and navigation guard refuse it) and posts the link's
/// full address to the parent, which asks the person before a browser gets it. A hostile
/// page can post any address this way, as it could write any link: the person still reads
/// the whole address and decides. Then the theme listener ([`THEME_SCRIPT`]).
pub const LINK_BRIDGE: &str = concat!(
    "<script>document.addEventListener('click',function(e){\
var a=e.target&&e.target.closest?e.target.closest('a[href]'):null;\
if(!a||!/^https?:/i.test(a.href))return;e.preventDefault();\
parent.postMessage({type:'snapdesk-link',url:a.href},'*');},true);",
    theme_listener!(),
    "</script>"
);

/// The CSP of the pages Snapdesk builds: inline styles, and [`THEME_SCRIPT`] by its hash;
/// nothing else runs or loads.
pub fn own_page_csp() -> &'static str {
    static CSP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(THEME_SCRIPT.as_bytes());
        format!(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(hash)
        )
    });
    &CSP
}

/// The start of a page Snapdesk builds, up to `<body>`: its CSP, `title`, the styles in
/// `css`, and the theme listener.
pub(crate) fn own_page_head(title: &str, css: &[&str], out: &mut String) {
    out.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
    out.push_str(own_page_csp());
    out.push_str("\"><title>");
    escape(title, out);
    out.push_str("</title><style>");
    for c in css {
        out.push_str(c);
    }
    out.push_str("</style><script>");
    out.push_str(THEME_SCRIPT);
    out.push_str("</script></head><body>");
}

/// `html` with [`LINK_BRIDGE`] placed right after its `<head>` tag (or first, when it has
/// none), so that it runs before the page's own scripts. Built once, when the report opens.
pub fn with_link_bridge(html: &[u8]) -> Arc<[u8]> {
    // Only the start of the document is searched: a `<head>` lies there or nowhere useful.
    let window = &html[..html.len().min(64 * 1024)];
    let lower = window.to_ascii_lowercase();
    let at = lower
        .windows(5)
        .position(|w| w == b"<head")
        .filter(|&i| matches!(lower.get(i + 5), Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')))
        .and_then(|i| {
            lower[i..]
                .iter()
                .position(|&c| c == b'>')
                .map(|j| i + j + 1)
        })
        .unwrap_or(0);
    let mut out = Vec::with_capacity(html.len() + LINK_BRIDGE.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(LINK_BRIDGE.as_bytes());
    out.extend_from_slice(&html[at..]);
    out.into()
}

/// Builds what a viewer serves, once: the report as read at open (with the link bridge), a
/// notice instead of a report too large to show, or the page of text sections.
pub fn prepare(o: &OpenedArchive, limits: &ParseLimits) -> PreparedView {
    let summary = ArchiveSummary::of(o, limits);
    let page: Arc<[u8]> = match (&o.html, too_large_because(o, limits)) {
        (Some(_), Some(why)) => notice_page(&summary.title, &why).into_bytes().into(),
        (Some(html), None) => with_link_bridge(html),
        (None, _) => sections_page(
            &o.path.display().to_string(),
            &o.sections,
            o.sections_left_out,
        )
        .into_bytes()
        .into(),
    };
    PreparedView {
        summary,
        checks: CheckBrief::list(o),
        page,
    }
}

/// The style of the plain pages (a file, text sections, a notice): light, dark with the
/// system, or as the app's theme says (`data-theme`, set by [`THEME_SCRIPT`]).
pub(crate) const PAGE_STYLE: &str = ":root{--bg:#fbfbfc;--fg:#1b1d22;--code:#f3f4f7;color-scheme:light}\
@media (prefers-color-scheme:dark){:root:not([data-theme=light]){--bg:#14161a;--fg:#e6e8ec;--code:#22262d;color-scheme:dark}}\
:root[data-theme=dark]{--bg:#14161a;--fg:#e6e8ec;--code:#22262d;color-scheme:dark}\
body{margin:0;font:13px/1.45 system-ui,sans-serif;background:var(--bg);color:var(--fg)}\
header{padding:14px 20px;border-bottom:1px solid #8884}h1{font-size:16px;margin:0}nav{padding:8px 20px}\
nav a{margin-right:14px;color:inherit}section{padding:0 20px}h2{font-size:14px;margin:16px 0 6px}\
pre{background:var(--code);padding:10px;border-radius:4px;overflow:auto;font:12px/1.4 ui-monospace,monospace;white-space:pre-wrap}\
.note{margin:6px 0;padding:6px 10px;border-left:3px solid #c08a00;background:#c08a0014}";

/// A plain page that says why nothing else is shown.
pub fn notice_page(title: &str, text: &str) -> String {
    let mut out = String::with_capacity(2048);
    own_page_head(title, &[PAGE_STYLE], &mut out);
    out.push_str("<header><h1>");
    escape(title, &mut out);
    out.push_str("</h1></header><section><p class=\"note\" role=\"note\">");
    escape(text, &mut out);
    out.push_str("</p></section></body></html>\n");
    out
}

/// Lines longer than this are broken where they are shown: WebKit lays a long unbroken line
/// out in time that grows with its length, on the thread the whole UI shares (a section of
/// one 1 MiB line froze the UI for seconds).
const MAX_SHOWN_LINE: usize = 2_000;

/// Escapes `text`, breaking lines longer than [`MAX_SHOWN_LINE`] characters into several.
pub(crate) fn escape_wrapped(text: &str, out: &mut String) {
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // One pass: a break before every MAX_SHOWN_LINE-th character.
        let mut start = 0;
        for (n, (at, _)) in line.char_indices().enumerate() {
            if n > 0 && n % MAX_SHOWN_LINE == 0 {
                escape(&line[start..at], out);
                out.push('\n');
                start = at;
            }
        }
        escape(&line[start..], out);
    }
}

/// A self-contained page of text sections, with a table of contents. Cut and left-out
/// sections say so where they are.
pub fn sections_page(title: &str, sections: &[TextSection], left_out: usize) -> String {
    let mut out = String::with_capacity(sections.iter().map(|s| s.text.len() + 200).sum());
    own_page_head(title, &[PAGE_STYLE], &mut out);
    out.push_str("<header><h1>");
    escape(title, &mut out);
    out.push_str("</h1></header><nav aria-label=\"Sections\">");
    for (i, s) in sections.iter().enumerate() {
        out.push_str(&format!("<a href=\"#s{i}\">"));
        escape(&s.title, &mut out);
        out.push_str("</a>");
    }
    out.push_str("</nav><main>");
    if left_out > 0 {
        out.push_str(&format!(
            "<p class=\"note\" role=\"note\">{left_out} more text files are in the archive but not shown here.</p>"
        ));
    }
    for (i, s) in sections.iter().enumerate() {
        out.push_str(&format!("<section id=\"s{i}\"><h2>"));
        escape(&s.title, &mut out);
        out.push_str(" <small>");
        escape(&s.name, &mut out);
        out.push_str("</small></h2>");
        if let Some(t) = &s.truncated {
            out.push_str("<p class=\"note\" role=\"note\">Cut: ");
            escape(&truncation_note(t), &mut out);
            out.push_str(".</p>");
        }
        if let Some(why) = &s.left_out {
            out.push_str("<p class=\"note\" role=\"note\">Not shown: ");
            escape(why.trim_start_matches("not shown: "), &mut out);
            out.push_str(".</p>");
        } else {
            out.push_str("<pre>");
            escape_wrapped(&s.text, &mut out);
            out.push_str("</pre>");
        }
        out.push_str("</section>");
    }
    out.push_str("</main></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{ArchiveWriter, Manifest, REPORT_ENTRY};
    use crate::model::Status;

    #[test]
    fn counts_are_made_from_the_report_and_a_lying_manifest_is_kept_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("lying.zip");
        let mut report = crate::sample::sample_report(5, 1);
        report.checks[0].status = Status::Fail;
        let counted = StatusCounts::of(&report.checks);
        let mut w = ArchiveWriter::create(&path).unwrap();
        w.add_bytes(
            REPORT_ENTRY,
            crate::render::render(&report).as_bytes(),
            true,
        )
        .unwrap();
        let mut m = Manifest::new("s".into(), "h".into(), report.collector.clone());
        m.checks = StatusCounts {
            pass: 99,
            ..StatusCounts::default()
        };
        m.redaction.redacted = true;
        w.finish(&mut m).unwrap();

        let o = archive::open(&path).unwrap();
        let p = prepare(&o, &ParseLimits::default());
        assert_eq!(p.summary.counts.as_ref(), Some(&counted));
        assert!(p.summary.counts.as_ref().unwrap().fail >= 1);
        assert_eq!(p.summary.claimed_counts.as_ref().unwrap().pass, 99);
        // The claim is carried as a claim; nothing here verified it.
        assert_eq!(p.summary.redacted, Some(true));
        // The page is the report read at open with the link bridge in front, built once.
        let html = o.html.as_ref().unwrap();
        assert_eq!(p.page.len(), html.len() + LINK_BRIDGE.len());
        assert!(p.page.ends_with(&html[html.len() - 64..]));
    }

    #[test]
    fn a_report_with_too_many_tables_is_read_but_not_shown() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("tables.zip");
        let html = format!(
            "<h2>T</h2>{}<table><tr><td>x</td><td>fail</td></tr></table>",
            "<table></table>".repeat(6_000)
        );
        let mut zw = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        zw.start_file("index.html", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zw, html.as_bytes()).unwrap();
        zw.finish().unwrap();
        let o = archive::open(&path).unwrap();
        let p = prepare(&o, &ParseLimits::default());
        assert!(!p.summary.report_shown);
        let page = String::from_utf8_lossy(&p.page).into_owned();
        assert!(page.contains("6001 tables, more than the 5000"), "{page}");
        assert!(p.summary.notes.iter().any(|n| n.contains("6001 tables")));
        // Read all the same, within the reading caps: the one failing row is past them.
        assert_eq!(o.parsed.as_ref().unwrap().tables.len(), 2_000);
    }

    #[test]
    fn long_lines_are_broken_where_shown_and_nothing_is_lost() {
        let text = format!("short\n{}\n<tail>", "<".repeat(4_500));
        let mut out = String::new();
        escape_wrapped(&text, &mut out);
        let lines: Vec<&str> = out.split('\n').collect();
        assert_eq!(lines.len(), 5, "short, 2000, 2000, 500, tail");
        assert_eq!(lines[1], "&lt;".repeat(2_000));
        assert_eq!(lines[3], "&lt;".repeat(500));
        assert_eq!(lines[4], "&lt;tail&gt;");
        let back = out
            .replace('\n', "")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        assert_eq!(back, text.replace('\n', ""));
    }

    #[test]
    fn an_honest_manifest_has_no_separate_claim() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("honest.zip");
        let report = crate::sample::sample_report(5, 1);
        let mut w = ArchiveWriter::create(&path).unwrap();
        w.add_bytes(
            REPORT_ENTRY,
            crate::render::render(&report).as_bytes(),
            true,
        )
        .unwrap();
        let mut m = Manifest::new("s".into(), "h".into(), report.collector.clone());
        m.checks = StatusCounts::of(&report.checks);
        w.finish(&mut m).unwrap();
        let p = prepare(&archive::open(&path).unwrap(), &ParseLimits::default());
        assert_eq!(p.summary.claimed_counts, None);
        assert!(p.summary.report_shown);
        assert!(p.summary.notes.is_empty());
    }
}

#[cfg(test)]
mod link_bridge_tests {
    use super::*;

    #[test]
    fn the_link_bridge_goes_right_after_head_or_first() {
        let page = with_link_bridge(b"<!doctype html><HTML><Head lang=x><title>t</title></head>");
        let text = std::str::from_utf8(&page).unwrap();
        assert!(
            text.starts_with("<!doctype html><HTML><Head lang=x><script>"),
            "{text}"
        );
        assert!(text.ends_with("<title>t</title></head>"));
        let bare = with_link_bridge(b"<p>no head</p>");
        assert!(std::str::from_utf8(&bare).unwrap().starts_with(LINK_BRIDGE));
        // `<header>` is not `<head>`.
        let header = with_link_bridge(b"<header>x</header>");
        assert!(std::str::from_utf8(&header)
            .unwrap()
            .starts_with(LINK_BRIDGE));
    }

    /// Every page Snapdesk builds has one script, the theme listener, and a CSP that lets
    /// that script run by its hash and nothing else: a `<script>` in the text it shows is
    /// escaped, and one that slipped through would not run.
    #[test]
    fn own_pages_run_only_the_theme_listener_allowed_by_its_hash() {
        use base64::Engine as _;
        use sha2::Digest as _;
        let planted = "<script>alert(1)</script>";
        let file = crate::archive::FileBytes {
            bytes: planted.as_bytes().to_vec(),
            total: planted.len() as u64,
            truncated: false,
        };
        let section = TextSection {
            name: "a.txt".into(),
            title: planted.into(),
            text: planted.into(),
            truncated: None,
            left_out: None,
        };
        let pages = [
            notice_page(planted, planted),
            sections_page(planted, &[section], 1),
            crate::file_view::file_page(planted, crate::archive::FileKind::Text, &file),
            crate::iggy_data::page(planted, &crate::iggy_data::IggyDataSection::default()),
        ];
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(THEME_SCRIPT.as_bytes()));
        let meta = format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; script-src 'sha256-{hash}'\">"
        );
        for page in &pages {
            assert_eq!(page.matches("<script").count(), 1, "{page}");
            assert!(page.contains(&format!("<script>{THEME_SCRIPT}</script></head>")));
            assert!(page.contains(&meta), "{page}");
            assert!(page.contains("&lt;script&gt;alert(1)"), "{page}");
            // The style answers the app's theme, not only the system's.
            assert!(page.contains("[data-theme=dark]"), "{page}");
        }
        // The report's bridge carries the same listener.
        assert!(LINK_BRIDGE.contains(THEME_SCRIPT));
    }
}
