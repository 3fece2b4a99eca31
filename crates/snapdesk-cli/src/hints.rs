//! Command text for errors. Core crates give host-neutral hints ("store a valid key for
//! this context"); here the CLI says which command does it. The app maps the same codes to
//! buttons instead.

use snapdesk_core::{Error, ErrorCode};

/// What was running when the error happened, as far as hints care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    Context,
    Create,
    Wait,
    Download,
    Delete,
    Other,
}

fn command_text(code: ErrorCode, doing: Doing) -> Option<&'static str> {
    Some(match (code, doing) {
        (ErrorCode::Unauthorized, _) => {
            "`snapdesk context add NAME --url URL` stores a new key (read from the prompt or \
             standard input), or set LD_API_KEY"
        }
        (ErrorCode::Config, _) => {
            "`snapdesk context add NAME --url SUPERVISOR_URL` adds one, `snapdesk context use \
             NAME` selects one, --context NAME picks one for a command"
        }
        (ErrorCode::Keyring, _) => "`snapdesk info` says whether a keyring is reachable",
        (ErrorCode::Timeout, Doing::Wait | Doing::Create) => {
            "`snapdesk snapshots wait --timeout SECS` waits longer"
        }
        (ErrorCode::Api, Doing::Wait | Doing::Create) => {
            "`snapdesk snapshots download --snapshot ID` fetches one node (ids in the table)"
        }
        (ErrorCode::Conflict, Doing::Create) => {
            "`snapdesk snapshots wait` follows the snapshot in progress"
        }
        (ErrorCode::LimitReached, _) => {
            "`snapdesk snapshots list --all` shows them; `snapdesk snapshots delete --name NAME` \
             deletes one"
        }
        (ErrorCode::NotFound, Doing::Download) => {
            "`snapdesk snapshots list --all` shows every snapshot and its nodes; `--name NAME` \
             picks one"
        }
        (ErrorCode::Cancelled, Doing::Download) => "run the same command again to resume",
        _ => return None,
    })
}

/// The error with the CLI's command text added to its hint.
pub fn for_cli(mut e: Error, doing: Doing) -> Error {
    if let Some(text) = command_text(e.code, doing) {
        e.hint = Some(match e.hint.take() {
            Some(h) => format!("{h}; {text}"),
            None => text.to_owned(),
        });
    }
    e
}
