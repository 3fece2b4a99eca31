//! What a viewer needs to show an archive, without its content: a summary for the UI (this
//! crosses IPC) and the HTML page to serve to a sandboxed frame (this never does).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::archive::{self, ArchiveError, ArchiveKind, OpenedArchive, TextSection};
use crate::model::StatusCounts;
use crate::render::escape;

/// An opened archive as the UI lists it. Metadata only: the report itself is served to a
/// sandboxed frame by the host's `report:` scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ArchiveSummary {
    pub kind: ArchiveKind,
    pub file_name: String,
    pub path: String,
    pub title: String,
    pub host_name: Option<String>,
    pub snapshot_name: Option<String>,
    pub deployment_name: Option<String>,
    pub node_id: Option<String>,
    pub created_at: Option<String>,
    /// `None` when the archive does not say (foreign archives).
    pub redacted: Option<bool>,
    pub counts: Option<StatusCounts>,
    /// Titles of the text sections (Iggy's own snapshot ZIPs).
    pub sections: Vec<String>,
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
    pub summary: ArchiveSummary,
}

impl ArchiveSummary {
    pub fn of(o: &OpenedArchive) -> Self {
        let file_name = o
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let size_bytes = std::fs::metadata(&o.path).map(|m| m.len()).unwrap_or(0);
        let report = o.parsed.as_ref().and_then(|p| p.report.as_ref());
        let title = report
            .map(|r| r.title.clone())
            .or_else(|| o.parsed.as_ref().and_then(|p| p.title.clone()))
            .unwrap_or_else(|| match o.kind {
                ArchiveKind::IggySnapshot => format!("Iggy snapshot {file_name}"),
                _ => file_name.clone(),
            });
        let counts = match (&o.manifest, &o.parsed) {
            (Some(m), _) => Some(m.checks.clone()),
            (None, Some(p)) if !p.checks.is_empty() => Some(StatusCounts::of(&p.checks)),
            _ => None,
        };
        Self {
            kind: o.kind,
            file_name,
            path: o.path.display().to_string(),
            title,
            host_name: o.manifest.as_ref().map(|m| m.host_name.clone()),
            snapshot_name: o.manifest.as_ref().map(|m| m.snapshot_name.clone()),
            deployment_name: o.manifest.as_ref().and_then(|m| m.deployment_name.clone()),
            node_id: o.manifest.as_ref().and_then(|m| m.node_id.clone()),
            created_at: o.manifest.as_ref().map(|m| m.created_at.to_rfc3339()),
            redacted: o.manifest.as_ref().map(|m| m.redaction.redacted),
            counts,
            sections: o.sections.iter().map(|s| s.title.clone()).collect(),
            has_iggy_data: o.entries.iter().any(|e| e.name == archive::IGGY_DATA_ENTRY),
            size_bytes,
        }
    }
}

/// The page a viewer serves for an archive: its HTML report, or, for an archive of text
/// sections, a plain page that shows them. Bounded by [`archive::MAX_TEXT_ENTRY`].
pub fn page(o: &OpenedArchive) -> Result<Vec<u8>, ArchiveError> {
    match &o.html_entry {
        Some(entry) => archive::read_entry(&o.path, entry, archive::MAX_TEXT_ENTRY),
        None => Ok(sections_page(&o.path.display().to_string(), &o.sections).into_bytes()),
    }
}

/// A self-contained page of text sections, with a table of contents.
pub fn sections_page(title: &str, sections: &[TextSection]) -> String {
    let mut out = String::with_capacity(sections.iter().map(|s| s.text.len() + 200).sum());
    out.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    escape(title, &mut out);
    out.push_str(
        "</title><style>body{margin:0;font:13px/1.45 system-ui,sans-serif;background:#fbfbfc;color:#1b1d22}\
@media (prefers-color-scheme:dark){body{background:#14161a;color:#e6e8ec}pre{background:#22262d!important}}\
header{padding:14px 20px;border-bottom:1px solid #8884}h1{font-size:16px;margin:0}nav{padding:8px 20px}\
nav a{margin-right:14px;color:inherit}section{padding:0 20px}h2{font-size:14px;margin:16px 0 6px}\
pre{background:#f3f4f7;padding:10px;border-radius:4px;overflow:auto;font:12px/1.4 ui-monospace,monospace;white-space:pre-wrap}\
</style></head><body><header><h1>",
    );
    escape(title, &mut out);
    out.push_str("</h1></header><nav aria-label=\"Sections\">");
    for (i, s) in sections.iter().enumerate() {
        out.push_str(&format!("<a href=\"#s{i}\">"));
        escape(&s.title, &mut out);
        out.push_str("</a>");
    }
    out.push_str("</nav><main>");
    for (i, s) in sections.iter().enumerate() {
        out.push_str(&format!("<section id=\"s{i}\"><h2>"));
        escape(&s.title, &mut out);
        out.push_str(" <small>");
        escape(&s.name, &mut out);
        out.push_str("</small></h2><pre>");
        escape(&s.text, &mut out);
        out.push_str("</pre></section>");
    }
    out.push_str("</main></body></html>\n");
    out
}
