//! `snapdesk`: the command line host. Every command is a thin adapter over a core crate;
//! this file only parses arguments, sets up paths and logging, and prints results.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error (clap's own, and input refused before
//! anything ran: `invalid_input`). With `--json` standard output holds one JSON document
//! for every outcome, usage errors included.

mod args;
mod collect;
mod context;
mod generate;
mod hints;
mod iggy;
mod library;
mod library_insight;
mod output;
mod redact;
mod remote;
mod render;
mod render_library;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde::Serialize;
use snapdesk_core::secrets::KeyringStatus;
use snapdesk_core::{AppInfo, AppPaths, Error};

use crate::hints::Doing;
use crate::output::{exit_code, CmdResult, Failure, Output};

/// `snapdesk --version`: the version and the commit it was built from.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SNAPDESK_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "snapdesk",
    version = LONG_VERSION,
    about = "Snapdesk: diagnose managed Apache Iggy deployments from snapshots",
    long_about = None,
    propagate_version = true,
)]
pub(crate) struct Cli {
    /// Keep every Snapdesk file (config, library, cache, logs) under this directory.
    /// Overrides SNAPDESK_HOME.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Print one JSON document on standard output, for results and errors alike.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the version, the directories Snapdesk uses and whether an OS keyring is reachable.
    Info,
    /// Collect a snapshot of this machine (the same archive format the Supervisor produces).
    Collect(collect::CollectArgs),
    /// Read Apache Iggy data: `iggy inspect PATH` for a data directory or snapshot.
    #[command(subcommand)]
    Iggy(iggy::IggyCommand),
    /// The local library: every snapshot downloaded, collected or imported; search, compare.
    #[command(subcommand)]
    Library(library::LibraryCommand),
    /// Write a redacted copy of a snapshot archive (report, logs, nested Iggy data); the input
    /// is only read.
    Redact(redact::RedactArgs),
    /// Manage Supervisor contexts: URL, known deployments, API key in the OS keyring.
    #[command(subcommand)]
    Context(context::ContextCommand),
    /// List, create, wait for, download and delete a deployment's snapshots.
    Snapshots {
        #[command(flatten)]
        target: remote::TargetArgs,
        #[command(subcommand)]
        command: remote::SnapshotsCommand,
    },
    /// Run a local Supervisor emulator (for demos and tests); prints one JSON line, then serves.
    #[command(after_help = snapdesk_emulator::ADMIN_HELP)]
    Emulator(snapdesk_emulator::EmulatorArgs),
    /// Print the shell completion script for bash, zsh or fish.
    Completions(generate::CompletionsArgs),
    /// Write the man pages (snapdesk.1 and one per command) into a directory.
    Man(generate::ManArgs),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Info => "info",
            Command::Collect(_) => "collect",
            Command::Iggy(_) => "iggy",
            Command::Library(_) => "library",
            Command::Redact(_) => "redact",
            Command::Context(_) => "context",
            Command::Snapshots { .. } => "snapshots",
            Command::Emulator(_) => "emulator",
            Command::Completions(_) => "completions",
            Command::Man(_) => "man",
        }
    }

    fn doing(&self) -> Doing {
        match self {
            Command::Context(_) => Doing::Context,
            Command::Collect(_) => Doing::Collect,
            Command::Snapshots { command, .. } => command.doing(),
            Command::Library(cmd) if cmd.is_remote() => Doing::Download,
            _ => Doing::Other,
        }
    }
}

fn main() -> ExitCode {
    // Known before parsing, so that a usage error can be JSON too.
    let json = std::env::args_os().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, json),
    };
    let out = Output::new(cli.json);
    let doing = cli.command.doing();
    match run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(mut f) => {
            f.error = hints::for_cli(f.error, doing);
            out.fail(&f);
            ExitCode::from(exit_code(&f.error))
        }
    }
}

/// clap's errors: help and version as clap prints them; anything else as clap prints it, or
/// as one JSON error with `--json`. Exit code 2 either way.
fn usage_error(e: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) || !json {
        e.exit();
    }
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_owned();
    let err = Error::invalid_input(first)
        .with_hint("`snapdesk --help` (or `snapdesk COMMAND --help`) lists the options")
        .with_details(serde_json::json!({ "usage": rendered.trim_end() }));
    Output::new(true).fail(&err.into());
    ExitCode::from(2)
}

/// `snapdesk info`: the shared [`AppInfo`], plus what only a command line cares about.
#[derive(Debug, Serialize)]
struct InfoOutput {
    #[serde(flatten)]
    info: AppInfo,
    keyring: KeyringStatus,
    /// `LD_API_KEY` is set: it supplies the key of every context.
    key_from_environment: bool,
}

fn run(cli: Cli, out: &Output) -> CmdResult {
    // Generated from the definitions alone: no directory is created for them.
    match &cli.command {
        Command::Completions(args) => return generate::completions(args),
        Command::Man(args) => return generate::man(args),
        _ => {}
    }
    let overridden =
        cli.data_dir.is_some() || std::env::var_os(snapdesk_core::paths::HOME_ENV).is_some();
    let paths = AppPaths::resolve(cli.data_dir.as_deref())?;
    paths.ensure()?;
    // rustls logs a refused certificate at ERROR itself; the error we print says it once.
    let _log = snapdesk_core::logging::init(&paths.log_dir, "warn,rustls=off");
    // The command's name only: its arguments may hold keys (the emulator's --manage-key).
    tracing::info!(
        command = cli.command.name(),
        "snapdesk {}",
        snapdesk_core::VERSION
    );
    match cli.command {
        Command::Collect(args) => collect::run(args, &paths, out),
        Command::Library(cmd) => library::run(cmd, &paths, out),
        Command::Iggy(cmd) => iggy::run(cmd, out),
        Command::Redact(args) => redact::run(args, out),
        Command::Context(cmd) => context::run(cmd, &paths, out),
        Command::Snapshots { target, command } => remote::run(command, target, &paths, out),
        Command::Completions(args) => generate::completions(&args),
        Command::Man(args) => generate::man(&args),
        Command::Emulator(mut args) => {
            // State in memory, or on disk when asked: `--state-dir`, or an explicit
            // `--data-dir`, under which it goes to `data/emulator/` (its demo keys included).
            if args.data_dir.is_none() && cli.data_dir.is_some() {
                args.data_dir = Some(paths.data_dir.join("emulator"));
            }
            snapdesk_emulator::main_entry(args)
                .map_err(|e| Failure::from(Error::internal(format!("the emulator stopped: {e:#}"))))
        }
        Command::Info => {
            let info = InfoOutput {
                info: AppInfo::new(paths, overridden),
                keyring: snapdesk_core::secrets::keyring_status(),
                key_from_environment: std::env::var(snapdesk_core::secrets::KEY_ENV)
                    .is_ok_and(|k| !k.trim().is_empty()),
            };
            out.print(&info, render::info)
        }
    }
}
