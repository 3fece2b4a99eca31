//! Errors of the Supervisor API, parsed from `application/problem+json` (RFC 7807) or from
//! whatever a proxy sent instead, and their mapping to Snapdesk's stable error codes.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use snapdesk_core::{Error, ErrorCode};

/// One issue with a request field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FieldIssue {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
}

/// The problem document as the API sends it; every field optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Problem {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub instance: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub field_issues: Vec<FieldIssue>,
    #[serde(default)]
    pub retryable: Option<bool>,
}

/// The permission a request needs (the API's documented split): reading lists and
/// downloads, managing creates and deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permission {
    #[serde(rename = "deployment:read")]
    Read,
    #[serde(rename = "deployment:manage")]
    Manage,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "deployment:read",
            Self::Manage => "deployment:manage",
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a TLS connection could not be made. Neither is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsProblem {
    /// The port answered, but not with TLS: an `https://` URL to a plain-http port.
    NotTls,
    /// The server's certificate was refused (wrong name, unknown issuer, expired).
    Certificate,
}

/// What went wrong talking to the Supervisor.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// An HTTP error status with its problem document (or the start of a non-JSON body).
    #[error("{}", http_message(status, problem, body_start, context))]
    Http {
        status: u16,
        problem: Option<Box<Problem>>,
        /// The start of a body that was not a problem document (an HTML page from a proxy).
        body_start: Option<String>,
        request_id: Option<String>,
        retry_after: Option<Duration>,
        /// What was being done, e.g. "deployment 611298765432109056".
        context: String,
        /// The permission the request needed: what a 403 is about.
        needs: Permission,
    },
    /// The connection failed or broke.
    #[error("cannot reach the Supervisor at {url}: {reason}")]
    Connect { url: String, reason: String },
    /// TLS could not be set up; retrying cannot help.
    #[error("{}", tls_message(url, *problem, reason))]
    Tls {
        url: String,
        problem: TlsProblem,
        reason: String,
    },
    /// The request timed out.
    #[error("the Supervisor did not answer in time ({what})")]
    Timeout { what: String },
    /// A 2xx answer that is not what the API documents.
    #[error("unexpected answer from the Supervisor ({what}): {reason}")]
    Decode {
        what: String,
        reason: String,
        request_id: Option<String>,
    },
    /// The presigned download URL expired or was refused by storage.
    #[error("the download URL was refused by storage ({status}): {reason}")]
    UrlRefused { status: u16, reason: String },
    /// A whole download that is not what it should be (not a ZIP): never kept.
    #[error("the downloaded archive is not valid: {reason}")]
    Archive { reason: String },
    /// The caller cancelled (Ctrl-C, a Cancel button).
    #[error("cancelled")]
    Cancelled,
    /// A local file could not be written.
    #[error("{0}")]
    Local(Error),
    /// Invalid input from the user (bad base URL, ...).
    #[error("{0}")]
    Invalid(String),
}

fn http_message(
    status: &u16,
    problem: &Option<Box<Problem>>,
    body_start: &Option<String>,
    context: &str,
) -> String {
    let status = *status;
    if let Some(p) = problem {
        let reason = p
            .reason
            .as_deref()
            .or(p.title.as_deref())
            .unwrap_or("no reason given");
        let code = p
            .code
            .as_deref()
            .map(|c| format!(" [{c}]"))
            .unwrap_or_default();
        return format!("the Supervisor refused {context}: {status}{code}: {reason}");
    }
    match body_start {
        Some(b) if !b.trim().is_empty() => format!(
            "the Supervisor (or a proxy before it) answered {context} with HTTP {status} and a \
             non-JSON body: {}",
            b.trim()
        ),
        _ => format!("the Supervisor answered {context} with HTTP {status} and no body"),
    }
}

fn tls_message(url: &str, problem: TlsProblem, reason: &str) -> String {
    match problem {
        TlsProblem::NotTls => format!(
            "{url} did not answer with TLS: is it a plain-http port given as https://? ({reason})"
        ),
        TlsProblem::Certificate => {
            format!("the certificate of {url} was refused: {reason}")
        }
    }
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            Self::UrlRefused { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn problem_code(&self) -> Option<&str> {
        match self {
            Self::Http {
                problem: Some(p), ..
            } => p.code.as_deref(),
            _ => None,
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Http { request_id, .. } | Self::Decode { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// Whether trying again may help (the problem's `retryable`, or the status).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http {
                status, problem, ..
            } => problem
                .as_ref()
                .and_then(|p| p.retryable)
                .unwrap_or(matches!(status, 408 | 425 | 429 | 500 | 502 | 503 | 504)),
            Self::Connect { .. } | Self::Timeout { .. } => true,
            _ => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The permission a 403 is about: the one the problem names, else the one the request needed.
fn missing_permission(p: Option<&Problem>, needs: Permission) -> Permission {
    let text = p
        .map(|p| {
            format!(
                "{} {}",
                p.reason.as_deref().unwrap_or(""),
                p.title.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_default();
    if text.contains("deployment:manage") {
        Permission::Manage
    } else if text.contains("deployment:read") {
        Permission::Read
    } else {
        needs
    }
}

/// The boundary error, with a host-neutral hint (no command names: the CLI adds those, the
/// app maps the code to an action).
impl From<ApiError> for Error {
    fn from(err: ApiError) -> Error {
        err.to_error()
    }
}

impl ApiError {
    fn to_error(&self) -> Error {
        let message = self.to_string();
        let mut details = serde_json::Map::new();
        if let Some(s) = self.status() {
            details.insert("status".into(), s.into());
        }
        if let Some(id) = self.request_id() {
            details.insert("request_id".into(), id.into());
        }
        if let Some(c) = self.problem_code() {
            details.insert("problem_code".into(), c.into());
        }
        if let Self::Http {
            problem: Some(p), ..
        } = &self
        {
            if !p.field_issues.is_empty() {
                details.insert(
                    "field_issues".into(),
                    serde_json::to_value(&p.field_issues).unwrap_or_default(),
                );
            }
        }
        let rid = self
            .request_id()
            .map(|r| format!(" (request id {r}: give it to the vendor's support)"))
            .unwrap_or_default();
        let (code, hint) = match self {
            Self::Http { status: 401, .. } => (
                ErrorCode::Unauthorized,
                "the API key was rejected: it may be wrong, expired or not allowed from this IP; \
                 store a valid key for this context"
                    .to_owned(),
            ),
            Self::Http {
                status: 403,
                problem,
                needs,
                ..
            } => {
                let perm = missing_permission(problem.as_deref(), *needs);
                details.insert("permission".into(), perm.as_str().into());
                (
                    ErrorCode::Forbidden,
                    format!("the API key lacks the `{perm}` permission; use a key that has it"),
                )
            }
            Self::Http {
                status: 404,
                context,
                ..
            } => (
                ErrorCode::NotFound,
                format!("check {context}: list deployments and snapshots to find valid ids"),
            ),
            Self::Http {
                status: 409 | 422,
                problem,
                ..
            } if problem.as_ref().and_then(|p| p.code.as_deref())
                == Some("snapshot_limit_reached") =>
            {
                (
                    ErrorCode::LimitReached,
                    "the plan's snapshot count is reached: delete an old snapshot first".into(),
                )
            }
            Self::Http {
                status: 409,
                problem,
                ..
            } => {
                let c = problem
                    .as_ref()
                    .and_then(|p| p.code.as_deref())
                    .unwrap_or("");
                let hint = if c.starts_with("idempot") {
                    "the same request is already being handled; wait and list snapshots"
                } else if c.contains("not_ready") {
                    "the snapshot is still processing; wait until it has completed"
                } else if c.contains("failed") {
                    "this node's snapshot failed on the Supervisor and has no archive; download \
                     the nodes that completed, or create a new snapshot"
                } else {
                    "a snapshot is already in progress for this deployment; wait for it to \
                     complete"
                };
                (ErrorCode::Conflict, hint.to_owned())
            }
            Self::Http { status: 429, .. } => (
                ErrorCode::RateLimited,
                "too many requests for this key; try again later".into(),
            ),
            Self::Http { status, .. } if *status >= 500 => (
                ErrorCode::Api,
                format!("the Supervisor had a problem; try again later{rid}"),
            ),
            Self::Http { .. } | Self::Decode { .. } => (
                ErrorCode::Api,
                format!("this looks like a Supervisor problem{rid}"),
            ),
            Self::Connect { .. } => (
                ErrorCode::Network,
                "check the Supervisor URL of the context and the network".into(),
            ),
            Self::Tls {
                problem: TlsProblem::NotTls,
                ..
            } => (
                ErrorCode::Network,
                "use http:// for a plain-http port (only for 127.0.0.1, ::1 or localhost), or \
                 the port that serves https"
                    .into(),
            ),
            Self::Tls {
                problem: TlsProblem::Certificate,
                ..
            } => (
                ErrorCode::Network,
                "check that the URL names the Supervisor's host as its certificate does; a \
                 retry cannot fix a certificate"
                    .into(),
            ),
            Self::Archive { .. } => (
                ErrorCode::Archive,
                "the file was not kept; download it again, and report it if this repeats".into(),
            ),
            Self::Cancelled => (
                ErrorCode::Cancelled,
                "stopped on request; what was downloaded is kept for the next try".into(),
            ),
            Self::Timeout { .. } => (
                ErrorCode::Timeout,
                "the network or the Supervisor is slow; try again".into(),
            ),
            Self::UrlRefused { .. } => (
                ErrorCode::UrlExpired,
                "the presigned URL expired or was refused; download again for a fresh one".into(),
            ),
            Self::Local(e) => return e.clone(),
            Self::Invalid(_) => (
                ErrorCode::InvalidInput,
                "check the value and try again".into(),
            ),
        };
        let mut e = Error::new(code, message).with_hint(hint);
        if !details.is_empty() {
            e = e.with_details(serde_json::Value::Object(details));
        }
        e
    }
}

/// Reads an error response body: a problem document, or the start of whatever it is.
pub fn parse_error_body(
    content_type: Option<&str>,
    body: &[u8],
) -> (Option<Problem>, Option<String>) {
    let looks_json = content_type.is_some_and(|c| c.contains("json"))
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if looks_json {
        if let Ok(p) = serde_json::from_slice::<Problem>(body) {
            return (Some(p), None);
        }
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (None, Some(one_line.chars().take(200).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, body: &str, ct: &str) -> ApiError {
        let (problem, body_start) = parse_error_body(Some(ct), body.as_bytes());
        ApiError::Http {
            status,
            problem: problem.map(Box::new),
            body_start,
            request_id: Some("0123456789abcdef0123456789abcdef".into()),
            retry_after: None,
            context: "deployment 42".into(),
            needs: Permission::Read,
        }
    }

    #[test]
    fn problem_json_becomes_a_typed_error() {
        let e = http(
            403,
            r#"{"type":"about:blank","title":"Forbidden","status":403,"code":"insufficient_permissions",
               "reason":"the key lacks deployment:manage","instance":"0123456789abcdef0123456789abcdef","retryable":false}"#,
            "application/problem+json",
        );
        assert_eq!(e.problem_code(), Some("insufficient_permissions"));
        assert!(!e.is_retryable());
        let err = Error::from(e);
        assert_eq!(err.code, ErrorCode::Forbidden);
        assert!(err.hint.unwrap().contains("deployment:manage"));
        assert_eq!(
            err.details.unwrap()["request_id"],
            "0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn an_html_page_from_a_proxy_is_reported_with_status_and_start_of_body() {
        let e = http(
            502,
            "<html>\n<head><title>502 Bad Gateway</title></head></html>",
            "text/html",
        );
        assert!(e.is_retryable());
        let msg = e.to_string();
        assert!(
            msg.contains("502") && msg.contains("<title>502 Bad Gateway</title>"),
            "{msg}"
        );
    }

    fn code(e: ApiError) -> ErrorCode {
        Error::from(e).code
    }

    #[test]
    fn statuses_map_to_stable_codes() {
        assert_eq!(code(http(401, "", "")), ErrorCode::Unauthorized);
        assert_eq!(code(http(404, "", "")), ErrorCode::NotFound);
        assert_eq!(
            code(http(409, "{}", "application/json")),
            ErrorCode::Conflict
        );
        assert_eq!(code(http(429, "", "")), ErrorCode::RateLimited);
        let limit = http(
            409,
            r#"{"code":"snapshot_limit_reached"}"#,
            "application/problem+json",
        );
        assert_eq!(code(limit), ErrorCode::LimitReached);
        assert_eq!(code(http(500, "", "")), ErrorCode::Api);
        let archive = ApiError::Archive {
            reason: "not a ZIP".into(),
        };
        assert_eq!(code(archive), ErrorCode::Archive);
    }

    #[test]
    fn a_403_names_the_permission_the_request_needed_when_the_problem_does_not() {
        for (needs, named) in [
            (Permission::Read, "deployment:read"),
            (Permission::Manage, "deployment:manage"),
        ] {
            let mut e = http(403, r#"{"code":"forbidden"}"#, "application/problem+json");
            if let ApiError::Http { needs: n, .. } = &mut e {
                *n = needs;
            }
            let err = Error::from(e);
            assert_eq!(err.code, ErrorCode::Forbidden);
            assert!(err.hint.as_deref().unwrap_or("").contains(named), "{err:?}");
            assert_eq!(err.details.unwrap()["permission"], named);
        }
    }

    #[test]
    fn a_failed_node_is_not_called_in_progress_and_hints_name_no_command() {
        let e = Error::from(http(
            409,
            r#"{"code":"snapshot_failed","reason":"snapshot 7 failed and has no archive"}"#,
            "application/problem+json",
        ));
        let hint = e.hint.unwrap_or_default();
        assert!(
            hint.contains("failed") && !hint.contains("in progress"),
            "{hint}"
        );
        for e in [
            http(401, "", ""),
            http(403, "", ""),
            http(404, "", ""),
            http(409, "{}", "application/json"),
            http(409, r#"{"code":"snapshot_not_ready"}"#, "application/json"),
        ] {
            let hint = Error::from(e).hint.unwrap_or_default();
            assert!(
                !hint.contains("snapdesk"),
                "a command in a core hint: {hint}"
            );
        }
    }
}
