//! No test names an absolute machine path. A fixture found at `/work/...` or `/home/...`
//! exists on one machine only: everywhere else the test skips or fails for the wrong reason.
//! Tests find fixtures from `CARGO_MANIFEST_DIR` (`snapdesk_tests::skip::fixtures_or_skip`)
//! and write into temporary directories (`tempfile`).
//!
//! Scanned: every `.rs` file under `tests/` and `crates/*/tests/`, and the `#[cfg(test)]`
//! part (from the first `#[cfg(test)]` to the end: test modules sit at the end of a file)
//! of every `.rs` file under `crates/*/src/` and `src-tauri/src/`. Comment lines are skipped.
//!
//! What counts: a path starting at a machine-specific root (a checkout, a home, a mount, a
//! temporary directory under a fixed name). Not counted: system paths that are the same on
//! every Linux machine and that tests use on purpose (`/proc`, `/sys`, `/etc/passwd` in a
//! path-traversal test, `/dev/null`, `/usr/bin/...`), and a root inside a relative path
//! (`rel/home/data`, `../../../tmp/evil`).

use std::path::{Path, PathBuf};

use snapdesk_tests::workspace;

/// Roots whose content differs from one machine to the next. Spelled without their slashes
/// so that this file does not name them itself.
const MACHINE_ROOTS: &[&str] = &[
    "work",
    "home",
    "root",
    "Users",
    "mnt",
    "media",
    "srv",
    "opt",
    "tmp",
    "var/tmp",
    "var/folders",
    "builds",
    "runner",
];

/// Absolute paths that tests use as plain data (path arithmetic, parsing, redaction input),
/// never as a place on disk: (file, the path as written, why it is fine).
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "crates/snapdesk-core/src/paths.rs",
        "/tmp/a",
        "AppPaths::resolve_with joins strings; nothing is created or read",
    ),
    (
        "crates/snapdesk-core/src/paths.rs",
        "/tmp/b",
        "the environment value that the explicit dir must win over; never touched",
    ),
    (
        "crates/snapdesk-core/src/paths.rs",
        "/srv/snap",
        "AppPaths::resolve_with joins strings; nothing is created or read",
    ),
    (
        "crates/snapdesk-collector/src/iggy.rs",
        "/opt/iggy",
        "a process's working directory as data, joined to a relative config path",
    ),
    (
        "crates/snapdesk-collector/src/redact.rs",
        "/home/iggy",
        "text given to the redactor (PWD=...), which must leave it unchanged",
    ),
];

/// The (line number, path) of every machine path in `text`. `test_part_only`: look only from
/// the first `#[cfg(test)]` on.
fn machine_paths(text: &str, test_part_only: bool) -> Vec<(usize, String)> {
    let mut in_tests = !test_part_only;
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if !in_tests {
            in_tests = line.trim_start().starts_with("#[cfg(test)]");
            continue;
        }
        if line.trim_start().starts_with("//") {
            continue;
        }
        for root in MACHINE_ROOTS {
            let needle = format!("/{root}/");
            for (at, _) in line.match_indices(&needle) {
                // A root inside a relative path (`rel/home/x`, `../tmp/x`) is not absolute.
                let before = line[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || "._-~/$}".contains(c)) {
                    continue;
                }
                let path: String = line[at..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !"\"'`),;".contains(*c))
                    .collect();
                if !found.contains(&(i + 1, path.clone())) {
                    found.push((i + 1, path));
                }
            }
        }
    }
    found
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// (file, test part only) for every file the rule covers.
fn scanned_files(root: &Path) -> Vec<(PathBuf, bool)> {
    let mut whole = Vec::new();
    let mut test_part = Vec::new();
    rs_files(&root.join("tests"), &mut whole);
    rs_files(&root.join("src-tauri").join("src"), &mut test_part);
    let crates = std::fs::read_dir(root.join("crates")).expect("crates/ is readable");
    for c in crates.flatten() {
        rs_files(&c.path().join("tests"), &mut whole);
        rs_files(&c.path().join("src"), &mut test_part);
    }
    let mut all: Vec<(PathBuf, bool)> = whole.into_iter().map(|p| (p, false)).collect();
    all.extend(test_part.into_iter().map(|p| (p, true)));
    all.sort();
    all
}

#[test]
fn no_test_names_an_absolute_machine_path() {
    let root = workspace::root();
    let this_file = Path::new(file!())
        .file_name()
        .expect("file name")
        .to_owned();
    let files = scanned_files(&root);
    assert!(files.len() > 40, "the scan found too few files: {files:?}");
    let mut offences = Vec::new();
    for (path, test_part_only) in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        // This file names the allowed paths in its table.
        if rel.starts_with("tests/tests/") && path.file_name() == Some(this_file.as_os_str()) {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("a readable source file");
        for (line, found) in machine_paths(&text, *test_part_only) {
            let allowed = ALLOWED
                .iter()
                .any(|(f, p, _)| *f == rel && found.starts_with(p));
            if !allowed {
                offences.push(format!("{rel}:{line}: {found}"));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "tests name absolute machine paths (find fixtures from CARGO_MANIFEST_DIR with \
         snapdesk_tests::skip::fixtures_or_skip, write into a tempfile::tempdir; a path that is \
         only data goes into ALLOWED with the reason):\n  {}",
        offences.join("\n  ")
    );
}

#[test]
fn the_scanner_flags_machine_paths_and_spares_system_and_relative_ones() {
    let sample = [
        r#"let a = PathBuf::from(format!("/work/shared/fixtures/{v}/x.tar.gz"));"#,
        r#"let b = "/home/alice/data";"#,
        r#"cmd.arg("-o").arg("/tmp/.body-$$");"#,
        r#"// a comment naming /work/shared is fine"#,
        r#"assert_eq!(safe_file_part("/etc/passwd"), "_etc_passwd");"#,
        r#"let c = "/proc/self/status"; let d = Path::new("rel/home/data");"#,
        r#"assert_eq!(safe_file_part("../../../tmp/evil"), "x");"#,
        r#"let e = tmp.path().join("tmp/x");"#,
    ]
    .join("\n");
    let found = machine_paths(&sample, false);
    assert_eq!(
        found,
        vec![
            (1, "/work/shared/fixtures/{v}/x.tar.gz".to_owned()),
            (2, "/home/alice/data".to_owned()),
            (3, "/tmp/.body-$$".to_owned()),
        ]
    );
    // Only the test part of a source file counts.
    let src = "const P: &str = \"/opt/app/x\";\n#[cfg(test)]\nmod tests { const Q: &str = \"/opt/app/y\"; }";
    assert_eq!(machine_paths(src, true), vec![(3, "/opt/app/y".to_owned())]);
}
