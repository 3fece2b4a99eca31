//! Kill -9 of `library import` and of `snapshots download` (into the library) at random
//! moments: the next start leaves the library consistent (`library verify` clean: every
//! entry has its archive with its hash, no file without an entry, no temp file of a dead
//! process) and nothing half-written under a final name.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use snapdesk_tests::cli::{snapdesk, stdout};
use snapdesk_tests::emu::EmulatorProcess;

/// xorshift: random moments without a dependency, seeded from the clock (printed, so a
/// failure can be replayed by reading the log).
struct Rng(u64);
impl Rng {
    fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7)
            | 1;
        println!("seed {seed}");
        Self(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// One of our archives with a stored entry of `extra` random bytes.
fn archive(dir: &Path, i: u64, extra: usize) -> PathBuf {
    use std::io::Write;
    let mut report = snapdesk_report::sample::sample_report(20, 50);
    report.snapshot_name = format!("snap-{i}");
    report.node_id = Some(format!("{}", 610_000_000_000_000_000u64 + i));
    let plain =
        snapdesk_report::sample::write_archive(&dir.join(format!("base-{i}.zip")), &report, None)
            .unwrap();
    // Add the random entry by rewriting: our writer lists it in the manifest when added
    // through it, which `write_archive` does not expose; a raw copy keeps the rest intact.
    let path = dir.join(format!("a-{i}.zip"));
    let mut input = zip::ZipArchive::new(std::fs::File::open(&plain).unwrap()).unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for k in 0..input.len() {
        w.raw_copy_file(input.by_index_raw(k).unwrap()).unwrap();
    }
    w.start_file(
        "extra.bin",
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored),
    )
    .unwrap();
    w.write_all(&noise(extra, i + 1)).unwrap();
    w.finish().unwrap();
    std::fs::remove_file(plain).unwrap();
    path
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// A fresh start of the library, then the checks a person would make.
fn assert_consistent(home: &Path, moment: &str) -> usize {
    let o = snapdesk(home)
        .args(["--json", "library", "verify"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{moment}: {}", stdout(&o));
    let v = json(&o);
    for k in ["missing", "corrupt", "orphans", "leftovers", "catalog"] {
        assert_eq!(v[k].as_array().map(Vec::len), Some(0), "{moment}: {k}: {v}");
    }
    // Nothing half-written: no import temp file survives the start.
    let tmp = home.join("data/library/tmp");
    let left: Vec<String> = std::fs::read_dir(&tmp)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("imp-"))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "{moment}: {left:?}");
    v["entries"].as_u64().unwrap() as usize
}

fn kill_at(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false; // finished before the moment came
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    !finished
}

#[test]
fn kill_9_of_library_import_at_random_moments_leaves_the_library_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let rounds = 24u64;
    let files: Vec<PathBuf> = (0..rounds)
        .map(|i| archive(tmp.path(), i, 12 << 20))
        .collect();
    // How long one import takes here, from the process start to its end.
    let probe = archive(tmp.path(), 999, 12 << 20);
    let t = Instant::now();
    let o = snapdesk(&home)
        .args(["library", "import"])
        .arg(&probe)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let full = t.elapsed().as_millis() as u64;
    let mut rng = Rng::new();
    let mut killed = 0;
    let mut expected = 1;
    for (i, f) in files.iter().enumerate() {
        let at = Duration::from_millis(rng.below(full + full / 5));
        let mut cmd = snapdesk(&home);
        cmd.args(["library", "import"]).arg(f);
        if kill_at(cmd, at) {
            killed += 1;
        }
        let entries = assert_consistent(&home, &format!("round {i}, kill at {at:?}"));
        // Either the whole entry or none.
        assert!(entries == expected || entries == expected + 1, "{entries}");
        expected = entries;
    }
    assert!(
        killed >= rounds as usize / 2,
        "only {killed} kills landed mid-import"
    );
    // Every archive imports whole afterwards.
    let o = snapdesk(&home)
        .arg("library")
        .arg("import")
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(
        assert_consistent(&home, "after re-import"),
        rounds as usize + 1
    );
}

#[test]
fn kill_9_of_a_download_into_the_library_at_random_moments_leaves_it_consistent() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let key = emu.manage_key().to_owned();
    let (dep, _) = emu.deployment(0);
    let o = snapdesk(&home)
        .env("LD_API_KEY", &key)
        .args([
            "context",
            "add",
            "t",
            "--url",
            emu.url(),
            "--deployment",
            &dep,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let mut rng = Rng::new();
    let rounds = 20;
    let mut killed = 0;
    let mut expected = 0;
    for i in 0..rounds {
        let seeded = emu.admin(
            "/_admin/seed",
            &format!(r#"{{"deployment_id": "{dep}", "archive_bytes": 3000000}}"#),
        );
        let id = seeded["id_str"].as_str().unwrap().to_owned();
        // About 1.5 s of transfer, then the hash, the checks and the commit.
        emu.admin(
            "/_admin/faults",
            r#"{"count": 1, "kind": "throttle", "bytes_per_sec": 2000000, "path_prefix": "/_storage"}"#,
        );
        // Within the transfer and the steps after it (a kill past them finds the process
        // gone): about 8 in 10 land, so the check below holds but for a 1 in 10,000 chance.
        // Up to 2.5 s, 6 in 10 landed and 10 of 20 failed one run in 8.
        let at = Duration::from_millis(rng.below(1800));
        let mut cmd = snapdesk(&home);
        cmd.env("LD_API_KEY", &key)
            .args(["snapshots", "download", "--snapshot", &id]);
        if kill_at(cmd, at) {
            killed += 1;
        }
        emu.admin_delete_faults();
        let entries = assert_consistent(&home, &format!("round {i}, kill at {at:?}"));
        assert!(entries == expected || entries == expected + 1, "{entries}");
        // The same download again completes into the library (resuming when it can).
        let o = snapdesk(&home)
            .env("LD_API_KEY", &key)
            .args(["--json", "snapshots", "download", "--snapshot", &id])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "round {i}: {}", stdout(&o));
        let v = json(&o);
        assert_eq!(v["library"][0]["stored"], "yes", "{v}");
        expected = assert_consistent(&home, &format!("round {i}, after the retry"));
        assert_eq!(expected, i + 1);
    }
    eprintln!("{killed} of {rounds} kills landed mid-download");
    assert!(
        killed >= rounds / 3,
        "only {killed} kills landed mid-download"
    );
}

#[test]
fn kill_9_of_collect_while_it_writes_into_the_library_leaves_no_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let lib_tmp = home.join("data/library/tmp");
    let mut landed = 0;
    for round in 0..3 {
        let mut child = snapdesk(&home)
            .args(["collect", "--no-iggy"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill the moment the archive's temp file appears: mid-write.
        let start = Instant::now();
        let mut seen = None;
        while start.elapsed() < Duration::from_secs(60) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            seen = std::fs::read_dir(&lib_tmp).ok().and_then(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .next()
            });
            if seen.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill();
        child.wait().unwrap();
        if let Some(name) = seen {
            landed += 1;
            assert!(
                name.starts_with(&format!("imp-{}-", child.id())),
                "round {round}: the temp file {name} is not owned by the collecting process"
            );
        }
        assert_consistent(&home, &format!("collect round {round}"));
        let left: Vec<_> = std::fs::read_dir(&lib_tmp)
            .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "round {round}: {left:?}");
    }
    assert!(landed > 0, "no kill landed while collect was writing");
}
