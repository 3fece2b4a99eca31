//! `snapdesk library ...`: the local library, a thin host over `snapdesk_ops::library`.

use std::path::PathBuf;

use clap::Subcommand;
use serde::Serialize;
use snapdesk_core::{AppPaths, Cancel, Error};
use snapdesk_ops::library::{self, parse_id, Library, Page, Query};

use crate::output::{CmdResult, Failure, Output};
use crate::render_library as render;

#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// List entries, newest first; QUERY filters them (see `library search --help`).
    List {
        /// Filters and free text, as `library search` takes them.
        query: Vec<String>,
        /// Entries per page (1 to 1000).
        #[arg(long, default_value = "50", value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Page number, from 1.
        #[arg(long, default_value = "1", value_parser = clap::value_parser!(u32).range(1..))]
        page: u32,
    },
    /// One entry: its facts, origins, tags, analyzer findings and checks.
    Show { id: String },
    /// Import snapshot ZIPs from disk (ours, Iggy's own `iggy snapshot`, any ZIP with an
    /// HTML report). The originals are only read.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// The stored archive's path, marked as opened (eviction keeps recently opened ones).
    Open { id: String },
    /// Search checks: free text plus status:fail category:NAME node:ID deployment:ID-or-NAME
    /// context:NAME since:30d has:iggy pinned:yes|no tag:NAME.
    Search {
        #[arg(required = true)]
        query: Vec<String>,
        /// At most this many checks (1 to 10000).
        #[arg(long, default_value = "100", value_parser = clap::value_parser!(u32).range(1..=10000))]
        limit: u32,
    },
    /// Compare two entries (A before, B after), or with --snapshot NAME the nodes of one
    /// snapshot side by side.
    Diff {
        #[arg(required_unless_present = "snapshot")]
        a: Option<String>,
        #[arg(required_unless_present = "snapshot")]
        b: Option<String>,
        /// Every node of the snapshot with this name, as a check-by-node matrix.
        #[arg(long, value_name = "NAME", conflicts_with_all = ["a", "b"])]
        snapshot: Option<String>,
        /// With --snapshot: the deployment (id or name) whose snapshot it is, when several
        /// deployments have a snapshot of that name.
        #[arg(long, value_name = "ID|NAME")]
        deployment: Option<String>,
    },
    /// Copy an entry's archive to a file or directory.
    Export {
        id: String,
        #[arg(long, short, value_name = "PATH")]
        out: PathBuf,
    },
    /// Keep an entry's archive whatever the size budget.
    Pin { id: String },
    /// Let the size budget evict an entry's archive again.
    Unpin { id: String },
    /// Set (or with no text, clear) an entry's note.
    Note { id: String, text: Vec<String> },
    /// Add tags to an entry (--remove to take them off).
    Tag {
        id: String,
        #[arg(required = true)]
        tags: Vec<String>,
        #[arg(long)]
        remove: bool,
    },
    /// Remove an entry and its archive.
    Remove { id: String },
    /// Remove leftovers and evict archives over the size budget (--budget-mib sets it).
    Gc {
        #[arg(long, value_name = "MIB", value_parser = crate::args::mib)]
        budget_mib: Option<u64>,
    },
    /// Re-hash every archive and check that catalog and store agree.
    Verify,
    /// The files inside an entry's archive, the nested iggy-data.zip's included, with their
    /// sizes (nothing is extracted).
    Files { id: String },
    /// Write one file of an entry's archive to standard output, raw (PATH as `library files`
    /// shows it). On a terminal only plain text is written, unless --force.
    Cat {
        id: String,
        path: String,
        /// Write it to a terminal even if it is not plain text (escape sequences included).
        #[arg(long)]
        force: bool,
        /// At most this many MiB (the rest is cut, and said so on standard error).
        #[arg(long, default_value = "64", value_name = "MIB", value_parser = crate::args::mib)]
        max_mib: u64,
    },
    /// Download an evicted entry's archive again from the Supervisor that still keeps it.
    Fetch { id: String },
    /// The triage board: every warn, fail and error check across the snapshots of a
    /// deployment (or a host, or the whole library), failures first, each new, persisting,
    /// resolved or not collected.
    Triage {
        #[command(flatten)]
        scope: crate::library_insight::ScopeArgs,
    },
    /// One check's status over every snapshot, per node ("not_collected" where it was
    /// skipped, absent, or the node has no archive in that snapshot).
    Timeline {
        check_id: String,
        /// One node: its id or host name.
        #[arg(long, value_name = "NODE")]
        node: Option<String>,
        #[command(flatten)]
        scope: crate::library_insight::ScopeArgs,
    },
    /// The log lines every node wrote around a time (RFC 3339), from the archives.
    Logs {
        /// The moment, as 2026-05-01T12:00:00Z.
        #[arg(long, value_name = "TIME")]
        at: String,
        /// Seconds either side (1 to 86400).
        #[arg(long, default_value = "60", value_parser = clap::value_parser!(u32).range(1..=86_400))]
        window: u32,
        /// At most this many lines per node (1 to 10000).
        #[arg(long, default_value = "200", value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        #[command(flatten)]
        scope: crate::library_insight::ScopeArgs,
    },
    /// Re-run the analyzers that need no live host (log signatures, rules over recorded
    /// facts, the Iggy data inspector) over every entry; says which snapshots they now flag.
    Reanalyze,
}

impl LibraryCommand {
    /// Whether the command talks to a Supervisor (for the hints on failure).
    pub fn is_remote(&self) -> bool {
        matches!(self, Self::Fetch { .. })
    }
}

fn id(s: &str) -> Result<i64, Failure> {
    parse_id(s).map_err(|e| Failure::from(Error::from(e)))
}

fn query(words: &[String]) -> Result<Query, Failure> {
    Query::parse(&words.join(" ")).map_err(|e| Failure::from(Error::from(e)))
}

fn lib_err(e: library::LibraryError) -> Failure {
    Failure::from(Error::from(e))
}

#[derive(Debug, Serialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Debug, Serialize)]
struct Done {
    id: String,
    done: &'static str,
}

pub fn run(cmd: LibraryCommand, paths: &AppPaths, out: &Output) -> CmdResult {
    let lib: Library = library::open(paths)?;
    let cancel = Cancel::new();
    match cmd {
        LibraryCommand::List {
            query: q,
            limit,
            page,
        } => {
            let q = query(&q)?;
            let page = Page {
                offset: (page - 1).saturating_mul(limit),
                limit,
            };
            let items = lib.list(&q, page).map_err(lib_err)?;
            out.print(&Items { items }, |i| render::entries(&i.items))
        }
        LibraryCommand::Show { id: s } => {
            let i = id(&s)?;
            let detail = lib.show(i).map_err(lib_err)?;
            let checks = lib.checks(i).map_err(lib_err)?;
            let findings = lib.analysis(i).map_err(lib_err)?;
            #[derive(Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                detail: &'a library::EntryDetail,
                check_rows: &'a [library::CheckRow],
                /// What the analyzers found (at import, or by the latest re-analysis).
                findings: &'a [snapdesk_library::AnalysisFinding],
            }
            out.print(
                &Shown {
                    detail: &detail,
                    check_rows: &checks,
                    findings: &findings,
                },
                |_| render::show(&detail, &checks, &findings),
            )
        }
        LibraryCommand::Import { paths: files } => {
            let mut items = Vec::new();
            for p in &files {
                match library::import(&lib, p, &cancel) {
                    Ok(i) => items.push(i),
                    Err(e) => {
                        let text = render::imported(&items);
                        let doc = Items {
                            items: items.clone(),
                        };
                        return Err(Failure::with_partial(e, &doc, text));
                    }
                }
            }
            out.print(&Items { items }, |i| render::imported(&i.items))
        }
        LibraryCommand::Open { id: s } => {
            let i = id(&s)?;
            let path = lib.open_entry(i).map_err(lib_err)?;
            #[derive(Serialize)]
            struct Opened {
                id: String,
                path: PathBuf,
            }
            out.print(&Opened { id: s, path }, |o| o.path.display().to_string())
        }
        LibraryCommand::Search { query: q, limit } => {
            let q = query(&q)?;
            let items = lib.search(&q, limit).map_err(lib_err)?;
            out.print(&Items { items }, |i| render::hits(&i.items))
        }
        LibraryCommand::Diff {
            a,
            b,
            snapshot,
            deployment,
        } => {
            if snapshot.is_none() && deployment.is_some() {
                return Err(Error::invalid_input(
                    "--deployment goes with --snapshot NAME: two entries are compared by id",
                )
                .into());
            }
            if let Some(name) = snapshot {
                let m = lib.matrix(&name, deployment.as_deref()).map_err(lib_err)?;
                return out.print(&m, render::matrix);
            }
            let (a, b) = (
                id(a.as_deref().unwrap_or(""))?,
                id(b.as_deref().unwrap_or(""))?,
            );
            let d = lib.diff_with_data(a, b, &cancel).map_err(lib_err)?;
            out.print(&d, crate::library_insight::render_data_diff)
        }
        LibraryCommand::Export { id: s, out: dest } => {
            let path = lib.export(id(&s)?, &dest, &cancel).map_err(lib_err)?;
            #[derive(Serialize)]
            struct Exported {
                id: String,
                path: PathBuf,
            }
            out.print(&Exported { id: s, path }, |e| e.path.display().to_string())
        }
        LibraryCommand::Pin { id: s } => {
            lib.set_pinned(id(&s)?, true).map_err(lib_err)?;
            out.print(
                &Done {
                    id: s,
                    done: "pinned",
                },
                |d| format!("{} pinned", d.id),
            )
        }
        LibraryCommand::Unpin { id: s } => {
            lib.set_pinned(id(&s)?, false).map_err(lib_err)?;
            out.print(
                &Done {
                    id: s,
                    done: "unpinned",
                },
                |d| format!("{} unpinned", d.id),
            )
        }
        LibraryCommand::Note { id: s, text } => {
            lib.set_note(id(&s)?, &text.join(" ")).map_err(lib_err)?;
            out.print(
                &Done {
                    id: s,
                    done: "noted",
                },
                |d| format!("{} noted", d.id),
            )
        }
        LibraryCommand::Tag {
            id: s,
            tags,
            remove,
        } => {
            let (add, del) = if remove {
                (Vec::new(), tags)
            } else {
                (tags, Vec::new())
            };
            let now = lib.tag(id(&s)?, &add, &del).map_err(lib_err)?;
            #[derive(Serialize)]
            struct Tagged {
                id: String,
                tags: Vec<String>,
            }
            out.print(&Tagged { id: s, tags: now }, |t| {
                format!("{}: {}", t.id, t.tags.join(", "))
            })
        }
        LibraryCommand::Remove { id: s } => {
            lib.remove(id(&s)?).map_err(lib_err)?;
            out.print(
                &Done {
                    id: s,
                    done: "removed",
                },
                |d| format!("{} removed", d.id),
            )
        }
        LibraryCommand::Gc { budget_mib } => {
            if let Some(m) = budget_mib {
                lib.set_budget(m.saturating_mul(1024 * 1024))
                    .map_err(lib_err)?;
            }
            let c = lib.gc().map_err(lib_err)?;
            out.print(&c, render::gc)
        }
        LibraryCommand::Files { id: s } => {
            let items = library::entry_files(&lib, id(&s)?, &cancel)?;
            out.print(&Items { items }, |i| render::files(&i.items))
        }
        LibraryCommand::Cat {
            id: s,
            path,
            force,
            max_mib,
        } => cat(&lib, id(&s)?, &path, force, max_mib, &cancel, out),
        LibraryCommand::Fetch { id: s } => fetch(paths, &lib, id(&s)?, &cancel, out),
        LibraryCommand::Triage { scope } => crate::library_insight::triage(&lib, scope, out),
        LibraryCommand::Timeline {
            check_id,
            node,
            scope,
        } => crate::library_insight::timeline(&lib, &check_id, node.as_deref(), scope, out),
        LibraryCommand::Logs {
            at,
            window,
            limit,
            scope,
        } => crate::library_insight::logs(&lib, &at, window, limit, scope, &cancel, out),
        LibraryCommand::Reanalyze => crate::library_insight::reanalyze(&lib, &cancel, out),
        LibraryCommand::Verify => {
            let v = lib.verify(&cancel).map_err(lib_err)?;
            if v.is_clean() {
                out.print(&v, render::verified)
            } else {
                let text = render::verified(&v);
                Err(Failure::with_partial(
                    Error::new(
                        snapdesk_core::ErrorCode::Archive,
                        "the library's catalog and store disagree",
                    ),
                    &v,
                    text,
                ))
            }
        }
    }
}

/// Whether bytes are plain text a terminal shows as they are: UTF-8 with no control
/// character but line breaks and tabs (an escape sequence could rewrite the screen).
fn plain_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|t| {
        !t.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    })
}

fn cat(
    lib: &Library,
    id: i64,
    file: &str,
    force: bool,
    max_mib: u64,
    cancel: &Cancel,
    out: &Output,
) -> CmdResult {
    use std::io::{IsTerminal, Write};
    let got = library::entry_file(lib, id, file, max_mib.saturating_mul(1024 * 1024), cancel)?;
    if out.json() {
        #[derive(Serialize)]
        struct Cat<'a> {
            path: &'a str,
            total: u64,
            truncated: bool,
            /// The bytes as text, when they are plain text.
            text: Option<&'a str>,
            /// The bytes in hex, when they are not.
            hex: Option<String>,
        }
        let text = plain_text(&got.bytes)
            .then(|| std::str::from_utf8(&got.bytes).ok())
            .flatten();
        return out.print(
            &Cat {
                path: file,
                total: got.total,
                truncated: got.truncated,
                text,
                hex: text.is_none().then(|| hex_of(&got.bytes)),
            },
            |_| String::new(),
        );
    }
    let stdout = std::io::stdout();
    if stdout.is_terminal() && !force && !plain_text(&got.bytes) {
        return Err(Error::invalid_input(format!(
            "{file} is not plain text: it is not written to a terminal"
        ))
        .with_hint(format!(
            "redirect it to a file (`snapdesk library cat {id} '{file}' > FILE`), or pass \
             --force to write it to the terminal anyway"
        ))
        .into());
    }
    let mut w = stdout.lock();
    w.write_all(&got.bytes).map_err(Error::from)?;
    w.flush().map_err(Error::from)?;
    if got.truncated {
        out.note(&format!(
            "note: cut at {} of {} bytes (--max-mib)",
            got.bytes.len(),
            got.total
        ));
    }
    Ok(())
}

fn hex_of(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn fetch(paths: &AppPaths, lib: &Library, id: i64, cancel: &Cancel, out: &Output) -> CmdResult {
    let again = library::download_again_target(paths, lib, id)?;
    let remote = again.target.connect()?;
    let bars = crate::render::Bars::new(out.live());
    let got = crate::context::runtime()?.block_on(async {
        let on_signal = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_signal.cancel();
            }
        });
        library::download_again(&remote, lib, id, again.snapshot_id, cancel, &|p| {
            bars.show(p)
        })
        .await
    });
    bars.clear();
    let got = got?;
    let text = render::fetched(id, &got);
    match got.error() {
        Some(e) => Err(Failure::with_partial(e, &got, text)),
        None => out.print(&got, |_| text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_text_counts_as_text_for_a_terminal() {
        assert!(plain_text(b"a line\n\tand another\r\n"));
        assert!(plain_text("caf\u{e9}".as_bytes()));
        assert!(!plain_text(b"\x1b[2Jcleared"));
        assert!(!plain_text(b"nul\x00byte"));
        assert!(!plain_text(b"\xff\xfe"));
        assert_eq!(hex_of(b"\x00\xffA"), "00ff41");
    }
}
