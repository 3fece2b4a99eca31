//! Command text for errors. Core crates give host-neutral hints ("store a valid key for
//! this context"); here the CLI says which command does it. The app maps the same codes to
//! buttons instead.

use snapdesk_collector::collect::{INPUT_CERT, INPUT_IGGY_CONFIG, INPUT_IGGY_DATA};
use snapdesk_core::{Error, ErrorCode};

/// What was running when the error happened, as far as hints care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    Context,
    Create,
    Wait,
    Download,
    Delete,
    Collect,
    Other,
}

/// The input an error is about (`details.input`), as the collector names it.
fn input_of(e: &Error) -> Option<&str> {
    e.details.as_ref()?.get("input")?.as_str()
}

fn command_text(e: &Error, doing: Doing) -> Option<&'static str> {
    let code = e.code;
    if let (ErrorCode::NotFound, Doing::Collect) = (code, doing) {
        return match input_of(e)? {
            i if i == INPUT_IGGY_CONFIG => Some("--iggy-config FILE names it"),
            i if i == INPUT_IGGY_DATA => {
                Some("--iggy-data DIR names it; --no-iggy collects without it")
            }
            i if i == INPUT_CERT => Some("--cert PATH names one (repeatable)"),
            _ => None,
        };
    }
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
    if let Some(text) = command_text(&e, doing) {
        e.hint = Some(match e.hint.take() {
            Some(h) => format!("{h}; {text}"),
            None => text.to_owned(),
        });
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collect_inputs_get_their_flag_and_core_hints_name_none() {
        let e = Error::new(
            ErrorCode::NotFound,
            "the Iggy data directory /x does not exist",
        )
        .with_hint("give the server's data directory")
        .with_details(serde_json::json!({ "input": INPUT_IGGY_DATA }));
        assert!(!e.hint.as_deref().unwrap().contains("--"));
        let h = for_cli(e, Doing::Collect).hint.unwrap();
        assert!(
            h.starts_with("give the server's data directory; --iggy-data DIR"),
            "{h}"
        );
        assert!(h.contains("--no-iggy"), "{h}");
        let cfg = Error::new(ErrorCode::NotFound, "x")
            .with_details(serde_json::json!({ "input": INPUT_IGGY_CONFIG }));
        assert!(for_cli(cfg, Doing::Collect)
            .hint
            .unwrap()
            .contains("--iggy-config"));
        let cert = Error::new(ErrorCode::NotFound, "x")
            .with_details(serde_json::json!({ "input": INPUT_CERT }));
        assert!(for_cli(cert, Doing::Collect)
            .hint
            .unwrap()
            .contains("--cert"));
        // Another command's not-found keeps its own text.
        let other = Error::new(ErrorCode::NotFound, "x");
        assert!(for_cli(other, Doing::Collect).hint.is_none());
    }
}
