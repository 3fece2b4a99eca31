//! `snapdesk redact IN.zip OUT.zip`: a redacted copy of an archive of ours, a thin host over
//! `snapdesk_collector::archive_redact`.

use std::path::PathBuf;

use clap::Args;
use snapdesk_collector::archive_redact::{redact_archive, RedactedCopy};
use snapdesk_collector::redact::Redactor;
use snapdesk_core::{Cancel, Error};

use crate::output::{CmdResult, Output};

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// The snapshot archive to copy (only read).
    pub input: PathBuf,
    /// Where the redacted copy goes (never the input).
    pub output: PathBuf,
    /// Extra redaction rules: one per line, `literal:VALUE`, `regex:PATTERN` or a bare value.
    #[arg(long, value_name = "FILE")]
    pub redaction_rules: Option<PathBuf>,
}

pub fn run(args: RedactArgs, out: &Output) -> CmdResult {
    let redactor = match &args.redaction_rules {
        Some(p) => {
            Redactor::with_extra_rules_file(p).map_err(|e| Error::invalid_input(e.to_string()))?
        }
        None => Redactor::new(),
    };
    let done = redact_archive(&args.input, &args.output, &redactor, &Cancel::new())?;
    out.print(&done, render)
}

fn render(r: &RedactedCopy) -> String {
    let mut s = format!(
        "{} -> {}: {} values replaced{}",
        r.input.display(),
        r.output.display(),
        r.total,
        if r.input_was_redacted {
            " (the input said it was redacted already)"
        } else {
            ""
        }
    );
    for (rule, n) in &r.counts {
        s.push_str(&format!("\n  {rule:<20} {n}"));
    }
    for c in &r.changed {
        s.push_str(&format!("\n  changed: {c}"));
    }
    s
}
