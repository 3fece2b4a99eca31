//! The TypeScript bindings of every type that crosses IPC, generated with ts-rs.
//!
//! `ui/src/lib/bindings/` is committed; `tests/tests/ipc_bindings.rs` fails when it drifts
//! from the Rust types. Regenerate with:
//! `SNAPDESK_UPDATE_BINDINGS=1 cargo test -p snapdesk-tests --test ipc_bindings`.

use std::path::PathBuf;

use ts_rs::{Config, TS};

use crate::workspace;

/// Where the bindings live in the UI.
pub fn dir() -> PathBuf {
    workspace::root()
        .join("ui")
        .join("src")
        .join("lib")
        .join("bindings")
}

fn one<T: TS + 'static + ?Sized>(cfg: &Config) -> (String, String) {
    let name = format!("{}.ts", T::ident(cfg));
    let text = T::export_to_string(cfg).unwrap_or_else(|e| panic!("export {name}: {e}"));
    (name, text)
}

/// Every IPC type: (file name, file contents).
pub fn generate() -> Vec<(String, String)> {
    let cfg = Config::new();
    let mut files = vec![
        one::<snapdesk_core::ErrorCode>(&cfg),
        one::<snapdesk_core::Error>(&cfg),
        one::<snapdesk_core::AppPaths>(&cfg),
        one::<snapdesk_core::AppInfo>(&cfg),
        one::<snapdesk_report::archive::ArchiveKind>(&cfg),
        one::<snapdesk_report::archive::ArchiveFile>(&cfg),
        one::<snapdesk_report::archive::FileBytes>(&cfg),
        one::<snapdesk_report::archive::FileKind>(&cfg),
        one::<snapdesk_report::archive::Integrity>(&cfg),
        one::<snapdesk_report::archive::IntegrityState>(&cfg),
        one::<snapdesk_report::StatusCounts>(&cfg),
        one::<snapdesk_report::view::ArchiveSummary>(&cfg),
        one::<snapdesk_report::view::OpenedReport>(&cfg),
        one::<snapdesk_report::view::CheckBrief>(&cfg),
        one::<snapdesk_report::Status>(&cfg),
        one::<snapdesk_library::Browse>(&cfg),
        one::<snapdesk_library::Sort>(&cfg),
        one::<snapdesk_library::Entry>(&cfg),
        one::<snapdesk_library::EntryDetail>(&cfg),
        one::<snapdesk_library::Origin>(&cfg),
        one::<snapdesk_library::OriginRecord>(&cfg),
        one::<snapdesk_library::Diff>(&cfg),
        one::<snapdesk_library::compare::StatusChange>(&cfg),
        one::<snapdesk_library::compare::FactChange>(&cfg),
        one::<snapdesk_library::Matrix>(&cfg),
        one::<snapdesk_library::compare::MatrixRow>(&cfg),
        one::<snapdesk_library::CheckRow>(&cfg),
        one::<snapdesk_ops::desk::AppEvent>(&cfg),
        one::<snapdesk_ops::desk::CollectRequest>(&cfg),
        one::<snapdesk_collector::Progress>(&cfg),
        // Issue 14: insight across snapshots, data continuity, re-analysis, redacted copies.
        one::<snapdesk_library::insight::Scope>(&cfg),
        one::<snapdesk_library::insight::Triage>(&cfg),
        one::<snapdesk_library::insight::TriageItem>(&cfg),
        one::<snapdesk_library::insight::TriageState>(&cfg),
        one::<snapdesk_library::insight::Timeline>(&cfg),
        one::<snapdesk_library::insight::NodeTimeline>(&cfg),
        one::<snapdesk_library::insight::TimelinePoint>(&cfg),
        one::<snapdesk_library::insight::NodeLogs>(&cfg),
        one::<snapdesk_library::insight::LogLine>(&cfg),
        one::<snapdesk_library::continuity::Continuity>(&cfg),
        one::<snapdesk_library::continuity::ContinuityFinding>(&cfg),
        one::<snapdesk_library::continuity::ContinuityKind>(&cfg),
        one::<snapdesk_library::continuity::ConsumerLag>(&cfg),
        one::<snapdesk_library::continuity::LagTrend>(&cfg),
        one::<snapdesk_library::analysis::Reanalysis>(&cfg),
        one::<snapdesk_library::analysis::AnalysisFinding>(&cfg),
        one::<snapdesk_library::analysis::FlaggedEntry>(&cfg),
        one::<snapdesk_library::analysis::AnalyzerVersion>(&cfg),
        one::<snapdesk_collector::archive_redact::RedactedCopy>(&cfg),
        one::<snapdesk_library::continuity::DataDiff>(&cfg),
        one::<snapdesk_library::Scopes>(&cfg),
        one::<snapdesk_library::DeploymentScope>(&cfg),
        one::<snapdesk_library::HostScope>(&cfg),
        // Issue 11: connections and the Deployments section.
        one::<snapdesk_ops::connections::KeyState>(&cfg),
        one::<snapdesk_ops::connections::Connection>(&cfg),
        one::<snapdesk_ops::connections::Connections>(&cfg),
        one::<snapdesk_ops::connections::KeyringInfo>(&cfg),
        one::<snapdesk_ops::connections::ConnectionDraft>(&cfg),
        one::<snapdesk_api::contexts::KnownDeployment>(&cfg),
        one::<snapdesk_api::Plan>(&cfg),
        one::<snapdesk_ops::contexts::Permissions>(&cfg),
        one::<snapdesk_ops::contexts::ContextTest>(&cfg),
        one::<snapdesk_ops::contexts::ContextRemoved>(&cfg),
        one::<snapdesk_api::SnapshotState>(&cfg),
        one::<snapdesk_api::SnapshotItem>(&cfg),
        one::<snapdesk_api::SnapshotStatus>(&cfg),
        one::<snapdesk_api::Snapshot>(&cfg),
        one::<snapdesk_ops::deployment::LibraryCopy>(&cfg),
        one::<snapdesk_ops::deployment::NodeRow>(&cfg),
        one::<snapdesk_ops::deployment::SnapshotGroup>(&cfg),
        one::<snapdesk_ops::deployment::DeploymentView>(&cfg),
        one::<snapdesk_ops::deployment::NodeDownload>(&cfg),
        one::<snapdesk_ops::deployment::Downloaded>(&cfg),
        one::<snapdesk_ops::deployment::SnapshotsDeleted>(&cfg),
        one::<snapdesk_ops::deployment::ApiRequest>(&cfg),
        one::<snapdesk_ops::delete::NotDeleted>(&cfg),
        one::<snapdesk_ops::snapshots::WaitEnd>(&cfg),
        one::<snapdesk_ops::snapshots::Waited>(&cfg),
        one::<snapdesk_ops::Progress>(&cfg),
    ];
    files.sort();
    files
}
