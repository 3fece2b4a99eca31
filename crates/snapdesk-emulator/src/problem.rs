//! Problems (RFC 7807, as the Supervisor shapes them) and the request id they carry. A
//! handler returns `Result<Response, Problem>`; the request-id middleware renders a problem
//! with its request id as `instance`.

use axum::body::Body;
use axum::http::{header, Extensions, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::model::CachedOutcome;
use crate::util;

/// The `ld-request` id of the current request, set by [`request_id_mw`].
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub String);

pub(crate) fn request_id(ext: &Extensions) -> String {
    ext.get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_else(util::new_request_id)
}

pub(crate) const LD_REQUEST: &str = "ld-request";
const PROBLEM_TYPE_BASE: &str = "https://supervisor.emulator.invalid/problems/";

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FieldIssue {
    pub code: String,
    pub reason: String,
    pub path: String,
}

/// An RFC 7807 problem, as the Supervisor shapes them.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub reason: String,
    pub field: Option<String>,
    pub field_issues: Vec<FieldIssue>,
    pub retry_after: Option<u64>,
}

impl Problem {
    pub(crate) fn new(status: StatusCode, code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            status,
            code,
            reason: reason.into(),
            field: None,
            field_issues: Vec::new(),
            retry_after: None,
        }
    }

    pub(crate) fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    pub(crate) fn with_issue(mut self, code: &str, reason: impl Into<String>, path: &str) -> Self {
        self.field_issues.push(FieldIssue {
            code: code.to_owned(),
            reason: reason.into(),
            path: path.to_owned(),
        });
        self
    }

    fn retryable(&self) -> bool {
        matches!(
            self.status.as_u16(),
            408 | 425 | 429 | 500 | 502 | 503 | 504
        )
    }

    /// The body, with `instance` = the request id.
    pub(crate) fn body(&self, rid: &str) -> Vec<u8> {
        let v = serde_json::json!({
            "type": format!("{PROBLEM_TYPE_BASE}{}", self.code),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "code": self.code,
            "reason": self.reason,
            "instance": rid,
            "field": self.field,
            "field_issues": self.field_issues,
            "retryable": self.retryable(),
        });
        serde_json::to_vec(&v).unwrap_or_default()
    }

    pub(crate) fn outcome(&self, rid: &str) -> CachedOutcome {
        let mut headers = vec![
            (
                header::CONTENT_TYPE.as_str().to_owned(),
                "application/problem+json".to_owned(),
            ),
            (LD_REQUEST.to_owned(), rid.to_owned()),
        ];
        if let Some(s) = self.retry_after {
            headers.push((header::RETRY_AFTER.as_str().to_owned(), s.to_string()));
        }
        CachedOutcome {
            status: self.status.as_u16(),
            headers,
            body: self.body(rid),
        }
    }
}

pub(crate) fn problem_response(p: Problem, rid: &str) -> Response {
    outcome_response(&p.outcome(rid), false)
}

pub(crate) fn outcome_response(o: &CachedOutcome, replayed: bool) -> Response {
    let status = StatusCode::from_u16(o.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = Response::new(Body::from(o.body.clone()));
    *resp.status_mut() = status;
    for (k, v) in &o.headers {
        if let Ok(name) = HeaderName::from_bytes(k.as_bytes()) {
            resp.headers_mut().insert(name, util::header_value(v));
        }
    }
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", util::header_value("true"));
    }
    resp
}

/// A problem a handler returned, waiting for the request-id middleware to render it with the
/// request's id.
#[derive(Debug, Clone)]
pub(crate) struct Unrendered(pub Problem);

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = self.status;
        resp.extensions_mut().insert(Unrendered(self));
        resp
    }
}
