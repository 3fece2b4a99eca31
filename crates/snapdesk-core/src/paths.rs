//! Where Snapdesk keeps its files.
//!
//! Precedence: an explicit directory (the `--data-dir` flag) over the `SNAPDESK_HOME`
//! environment variable over the platform's conventions (XDG on Linux, Application Support on
//! macOS, AppData on Windows). With an override every directory lives under that one root, so a
//! test can point the whole application at a temporary directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, ErrorCode, Result};

/// Environment variable that moves every Snapdesk directory under one root.
pub const HOME_ENV: &str = "SNAPDESK_HOME";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppPaths {
    /// Contexts and settings (`contexts.toml`).
    #[ts(type = "string")]
    pub config_dir: PathBuf,
    /// The library catalogue and anything that must survive a cache purge.
    #[ts(type = "string")]
    pub data_dir: PathBuf,
    /// Downloaded archives; may be purged.
    #[ts(type = "string")]
    pub cache_dir: PathBuf,
    /// Daily log files.
    #[ts(type = "string")]
    pub log_dir: PathBuf,
}

impl AppPaths {
    /// Resolves the directories without creating them.
    pub fn resolve(explicit_home: Option<&Path>) -> Result<Self> {
        let env_home = std::env::var_os(HOME_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Self::resolve_with(explicit_home, env_home.as_deref())
    }

    /// Same as [`AppPaths::resolve`] with the environment passed in (testable without
    /// mutating the process environment).
    pub fn resolve_with(explicit_home: Option<&Path>, env_home: Option<&Path>) -> Result<Self> {
        if let Some(home) = explicit_home.or(env_home) {
            let home = absolute(home)?;
            return Ok(Self::under(&home));
        }
        let dirs =
            directories::ProjectDirs::from("dev", "Snapdesk", "snapdesk").ok_or_else(|| {
                Error::new(ErrorCode::Config, "cannot determine the home directory")
                    .with_hint(format!("set {HOME_ENV} or pass --data-dir"))
            })?;
        let data_dir = dirs.data_dir().to_path_buf();
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            log_dir: data_dir.join("logs"),
            data_dir,
            cache_dir: dirs.cache_dir().to_path_buf(),
        })
    }

    /// Every directory under one root, as used by `SNAPDESK_HOME` and `--data-dir`.
    pub fn under(home: &Path) -> Self {
        let data_dir = home.join("data");
        Self {
            config_dir: home.join("config"),
            log_dir: data_dir.join("logs"),
            data_dir,
            cache_dir: home.join("cache"),
        }
    }

    /// Creates every directory that does not exist yet.
    pub fn ensure(&self) -> Result<()> {
        for dir in [
            &self.config_dir,
            &self.data_dir,
            &self.cache_dir,
            &self.log_dir,
        ] {
            std::fs::create_dir_all(dir).map_err(|e| Error::io_at(e, "create directory", dir))?;
        }
        Ok(())
    }

    /// The file that holds named Supervisor contexts.
    pub fn contexts_file(&self) -> PathBuf {
        self.config_dir.join("contexts.toml")
    }
}

/// Where a file being written lives until it is whole: `<path>.partial`, renamed into place at
/// the end, so a crash, a kill or a full disk never leaves a half-written file under `path`.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// A name part that is safe in a file name on every OS, whatever a server or host sent:
/// letters, digits, `-`, `_` and `.`; anything else becomes `_`; no leading dots, so `..`
/// and hidden names cannot appear.
pub fn safe_file_part(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches('.').to_owned();
    if trimmed.is_empty() {
        "_".to_owned()
    } else {
        trimmed
    }
}

/// Where to write an output file given `--out`: a directory (existing, or written with a
/// trailing `/`) gets `file_name` inside it; anything else is the file itself; nothing means
/// `file_name` in the current directory.
pub fn output_file(out: Option<&Path>, file_name: &str) -> PathBuf {
    match out {
        None => PathBuf::from(file_name),
        Some(p)
            if p.is_dir()
                || p.as_os_str()
                    .to_string_lossy()
                    .ends_with(std::path::MAIN_SEPARATOR) =>
        {
            p.join(file_name)
        }
        Some(p) => p.to_path_buf(),
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(|e| {
        Error::new(
            ErrorCode::Config,
            format!("cannot resolve {}: {e}", path.display()),
        )
    })?;
    Ok(cwd.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_dir_wins_over_environment() {
        let p =
            AppPaths::resolve_with(Some(Path::new("/tmp/a")), Some(Path::new("/tmp/b"))).unwrap();
        assert_eq!(p.config_dir, Path::new("/tmp/a/config"));
        assert_eq!(p.data_dir, Path::new("/tmp/a/data"));
        assert_eq!(p.cache_dir, Path::new("/tmp/a/cache"));
        assert_eq!(p.log_dir, Path::new("/tmp/a/data/logs"));
    }

    #[test]
    fn environment_home_is_used_without_a_flag() {
        let p = AppPaths::resolve_with(None, Some(Path::new("/srv/snap"))).unwrap();
        assert_eq!(p.data_dir, Path::new("/srv/snap/data"));
        assert_eq!(
            p.contexts_file(),
            Path::new("/srv/snap/config/contexts.toml")
        );
    }

    #[test]
    fn relative_override_becomes_absolute() {
        let p = AppPaths::resolve_with(Some(Path::new("rel/home")), None).unwrap();
        assert!(p.data_dir.is_absolute());
        assert!(p.data_dir.ends_with("rel/home/data"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn platform_default_follows_xdg_on_linux() {
        let p = AppPaths::resolve_with(None, None).unwrap();
        let s = p.config_dir.to_string_lossy().to_string();
        assert!(s.ends_with("snapdesk"), "{s}");
        assert!(
            p.log_dir.ends_with("snapdesk/logs"),
            "{}",
            p.log_dir.display()
        );
    }

    #[test]
    fn output_file_understands_directories_and_trailing_slashes() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(
            output_file(Some(tmp.path()), "a.zip"),
            tmp.path().join("a.zip")
        );
        let new_dir = format!("{}/new/", tmp.path().display());
        assert_eq!(
            output_file(Some(Path::new(&new_dir)), "a.zip"),
            tmp.path().join("new/a.zip")
        );
        assert_eq!(
            output_file(Some(&tmp.path().join("x.zip")), "a.zip"),
            tmp.path().join("x.zip")
        );
        assert_eq!(output_file(None, "a.zip"), Path::new("a.zip"));
        assert_eq!(
            partial_path(Path::new("/d/a.zip")),
            Path::new("/d/a.zip.partial")
        );
        assert_eq!(safe_file_part("../../../tmp/evil"), "_.._.._tmp_evil");
        assert_eq!(safe_file_part("/etc/passwd"), "_etc_passwd");
        assert_eq!(safe_file_part(".."), "_");
        assert_eq!(
            safe_file_part("snapshot-20260601-103000"),
            "snapshot-20260601-103000"
        );
    }

    #[test]
    fn ensure_creates_all_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let p = AppPaths::under(tmp.path());
        p.ensure().unwrap();
        for d in [&p.config_dir, &p.data_dir, &p.cache_dir, &p.log_dir] {
            assert!(d.is_dir(), "{}", d.display());
        }
    }
}
