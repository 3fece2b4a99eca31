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
    /// Free bytes, the root-reserved blocks included (`f_bfree`).
    pub free_bytes: u64,
    /// Free bytes an unprivileged user may use (`f_bavail`).
    pub avail_bytes: u64,
    pub files: u64,
    pub files_free: u64,
}

impl FsStats {
    /// Available space in KiB, as `df -k --output=avail` prints it.
    pub fn avail_kib(&self) -> u64 {
        self.avail_bytes / 1024
    }

    /// The space on `df`'s base (used / (used + avail): reserved blocks count as neither).
    pub fn df(&self) -> rules::DfSpace {
        rules::DfSpace {
            size: self.total_bytes,
            free: self.free_bytes,
            avail: self.avail_bytes,
        }
    }

    /// Free space in percent, on `df`'s base: `100 - Use%` before rounding.
    pub fn free_percent(&self) -> f64 {
        self.df().free_percent()
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
                free_bytes: s.f_bfree.saturating_mul(unit),
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
    let df = st.df();
    let pct = df.free_percent();
    let (status, rule) = rules::disk_free_percent(pct);
    let mut summary = format!(
        "{} free of {} ({pct:.1}% free, df Use% {}%) on {}{note}",
        human_bytes(st.avail_bytes),
        human_bytes(st.total_bytes),
        df.df_use_percent(),
        dir.display()
    );
    if df.large_reserve() {
        summary.push_str(&format!(
            "; {} more ({:.0}% of the size) is reserved for root",
            human_bytes(df.reserved()),
            100.0 * df.reserved() as f64 / st.total_bytes.max(1) as f64
        ));
    }
    let mut o = Outcome::new(status, summary)
        .fact("path", dir.display())
        .fact("total", human_bytes(st.total_bytes))
        .fact("available", human_bytes(st.avail_bytes))
        .fact("available_kib", st.avail_kib())
        .fact("used_kib", df.used() / 1024)
        .fact("reserved_kib", df.reserved() / 1024)
        .fact("total_kib", st.total_bytes / 1024)
        .fact("free_percent", format!("{pct:.1}"))
        .fact("df_use_percent", df.df_use_percent())
        .fact("rule", rule)
        .fact(
            "source",
            "statvfs (percentages on df's base: used / (used + available))",
        );
    let mut fixes: Vec<&str> = Vec::new();
    if status != Status::Pass {
        fixes.push(
            "Free space or grow the filesystem; check Iggy's retention (message expiry, max \
             topic size) and the segment cleaner. A full disk stops the server from appending.",
        );
    }
    if df.large_reserve() {
        fixes.push(
            "The root-reserved blocks are large and Iggy (not running as root) cannot use \
             them: on ext4 a data-only filesystem can lower them with `tune2fs -m 1 DEVICE`.",
        );
    }
    if !fixes.is_empty() {
        o = o.remediation(fixes.join(" "));
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
    /// The device's `major:minor`.
    pub dev: String,
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
        dev: l[2].to_owned(),
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

/// The directory the storage checks look at (resolved), the note for the summary, and the
/// mount that holds it.
pub fn data_mount(ctx: &Ctx) -> Result<(PathBuf, String, Mount), Outcome> {
    let (dir, note) = target(ctx);
    let real = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    let Ok(text) = sys::read("/proc/self/mountinfo") else {
        return Err(Outcome::skipped("cannot read /proc/self/mountinfo"));
    };
    let mounts: Vec<Mount> = text.lines().filter_map(parse_mountinfo_line).collect();
    match mount_for(&mounts, &real) {
        Some(m) => Ok((real, note, m.clone())),
        None => Err(Outcome::error(format!(
            "no mount found for {}",
            real.display()
        ))),
    }
}

/// The kernel's name of a block device (`vda`, `sda1`, `dm-0`) from its `major:minor`.
pub fn block_name(dev: &str) -> Option<String> {
    let link = std::fs::read_link(format!("/sys/dev/block/{dev}")).ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

/// Whether an ext4 filesystem has a journal: `journal_task` in sysfs says `<none>` without
/// one (Linux 5.x+); else `/proc/fs/ext4/<dev>/options` lists a `data=` mode only with one.
pub fn ext4_journal(journal_task: Option<&str>, proc_options: Option<&str>) -> Option<bool> {
    if let Some(t) = journal_task {
        return Some(t.trim() != "<none>");
    }
    proc_options.map(|o| o.split_whitespace().any(|l| l.starts_with("data=")))
}

/// Whether mount options (`a,b,c`) turn on online discard.
pub fn has_discard(options: &str) -> bool {
    options.split(',').any(|o| o == "discard")
}

fn ext4_state(m: &Mount) -> rules::Ext4State {
    let name = block_name(&m.dev);
    let journal = name.as_deref().and_then(|n| {
        let task = sys::read_trim(format!("/sys/fs/ext4/{n}/journal_task"));
        let opts = sys::read(format!("/proc/fs/ext4/{n}/options")).ok();
        ext4_journal(task.as_deref(), opts.as_deref())
    });
    rules::Ext4State {
        journal,
        discard: has_discard(&format!("{},{}", m.mount_options, m.super_options)),
    }
}

fn data_filesystem(ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let (real, note, m) = match data_mount(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let options = format!("{},{}", m.mount_options, m.super_options);
    let noatime = options.split(',').any(|o| o == "noatime");
    let base = format!(
        "{} on {} ({}){note}",
        real.display(),
        m.mount_point,
        m.fstype
    );
    let mut o = match m.fstype.as_str() {
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
    if m.fstype == "ext4" {
        let state = ext4_state(&m);
        let mut fixes: Vec<String> = o.remediation.take().into_iter().collect();
        for (st, remark) in rules::ext4_remarks(&state) {
            o.status = Outcome::worst(o.status, st);
            o.summary.push_str(&format!("; {remark}"));
        }
        if state.journal == Some(false) {
            fixes.push(
                "Give the filesystem a journal (unmounted: `tune2fs -O has_journal DEVICE`) \
                 or move the data to a journaled filesystem."
                    .to_owned(),
            );
        }
        if state.discard {
            fixes.push(
                "Drop the `discard` mount option and trim periodically instead \
                 (`systemctl enable --now fstrim.timer`, or `fstrim` from cron)."
                    .to_owned(),
            );
        }
        if !fixes.is_empty() {
            o.remediation = Some(fixes.join(" "));
        }
        o = o.fact(
            "journal",
            match state.journal {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            },
        );
        o = o.fact("discard", state.discard);
        o = o.fact("rule", rules::EXT4_RULE);
    }
    o.fact("path", real.display())
        .fact("fstype", &m.fstype)
        .fact("mount_point", &m.mount_point)
        .fact("device", &m.source)
        .fact("mount_options", &m.mount_options)
        .fact("super_options", &m.super_options)
        .fact("noatime", noatime)
        .fact(
            "source",
            "/proc/self/mountinfo, /sys/fs/ext4/DEV/journal_task, /proc/fs/ext4/DEV/options",
        )
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
    fn ext4_journal_and_discard_are_read() {
        assert_eq!(ext4_journal(Some("<none>"), None), Some(false));
        assert_eq!(ext4_journal(Some("412"), None), Some(true));
        let opts = "rw\nbsddf\ndiscard\ndelalloc\ncommit=5\n";
        assert_eq!(ext4_journal(None, Some(opts)), Some(false));
        let journaled = "rw\ndelalloc\ndata=ordered\n";
        assert_eq!(ext4_journal(None, Some(journaled)), Some(true));
        assert_eq!(ext4_journal(None, None), None);
        assert!(has_discard("rw,relatime,discard"));
        assert!(!has_discard("rw,nodiscard"));
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
