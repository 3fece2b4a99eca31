//! Fault injection and the admin routes (`/_admin/...`, header `x-admin-token`).
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
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::http::{problem_response, request_id, Problem};
use crate::state::{App, Item, ItemStatus};
use crate::util;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Status,
    Delay,
    Truncate,
    MalformedJson,
    Reset,
    /// Not a request fault: the next `count` node archives fail to generate, so those items
    /// end with status `failed` (and `completed_at` set).
    NodeFailure,
    /// The body is sent at `bytes_per_sec` (default 256 KiB/s): a slow link.
    Throttle,
    /// The whole body arrives, with the real length, but every byte is zero: what a client
    /// must refuse to keep (a download that is not a ZIP).
    Corrupt,
}

/// The body of `POST /_admin/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultSpec {
    #[serde(default = "one")]
    pub count: u32,
    pub kind: FaultKind,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub bytes_per_sec: Option<u64>,
    #[serde(default)]
    pub path_prefix: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    /// Moves the emulator's clock on by this many seconds when the fault acts.
    #[serde(default)]
    pub advance_clock_secs: Option<i64>,
}

fn one() -> u32 {
    1
}

/// A queued fault.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    pub remaining: u32,
    pub spec: FaultSpec,
}

/// One request as the emulator received it (`GET /_admin/requests`).
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// The `idempotency-key` header, when sent.
    pub idempotency_key: Option<String>,
    /// The `range` header, when sent (what a resumed download asked for).
    pub range: Option<String>,
    /// The `if-range` header, when sent.
    pub if_range: Option<String>,
    /// The fault applied to this request, if any.
    pub fault: Option<FaultKind>,
}

/// How many requests the journal keeps (the oldest go first): enough for any test, bounded
/// for long demos and benchmarks.
pub(crate) const JOURNAL_LIMIT: usize = 10_000;

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
    let mut inner = app.lock();
    if inner.requests.len() >= JOURNAL_LIMIT {
        inner.requests.pop_front();
    }
    inner.requests.push_back(record);
}

/// A delay the create handler applies itself (after recording the idempotency key).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingDelay(pub Duration);

fn take_fault(app: &App, method: &Method, path: &str) -> Option<FaultSpec> {
    let mut inner = app.lock();
    let idx = inner.faults.iter().position(|f| {
        f.remaining > 0
            && f.spec.kind != FaultKind::NodeFailure
            && f.spec
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
            && f.spec
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
    })?;
    let f = &mut inner.faults[idx];
    f.remaining -= 1;
    let spec = f.spec.clone();
    if f.remaining == 0 {
        inner.faults.remove(idx);
    }
    Some(spec)
}

/// Takes one queued node failure, if any (called by the processing task).
pub(crate) fn take_node_failure(inner: &mut crate::state::Inner) -> bool {
    let Some(idx) = inner
        .faults
        .iter()
        .position(|f| f.remaining > 0 && f.spec.kind == FaultKind::NodeFailure)
    else {
        return false;
    };
    let f = &mut inner.faults[idx];
    f.remaining -= 1;
    if f.remaining == 0 {
        inner.faults.remove(idx);
    }
    true
}

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
    let fault = take_fault(&app, req.method(), &path);
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

// ---------------------------------------------------------------------------------------------
// Admin routes

fn admin_auth(app: &App, headers: &HeaderMap) -> Result<(), Problem> {
    let given = headers.get("x-admin-token").and_then(|v| v.to_str().ok());
    if given == Some(app.admin_token.as_str()) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid admin token (header x-admin-token)",
        ))
    }
}

/// The admin preamble: the request id, the admin token checked, the JSON body parsed; or the
/// problem response to send instead.
async fn admin_json<T: serde::de::DeserializeOwned>(
    app: &App,
    req: Request,
) -> Result<(String, T), Response> {
    let rid = request_id(req.extensions());
    let (parts, body) = req.into_parts();
    if let Err(p) = admin_auth(app, &parts.headers) {
        return Err(problem_response(p, &rid));
    }
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        let p = Problem::new(StatusCode::BAD_REQUEST, "invalid_body", "unreadable body");
        return Err(problem_response(p, &rid));
    };
    match parse_json(&body) {
        Ok(v) => Ok((rid, v)),
        Err(p) => Err(problem_response(p, &rid)),
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let body = if body.iter().all(|b| b.is_ascii_whitespace()) {
        &b"{}"[..]
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("invalid JSON body: {e}"),
        )
    })
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    (status, axum::Json(value.clone())).into_response()
}

pub(crate) async fn post_faults(State(app): State<App>, req: Request) -> Response {
    let (rid, spec) = match admin_json::<FaultSpec>(&app, req).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if spec.kind == FaultKind::Status {
        let ok = spec
            .status
            .is_some_and(|s| (400..=599).contains(&s) && StatusCode::from_u16(s).is_ok());
        if !ok {
            let p = Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_fault",
                "a status fault needs \"status\" between 400 and 599",
            )
            .with_field("status");
            return problem_response(p, &rid);
        }
    }
    if spec.count == 0 {
        let p = Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_fault",
            "count must be ≥ 1",
        )
        .with_field("count");
        return problem_response(p, &rid);
    }
    let queued = {
        let mut inner = app.lock();
        inner.faults.push(Fault {
            remaining: spec.count,
            spec,
        });
        inner.faults.len()
    };
    json_response(StatusCode::OK, &serde_json::json!({ "queued": queued }))
}

pub(crate) async fn delete_faults(State(app): State<App>, req: Request) -> Response {
    let rid = request_id(req.extensions());
    if let Err(p) = admin_auth(&app, req.headers()) {
        return problem_response(p, &rid);
    }
    app.lock().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Deserialize)]
struct ClockBody {
    #[serde(default)]
    advance_secs: i64,
}

pub(crate) async fn post_clock(State(app): State<App>, req: Request) -> Response {
    let (_rid, b) = match admin_json::<ClockBody>(&app, req).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    app.advance_clock(b.advance_secs);
    let doomed = {
        let mut inner = app.lock();
        let d = app.sweep(&mut inner);
        app.save(&inner);
        d
    };
    crate::state::remove_files(doomed).await;
    json_response(
        StatusCode::OK,
        &serde_json::json!({
            "now": util::rfc3339(&app.now()),
            "offset_secs": app.clock_offset_ms() / 1000,
        }),
    )
}

pub(crate) async fn get_state(State(app): State<App>, req: Request) -> Response {
    let rid = request_id(req.extensions());
    if let Err(p) = admin_auth(&app, req.headers()) {
        return problem_response(p, &rid);
    }
    let inner = app.lock();
    let items: Vec<serde_json::Value> = inner
        .items
        .iter()
        .map(|i| {
            serde_json::json!({
                "id": i.id.to_string(),
                "deployment_id": i.deployment_id.to_string(),
                "node_id": i.node_id.to_string(),
                "node_index": i.node_index,
                "name": i.name,
                "status": i.status.as_str(),
                "created_at": util::rfc3339(&i.created_at),
                "due_at": util::rfc3339(&i.due_at),
                "completed_at": i.completed_at.as_ref().map(util::rfc3339),
                "redact_secrets": i.redact_secrets,
                "include_iggy": i.include_iggy,
                "file": i.file,
                "size": i.size,
                "seeded": i.seeded,
            })
        })
        .collect();
    let deployments: Vec<serde_json::Value> = app
        .deployments
        .iter()
        .map(|d| {
            serde_json::json!({
                "id": d.id.to_string(),
                "name": d.name,
                "plan": d.plan.as_str(),
                "node_ids": d.node_ids.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let value = serde_json::json!({
        "now": util::rfc3339(&app.now()),
        "clock_offset_secs": app.clock_offset_ms() / 1000,
        "processing_ms": app.processing_ms,
        "url_ttl_secs": app.url_ttl_secs,
        "archive_dir": app.archive_dir.display().to_string(),
        "deployments": deployments,
        "items": items,
        "faults": inner.faults,
        "idempotency_records": inner.idem.len(),
        // Records whose first request is still being handled (a create held by a delay).
        "idempotency_in_progress": inner.idem.values().filter(|e| e.outcome.is_none()).count(),
    });
    drop(inner);
    json_response(StatusCode::OK, &value)
}

pub(crate) async fn get_requests(State(app): State<App>, req: Request) -> Response {
    let rid = request_id(req.extensions());
    if let Err(p) = admin_auth(&app, req.headers()) {
        return problem_response(p, &rid);
    }
    let requests: Vec<RequestRecord> = app.lock().requests.iter().cloned().collect();
    json_response(StatusCode::OK, &serde_json::json!({ "requests": requests }))
}

#[derive(Debug, Deserialize)]
struct SeedBody {
    #[serde(default)]
    deployment_id: Option<serde_json::Value>,
    #[serde(default)]
    archive_bytes: u64,
}

pub(crate) async fn post_seed(State(app): State<App>, req: Request) -> Response {
    let (rid, b) = match admin_json::<SeedBody>(&app, req).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let dep_id = match &b.deployment_id {
        None | Some(serde_json::Value::Null) => app.deployments.first().map(|d| d.id),
        Some(serde_json::Value::String(s)) => s.trim().parse::<u64>().ok(),
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(_) => None,
    };
    let Some(dep) = dep_id.and_then(|id| app.deployment(id)).cloned() else {
        let p = Problem::new(
            StatusCode::NOT_FOUND,
            "deployment_not_found",
            format!(
                "deployment {} not found",
                b.deployment_id.unwrap_or_default()
            ),
        )
        .with_field("deployment_id");
        return problem_response(p, &rid);
    };
    let Some(&node_id) = dep.node_ids.first() else {
        let p = Problem::new(
            StatusCode::CONFLICT,
            "no_nodes",
            "the deployment has no nodes",
        );
        return problem_response(p, &rid);
    };
    let item = {
        let mut inner = app.lock();
        let (name, created_at) = app.fresh_name(&inner, dep.id);
        let id = inner.next_id;
        inner.next_id += 1;
        let item = Item {
            id,
            deployment_id: dep.id,
            node_id,
            node_index: 1,
            name,
            created_at,
            due_at: created_at,
            completed_at: None,
            status: ItemStatus::Processing,
            redact_secrets: true,
            include_iggy: true,
            file: None,
            size: 0,
            seeded: true,
        };
        inner.items.push(item.clone());
        app.save(&inner);
        item
    };
    let path = app.archive_path(&item.file_name());
    let completed_at = app.now();
    let target = b.archive_bytes;
    let (job_dep, job_item, job_path) = (dep.clone(), item.clone(), path.clone());
    let result = tokio::task::spawn_blocking(move || {
        crate::archives::write_seeded(&job_path, &job_dep, &job_item, completed_at, target)
    })
    .await;
    let size = match result {
        Ok(Ok(size)) => size,
        other => {
            let reason = match other {
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
                Ok(Ok(_)) => String::new(),
            };
            {
                let mut inner = app.lock();
                inner.items.retain(|i| i.id != item.id);
                app.save(&inner);
            }
            let p = Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "seed_failed",
                format!("cannot write the seeded archive: {reason}"),
            );
            return problem_response(p, &rid);
        }
    };
    let still_there = {
        let mut inner = app.lock();
        let found = inner.items.iter_mut().find(|i| i.id == item.id);
        let ok = match found {
            Some(it) => {
                it.status = ItemStatus::Completed;
                it.completed_at = Some(completed_at);
                it.file = Some(item.file_name());
                it.size = size;
                true
            }
            None => false,
        };
        app.save(&inner);
        ok
    };
    if !still_there {
        crate::state::remove_files(vec![path]).await;
    }
    json_response(
        StatusCode::OK,
        &serde_json::json!({
            "id": item.id,
            "id_str": item.id.to_string(),
            "deployment_id": dep.id,
            "node_id": node_id,
            "name": item.name,
            "archive_bytes": size,
        }),
    )
}
