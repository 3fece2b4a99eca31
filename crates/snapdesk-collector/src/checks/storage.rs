//! Storage of the Iggy data directory: where it is, free space and inodes, the filesystem it
//! lives on, and whether it can be written. Without a known data directory the checks look
//! at the root filesystem instead (and say so), so they always report something.

use std::io::Write;
use std::path::{Path, PathBuf};

use snapdesk_report::Status;

use super::{rules, CheckDef, Ctx, Outcome};
use crate::sys;

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "storage.data_dir",
            category: "storage",
            title: "Iggy data directory",
            run: data_dir,
        },
        CheckDef {
            id: "storage.data_free_space",
            category: "storage",
            title: "Free space of the data filesystem",
            run: data_free_space,
        },
        CheckDef {
            id: "storage.data_inodes",
            category: "storage",
            title: "Free inodes of the data filesystem",
            run: data_inodes,
        },
        CheckDef {
            id: "storage.data_filesystem",
            category: "storage",
            title: "Filesystem type and mount options of the data directory",
            run: data_filesystem,
        },
        CheckDef {
            id: "storage.data_writable",
            category: "storage",
            title: "Data directory is writable",
            run: data_writable,
        },
    ]
}

/// Formats a byte count in binary units (`1.5 GiB`).
pub fn human_bytes(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// The directory the storage checks look at, and a note for the summary when it is not
/// the Iggy data directory.
fn target(ctx: &Ctx) -> (PathBuf, String) {
    match &ctx.iggy.data_dir {
        Some(d) => (d.clone(), String::new()),
        None => (
            PathBuf::from("/"),
            " (no Iggy data directory known: checked /)".to_owned(),
        ),
    }
}

fn data_dir(ctx: &Ctx) -> Outcome {
    let Some(d) = &ctx.iggy.data_dir else {
        return Outcome::skipped("no Iggy data directory found; pass --iggy-data");
    };
    let mut o =
        Outcome::info(format!("Iggy data directory {}", d.display())).fact("path", d.display());
    if let Ok(real) = std::fs::canonicalize(d) {
        if real != *d {
            o = o.fact("real_path", real.display());
        }
    }
    // Which parts of the data layout are there tells the Iggy version family (0.9 adds
    // metadata/).
    let parts = ["streams", "state", "runtime", "logs", "metadata", "offsets"];
    let present: Vec<&str> = parts.into_iter().filter(|p| d.join(p).exists()).collect();
    o.fact("contents", present.join(", "))
}

/// What `statvfs` says about a filesystem, in bytes and inodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsStats {
    pub total_bytes: u64,
    pub avail_bytes: u64,
    pub files: u64,
    pub files_free: u64,
}

impl FsStats {
    /// Available space in KiB, as `df -k --output=avail` prints it.
    pub fn avail_kib(&self) -> u64 {
        self.avail_bytes / 1024
    }

    /// Space available to unprivileged users, in percent of the filesystem size.
    pub fn free_percent(&self) -> f64 {
        if self.total_bytes == 0 {
            return 100.0;
        }
        100.0 * self.avail_bytes as f64 / self.total_bytes as f64
    }
}

#[cfg(unix)]
pub fn fs_stats(path: &Path) -> Result<FsStats, String> {
    match rustix::fs::statvfs(path) {
        Ok(s) => {
            // Block counts are in f_frsize units (f_bsize is only the preferred I/O size).
            let unit = if s.f_frsize > 0 {
                s.f_frsize
            } else {
                s.f_bsize
            };
            Ok(FsStats {
                total_bytes: s.f_blocks.saturating_mul(unit),
                avail_bytes: s.f_bavail.saturating_mul(unit),
                files: s.f_files,
                files_free: s.f_favail,
            })
        }
        Err(e) => Err(format!("statvfs({}) failed: {e}", path.display())),
    }
}

#[cfg(not(unix))]
pub fn fs_stats(_path: &Path) -> Result<FsStats, String> {
    Err(format!(
        "statvfs is not available on {}",
        std::env::consts::OS
    ))
}

fn data_free_space(ctx: &Ctx) -> Outcome {
    if !cfg!(unix) {
        return Outcome::unsupported_os();
    }
    let (dir, note) = target(ctx);
    let st = match fs_stats(&dir) {
        Ok(s) => s,
        Err(e) => return Outcome::error(e),
    };
    let pct = st.free_percent();
    let (status, rule) = rules::disk_free_percent(pct);
    let summary = format!(
        "{} free of {} ({pct:.1}%) on {}{note}",
        human_bytes(st.avail_bytes),
        human_bytes(st.total_bytes),
        dir.display()
    );
    let mut o = Outcome::new(status, summary)
        .fact("path", dir.display())
        .fact("total", human_bytes(st.total_bytes))
        .fact("available", human_bytes(st.avail_bytes))
        .fact("available_kib", st.avail_kib())
        .fact("total_kib", st.total_bytes / 1024)
        .fact("free_percent", format!("{pct:.1}"))
        .fact("rule", rule)
        .fact("source", "statvfs");
    if status != Status::Pass {
        o = o.remediation(
            "Free space or grow the filesystem; check Iggy's retention (message expiry, max \
             topic size) and the segment cleaner. A full disk stops the server from appending.",
        );
    }
    o
}

fn data_inodes(ctx: &Ctx) -> Outcome {
    if !cfg!(unix) {
        return Outcome::unsupported_os();
    }
    let (dir, note) = target(ctx);
    let st = match fs_stats(&dir) {
        Ok(s) => s,
        Err(e) => return Outcome::error(e),
    };
    if st.files == 0 {
        return Outcome::info(format!(
            "the filesystem of {} does not report inode counts (dynamic inodes){note}",
            dir.display()
        ))
        .fact("path", dir.display());
    }
    let pct = 100.0 * st.files_free as f64 / st.files as f64;
    let (status, rule) = rules::inode_free_percent(pct);
    let summary = format!(
        "{} of {} inodes free ({pct:.1}%) on {}{note}",
        st.files_free,
        st.files,
        dir.display()
    );
    let mut o = Outcome::new(status, summary)
        .fact("path", dir.display())
        .fact("inodes_total", st.files)
        .fact("inodes_free", st.files_free)
        .fact("free_percent", format!("{pct:.1}"))
        .fact("rule", rule)
        .fact("source", "statvfs");
    if status != Status::Pass {
        o = o.remediation(
            "Inodes are running out: many small segment or index files. Remove stale data, \
             use larger segments, or recreate the filesystem with more inodes.",
        );
    }
    o
}

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
    pub mount_options: String,
    pub super_options: String,
}

/// Undoes the octal escapes (`\040` for a space) the kernel uses in mountinfo paths.
pub fn unescape_mount(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let digits = &bytes[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let v = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(byte) = u8::try_from(v) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_mountinfo_line(line: &str) -> Option<Mount> {
    let (left, right) = line.split_once(" - ")?;
    let l: Vec<&str> = left.split(' ').collect();
    let r: Vec<&str> = right.split(' ').collect();
    if l.len() < 6 || r.len() < 2 {
        return None;
    }
    Some(Mount {
        mount_point: unescape_mount(l[4]),
        mount_options: l[5].to_owned(),
        fstype: r[0].to_owned(),
        source: unescape_mount(r[1]),
        super_options: r.get(2).map(|s| s.to_string()).unwrap_or_default(),
    })
}

/// The mount that holds `path`: the longest mount point that is a path prefix of it (the
/// last one when several are stacked on the same point, as the kernel uses the top one).
pub fn mount_for<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    let mut best: Option<&Mount> = None;
    for m in mounts {
        if !path.starts_with(Path::new(&m.mount_point)) {
            continue;
        }
        let better = match best {
            None => true,
            Some(b) => m.mount_point.len() >= b.mount_point.len(),
        };
        if better {
            best = Some(m);
        }
    }
    best
}

fn data_filesystem(ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let (dir, note) = target(ctx);
    let real = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    let Ok(text) = sys::read("/proc/self/mountinfo") else {
        return Outcome::skipped("cannot read /proc/self/mountinfo");
    };
    let mounts: Vec<Mount> = text.lines().filter_map(parse_mountinfo_line).collect();
    let Some(m) = mount_for(&mounts, &real) else {
        return Outcome::error(format!("no mount found for {}", real.display()));
    };
    let options = format!("{},{}", m.mount_options, m.super_options);
    let noatime = options.split(',').any(|o| o == "noatime");
    let base = format!(
        "{} on {} ({}){note}",
        real.display(),
        m.mount_point,
        m.fstype
    );
    let o = match m.fstype.as_str() {
        "tmpfs" | "ramfs" => Outcome::warn(format!("{base}: data lost on reboot")).remediation(
            "Put the Iggy data directory on a persistent disk filesystem (ext4 or xfs).",
        ),
        "overlay" | "aufs" => Outcome::warn(format!("{base}: container layer")).remediation(
            "The data directory is inside the container's writable layer: mount a volume \
             for it, or the data is lost with the container and writes are slow.",
        ),
        _ if !noatime => Outcome::info(format!("{base}; 'noatime' is not set")).remediation(
            "Mount the data filesystem with `noatime` to save a metadata write per read.",
        ),
        _ => Outcome::pass(base),
    };
    o.fact("path", real.display())
        .fact("fstype", &m.fstype)
        .fact("mount_point", &m.mount_point)
        .fact("device", &m.source)
        .fact("mount_options", &m.mount_options)
        .fact("super_options", &m.super_options)
        .fact("noatime", noatime)
        .fact("source", "/proc/self/mountinfo")
}

fn data_writable(ctx: &Ctx) -> Outcome {
    let (dir, note) = match &ctx.iggy.data_dir {
        Some(d) => (d.clone(), String::new()),
        // /var/tmp is on the root filesystem on most systems and writable without root.
        None if Path::new("/var/tmp").is_dir() => (
            PathBuf::from("/var/tmp"),
            " (no Iggy data directory known: tested /var/tmp on the root filesystem)".to_owned(),
        ),
        None => (
            PathBuf::from("/"),
            " (no Iggy data directory known: tested /)".to_owned(),
        ),
    };
    let file = dir.join(format!(".snapdesk-write-test-{}", std::process::id()));
    let result = write_test(&file);
    // Always try to clean up, even when the write or fsync failed.
    let _ = std::fs::remove_file(&file);
    match result {
        Ok(()) => Outcome::pass(format!(
            "wrote, synced and removed 4 KiB in {}{note}",
            dir.display()
        ))
        .fact("path", dir.display()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Outcome::skipped(format!(
            "no permission to write in {} as this user ({e}); run as the Iggy user or root",
            dir.display()
        )),
        Err(e) => Outcome::fail(format!("cannot write to {}{note}: {e}", dir.display()))
            .fact("path", dir.display())
            .fact("error", e)
            .remediation(
                "Check that the filesystem is not read-only or full (dmesg may show I/O errors \
                 that remounted it read-only) and that the Iggy user owns the directory.",
            ),
    }
}

fn write_test(file: &Path) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)?;
    f.write_all(&[0x5a; 4096])?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(10 * 1024 * 1024 * 1024), "10.0 GiB");
    }

    #[test]
    fn mountinfo_lines() {
        let line = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard";
        let m = parse_mountinfo_line(line).unwrap();
        assert_eq!(m.mount_point, "/");
        assert_eq!(m.fstype, "ext4");
        assert_eq!(m.source, "/dev/vda");
        assert_eq!(m.mount_options, "rw,relatime");
        assert_eq!(m.super_options, "rw,discard");
        let tagged = "36 35 98:0 /mnt1 /var/lib/my\\040data rw,noatime master:1 - xfs /dev/sdb1 rw";
        let m = parse_mountinfo_line(tagged).unwrap();
        assert_eq!(m.mount_point, "/var/lib/my data");
        assert_eq!(m.fstype, "xfs");
        assert!(parse_mountinfo_line("garbage").is_none());
    }

    #[test]
    fn longest_prefix_mount_wins() {
        let text = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\
                    2 1 8:2 / /var/lib rw - xfs /dev/sda2 rw\n\
                    3 1 0:5 / /var/library rw - tmpfs tmpfs rw\n\
                    4 2 0:6 / /var/lib rw - overlay overlay rw\n";
        let mounts: Vec<Mount> = text.lines().filter_map(parse_mountinfo_line).collect();
        let m = mount_for(&mounts, Path::new("/var/lib/iggy")).unwrap();
        assert_eq!(m.fstype, "overlay");
        let m = mount_for(&mounts, Path::new("/var/libx")).unwrap();
        assert_eq!(m.fstype, "ext4");
        let m = mount_for(&mounts, Path::new("/var/library/a")).unwrap();
        assert_eq!(m.fstype, "tmpfs");
    }

    #[cfg(unix)]
    #[test]
    fn statvfs_of_a_temp_dir() {
        let dir = tempfile::tempdir().unwrap();
        let st = fs_stats(dir.path()).unwrap();
        assert!(st.total_bytes > 0);
        assert!(st.free_percent() <= 100.0);
    }

    #[test]
    fn write_test_creates_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        write_test(&f).unwrap();
        assert_eq!(std::fs::metadata(&f).unwrap().len(), 4096);
    }
}
