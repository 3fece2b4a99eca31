//! Writing a node's snapshot archive (the format of `docs/snapshot-format.md`), and the
//! padded archives of `/_admin/seed`. Blocking: run on `spawn_blocking`.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

use chrono::{DateTime, Utc};
use snapdesk_collector::redact::Redactor;
use snapdesk_report::archive::{
    ArchiveWriter, IggyBundle, Manifest, Redaction, IGGY_DATA_ENTRY, REPORT_ENTRY,
};
use snapdesk_report::{render, Producer, Report};

use crate::model::{Deployment, Item};
use crate::profile::{self, HostProfile, COLLECTOR_NAME};
use crate::util::{self, SplitMix};

fn producer() -> Producer {
    Producer {
        name: COLLECTOR_NAME.into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }
}

fn report_for(dep: &Deployment, item: &Item, completed_at: DateTime<Utc>) -> (HostProfile, Report) {
    let host = profile::host_profile(dep.id, &dep.name, item.node_index, item.node_id);
    let report = profile::build_report(&host, &item.name, item.created_at, Some(completed_at));
    (host, report)
}

fn manifest_for(
    dep: &Deployment,
    item: &Item,
    host: &HostProfile,
    report: &Report,
    completed_at: DateTime<Utc>,
    redaction: Redaction,
) -> Manifest {
    let mut m = Manifest::new(item.name.clone(), host.host_name.clone(), producer());
    m.deployment_id = Some(dep.id.to_string());
    m.deployment_name = Some(dep.name.clone());
    m.node_id = Some(item.node_id.to_string());
    m.created_at = item.created_at;
    m.completed_at = Some(completed_at);
    m.redaction = redaction;
    m.checks = report.counts();
    m
}

/// Generates and writes one node's archive at `path`; returns its size in bytes.
pub(crate) fn write_node_archive(
    path: &Path,
    dep: &Deployment,
    item: &Item,
    completed_at: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let (host, mut report) = report_for(dep, item, completed_at);
    let redactor = Redactor::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    if item.redact_secrets {
        redactor.redact_report(&mut report, &mut counts);
    }
    report.redacted = item.redact_secrets;
    let html = render::render(&report);

    let mut w = ArchiveWriter::create(path)?;
    w.add_bytes(REPORT_ENTRY, html.as_bytes(), true)?;
    let mut iggy = None;
    if item.include_iggy {
        let r = item.redact_secrets.then_some(&redactor);
        let (zip, bundle) = profile::iggy_data_zip(&host, item.created_at, r, &mut counts)?;
        w.add_bytes(IGGY_DATA_ENTRY, &zip, false)?;
        iggy = Some(bundle);
    }
    let redaction = Redaction {
        redacted: item.redact_secrets,
        counts,
    };
    let mut manifest = manifest_for(dep, item, &host, &report, completed_at, redaction);
    manifest.iggy_data = iggy;
    let final_path = w.finish(&mut manifest)?;
    Ok(std::fs::metadata(final_path)?.len())
}

/// Incompressible bytes, generated on the fly (bounded memory).
struct Padding {
    rng: SplitMix,
    remaining: u64,
}

impl Read for Padding {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        for chunk in buf[..n].chunks_mut(8) {
            let v = self.rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn write_padded(
    path: &Path,
    dep: &Deployment,
    item: &Item,
    completed_at: DateTime<Utc>,
    padding: u64,
    seed: u64,
) -> anyhow::Result<u64> {
    let (host, mut report) = report_for(dep, item, completed_at);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    Redactor::new().redact_report(&mut report, &mut counts);
    report.redacted = true;
    let html = render::render(&report);
    let mut w = ArchiveWriter::create(path)?;
    w.add_bytes(REPORT_ENTRY, html.as_bytes(), true)?;
    let mut pad = Padding {
        rng: SplitMix(seed),
        remaining: padding,
    };
    w.add_reader(IGGY_DATA_ENTRY, &mut pad, false, padding)?;
    let mut manifest = manifest_for(
        dep,
        item,
        &host,
        &report,
        completed_at,
        Redaction {
            redacted: true,
            counts,
        },
    );
    manifest.iggy_data = Some(IggyBundle {
        source_dir: "(emulator padding: random bytes)".into(),
        files: 0,
        bytes: padding,
        cap_bytes: padding,
        omitted: Vec::new(),
    });
    let final_path = w.finish(&mut manifest)?;
    Ok(std::fs::metadata(final_path)?.len())
}

/// A valid snapshot archive of about `target` bytes: the node's report plus an
/// `iggy-data.zip` entry of stored random bytes sized to fill. Written in two passes (the
/// first, small, measures the overhead); within a few hundred bytes of the target.
pub(crate) fn write_seeded(
    path: &Path,
    dep: &Deployment,
    item: &Item,
    completed_at: DateTime<Utc>,
    target: u64,
) -> anyhow::Result<u64> {
    let seed = util::random_u64();
    let base = write_padded(path, dep, item, completed_at, 0, seed)?;
    if target <= base {
        return Ok(base);
    }
    let mut padding = target - base;
    // Entries of 2 GiB and more get ZIP64 extra fields and end records.
    if padding >= u64::from(u32::MAX) / 2 {
        padding = padding.saturating_sub(20 + 28 + 56 + 20);
    }
    write_padded(path, dep, item, completed_at, padding, seed)
}
