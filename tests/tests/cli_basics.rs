//! The `snapdesk` binary: version, help, exit codes, error format, paths, and that it links
//! no GUI library.

use snapdesk_tests::cli::{snapdesk, stderr, stdout};
use snapdesk_tests::workspace;

#[test]
fn version_and_help_exit_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let o = snapdesk(tmp.path()).arg("--version").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    // The version and the commit it was built from.
    let version = stdout(&o);
    let prefix = format!("snapdesk {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(version.trim().starts_with(&prefix), "{version}");
    let commit = version.trim()[prefix.len()..].trim_end_matches(')');
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(workspace::root())
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    assert!(
        commit.trim_end_matches("-dirty") == head,
        "{commit} is not HEAD {head}"
    );

    let o = snapdesk(tmp.path()).arg("--help").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    assert!(
        help.contains("--data-dir") && help.contains("--json"),
        "{help}"
    );
}

#[test]
fn usage_errors_exit_two() {
    let tmp = tempfile::tempdir().unwrap();
    let o = snapdesk(tmp.path())
        .arg("no-such-command")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = snapdesk(tmp.path())
        .args(["info", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn info_uses_the_data_dir_flag_and_creates_the_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let o = snapdesk(tmp.path())
        .args(["info", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["home_overridden"], true);
    assert_eq!(
        v["paths"]["data_dir"],
        tmp.path().join("data").display().to_string()
    );
    assert!(tmp.path().join("config").is_dir());
    assert!(tmp.path().join("data/logs").is_dir());
}

#[test]
fn snapdesk_home_variable_moves_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(workspace::debug_bin("snapdesk"))
        .args(["info", "--json"])
        .env("SNAPDESK_HOME", tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["paths"]["cache_dir"],
        tmp.path().join("cache").display().to_string()
    );
}

#[test]
fn failures_exit_one_with_code_message_and_hint() {
    // A data directory under a regular file cannot be created.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let o = snapdesk(&file.join("home")).arg("info").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("error[io]: cannot create directory"),
        "{err}"
    );

    let o = snapdesk(&file.join("home"))
        .args(["info", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["code"], "io");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("plain-file"));
}

#[test]
fn logs_go_to_a_daily_file_in_the_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let o = snapdesk(tmp.path())
        .arg("info")
        .env("SNAPDESK_LOG", "info")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let logs: Vec<_> = std::fs::read_dir(tmp.path().join("data/logs"))
        .unwrap()
        .collect();
    assert_eq!(logs.len(), 1, "one daily file");
    let name = logs[0]
        .as_ref()
        .unwrap()
        .file_name()
        .to_string_lossy()
        .to_string();
    assert!(name.starts_with("snapdesk.log."), "{name}");
    let text = std::fs::read_to_string(logs[0].as_ref().unwrap().path()).unwrap();
    assert!(text.contains("snapdesk"), "{text}");
}

#[cfg(target_os = "linux")]
#[test]
fn cli_links_no_gui_library_but_the_app_does() {
    let libs = |bin: &str| {
        let o = std::process::Command::new("ldd")
            .arg(workspace::debug_bin(bin))
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).to_lowercase()
    };
    let gui = [
        "webkit",
        "gtk",
        "gdk",
        "javascriptcore",
        "libsoup",
        "libx11",
    ];
    let cli = libs("snapdesk");
    for g in gui {
        assert!(!cli.contains(g), "the CLI links {g}:\n{cli}");
    }
    // The check itself works: the desktop app does link WebKitGTK.
    assert!(
        libs("snapdesk-app").contains("webkit"),
        "ldd found no webkit in the app"
    );
}

#[test]
fn completions_and_man_pages_come_from_the_clap_definitions() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _snapdesk"),
        ("zsh", "#compdef snapdesk"),
        ("fish", "complete -c snapdesk"),
    ] {
        let o = snapdesk(tmp.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let script = stdout(&o);
        assert!(script.contains(marker), "{shell}: {script:.200}");
        // Every top-level command completes, the library's subcommands too.
        for word in ["collect", "library", "snapshots", "triage"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let man = tmp.path().join("man");
    let o = snapdesk(tmp.path()).arg("man").arg(&man).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let top = std::fs::read_to_string(man.join("snapdesk.1")).unwrap();
    assert!(top.contains(".TH snapdesk"), "{top:.200}");
    let triage = std::fs::read_to_string(man.join("snapdesk-library-triage.1")).unwrap();
    assert!(triage.contains("\\-\\-deployment"), "{triage:.400}");
}
