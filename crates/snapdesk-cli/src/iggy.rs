//! `snapdesk iggy inspect PATH`: what an Iggy data directory holds and what is wrong with
//! it, from a directory, a bare `iggy-data.zip` or a snapshot ZIP (read in place).

use std::path::PathBuf;

use crate::output::{CmdResult, Output};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum IggyCommand {
    /// Read a data directory, an iggy-data.zip or a snapshot ZIP: streams, topics,
    /// partitions, segments, consumer lag and consistency findings.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The server's data directory (`system.path`), a snapshot ZIP or an iggy-data.zip.
    #[arg(value_name = "PATH")]
    path: PathBuf,
}

pub fn run(cmd: IggyCommand, out: &Output) -> CmdResult {
    match cmd {
        IggyCommand::Inspect(args) => {
            let ins = snapdesk_iggy::inspect(&args.path).map_err(snapdesk_core::Error::from)?;
            out.print(&ins, snapdesk_iggy::text::render)
        }
    }
}
