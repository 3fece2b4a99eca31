//! The library end to end inside one process: import, dedupe, catalog, search, compare,
//! budget, leftovers, migrations and change visibility between two handles.

use std::path::{Path, PathBuf};

use snapdesk_core::Cancel;
use snapdesk_library::{parse_id, Library, Origin, Page, Query};
use snapdesk_report::sample::{sample_report, write_archive};
use snapdesk_report::{Report, Status};

fn report(node: &str, statuses: &[(&str, Status)]) -> Report {
    let mut r = sample_report(statuses.len(), 5);
    r.snapshot_name = "snap-1".into();
    r.deployment_id = Some("611298765432109056".into());
    r.deployment_name = Some("events-prod".into());
    r.node_id = Some(node.into());
    for (c, (id, s)) in r.checks.iter_mut().zip(statuses) {
        c.id = (*id).into();
        c.category = id.split('.').next().unwrap_or("x").into();
        c.status = *s;
        c.summary = format!("{id} on {node}");
        c.facts = vec![snapdesk_report::Fact {
            key: "node".into(),
            value: node.into(),
        }];
    }
    r
}

fn archive(dir: &Path, name: &str, r: &Report) -> PathBuf {
    write_archive(&dir.join(name), r, None).unwrap()
}

fn file(p: &Path) -> Origin {
    Origin::File {
        path: p.display().to_string(),
    }
}

const CHECKS: [(&str, Status); 3] = [
    ("certificates.expiry", Status::Fail),
    ("kernel.swappiness", Status::Pass),
    ("storage.free", Status::Warn),
];

#[test]
fn an_import_is_cataloged_and_the_same_bytes_twice_are_stored_once_with_both_origins() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    let a = archive(tmp.path(), "a.zip", &report("n1", &CHECKS));
    let copy = tmp.path().join("copy.zip");
    std::fs::copy(&a, &copy).unwrap();
    let before = std::fs::read(&a).unwrap();

    let first = lib.import_file(&a, file(&a), &Cancel::new()).unwrap();
    assert!(!first.deduplicated);
    assert_eq!(first.checks, 3);
    let second = lib.import_file(&copy, file(&copy), &Cancel::new()).unwrap();
    assert!(second.deduplicated);
    assert_eq!(second.id, first.id);
    // The original is untouched.
    assert_eq!(std::fs::read(&a).unwrap(), before);

    let all = lib.list(&Query::default(), Page::default()).unwrap();
    assert_eq!(all.len(), 1);
    let e = &all[0];
    assert_eq!((e.checks.fail, e.checks.warn, e.checks.pass), (1, 1, 1));
    assert_eq!(e.node_id.as_deref(), Some("n1"));
    assert_eq!(e.redacted, Some(true));
    let detail = lib.show(parse_id(&e.id).unwrap()).unwrap();
    assert_eq!(detail.origins.len(), 2);
    let stored: Vec<_> = walk(&tmp.path().join("lib/archives"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(lib.verify(&Cancel::new()).unwrap().is_clean());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn search_and_list_share_one_query_language() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    let a = archive(tmp.path(), "a.zip", &report("n1", &CHECKS));
    let mut other = CHECKS;
    other[0].1 = Status::Pass;
    let b = archive(tmp.path(), "b.zip", &report("n2", &other));
    let ia = lib.import_file(&a, file(&a), &Cancel::new()).unwrap();
    let ib = lib.import_file(&b, file(&b), &Cancel::new()).unwrap();
    lib.set_pinned(parse_id(&ib.id).unwrap(), true).unwrap();
    lib.tag(parse_id(&ia.id).unwrap(), &["acme".into()], &[])
        .unwrap();

    let hits = lib
        .search(
            &Query::parse("status:fail category:certificates").unwrap(),
            100,
        )
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].node.as_deref(), Some("n1"));
    assert_eq!(hits[0].entry_id, ia.id);

    let hits = lib.search(&Query::parse("swappi").unwrap(), 100).unwrap();
    assert_eq!(hits.len(), 2, "prefix search finds both nodes");
    let hits = lib
        .search(&Query::parse("swappi node:n2").unwrap(), 100)
        .unwrap();
    assert_eq!(hits.len(), 1);

    let ids = |q: &str| -> Vec<String> {
        lib.list(&Query::parse(q).unwrap(), Page::default())
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(ids("pinned:yes"), [ib.id.as_str()]);
    assert_eq!(ids("tag:acme"), [ia.id.as_str()]);
    assert_eq!(ids("status:fail"), [ia.id.as_str()]);
    assert_eq!(ids("deployment:events since:3650d").len(), 2);
    assert!(ids("has:iggy").is_empty());
    assert!(ids("context:prod").is_empty());
}

#[test]
fn compare_names_status_changes_added_gone_and_facts_and_the_matrix_puts_differences_first() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    let a = archive(tmp.path(), "a.zip", &report("n1", &CHECKS));
    let b_checks = [
        ("certificates.expiry", Status::Pass),
        ("kernel.swappiness", Status::Pass),
        ("network.mtu", Status::Info),
    ];
    let b = archive(tmp.path(), "b.zip", &report("n2", &b_checks));
    let ia = parse_id(&lib.import_file(&a, file(&a), &Cancel::new()).unwrap().id).unwrap();
    let ib = parse_id(&lib.import_file(&b, file(&b), &Cancel::new()).unwrap().id).unwrap();
    let d = lib.diff(ia, ib).unwrap();
    assert_eq!(d.status_changed.len(), 1);
    assert_eq!(
        (
            d.status_changed[0].check_id.as_str(),
            d.status_changed[0].before.as_str(),
            d.status_changed[0].after.as_str()
        ),
        ("certificates.expiry", "fail", "pass")
    );
    assert_eq!(d.added.len(), 1);
    assert_eq!(d.added[0].check_id, "network.mtu");
    assert_eq!(d.gone.len(), 1);
    assert_eq!(d.gone[0].check_id, "storage.free");
    // The `node` fact differs on every common check.
    assert_eq!(d.facts_changed.len(), 2);
    assert_eq!(d.unchanged, 0);

    let m = lib.matrix("snap-1", None).unwrap();
    assert_eq!(m.nodes, ["n1", "n2"]);
    assert!(m.rows[0].differs);
    let last = m.rows.last().unwrap();
    assert_eq!(last.check_id, "kernel.swappiness");
    assert!(!last.differs);
    assert_eq!(m.rows.iter().filter(|r| r.differs).count(), 3);

    // The same snapshot name in another deployment: the matrix asks which one.
    let mut other = report("n3", &CHECKS);
    other.deployment_id = Some("611298765432109057".into());
    other.deployment_name = Some("events-staging".into());
    let c = archive(tmp.path(), "c.zip", &other);
    lib.import_file(&c, file(&c), &Cancel::new()).unwrap();
    let err = lib.matrix("snap-1", None).unwrap_err().to_string();
    assert!(
        err.contains("2 deployments") && err.contains("events-staging"),
        "{err}"
    );
    assert_eq!(
        lib.matrix("snap-1", Some("events-prod")).unwrap().nodes,
        ["n1", "n2"]
    );
    assert_eq!(
        lib.matrix("snap-1", Some("611298765432109057"))
            .unwrap()
            .nodes,
        ["n3"]
    );
    assert!(lib.matrix("snap-1", Some("nope")).is_err());
}

#[test]
fn the_budget_evicts_the_least_recently_opened_unpinned_and_keeps_their_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    let mut ids = Vec::new();
    for n in ["n1", "n2", "n3"] {
        let p = archive(tmp.path(), &format!("{n}.zip"), &report(n, &CHECKS));
        ids.push(parse_id(&lib.import_file(&p, file(&p), &Cancel::new()).unwrap().id).unwrap());
    }
    let size = lib.entry(ids[0]).unwrap().size;
    lib.set_pinned(ids[0], true).unwrap();
    lib.open_entry(ids[1]).unwrap(); // n2 is now the most recently opened
    let evicted = lib.set_budget(2 * size + size / 2).unwrap();
    assert_eq!(evicted, [ids[2].to_string()]);
    let e = lib.entry(ids[2]).unwrap();
    assert!(e.evicted_at.is_some());
    assert!(!e.downloadable, "a file import has no server to fetch from");
    // Rows stay: searchable and comparable.
    let hits = lib.search(&Query::parse("node:n3").unwrap(), 10).unwrap();
    assert_eq!(hits.len(), 3);
    assert!(lib.diff(ids[0], ids[2]).is_ok());
    let err = snapdesk_core::Error::from(lib.open_entry(ids[2]).unwrap_err());
    assert_eq!(err.code, snapdesk_core::ErrorCode::NotFound);
    assert!(err.message.contains("evicted"), "{}", err.message);
    assert!(lib.verify(&Cancel::new()).unwrap().is_clean());
    assert!(lib.stored_bytes().unwrap() <= 2 * size + size / 2);

    // Importing it again brings the archive back under the same entry.
    lib.set_budget(100 * size).unwrap();
    let p = tmp.path().join("n3.zip");
    let again = lib.import_file(&p, file(&p), &Cancel::new()).unwrap();
    assert_eq!(again.id, ids[2].to_string());
    assert!(lib.entry(ids[2]).unwrap().evicted_at.is_none());
    assert!(lib.open_entry(ids[2]).unwrap().is_file());
}

#[test]
fn a_start_removes_orphan_archives_and_dead_processes_temp_files_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lib");
    let lib = Library::open(&root).unwrap();
    let a = archive(tmp.path(), "a.zip", &report("n1", &CHECKS));
    lib.import_file(&a, file(&a), &Cancel::new()).unwrap();
    drop(lib);
    // A process killed between rename and commit, and one killed mid-copy (pid 0 is never
    // a user process).
    let orphan = root
        .join("archives/ab")
        .join(format!("ab{}.zip", "0".repeat(62)));
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, b"PK").unwrap();
    let dead = root.join("tmp/imp-0-1-2-copy.partial");
    std::fs::write(&dead, b"half").unwrap();
    let resume = root.join("tmp/dl-42.zip.partial");
    std::fs::write(&resume, b"resumable").unwrap();
    let lib = Library::open(&root).unwrap();
    assert!(!orphan.exists());
    assert!(!dead.exists());
    assert!(resume.exists(), "a recent download's resume file is kept");
    let v = lib.verify(&Cancel::new()).unwrap();
    assert!(v.is_clean(), "{v:?}");
    assert_eq!(v.entries, 1);
}

#[test]
fn verify_finds_a_corrupt_and_a_missing_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lib");
    let lib = Library::open(&root).unwrap();
    let a = archive(tmp.path(), "a.zip", &report("n1", &CHECKS));
    let b = archive(tmp.path(), "b.zip", &report("n2", &CHECKS));
    let ia = lib.import_file(&a, file(&a), &Cancel::new()).unwrap();
    let ib = lib.import_file(&b, file(&b), &Cancel::new()).unwrap();
    let pa = root
        .join("archives")
        .join(&ia.sha256[..2])
        .join(format!("{}.zip", ia.sha256));
    let mut bytes = std::fs::read(&pa).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&pa, bytes).unwrap();
    std::fs::remove_file(
        root.join("archives")
            .join(&ib.sha256[..2])
            .join(format!("{}.zip", ib.sha256)),
    )
    .unwrap();
    let v = lib.verify(&Cancel::new()).unwrap();
    assert_eq!(v.corrupt, [ia.id]);
    assert_eq!(v.missing, [ib.id]);
    assert!(!v.is_clean());
}

#[test]
fn a_catalog_made_by_the_first_version_migrates_with_its_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lib");
    {
        // What version 1 wrote, row for row (its import code is gone; its schema is not).
        let lib = Library::open_at_version(&root, 1).unwrap();
        drop(lib);
        let c = rusqlite::Connection::open(root.join("library.sqlite")).unwrap();
        c.execute_batch(
            "INSERT INTO entries (id, sha256, size, kind, title, snapshot_name, node_id,
                added_at, has_iggy, n_pass, n_warn, n_fail, n_info, n_error, n_skipped, pinned,
                note)
             VALUES (7, 'aa', 10, 'snapdesk', 'old', 'snap-old', 'n9', '2026-01-01T00:00:00Z',
                0, 1, 0, 1, 0, 0, 0, 1, 'kept');
             INSERT INTO checks (entry_id, check_id, category, title, status, summary, facts)
             VALUES (7, 'certificates.expiry', 'certificates', 'Expiry', 'fail',
                'expired yesterday', '[]');
             INSERT INTO tags VALUES (7, 'legacy');",
        )
        .unwrap();
        let v: i64 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
    }
    let lib = Library::open(&root).unwrap();
    let e = lib.entry(7).unwrap();
    assert_eq!((e.note.as_str(), e.pinned), ("kept", true));
    assert_eq!(e.tags, ["legacy"]);
    assert_eq!(e.evicted_at, None);
    let hits = lib.search(&Query::parse("expired").unwrap(), 10).unwrap();
    assert_eq!(hits.len(), 1);
    // Version 2's tables work on the migrated catalog.
    lib.set_note(7, "migrated").unwrap();
    assert_eq!(lib.changes_since(0).unwrap().len(), 1);
    assert_eq!(lib.budget().unwrap(), snapdesk_library::DEFAULT_BUDGET);
}

#[test]
fn a_second_handle_sees_the_first_ones_writes_without_reopening() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lib");
    let app = Library::open(&root).unwrap();
    let cli = Library::open(&root).unwrap();
    let seen = app.last_change().unwrap();
    let dv = app.data_version().unwrap();
    let a = archive(tmp.path(), "a.zip", &report("n1", &CHECKS));
    let id = cli.import_file(&a, file(&a), &Cancel::new()).unwrap().id;
    cli.set_note(parse_id(&id).unwrap(), "from the CLI")
        .unwrap();
    assert_ne!(app.data_version().unwrap(), dv);
    let changes = app.changes_since(seen).unwrap();
    let whats: Vec<&str> = changes.iter().map(|c| c.what.as_str()).collect();
    assert_eq!(whats, ["added", "note"]);
    assert_eq!(changes[0].entry_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        app.entry(parse_id(&id).unwrap()).unwrap().note,
        "from the CLI"
    );
}

/// Our archive with one entry the manifest does not list (as a hand-edited archive has).
fn with_unlisted_entry(dir: &Path, r: &Report) -> PathBuf {
    use std::io::Write;
    let plain = archive(dir, "plain.zip", r);
    let path = dir.join("edited.zip");
    let mut input = zip::ZipArchive::new(std::fs::File::open(&plain).unwrap()).unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for k in 0..input.len() {
        w.raw_copy_file(input.by_index_raw(k).unwrap()).unwrap();
    }
    w.start_file("added-later.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"not vouched for").unwrap();
    w.finish().unwrap();
    path
}

#[test]
fn an_integrity_mismatch_is_recorded_shown_and_queryable() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    let good = archive(tmp.path(), "good.zip", &report("n1", &CHECKS));
    let bad = with_unlisted_entry(tmp.path(), &report("n2", &CHECKS));
    let ig = parse_id(
        &lib.import_file(&good, file(&good), &Cancel::new())
            .unwrap()
            .id,
    )
    .unwrap();
    let ib = parse_id(
        &lib.import_file(&bad, file(&bad), &Cancel::new())
            .unwrap()
            .id,
    )
    .unwrap();
    use snapdesk_report::archive::IntegrityState;
    assert_eq!(
        lib.entry(ig).unwrap().integrity,
        Some(IntegrityState::Verified)
    );
    assert_eq!(
        lib.entry(ib).unwrap().integrity,
        Some(IntegrityState::Mismatch)
    );
    let detail = lib.show(ib).unwrap().integrity_detail.unwrap();
    assert_eq!(detail.unlisted, ["added-later.txt"]);
    let ids = |q: &str| -> Vec<String> {
        lib.list(&Query::parse(q).unwrap(), Page::default())
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(ids("integrity:mismatch"), [ib.to_string()]);
    assert_eq!(ids("integrity:verified"), [ig.to_string()]);
    assert_eq!(ids("integrity:mismatch node:n1"), Vec::<String>::new());
}

#[test]
fn a_catalog_of_every_earlier_version_migrates_with_its_rows() {
    for start in 1..snapdesk_library::db::latest() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("lib");
        drop(Library::open_at_version(&root, start).unwrap());
        let c = rusqlite::Connection::open(root.join("library.sqlite")).unwrap();
        c.execute_batch(
            "INSERT INTO entries (id, sha256, size, kind, title, snapshot_name, node_id,
                added_at, has_iggy, n_pass, n_warn, n_fail, n_info, n_error, n_skipped, pinned,
                note)
             VALUES (3, 'bb', 10, 'snapdesk', 'old', 'snap-old', 'n9', '2026-01-01T00:00:00Z',
                0, 1, 0, 1, 0, 0, 0, 1, 'kept');
             INSERT INTO checks (entry_id, check_id, category, title, status, summary, facts)
             VALUES (3, 'kernel.swappiness', 'kernel', 'Swappiness', 'warn', 'sixty', '[]');",
        )
        .unwrap();
        drop(c);
        let lib = Library::open(&root).unwrap();
        let e = lib.entry(3).unwrap();
        assert_eq!((e.note.as_str(), e.pinned), ("kept", true), "from {start}");
        // Not recorded then: unknown, and no filter claims it.
        assert_eq!(e.integrity, None, "from {start}");
        assert!(lib
            .list(
                &Query::parse("integrity:mismatch").unwrap(),
                Page::default()
            )
            .unwrap()
            .is_empty());
        assert_eq!(
            lib.search(&Query::parse("sixty").unwrap(), 10)
                .unwrap()
                .len(),
            1
        );
        // Newer tables and columns work on the migrated rows.
        lib.set_note(3, "migrated").unwrap();
        assert_eq!(lib.show(3).unwrap().integrity_detail, None);
    }
}
