//! Running the real `snapdesk` binary in tests.

use std::path::Path;
use std::process::{Command, Output};

use crate::workspace;

/// A `snapdesk` command with its own data directory and a clean environment.
pub fn snapdesk(data_dir: &Path) -> Command {
    let mut cmd = Command::new(workspace::debug_bin("snapdesk"));
    cmd.arg("--data-dir").arg(data_dir);
    cmd.env_remove("SNAPDESK_HOME")
        .env_remove("SNAPDESK_LOG")
        .env_remove("LD_API_KEY");
    cmd
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output of a run that must have exited 0; otherwise fails the test showing both
/// streams.
#[track_caller]
pub fn ok(o: Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}
