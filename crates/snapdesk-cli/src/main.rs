//! `snapdesk`: the command line host. Every command is a thin adapter over a core crate;
//! this file only parses arguments, sets up paths and logging, and prints results.
//!
//! Exit codes: 0 success, 1 failure, 2 usage error (clap's own).

mod collect;
mod iggy;
mod output;
mod remote;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use snapdesk_core::{AppInfo, AppPaths};

use crate::output::Output;

#[derive(Debug, Parser)]
#[command(
    name = "snapdesk",
    version,
    about = "Snapdesk: diagnose managed Apache Iggy deployments from snapshots",
    long_about = None,
    propagate_version = true,
)]
struct Cli {
    /// Keep every Snapdesk file (config, library, cache, logs) under this directory.
    /// Overrides SNAPDESK_HOME.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Print results and errors as JSON on standard output.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the version and the directories Snapdesk uses.
    Info,
    /// Collect a snapshot of this machine (the same archive format the Supervisor produces).
    Collect(collect::CollectArgs),
    /// Read Apache Iggy data: `iggy inspect PATH` for a data directory or snapshot.
    #[command(subcommand)]
    Iggy(iggy::IggyCommand),
    /// Manage Supervisor contexts: URL, known deployments, API key in the OS keyring.
    #[command(subcommand)]
    Context(remote::ContextCommand),
    /// List, create, wait for, download and delete a deployment's snapshots.
    Snapshots {
        #[command(flatten)]
        target: remote::Target,
        #[command(subcommand)]
        command: remote::SnapshotsCommand,
    },
    /// Run a local Supervisor emulator (for demos and tests); prints one JSON line, then serves.
    Emulator(snapdesk_emulator::EmulatorArgs),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Info => "info",
            Command::Collect(_) => "collect",
            Command::Iggy(_) => "iggy",
            Command::Context(_) => "context",
            Command::Snapshots { .. } => "snapshots",
            Command::Emulator(_) => "emulator",
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.json);
    match run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            out.error(&err);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, out: &Output) -> snapdesk_core::Result<()> {
    let overridden =
        cli.data_dir.is_some() || std::env::var_os(snapdesk_core::paths::HOME_ENV).is_some();
    let paths = AppPaths::resolve(cli.data_dir.as_deref())?;
    paths.ensure()?;
    let _log = snapdesk_core::logging::init(&paths.log_dir, "warn");
    // The command's name only: its arguments may hold keys (the emulator's --manage-key).
    tracing::info!(
        command = cli.command.name(),
        "snapdesk {}",
        snapdesk_core::VERSION
    );
    match cli.command {
        Command::Collect(args) => collect::run(args, out),
        Command::Iggy(cmd) => iggy::run(cmd, out),
        Command::Context(cmd) => remote::context(cmd, &paths, out),
        Command::Snapshots { target, command } => remote::snapshots(command, target, &paths, out),
        Command::Emulator(mut args) => {
            // State in memory, or on disk when asked: `--state-dir`, or an explicit
            // `--data-dir`, under which it goes to `data/emulator/` (its demo keys included).
            if args.data_dir.is_none() && cli.data_dir.is_some() {
                args.data_dir = Some(paths.data_dir.join("emulator"));
            }
            snapdesk_emulator::main_entry(args)
                .map_err(|e| snapdesk_core::Error::internal(format!("the emulator stopped: {e:#}")))
        }
        Command::Info => {
            let info = AppInfo::new(paths, overridden);
            out.print(&info, |info| {
                let p = &info.paths;
                format!(
                    "{} {} ({}/{})\nconfig  {}\ndata    {}\ncache   {}\nlogs    {}",
                    info.product_name,
                    info.version,
                    info.os,
                    info.arch,
                    p.config_dir.display(),
                    p.data_dir.display(),
                    p.cache_dir.display(),
                    p.log_dir.display()
                )
            })
        }
    }
}
