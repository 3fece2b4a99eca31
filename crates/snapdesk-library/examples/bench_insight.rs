//! Benchmark of issue 14 (not a timed test): the triage board over 10,000 snapshots of one
//! deployment (two nodes each, 40 checks per node: 800,000 checks), and one check's
//! timeline over them. Prints the median and p95 of 20 runs. `scripts/bench-insight` runs it.

use std::path::Path;
use std::time::Instant;

use snapdesk_library::{Library, Scope};

const SNAPSHOTS: i64 = 10_000;
const NODES: i64 = 2;
const CHECKS: i64 = 40;

fn fill(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let lib = Library::open(dir)?;
    drop(lib);
    let conn = rusqlite::Connection::open(dir.join("library.sqlite"))?;
    let n: i64 = conn.query_row("SELECT count(*) FROM entries", [], |r| r.get(0))?;
    if n >= SNAPSHOTS * NODES {
        return Ok(());
    }
    let statuses = [
        "pass", "pass", "pass", "pass", "pass", "info", "skipped", "warn",
    ];
    conn.execute_batch("BEGIN")?;
    for s in 0..SNAPSHOTS {
        for node in 0..NODES {
            let at = chrono::DateTime::from_timestamp(1_767_225_600 + s * 3600, 0)
                .unwrap_or_default()
                .to_rfc3339();
            conn.execute(
                "INSERT INTO entries (sha256, size, kind, title, snapshot_name, deployment_id,
                    deployment_name, node_id, host_name, created_at, added_at, has_iggy, n_pass,
                    n_warn, n_fail, n_info, n_error, n_skipped)
                 VALUES (?1, 1000, 'snapdesk', 't', ?2, '611298765432109056', 'events-prod', ?3,
                    ?4, ?5, ?5, 0, 30, 5, 1, 2, 0, 2)",
                rusqlite::params![
                    format!("{:064x}", s * NODES + node),
                    format!("snapshot-{s:05}"),
                    format!("{}", 610_000_000_000_000_000i64 + node),
                    format!("node-{node}"),
                    at
                ],
            )?;
            let id = conn.last_insert_rowid();
            for c in 0..CHECKS {
                // A few checks fail now and then, some warn for long stretches.
                let status = if c == 0 && (s / 500) % 2 == node {
                    "fail"
                } else if c == 1 && s % 97 == 0 {
                    "error"
                } else {
                    statuses[((s / 100 + c + node) % statuses.len() as i64) as usize]
                };
                // A check's id tells its entry, as the import numbers it (migration 6).
                conn.execute(
                    "INSERT INTO checks (id, entry_id, check_id, category, title, status, summary, facts)
                     VALUES (?5, ?1, ?2, 'cat', ?3, ?4, 'summary', '[]')",
                    rusqlite::params![
                        id,
                        format!("cat.check_{c}"),
                        format!("Check {c}"),
                        status,
                        (id << snapdesk_library::db::CHECK_ID_BITS) | (c + 1)
                    ],
                )?;
            }
            // The entry's words, as the import indexes them (migration 8).
            conn.execute(snapdesk_library::db::ENTRY_TERMS_INDEX, [id])?;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

fn time(label: &str, mut f: impl FnMut() -> usize) {
    let mut ms = Vec::new();
    let mut n = 0;
    for _ in 0..20 {
        let t = Instant::now();
        n = f();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{label}: median {:.1} ms, p95 {:.1} ms ({n} rows)",
        ms[ms.len() / 2],
        ms[ms.len() * 95 / 100]
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: bench_insight DIR")?;
    let dir = Path::new(&dir);
    let t = Instant::now();
    fill(dir)?;
    println!(
        "catalog: {SNAPSHOTS} snapshots x {NODES} nodes x {CHECKS} checks, ready in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let lib = Library::open(dir)?;
    let scope = Scope::deployment("611298765432109056");
    let board = lib.triage(&scope)?;
    assert_eq!(board.snapshots as i64, SNAPSHOTS);
    time("triage of 10,000 snapshots (target <= 200 ms)", || {
        lib.triage(&scope).map(|b| b.items.len()).unwrap_or(0)
    });
    time("timeline of one check over 10,000 snapshots", || {
        lib.timeline("cat.check_0", None, &scope)
            .map(|t| t.nodes.iter().map(|n| n.points.len()).sum())
            .unwrap_or(0)
    });
    Ok(())
}
