//! `collect`: one snapshot of this machine, written as a Snapdesk archive. The CLI's
//! `snapdesk collect` and the app's Collect pane both call [`collect`] and render its
//! [`Progress`] events their own way (a terminal line, a Tauri channel).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use snapdesk_core::paths::safe_file_part;
use snapdesk_core::{Cancel, Error, ErrorCode};
use snapdesk_report::archive::{self, ArchiveWriter, IggyBundle, Manifest, Redaction};
use snapdesk_report::model::{Producer, Report, Status, FORMAT_VERSION};
use ts_rs::TS;

use crate::bundle::{self, BundleOptions};
use crate::checks::{self, Ctx};
use crate::iggy::{self, IggyHints};
use crate::iggy_data;
use crate::redact::Redactor;
use crate::runner::{self, RunOptions};

/// The collector's name in manifests and reports.
pub const COLLECTOR_NAME: &str = "snapdesk-collector";

/// The archive entry holding the Iggy server config the collector found, redacted like
/// everything else it writes (`docs/snapshot-format.md`).
pub const SERVER_CONFIG_ENTRY: &str = "iggy/server-config.toml";

/// Which input an error is about, in its details (`"input"`): hosts name their own way to
/// give it (a CLI flag, a form field).
pub const INPUT_IGGY_CONFIG: &str = "iggy_config";
pub const INPUT_IGGY_DATA: &str = "iggy_data";
pub const INPUT_CERT: &str = "cert";

/// What to collect and where to write it.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// A file path, or a directory to write `<snapshot>-<host>.zip` into. Default: the
    /// current directory.
    pub out: Option<PathBuf>,
    /// Redact secrets (on unless `--no-redact-secrets`).
    pub redact: bool,
    /// Extra redaction rules (literal values and `regex:` lines).
    pub extra_rules: Option<PathBuf>,
    /// Where the Iggy config and data directory are, when discovery is not enough.
    pub iggy: IggyHints,
    /// Bundle the Iggy data directory.
    pub include_iggy: bool,
    /// Size cap of the Iggy data bundle.
    pub iggy_cap_bytes: u64,
    /// Extra certificates to check.
    pub certs: Vec<PathBuf>,
    pub run: RunOptions,
    /// Snapshot name; default `snapshot-YYYYMMDD-HHMMSS` (UTC), as the Supervisor names them.
    pub snapshot_name: Option<String>,
    /// Stops the collection early (a UI's Cancel, Ctrl+C): checks still queued are dropped,
    /// running ones are left behind, nothing is written, and the result is `cancelled`.
    pub cancel: Cancel,
}

impl Default for CollectOptions {
    fn default() -> Self {
        Self {
            out: None,
            redact: true,
            extra_rules: None,
            iggy: IggyHints::default(),
            include_iggy: true,
            iggy_cap_bytes: bundle::DEFAULT_CAP_BYTES,
            certs: Vec::new(),
            run: RunOptions::default(),
            snapshot_name: None,
            cancel: Cancel::new(),
        }
    }
}

/// Progress of a collection, for a terminal line or a UI channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Progress {
    /// The checks are about to run.
    Started { checks: u32 },
    /// One check finished (`done` of `total`).
    Check {
        done: u32,
        total: u32,
        id: String,
        title: String,
        status: Status,
        duration_ms: u32,
    },
    /// Bundling the Iggy data directory: bytes done of bytes planned.
    Bundle {
        #[ts(type = "number")]
        done: u64,
        #[ts(type = "number")]
        total: u64,
    },
    /// Writing the archive.
    Writing,
}

/// What a collection produced.
#[derive(Debug, Clone)]
pub struct Collected {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub report: Report,
}

fn host_name() -> String {
    #[cfg(unix)]
    {
        let uts = rustix::system::uname();
        let n = uts.nodename().to_string_lossy().into_owned();
        if !n.is_empty() {
            return n;
        }
    }
    std::env::var("COMPUTERNAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".to_owned())
}

fn output_path(out: Option<&Path>, snapshot: &str, host: &str) -> PathBuf {
    let file = format!("{}-{}.zip", safe_file_part(snapshot), safe_file_part(host));
    snapdesk_core::paths::output_file(out, &file)
}

/// Collects a snapshot of this machine and writes the archive.
pub fn collect(
    opts: &CollectOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Collected, Error> {
    let created_at = Utc::now();
    let started = Instant::now();
    let host = host_name();
    let snapshot_name = opts
        .snapshot_name
        .clone()
        .unwrap_or_else(|| format!("snapshot-{}", created_at.format("%Y%m%d-%H%M%S")));
    let path = output_path(opts.out.as_deref(), &snapshot_name, &host);

    let redactor = if opts.redact {
        let r = match &opts.extra_rules {
            Some(file) => Redactor::with_extra_rules_file(file).map_err(|e| {
                Error::new(ErrorCode::InvalidInput, e.to_string())
                    .with_hint("fix the rules file: one literal value or `regex:<pattern>` a line")
            })?,
            None => Redactor::new(),
        };
        Some(Arc::new(r))
    } else {
        None
    };

    if let Some(cfg) = &opts.iggy.config_path {
        if !cfg.is_file() {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("the Iggy config file {} does not exist", cfg.display()),
            )
            .with_hint("give the server's config.toml, or none to find it from the server")
            .with_details(serde_json::json!({ "input": INPUT_IGGY_CONFIG, "path": cfg })));
        }
    }
    for cert in &opts.certs {
        if !cert.is_file() {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("the certificate {} does not exist", cert.display()),
            )
            .with_hint("give the path of a PEM or DER certificate")
            .with_details(serde_json::json!({ "input": INPUT_CERT, "path": cert })));
        }
    }
    let target = iggy::discover(&opts.iggy);
    if let Some(dir) = &opts.iggy.data_dir {
        if !dir.is_dir() {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("the Iggy data directory {} does not exist", dir.display()),
            )
            .with_hint(
                "give the server's data directory (its `system.path`), or collect without the \
                 Iggy data",
            )
            .with_details(serde_json::json!({ "input": INPUT_IGGY_DATA, "path": dir })));
        }
    }
    let ctx = Arc::new(Ctx {
        iggy: target,
        extra_certs: opts.certs.clone(),
        started,
        host_name: host.clone(),
    });

    let defs = checks::all();
    progress(&Progress::Started {
        checks: defs.len() as u32,
    });
    // Logs are read, and the data directory inspected, while the checks run.
    let log_ctx = ctx.clone();
    let logs_thread = std::thread::spawn(move || checks::logs::collect_logs(&log_ctx));
    let data_thread = match (&ctx.iggy.data_dir, opts.include_iggy) {
        (Some(dir), true) => {
            let dir = dir.clone();
            Some(std::thread::spawn(move || iggy_data::inspect(&dir)))
        }
        _ => None,
    };
    let checks = runner::run(
        &defs,
        ctx.clone(),
        opts.run,
        &opts.cancel,
        &mut |done, total, c| {
            progress(&Progress::Check {
                done: done as u32,
                total: total as u32,
                id: c.id.clone(),
                title: c.title.clone(),
                status: c.status,
                duration_ms: c.duration_ms.min(u32::MAX as u64) as u32,
            })
        },
    );
    opts.cancel.check()?;
    let logs = logs_thread.join().unwrap_or_default();
    let mut checks = checks;
    let mut data_section = None;
    if let Some(t) = data_thread {
        let inspection = t.join().unwrap_or_else(|_| iggy_data::DataInspection {
            result: Err(Error::internal("the data inspector stopped unexpectedly")),
            duration_ms: 0,
        });
        checks.extend(iggy_data::checks(&inspection, ctx.iggy.process.is_some()));
        data_section = Some(iggy_data::section(&inspection));
    }

    let mut report = Report {
        format_version: FORMAT_VERSION,
        title: format!("Snapshot of {host}"),
        snapshot_name: snapshot_name.clone(),
        deployment_id: None,
        deployment_name: None,
        node_id: None,
        host_name: host.clone(),
        created_at,
        completed_at: None,
        collector: Producer {
            name: COLLECTOR_NAME.into(),
            version: snapdesk_core::VERSION.into(),
        },
        redacted: redactor.is_some(),
        checks,
        logs,
    };
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    if let Some(r) = &redactor {
        r.redact_report(&mut report, &mut counts);
    }
    // The server config as found (the file the checks judged), through the same redactor.
    let server_config: Option<String> =
        ctx.iggy.config_text.as_deref().map(|text| match &redactor {
            Some(r) => r.redact_into(text, &mut counts).into_owned(),
            None => text.to_owned(),
        });

    // The data bundle goes to a temporary file beside the archive, then into it, stored.
    let mut bundle_info: Option<IggyBundle> = None;
    let mut bundle_file: Option<tempfile_guard::TempPath> = None;
    if opts.include_iggy {
        if let Some(dir) = ctx.iggy.data_dir.clone() {
            let tmp = tempfile_guard::TempPath::beside(&path, "iggy-data.zip");
            let bopts = BundleOptions {
                cap_bytes: opts.iggy_cap_bytes,
                redactor: redactor.clone(),
                cancel: opts.cancel.clone(),
                ..BundleOptions::default()
            };
            let info =
                bundle::bundle_data_dir(&dir, tmp.path(), &bopts, &mut counts, &mut |d, t| {
                    progress(&Progress::Bundle { done: d, total: t })
                })
                .map_err(Error::from)?;
            opts.cancel.check()?;
            bundle_info = Some(info);
            bundle_file = Some(tmp);
        }
    }

    opts.cancel.check()?;
    progress(&Progress::Writing);
    let completed_at = Utc::now();
    report.completed_at = Some(completed_at);
    let html = snapdesk_report::render::render_with(&report, data_section.as_ref());
    let mut manifest = Manifest::new(snapshot_name, host, report.collector.clone());
    manifest.created_at = created_at;
    manifest.completed_at = Some(completed_at);
    manifest.redaction = Redaction {
        redacted: redactor.is_some(),
        counts,
    };
    manifest.checks = report.counts();
    manifest.iggy_data = bundle_info;

    let mut w = ArchiveWriter::create(&path).map_err(Error::from)?;
    w.add_bytes(archive::REPORT_ENTRY, html.as_bytes(), true)
        .map_err(Error::from)?;
    if let Some(text) = &server_config {
        w.add_bytes(SERVER_CONFIG_ENTRY, text.as_bytes(), true)
            .map_err(Error::from)?;
    }
    if let Some(tmp) = &bundle_file {
        let mut f =
            std::fs::File::open(tmp.path()).map_err(|e| Error::io_at(e, "open", tmp.path()))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        w.add_reader(archive::IGGY_DATA_ENTRY, &mut f, false, size)
            .map_err(Error::from)?;
    }
    let path = w.finish(&mut manifest).map_err(Error::from)?;
    drop(bundle_file);
    tracing::info!(
        path = %path.display(),
        took_ms = started.elapsed().as_millis() as u64,
        "collection written"
    );
    Ok(Collected {
        path,
        manifest,
        report,
    })
}

/// A temporary file path removed on drop (the bundle, before it goes into the archive).
mod tempfile_guard {
    use std::path::{Path, PathBuf};

    pub struct TempPath(PathBuf);

    impl TempPath {
        pub fn beside(target: &Path, suffix: &str) -> Self {
            let mut name = target.as_os_str().to_owned();
            name.push(format!(".{}.{suffix}.tmp", std::process::id()));
            Self(PathBuf::from(name))
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_path_is_a_file_or_goes_into_a_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let p = output_path(Some(tmp.path()), "snapshot-20260101-000000", "host/1");
        assert_eq!(p, tmp.path().join("snapshot-20260101-000000-host_1.zip"));
        let f = tmp.path().join("x.zip");
        assert_eq!(output_path(Some(&f), "s", "h"), f);
    }
}

#[cfg(test)]
mod cancel_tests {
    use super::*;

    #[test]
    fn a_cancelled_collection_stops_early_writes_nothing_and_says_cancelled() {
        let tmp = tempfile::tempdir().unwrap();
        let opts = CollectOptions {
            out: Some(tmp.path().to_path_buf()),
            include_iggy: false,
            ..Default::default()
        };
        let cancel = opts.cancel.clone();
        let mut seen = 0u32;
        let started = Instant::now();
        let err = collect(&opts, &mut |p| {
            if let Progress::Check { .. } = p {
                seen += 1;
                // Cancel as the first check lands, as a person pressing Cancel would.
                cancel.cancel();
            }
        })
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::Cancelled, "{err:?}");
        let total = checks::all().len() as u32;
        assert!(
            seen < total,
            "{seen} of {total} checks reported after the cancel"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "nothing is written: {left:?}");
    }
}
