//! The library's benchmarks (run by `scripts/bench-library`, not a test):
//!
//! - `catalog DIR`: fills a catalog with 10,000 entries and 400,000 checks, then prints the
//!   p50/p95 of a list page, of a full-text search and of a browse (a sorted page with the
//!   count and totals per status, as the app's library view asks per keystroke), in ms.
//! - `import LIB FILE`: imports FILE into the library at LIB; prints seconds.
//! - `report FILE`: the report's bytes out of FILE (`archive::read_file`, as `unzip -p`);
//!   prints seconds.
//! - `open FILE`: opens FILE as a viewer does (report read, parsed, checked); prints seconds.
//! - `nested FILE`: lists the files of FILE with those of its nested `iggy-data.zip`, in
//!   place (`archive::list_files`); prints seconds and the number of nested files.

use std::path::Path;
use std::time::Instant;

use snapdesk_core::Cancel;
use snapdesk_library::{Library, Origin, Page, Query, Sort};

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn catalog(dir: &Path) -> anyhow_free::Result<()> {
    let lib = Library::open(dir)?;
    let conn = rusqlite::Connection::open(dir.join("library.sqlite"))?;
    let n: i64 = conn.query_row("SELECT count(*) FROM entries", [], |r| r.get(0))?;
    if n < 10_000 {
        let words = [
            "certificate",
            "expiry",
            "swappiness",
            "disk",
            "inode",
            "latency",
            "segment",
            "partition",
            "consumer",
            "offset",
            "memory",
            "pressure",
            "kernel",
            "tcp",
        ];
        let statuses = [
            "pass", "pass", "pass", "warn", "info", "fail", "skipped", "error",
        ];
        let cats = [
            "certificates",
            "kernel",
            "storage",
            "network",
            "iggy",
            "memory",
            "os",
            "cpu",
        ];
        conn.execute_batch("BEGIN")?;
        for e in 0..10_000i64 {
            conn.execute(
                "INSERT INTO entries (sha256, size, kind, title, snapshot_name, node_id,
                    host_name, added_at, has_iggy, n_pass, n_warn, n_fail, n_info, n_error,
                    n_skipped) VALUES (?1, 1000, 'snapdesk', 't', ?2, ?3, 'h', ?4, 0, 15, 5, 5, 5, 5, 5)",
                rusqlite::params![
                    format!("{e:064x}"),
                    format!("snap-{}", e / 3),
                    format!("{}", 610_000_000_000_000_000i64 + e % 3),
                    format!("2026-01-01T00:00:{:02}.{:03}Z", e % 60, e % 1000)
                ],
            )?;
            let id = conn.last_insert_rowid();
            for c in 0..40i64 {
                let w = words[((e + c) % words.len() as i64) as usize];
                let w2 = words[((e * 7 + c * 3) % words.len() as i64) as usize];
                // A check's id tells its entry, as the import numbers it (migration 6).
                conn.execute(
                    "INSERT INTO checks (id, entry_id, check_id, category, title, status, summary, facts)
                     VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6, '[]')",
                    rusqlite::params![
                        id,
                        format!("{}.check_{c}", cats[(c % 8) as usize]),
                        cats[(c % 8) as usize],
                        format!("{w} check {c}"),
                        statuses[((e + c) % 8) as usize],
                        format!("{w} {w2} observed value {} on node {}", e * c % 977, e % 3),
                        (id << snapdesk_library::db::CHECK_ID_BITS) | (c + 1)
                    ],
                )?;
            }
            // The entry's words, as the import indexes them (migration 8).
            conn.execute(snapdesk_library::db::ENTRY_TERMS_INDEX, [id])?;
        }
        conn.execute_batch("COMMIT")?;
    }
    let q_list = Query::parse("")?;
    let q_page = Query::parse("status:fail category:certificates")?;
    let q_text = Query::parse("latency pressure")?;
    let (mut list, mut filtered, mut search) = (Vec::new(), Vec::new(), Vec::new());
    let mut text_list = Vec::new();
    for i in 0..100u32 {
        let page = Page {
            offset: (i % 20) * 50,
            limit: 50,
        };
        let t = Instant::now();
        assert_eq!(lib.list(&q_list, page)?.len(), 50);
        list.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        lib.list(&q_page, page)?;
        filtered.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        lib.list(&q_text, page)?;
        text_list.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        assert!(!lib.search(&q_text, 100)?.is_empty());
        search.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "list_p50_ms {:.2} list_p95_ms {:.2} filtered_p95_ms {:.2} text_list_p95_ms {:.2} search_p50_ms {:.2} search_p95_ms {:.2}",
        pct(list.clone(), 0.5),
        pct(list, 0.95),
        pct(filtered, 0.95),
        pct(text_list, 0.95),
        pct(search.clone(), 0.5),
        pct(search, 0.95)
    );
    // What the app's library view asks per keystroke: a sorted page, the count and the
    // totals per status (target: p95 <= 30 ms with chips and free text).
    for (name, text) in [
        ("all", ""),
        ("chips", "status:fail,error category:certificates"),
        ("chips_text", "status:fail,error category:certificates late"),
        ("status_text", "status:fail,error late"),
        ("text", "latency pressure"),
        // The first key of a word: a prefix nearly every check matches.
        ("one_letter", "n"),
        ("status_one_letter", "status:fail n"),
    ] {
        let q = Query::parse(text)?;
        let mut times = Vec::new();
        let mut total = 0;
        for i in 0..100u32 {
            let page = Page {
                offset: (i % 4) * 50,
                limit: 50,
            };
            let t = Instant::now();
            total = lib
                .browse(&q, Sort::ALL[i as usize % Sort::ALL.len()], page)?
                .total;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        // Every case matches something: a figure measured on no match would flatter us.
        if total == 0 {
            return Err(format!("browse_{name}: {text:?} matches no entry").into());
        }
        println!(
            "browse_{name} (matches {total}) p50_ms {:.2} p95_ms {:.2}",
            pct(times.clone(), 0.5),
            pct(times, 0.95)
        );
    }
    Ok(())
}

/// Errors as text: an example, not a library.
mod anyhow_free {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;
}

fn main() -> anyhow_free::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cancel = Cancel::new();
    match args.first().map(String::as_str) {
        Some("catalog") => catalog(Path::new(&args[1]))?,
        Some("import") => {
            let lib = Library::open(Path::new(&args[1]))?;
            let f = Path::new(&args[2]);
            let t = Instant::now();
            let i = lib.import_file(
                f,
                Origin::File {
                    path: args[2].clone(),
                },
                &cancel,
            )?;
            println!(
                "import_s {:.3} dedup {}",
                t.elapsed().as_secs_f64(),
                i.deduplicated
            );
        }
        Some("report") => {
            // The report's bytes out of the archive, as `unzip -p` gives them.
            let t = Instant::now();
            let path = Path::new(&args[1]);
            let limits = snapdesk_report::archive::Limits::default();
            let html = snapdesk_report::archive::list_files(path, &limits, &cancel)?
                .into_iter()
                .find(|f| f.kind == snapdesk_report::archive::FileKind::Html)
                .ok_or("no report")?;
            let got = snapdesk_report::archive::read_file(
                path,
                &html.path,
                limits.max_report_bytes,
                &limits,
                &cancel,
            )?;
            println!(
                "report_s {:.3} bytes {}",
                t.elapsed().as_secs_f64(),
                got.bytes.len()
            );
        }
        Some("open") => {
            // What a viewer does: the report read, parsed into checks, the manifest checked.
            let t = Instant::now();
            let o = snapdesk_report::archive::open(Path::new(&args[1]))?;
            println!(
                "report_s {:.3} bytes {}",
                t.elapsed().as_secs_f64(),
                o.html.map(|h| h.len()).unwrap_or(0)
            );
        }
        Some("nested") => {
            // What the app's "files" view calls: every file, the nested ones included.
            let t = Instant::now();
            let files = snapdesk_report::archive::list_files(
                Path::new(&args[1]),
                &snapdesk_report::archive::Limits::default(),
                &cancel,
            )?;
            println!(
                "nested_s {:.3} files {}",
                t.elapsed().as_secs_f64(),
                files.iter().filter(|f| f.nested).count()
            );
        }
        _ => {
            eprintln!(
                "usage: bench_library catalog DIR | import LIB FILE | report FILE | open FILE | nested FILE"
            );
            std::process::exit(2);
        }
    }
    Ok(())
}
