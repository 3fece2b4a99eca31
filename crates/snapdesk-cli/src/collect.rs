//! `snapdesk collect`: a snapshot of this machine, the same archive format the Supervisor
//! produces.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use snapdesk_collector::{CollectOptions, Progress};
use snapdesk_core::Error;
use snapdesk_report::archive::Manifest;
use snapdesk_report::Status;

use crate::args;
use crate::output::{CmdResult, Output};

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Write the archive here instead of the local library: a file, or a directory for
    /// `<snapshot>-<host>.zip`. An existing file is kept unless --force.
    #[arg(long, short, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Overwrite the file --out names if it exists.
    #[arg(long)]
    force: bool,
    /// Keep secrets in the report and the data bundle (redaction is on by default).
    #[arg(long)]
    no_redact_secrets: bool,
    /// Extra redaction rules: one literal value, or `regex:<pattern>`, per line.
    #[arg(long, value_name = "FILE")]
    redact_rules: Option<PathBuf>,
    /// The Iggy server config file (found from the running server when possible).
    #[arg(long, value_name = "FILE")]
    iggy_config: Option<PathBuf>,
    /// The Iggy data directory to bundle (found from the config or process when possible).
    #[arg(long, value_name = "DIR")]
    iggy_data: Option<PathBuf>,
    /// Do not bundle the Iggy data directory.
    #[arg(long, conflicts_with = "iggy_data")]
    no_iggy: bool,
    /// Size cap of the Iggy data bundle, in MiB (metadata first, then newest segments).
    #[arg(long, value_name = "MIB", default_value = "1024", value_parser = args::mib)]
    iggy_cap_mib: u64,
    /// An extra certificate to check (repeatable).
    #[arg(long = "cert", value_name = "PATH")]
    certs: Vec<PathBuf>,
    /// Timeout of each check, in whole seconds (1 to 600).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = args::check_secs)]
    check_timeout: u64,
}

fn glyph(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass ",
        Status::Warn => "WARN ",
        Status::Fail => "FAIL ",
        Status::Info => "info ",
        Status::Error => "ERROR",
        Status::Skipped => "skip ",
    }
}

/// `collect --json`: the archive's path beside its manifest.
#[derive(Debug, Serialize)]
struct CollectOutput<'a> {
    path: &'a std::path::Path,
    /// The library entry, when it went into the library.
    #[serde(skip_serializing_if = "Option::is_none")]
    library_id: Option<String>,
    #[serde(flatten)]
    manifest: &'a Manifest,
}

pub fn run(args: CollectArgs, paths: &snapdesk_core::AppPaths, out: &Output) -> CmdResult {
    // An existing file is somebody's snapshot: replaced only when asked.
    if let Some(p) = &args.out {
        if p.is_file() && !args.force {
            return Err(
                Error::invalid_input(format!("{} already exists", p.display()))
                    .with_hint("pass --force to replace it, or another --out")
                    .into(),
            );
        }
    }
    let opts = CollectOptions {
        out: args.out,
        redact: !args.no_redact_secrets,
        extra_rules: args.redact_rules,
        iggy: snapdesk_collector::iggy::IggyHints {
            config_path: args.iggy_config,
            data_dir: args.iggy_data,
        },
        include_iggy: !args.no_iggy,
        iggy_cap_bytes: args.iggy_cap_mib.saturating_mul(1024 * 1024),
        certs: args.certs,
        run: snapdesk_collector::runner::RunOptions {
            check_timeout: Duration::from_secs(args.check_timeout),
            ..Default::default()
        },
        snapshot_name: None,
        cancel: snapdesk_core::Cancel::new(),
    };
    let live = out.live();
    let mut progress = |p: &Progress| {
        if !live {
            return;
        }
        match p {
            Progress::Started { checks } => eprintln!("Collecting {checks} checks on this machine"),
            Progress::Check {
                done,
                total,
                id,
                title,
                status,
                duration_ms,
            } => {
                eprintln!(
                    "[{done:>2}/{total}] {} {id:<34} {title} ({duration_ms} ms)",
                    glyph(*status)
                )
            }
            Progress::Bundle { done, total } => {
                eprint!("\rBundling Iggy data: {} / {} MiB", done >> 20, total >> 20);
                if done >= total {
                    eprintln!();
                }
            }
            Progress::Writing => eprintln!("Writing the archive"),
        }
    };
    // Into the library unless --out names a place of its own.
    let (collected, library_id) = if opts.out.is_some() {
        (snapdesk_collector::collect(&opts, &mut progress)?, None)
    } else {
        let lib = snapdesk_ops::library::open(paths)?;
        let (mut c, into) = snapdesk_ops::library::collect_into(
            &lib,
            opts,
            &mut progress,
            &snapdesk_core::Cancel::new(),
        )?;
        c.path = lib.stored_path(&into.entry.sha256);
        (c, Some(into.entry.id))
    };
    let output = CollectOutput {
        path: &collected.path,
        library_id: library_id.clone(),
        manifest: &collected.manifest,
    };
    out.print(&output, |o| {
        let m = o.manifest;
        let c = &m.checks;
        let mut s = format!(
            "{}{}\n{} checks: {} fail, {} error, {} warn, {} info, {} skipped, {} pass",
            collected.path.display(),
            match &o.library_id {
                Some(id) => format!(" (library entry {id})"),
                None => String::new(),
            },
            c.total(),
            c.fail,
            c.error,
            c.warn,
            c.info,
            c.skipped,
            c.pass
        );
        // The checks to read first, by name.
        for (status, label) in [(Status::Fail, "fail"), (Status::Warn, "warn")] {
            let ids: Vec<String> = collected
                .report
                .checks
                .iter()
                .filter(|k| k.status == status)
                .map(|k| format!("{} ({})", k.id, k.title))
                .collect();
            if !ids.is_empty() {
                s.push_str(&format!("\n{label}: {}", ids.join(", ")));
            }
        }
        let redacted: u64 = m.redaction.counts.values().sum();
        if m.redaction.redacted {
            s.push_str(&format!("\nsecrets redacted: {redacted}"));
        } else {
            s.push_str("\nsecrets NOT redacted (--no-redact-secrets): handle this file with care");
        }
        if let Some(b) = &m.iggy_data {
            s.push_str(&format!(
                "\nIggy data: {} files, {} bytes from {}{}",
                b.files,
                b.bytes,
                b.source_dir,
                if b.omitted.is_empty() {
                    String::new()
                } else {
                    format!(" ({} left out, listed in manifest.json)", b.omitted.len())
                }
            ));
        }
        s
    })
}
