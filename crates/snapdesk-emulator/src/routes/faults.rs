//! Fault injection: the middleware that applies the faults queued through `/_admin/faults`.
//!
//! `POST /_admin/faults` queues a fault for the next `count` requests matching
//! `path_prefix` (and `method`, when given):
//!
//! | kind | effect |
//! |---|---|
//! | `status` | a problem response with `status` (and `retry-after: retry_after`) |
//! | `delay` | waits `delay_ms` before handling; for a create, after the idempotency key is recorded, so `idempotent_request_in_progress` can be observed |
//! | `truncate` | the real response's headers with the full `Content-Length`, then half the body, then the connection is closed |
//! | `malformed_json` | `200` with a JSON body cut in the middle |
//! | `reset` | the connection is closed without a response |
//! | `corrupt` | the real response's headers and length, every body byte replaced by zero |
//!
//! With `advance_clock_secs`, a fault also moves the emulator's clock on when it acts (a
//! `truncate` just before it cuts the body): a URL can expire exactly between a download's
//! break and its resume, with no race against the test.
//!
//! `DELETE /_admin/faults` clears the queue. `POST /_admin/clock {"advance_secs": N}` moves
//! the emulator's clock. `GET /_admin/state` dumps the state. `GET /_admin/requests` lists
//! the last API and storage requests as received (method, path, `idempotency-key`, the fault
//! applied), so that tests can count attempts at the server. `POST /_admin/seed
//! {"deployment_id": "...", "archive_bytes": N}` adds a completed one-node snapshot whose
//! archive is about N bytes.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::model::{FaultKind, RequestRecord};
use crate::problem::{problem_response, request_id, Problem};
use crate::state::App;
use crate::util;

fn journal(app: &App, req: &Request, fault: Option<FaultKind>) {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let record = RequestRecord {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        idempotency_key: header("idempotency-key"),
        range: header("range"),
        if_range: header("if-range"),
        fault,
    };
    app.lock().record(record);
}

/// A delay the create handler applies itself (after recording the idempotency key).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingDelay(pub Duration);

fn is_create(method: &Method, path: &str) -> bool {
    method == Method::POST && path.starts_with("/deployments/") && path.ends_with("/snapshots")
}

/// The fault middleware: runs inside the request-id middleware, so injected responses
/// carry `ld-request` too. Admin routes are never faulted.
pub(crate) async fn faults_mw(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_admin") {
        return next.run(req).await;
    }
    let fault = app.lock().take_fault(req.method().as_str(), &path);
    journal(&app, &req, fault.as_ref().map(|f| f.kind));
    let Some(spec) = fault else {
        return next.run(req).await;
    };
    // A truncation moves the clock when it cuts the body; every other fault right away.
    let advance = spec.advance_clock_secs.filter(|s| *s != 0);
    if let (Some(secs), false) = (advance, spec.kind == FaultKind::Truncate) {
        app.advance_clock(secs);
    }
    let rid = request_id(req.extensions());
    match spec.kind {
        FaultKind::Status => {
            let status = spec
                .status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut p = Problem::new(
                status,
                "injected_fault",
                format!("fault injected by the emulator: HTTP {}", status.as_u16()),
            );
            p.retry_after = spec.retry_after;
            problem_response(p, &rid)
        }
        FaultKind::Delay => {
            let d = Duration::from_millis(spec.delay_ms.unwrap_or(1000));
            if is_create(req.method(), &path) {
                req.extensions_mut().insert(PendingDelay(d));
            } else {
                tokio::time::sleep(d).await;
            }
            next.run(req).await
        }
        FaultKind::Truncate => {
            let resp = next.run(req).await;
            truncate(resp, advance.map(|secs| (app.clone(), secs))).await
        }
        FaultKind::Corrupt => {
            let (parts, body) = next.run(req).await.into_parts();
            let stream = body
                .into_data_stream()
                .map(|chunk| chunk.map(|c| Bytes::from(vec![0u8; c.len()])));
            Response::from_parts(parts, Body::from_stream(stream))
        }
        FaultKind::Throttle => {
            let rate = spec.bytes_per_sec.unwrap_or(256 * 1024).max(1);
            let (parts, body) = next.run(req).await.into_parts();
            let stream = body.into_data_stream().then(move |chunk| async move {
                if let Ok(c) = &chunk {
                    let secs = c.len() as f64 / rate as f64;
                    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                }
                chunk
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
        FaultKind::MalformedJson => {
            let body = r#"{"items": [{"id": 612000000000000001, "tenant_id": 61538045612"#;
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap_or_else(|_| StatusCode::OK.into_response())
        }
        // Filtered out by take_fault; never reaches a request.
        FaultKind::NodeFailure => next.run(req).await,
        FaultKind::Reset => {
            let stream = futures_util::stream::once(async {
                Err::<Bytes, io::Error>(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "fault injection: reset",
                ))
            });
            Response::builder()
                .status(StatusCode::OK)
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::OK.into_response())
        }
    }
}

struct Truncating {
    inner: axum::body::BodyDataStream,
    sent: u64,
    half: u64,
    finished: bool,
    /// The clock to move on, and by how much, just before the cut.
    advance: Option<(App, i64)>,
}

/// Keeps the headers (and the full `Content-Length`), sends half the body, pauses so that
/// it reaches the client, then fails the body, which closes the connection.
async fn truncate(resp: Response, advance: Option<(App, i64)>) -> Response {
    let (mut parts, body) = resp.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (len, body) = match declared {
        Some(n) => (n, body),
        None => match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
            Ok(bytes) => {
                parts.headers.insert(
                    header::CONTENT_LENGTH,
                    util::header_value(&bytes.len().to_string()),
                );
                (bytes.len() as u64, Body::from(bytes))
            }
            Err(_) => (0, Body::empty()),
        },
    };
    let st = Truncating {
        inner: body.into_data_stream(),
        sent: 0,
        half: len / 2,
        finished: false,
        advance,
    };
    let stream = futures_util::stream::unfold(st, |mut st| async move {
        if st.finished {
            return None;
        }
        if st.sent >= st.half {
            tokio::time::sleep(Duration::from_millis(150)).await;
            if let Some((app, secs)) = st.advance.take() {
                app.advance_clock(secs);
            }
            st.finished = true;
            let e = io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "fault injection: truncated",
            );
            return Some((Err(e), st));
        }
        match st.inner.next().await {
            Some(Ok(chunk)) => {
                let room = usize::try_from(st.half - st.sent).unwrap_or(usize::MAX);
                let chunk = if chunk.len() > room {
                    chunk.slice(..room)
                } else {
                    chunk
                };
                st.sent += chunk.len() as u64;
                Some((Ok(chunk), st))
            }
            Some(Err(e)) => {
                st.finished = true;
                Some((Err(io::Error::other(e.to_string())), st))
            }
            None => {
                st.finished = true;
                Some((Err(io::Error::other("fault injection: truncated")), st))
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(stream))
}
