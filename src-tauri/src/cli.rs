//! The app's own command line: `snapdesk-app [--data-dir DIR] [FILE.zip]...`. `--help` and
//! `--version` answer before any window or display is touched.

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "snapdesk-app",
    version = snapdesk_core::VERSION,
    about = "Snapdesk: read, search and compare Apache Iggy diagnostic snapshots.",
    long_about = "Snapdesk: read, search and compare Apache Iggy diagnostic snapshots.\n\n\
        Files given here open in the viewer and land in the library. When Snapdesk is already \
        running on the same data directory, they open in its window instead.\n\n\
        The command-line tool is `snapdesk` (see `snapdesk --help`)."
)]
pub struct Args {
    /// Where Snapdesk keeps its data (library, logs, settings); also SNAPDESK_HOME.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Snapshot ZIPs to open.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Parses the arguments. `--help`, `--version` and mistakes print and exit here.
pub fn parse() -> Args {
    Args::parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_the_data_dir_are_read() {
        let a =
            Args::try_parse_from(["snapdesk-app", "--data-dir", "/d", "a.zip", "b.zip"]).unwrap();
        assert_eq!(a.data_dir, Some(PathBuf::from("/d")));
        assert_eq!(a.files.len(), 2);
        let e = Args::try_parse_from(["snapdesk-app", "--version"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayVersion);
    }
}
