//! A deterministic sample report: for benchmarks, tests and UI previews. Hostile strings are
//! included on purpose (markup, script end tags, quotes, non-ASCII).

use chrono::{TimeZone, Utc};

use crate::model::{Check, Evidence, Fact, LogSource, Producer, Report, Status, FORMAT_VERSION};

/// A report with `checks` checks and `log_lines` lines of log.
pub fn sample_report(checks: usize, log_lines: usize) -> Report {
    let categories = [
        "os",
        "cpu",
        "memory",
        "kernel",
        "storage",
        "network",
        "certificates",
        "iggy",
    ];
    let checks = (0..checks)
        .map(|i| {
            let status = Status::ALL[i % Status::ALL.len()];
            let cat = categories[i % categories.len()];
            Check {
                id: format!("{cat}.sample_{i}"),
                category: cat.to_owned(),
                title: format!("Sample check {i} <b>&\"'"),
                status,
                summary: format!("value {i} is {status}; </script><!-- ünïcödé"),
                facts: vec![
                    Fact::new("value", i * 7),
                    Fact::new("rule", "≤ 10 for a latency-sensitive broker"),
                ],
                evidence: vec![Evidence::new(
                    "/proc/sys/vm/swappiness",
                    format!("{i}\nline two <script>alert(1)</script>"),
                )],
                remediation: (i % 3 == 0).then(|| format!("sysctl -w sample.{i}=1")),
                duration_ms: (i as u64 * 13) % 900,
            }
        })
        .collect();
    let lines = (0..log_lines)
        .map(|i| {
            let level = ["INFO", "WARN", "ERROR", "DEBUG"][i % 4];
            format!(
                "2026-06-01T10:{:02}:{:02}Z {level} iggy_server::shard: message {i} <tag> & \"q\"",
                (i / 60) % 60,
                i % 60
            )
        })
        .collect();
    Report {
        format_version: FORMAT_VERSION,
        title: "Snapshot of iggy-node-1 (events-prod)".into(),
        snapshot_name: "snapshot-20260601-103000".into(),
        deployment_id: Some("611298765432109056".into()),
        deployment_name: Some("events-prod".into()),
        node_id: Some("610809900976570889".into()),
        host_name: "iggy-node-1".into(),
        created_at: Utc
            .with_ymd_and_hms(2026, 6, 1, 10, 30, 0)
            .single()
            .unwrap_or_default(),
        completed_at: Utc.with_ymd_and_hms(2026, 6, 1, 10, 31, 0).single(),
        collector: Producer {
            name: "snapdesk-collector".into(),
            version: crate_version(),
        },
        redacted: true,
        checks,
        logs: vec![LogSource {
            id: "iggy-server".into(),
            title: "Iggy server log".into(),
            source: "/var/lib/iggy/local_data/logs/iggy-server.log".into(),
            lines,
        }],
    }
}

fn crate_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Writes `report` as one of our archives at `path` (with `iggy_data` as `iggy-data.zip`
/// when given), manifest included: for tests and benchmarks of the readers.
pub fn write_archive(
    path: &std::path::Path,
    report: &Report,
    iggy_data: Option<&[u8]>,
) -> Result<std::path::PathBuf, crate::archive::ArchiveError> {
    use crate::archive::{ArchiveWriter, Manifest, IGGY_DATA_ENTRY, REPORT_ENTRY};
    let mut w = ArchiveWriter::create(path)?;
    w.add_bytes(REPORT_ENTRY, crate::render::render(report).as_bytes(), true)?;
    if let Some(data) = iggy_data {
        w.add_bytes(IGGY_DATA_ENTRY, data, false)?;
    }
    let mut m = Manifest::new(
        report.snapshot_name.clone(),
        report.host_name.clone(),
        report.collector.clone(),
    );
    m.deployment_id = report.deployment_id.clone();
    m.deployment_name = report.deployment_name.clone();
    m.node_id = report.node_id.clone();
    m.created_at = report.created_at;
    m.completed_at = report.completed_at;
    m.redaction.redacted = report.redacted;
    m.checks = crate::model::StatusCounts::of(&report.checks);
    w.finish(&mut m)
}
