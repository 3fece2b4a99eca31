//! `snapdesk completions SHELL` and `snapdesk man DIR`: shell completions and man pages
//! generated from the clap definitions (the package installs both).

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, ValueEnum};
use snapdesk_core::Error;

use crate::output::CmdResult;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory for the pages: `snapdesk.1` and one `snapdesk-<command>.1` per command.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Writes the completion script on standard output.
pub fn completions(args: &CompletionsArgs) -> CmdResult {
    let mut cmd = crate::Cli::command();
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "snapdesk", &mut script);
    use std::io::Write;
    match std::io::stdout().write_all(&script) {
        // `snapdesk completions bash | head` closed the pipe: not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io_at(e, "write", Path::new("standard output")).into())
        }
        _ => Ok(()),
    }
}

/// Writes the man pages into `dir`; prints their paths.
pub fn man(args: &ManArgs) -> CmdResult {
    let cmd = crate::Cli::command();
    std::fs::create_dir_all(&args.dir).map_err(|e| Error::io_at(e, "create", &args.dir))?;
    let mut written = Vec::new();
    write_pages(&cmd, "snapdesk", &args.dir, &mut written)?;
    for p in written {
        println!("{}", p.display());
    }
    Ok(())
}

fn write_pages(
    cmd: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    let cmd = cmd.clone().name(name.to_owned());
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(|e| Error::internal(format!("cannot render the man page of {name}: {e}")))?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, buf).map_err(|e| Error::io_at(e, "write", &path))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}
