//! What a desktop host tells its UI and asks of the core, written once here so that the
//! Tauri host stays a set of one-line adapters: the events it pushes to the window, the
//! collection a person starts from the Collect section, and the files a launch names.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use snapdesk_collector::{iggy::IggyHints, CollectOptions};
use snapdesk_core::Cancel;
use ts_rs::TS;

/// Pushed to the app's window on its one event channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppEvent {
    /// Files to open: given on the command line, by a second launch, or dropped on the window.
    OpenFiles { paths: Vec<String> },
    /// The library changed (this app or another process, such as the CLI); `seq` is the last
    /// change seen.
    LibraryChanged {
        #[ts(type = "number")]
        seq: i64,
    },
    /// The connections changed on disk (the CLI added, edited or removed a context).
    ConnectionsChanged,
    /// A report tried to leave for this address; nothing was opened. The UI asks the person
    /// before the system browser gets it.
    LinkRequested { url: String },
}

/// A collection of this machine as the Collect section asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CollectRequest {
    /// Redact secrets (on by default in the UI).
    pub redact: bool,
    /// Bundle the Iggy data directory.
    pub include_iggy: bool,
    /// The server's `config.toml`, when discovery is not enough.
    pub iggy_config: Option<String>,
    /// The server's data directory, when discovery is not enough.
    pub iggy_data: Option<String>,
}

impl CollectRequest {
    /// The collector's options for this request; `cancel` stops it.
    pub fn options(&self, cancel: &Cancel) -> CollectOptions {
        let path = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        };
        CollectOptions {
            redact: self.redact,
            include_iggy: self.include_iggy,
            iggy: IggyHints {
                config_path: path(&self.iggy_config),
                data_dir: path(&self.iggy_data),
            },
            cancel: cancel.clone(),
            ..CollectOptions::default()
        }
    }
}

/// The files a launch names (`snapdesk-app A.zip B.zip`, or a second launch's arguments),
/// made absolute against the launch's own directory. Options are skipped.
pub fn files_of_launch(args: &[String], cwd: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_value = false;
    for a in args.iter().skip(1) {
        if skip_value {
            skip_value = false;
            continue;
        }
        if a == "--data-dir" {
            skip_value = true;
            continue;
        }
        if a.starts_with('-') {
            continue;
        }
        let p = Path::new(a);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        };
        out.push(abs.display().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_files_are_made_absolute_and_options_skipped() {
        let cwd = std::env::temp_dir().join("launch-dir");
        let other = std::env::temp_dir().join("b.zip").display().to_string();
        let args: Vec<String> = ["snapdesk-app", "a.zip", "--data-dir", "d", &other, "-v"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            files_of_launch(&args, &cwd),
            vec![cwd.join("a.zip").display().to_string(), other]
        );
    }

    #[test]
    fn a_collect_request_maps_blank_paths_to_discovery() {
        let r = CollectRequest {
            redact: true,
            include_iggy: false,
            iggy_config: Some("  ".into()),
            iggy_data: Some("/var/lib/iggy".into()),
        };
        let o = r.options(&Cancel::new());
        assert!(o.redact && !o.include_iggy);
        assert_eq!(o.iggy.config_path, None);
        assert_eq!(o.iggy.data_dir, Some(PathBuf::from("/var/lib/iggy")));
    }
}
