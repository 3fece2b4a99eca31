//! A full disk gets a clear message and leaves nothing half-written: `collect` and a
//! download into a 16 KiB tmpfs. Needs root to mount (CI runs as root): without it the tests
//! skip, saying so, and under `CI=true` they fail instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use snapdesk_tests::cli::{snapdesk, stderr};
use snapdesk_tests::emu::EmulatorProcess;
use snapdesk_tests::skip;

struct TinyDisk {
    dir: tempfile::TempDir,
}

impl TinyDisk {
    /// A mounted 16 KiB tmpfs, or a skip (a failure under `CI=true`) saying why not.
    fn mount() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = match Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16k", "tmpfs"])
            .arg(dir.path())
            .output()
        {
            Ok(o) if o.status.success() => Ok(Self { dir }),
            Ok(o) => Err(format!(
                "cannot mount a small tmpfs here (needs root): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run mount: {e}")),
        };
        skip::require_or_skip(mounted)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect()
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn collect_on_a_full_disk_says_so_and_leaves_nothing() {
    let Some(disk) = TinyDisk::mount() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let o = snapdesk(home.path())
        .args(["collect", "--no-iggy", "--out"])
        .arg(disk.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.starts_with("error[disk_full]"), "{e}");
    assert!(e.contains("hint: free some disk space"), "{e}");
    assert!(disk.files().is_empty(), "left behind: {:?}", disk.files());
}

#[cfg(target_os = "linux")]
#[test]
fn bundling_iggy_data_onto_a_full_disk_says_so_and_leaves_nothing() {
    let Some(disk) = TinyDisk::mount() else {
        return;
    };
    let src = tempfile::tempdir().unwrap();
    let part = src.path().join("streams/0/topics/0/partitions/0");
    std::fs::create_dir_all(&part).unwrap();
    // 1 MiB of incompressible-ish data: more than the disk holds.
    let data: Vec<u8> = (0..1_048_576u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(part.join("00000000000000000000.log"), data).unwrap();
    let home = tempfile::tempdir().unwrap();
    let o = snapdesk(home.path())
        .args(["collect", "--iggy-data"])
        .arg(src.path())
        .arg("--out")
        .arg(disk.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.starts_with("error[disk_full]"), "{e}");
    assert!(disk.files().is_empty(), "left behind: {:?}", disk.files());
}

#[cfg(target_os = "linux")]
#[test]
fn a_download_onto_a_full_disk_says_so_and_leaves_nothing() {
    let Some(disk) = TinyDisk::mount() else {
        return;
    };
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0"]);
    let (dep, name) = emu.deployment(0);
    let v = emu.admin(
        "/_admin/seed",
        &format!(r#"{{"deployment_id": "{dep}", "archive_bytes": 400000}}"#),
    );
    let id = v["id_str"].as_str().unwrap().to_owned();
    let home = tempfile::tempdir().unwrap();
    let o = snapdesk(home.path())
        .args([
            "context",
            "add",
            "emu",
            "--url",
            emu.url(),
            "--keep-key",
            "--deployment",
        ])
        .arg(format!("{dep}={name}"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = snapdesk(home.path())
        .env("LD_API_KEY", emu.read_key())
        .args(["snapshots", "download", "--snapshot", &id, "--out"])
        .arg(disk.path().join("x.zip"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    // The typed code, not just the OS's words somewhere in the text.
    assert!(e.starts_with("error[disk_full]"), "{e}");
    assert!(e.contains("hint: free some disk space"), "{e}");
    assert!(disk.files().is_empty(), "left behind: {:?}", disk.files());
}
