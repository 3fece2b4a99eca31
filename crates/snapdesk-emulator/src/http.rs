//! The API routes, problem responses and the request-id middleware.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, Extensions, HeaderMap, HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use serde::Serialize;

use crate::faults::{self, PendingDelay};
use crate::state::{
    self, App, CachedOutcome, IdemEntry, Item, ItemStatus, DIVISION_ID, ENVIRONMENT_ID, TENANT_ID,
};
use crate::{storage, util};

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

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route(
            "/deployments/{deployment_id}/snapshots",
            get(list_snapshots).post(create_snapshot),
        )
        .route(
            "/deployments/{deployment_id}/snapshots/{snapshot_id}",
            delete(delete_snapshot),
        )
        .route(
            "/deployments/{deployment_id}/snapshots/{snapshot_id}/download",
            get(download_snapshot),
        )
        .route("/_storage/{*object}", get(storage::get_object))
        .route(
            "/_admin/faults",
            post(faults::post_faults).delete(faults::delete_faults),
        )
        .route("/_admin/clock", post(faults::post_clock))
        .route("/_admin/state", get(faults::get_state))
        .route("/_admin/requests", get(faults::get_requests))
        .route("/_admin/seed", post(faults::post_seed))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            faults::faults_mw,
        ))
        .layer(middleware::from_fn(request_id_mw))
        .with_state(app)
}

/// Gives every request an id, and every response the `ld-request` header. Turns axum's
/// bare 405 into a problem.
async fn request_id_mw(mut req: Request, next: Next) -> Response {
    let rid = util::new_request_id();
    req.extensions_mut().insert(RequestId(rid.clone()));
    let mut resp = next.run(req).await;
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && !resp.headers().contains_key(header::CONTENT_TYPE)
    {
        let allow = resp.headers().get(header::ALLOW).cloned();
        let p = Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this method is not allowed on this path",
        );
        resp = problem_response(p, &rid);
        if let Some(a) = allow {
            resp.headers_mut().insert(header::ALLOW, a);
        }
    }
    if !resp.headers().contains_key(LD_REQUEST) {
        resp.headers_mut()
            .insert(LD_REQUEST, util::header_value(&rid));
    }
    resp
}

async fn not_found(req: Request) -> Response {
    let rid = request_id(req.extensions());
    let p = Problem::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {} {}", req.method(), req.uri().path()),
    );
    problem_response(p, &rid)
}

// ---------------------------------------------------------------------------------------------
// Problems

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

// ---------------------------------------------------------------------------------------------
// Authentication

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Perm {
    Read,
    Manage,
}

/// Checks `ld-api-key`; returns the key.
fn authorize(app: &App, headers: &HeaderMap, need: Perm) -> Result<String, Problem> {
    let key = headers
        .get("ld-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let perm = if !key.is_empty() && key == app.manage_key {
        Perm::Manage
    } else if !key.is_empty() && key == app.read_key {
        Perm::Read
    } else {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid API key",
        ));
    };
    if need == Perm::Manage && perm != Perm::Manage {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "insufficient_permissions",
            "this API key lacks the deployment:manage permission, needed to create or delete \
             snapshots",
        ));
    }
    Ok(key.to_owned())
}

fn find_deployment<'a>(app: &'a App, raw: &str) -> Result<&'a state::Deployment, Problem> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .and_then(|id| app.deployment(id))
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "deployment_not_found",
                format!("deployment {raw} not found"),
            )
        })
}

fn snapshot_not_found(raw: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "snapshot_not_found",
        format!("snapshot {raw} not found"),
    )
}

// ---------------------------------------------------------------------------------------------
// Create

#[derive(Debug, Clone, Copy)]
struct CreateOptions {
    redact_secrets: bool,
    include_iggy: bool,
}

fn parse_create_body(body: &[u8]) -> Result<CreateOptions, Problem> {
    let mut opts = CreateOptions {
        redact_secrets: true,
        include_iggy: true,
    };
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(opts);
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body is not valid JSON",
        )
        .with_issue("invalid_json", e.to_string(), "")
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body must be a JSON object",
        )
        .with_issue("invalid_type", "expected an object", ""));
    };
    let mut bad: Vec<&str> = Vec::new();
    for (field, slot) in [
        ("redact_secrets", &mut opts.redact_secrets),
        ("include_iggy", &mut opts.include_iggy),
    ] {
        match map.get(field) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Bool(b)) => *slot = *b,
            Some(_) => bad.push(field),
        }
    }
    if let Some(first) = bad.first() {
        let mut p = Problem::new(
            StatusCode::BAD_REQUEST,
            "validation_error",
            format!("{first} must be a boolean"),
        )
        .with_field(first);
        for f in &bad {
            p = p.with_issue("invalid_type", "expected a boolean", f);
        }
        return Err(p);
    }
    Ok(opts)
}

const MAX_IDEMPOTENCY_KEY: usize = 255;

async fn create_snapshot(
    State(app): State<App>,
    Path(deployment_id): Path<String>,
    req: Request,
) -> Response {
    let rid = request_id(req.extensions());
    let delay = req.extensions().get::<PendingDelay>().copied();
    let (parts, body) = req.into_parts();
    let api_key = match authorize(&app, &parts.headers, Perm::Manage) {
        Ok(k) => k,
        Err(p) => return problem_response(p, &rid),
    };
    let dep = match find_deployment(&app, &deployment_id) {
        Ok(d) => d.clone(),
        Err(p) => return problem_response(p, &rid),
    };
    let idem_key = match parts.headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(s) if !s.is_empty() && s.len() <= MAX_IDEMPOTENCY_KEY => Some(s.to_owned()),
            _ => {
                let p = Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_idempotency_key",
                    format!(
                        "idempotency-key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII \
                         characters"
                    ),
                )
                .with_field("idempotency-key")
                .with_issue(
                    "too_long",
                    format!("at most {MAX_IDEMPOTENCY_KEY} characters"),
                    "idempotency-key",
                );
                return problem_response(p, &rid);
            }
        },
    };
    let body = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            let p = Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the body is larger than 64 KiB",
            );
            return problem_response(p, &rid);
        }
    };

    // Idempotency: replay, refuse, or record "in progress".
    let idem = idem_key.map(|k| (k, api_key.clone(), dep.id));
    if let Some(key) = &idem {
        let body_hash = util::sha256_hex(&body);
        let mut inner = app.lock();
        let doomed = app.sweep(&mut inner);
        if !doomed.is_empty() {
            tokio::spawn(state::remove_files(doomed));
        }
        match inner.idem.get(key) {
            Some(e) if e.body_hash != body_hash => {
                let p = Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency_error",
                    "this idempotency-key was already used with a different request body",
                )
                .with_field("idempotency-key");
                return problem_response(p, &rid);
            }
            Some(e) => match &e.outcome {
                None => {
                    let p = Problem::new(
                        StatusCode::CONFLICT,
                        "idempotent_request_in_progress",
                        "a request with this idempotency-key is still being processed",
                    )
                    .with_field("idempotency-key");
                    return problem_response(p, &rid);
                }
                Some(o) => return outcome_response(o, true),
            },
            None => {
                let now = app.now();
                inner.idem.insert(
                    key.clone(),
                    IdemEntry {
                        body_hash,
                        created: now,
                        outcome: None,
                    },
                );
            }
        }
    }

    if let Some(PendingDelay(d)) = delay {
        tokio::time::sleep(d).await;
    }

    let outcome = match parse_create_body(&body) {
        Ok(opts) => do_create(&app, &dep, opts, &rid).await,
        Err(p) => p.outcome(&rid),
    };

    if let Some(key) = &idem {
        let mut inner = app.lock();
        // Outcomes that do not depend on the moment are kept; a conflict or a missing
        // resource may change, so the key is released for a later retry.
        let keep = (200..300).contains(&outcome.status) || outcome.status == 400;
        if keep {
            let now = app.now();
            if let Some(e) = inner.idem.get_mut(key) {
                e.outcome = Some(outcome.clone());
                e.created = now;
            }
        } else {
            inner.idem.remove(key);
        }
    }
    outcome_response(&outcome, false)
}

async fn do_create(
    app: &App,
    dep: &state::Deployment,
    opts: CreateOptions,
    rid: &str,
) -> CachedOutcome {
    let (result, doomed) = {
        let mut inner = app.lock();
        let doomed = app.sweep(&mut inner);
        let result = register_snapshot(app, &mut inner, dep, opts);
        if result.is_ok() {
            app.save(&inner);
        }
        (result, doomed)
    };
    state::remove_files(doomed).await;
    match result {
        Ok(ids) => {
            tokio::spawn(state::process_items(app.clone(), ids));
            CachedOutcome {
                status: 204,
                headers: vec![(LD_REQUEST.to_owned(), rid.to_owned())],
                body: Vec::new(),
            }
        }
        Err(p) => p.outcome(rid),
    }
}

/// Checks the in-progress rule and the plan limit, then adds one item per node.
fn register_snapshot(
    app: &App,
    inner: &mut state::Inner,
    dep: &state::Deployment,
    opts: CreateOptions,
) -> Result<Vec<u64>, Problem> {
    let in_progress = inner
        .items
        .iter()
        .any(|i| i.deployment_id == dep.id && i.status == ItemStatus::Processing);
    if in_progress {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "snapshot_in_progress",
            format!(
                "a snapshot of deployment {} is already in progress; wait until it completes",
                dep.id
            ),
        ));
    }
    let mut names: Vec<&str> = inner
        .items
        .iter()
        .filter(|i| i.deployment_id == dep.id)
        .map(|i| i.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let count = names.len();
    let limit = dep.plan.snapshot_limit();
    if count >= limit {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "snapshot_limit_reached",
            format!(
                "deployment {} already has {count} snapshots, the limit of the {} plan \
                 ({limit}); delete one first",
                dep.id,
                dep.plan.as_str()
            ),
        ));
    }
    let (name, created_at) = app.fresh_name(inner, dep.id);
    let started = app.now();
    let n = dep.node_ids.len().max(1) as u64;
    let mut ids = Vec::new();
    for (i, node_id) in dep.node_ids.iter().enumerate() {
        let id = inner.next_id;
        inner.next_id += 1;
        // At most ten years: a DateTime cannot overflow.
        let offset_ms = (app.processing_ms.saturating_mul(i as u64 + 1) / n).min(315_360_000_000);
        let due_at = started + chrono::Duration::milliseconds(offset_ms as i64);
        inner.items.push(Item {
            id,
            deployment_id: dep.id,
            node_id: *node_id,
            node_index: i as u32 + 1,
            name: name.clone(),
            created_at,
            due_at,
            completed_at: None,
            status: ItemStatus::Processing,
            redact_secrets: opts.redact_secrets,
            include_iggy: opts.include_iggy,
            file: None,
            size: 0,
            seeded: false,
        });
        ids.push(id);
    }
    Ok(ids)
}

// ---------------------------------------------------------------------------------------------
// List

#[derive(Debug, Serialize)]
struct ListItem<'a> {
    id: u64,
    tenant_id: u64,
    division_id: u64,
    environment_id: u64,
    deployment_id: u64,
    node_id: u64,
    deployment_name: &'a str,
    name: &'a str,
    status: &'static str,
    created_at: String,
    completed_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct ListPage<'a> {
    items: Vec<ListItem<'a>>,
    page: u64,
    total_results: u64,
    total_pages: u64,
}

const MAX_RESULTS: u64 = 100;

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn parse_positive(query: &str, name: &str, default: u64) -> Result<u64, Problem> {
    match query_param(query, name) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "validation_error",
                format!("{name} must be a positive integer"),
            )
            .with_field(name)
            .with_issue("invalid_value", "expected an integer ≥ 1", name)),
        },
    }
}

/// The preamble of every deployment route: the key may do `perm`, and the deployment exists.
fn authorized_deployment(
    app: &App,
    headers: &axum::http::HeaderMap,
    perm: Perm,
    deployment_id: &str,
) -> Result<state::Deployment, Problem> {
    authorize(app, headers, perm)?;
    find_deployment(app, deployment_id).cloned()
}

async fn list_snapshots(
    State(app): State<App>,
    Path(deployment_id): Path<String>,
    req: Request,
) -> Response {
    let rid = request_id(req.extensions());
    let dep = match authorized_deployment(&app, req.headers(), Perm::Read, &deployment_id) {
        Ok(d) => d,
        Err(p) => return problem_response(p, &rid),
    };
    let query = req.uri().query().unwrap_or("").to_owned();
    let page = match parse_positive(&query, "page", 1) {
        Ok(p) => p,
        Err(p) => return problem_response(p, &rid),
    };
    let results = match parse_positive(&query, "results", 10) {
        Ok(r) if r > MAX_RESULTS => {
            let p = Problem::new(
                StatusCode::BAD_REQUEST,
                "validation_error",
                format!("results must be at most {MAX_RESULTS}"),
            )
            .with_field("results")
            .with_issue("too_large", format!("at most {MAX_RESULTS}"), "results");
            return problem_response(p, &rid);
        }
        Ok(r) => r,
        Err(p) => return problem_response(p, &rid),
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_else(|| app.supervisor_url.clone());

    let (mut items, doomed) = {
        let mut inner = app.lock();
        let doomed = app.sweep(&mut inner);
        let items: Vec<Item> = inner
            .items
            .iter()
            .filter(|i| i.deployment_id == dep.id)
            .cloned()
            .collect();
        (items, doomed)
    };
    state::remove_files(doomed).await;
    items.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then(a.node_id.cmp(&b.node_id))
            .then(a.id.cmp(&b.id))
    });
    let total = items.len() as u64;
    let total_pages = total.div_ceil(results);
    let start = (page - 1).saturating_mul(results);
    let page_items: Vec<ListItem<'_>> = items
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(results).unwrap_or(usize::MAX))
        .map(|i| ListItem {
            id: i.id,
            tenant_id: TENANT_ID,
            division_id: DIVISION_ID,
            environment_id: ENVIRONMENT_ID,
            deployment_id: i.deployment_id,
            node_id: i.node_id,
            deployment_name: &dep.name,
            name: &i.name,
            status: i.status.as_str(),
            created_at: util::rfc3339(&i.created_at),
            completed_at: i.completed_at.as_ref().map(util::rfc3339),
        })
        .collect();
    let body = ListPage {
        items: page_items,
        page,
        total_results: total,
        total_pages,
    };

    let base = format!("{host}/deployments/{}/snapshots", dep.id);
    let link_to = |p: u64, rel: &str| format!("<{base}?page={p}&results={results}>; rel=\"{rel}\"");
    let last = total_pages.max(1);
    let mut links = vec![link_to(1, "first")];
    if page > 1 {
        links.push(link_to((page - 1).min(last), "prev"));
    }
    if page < total_pages {
        links.push(link_to(page + 1, "next"));
    }
    links.push(link_to(last, "last"));

    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::LINK, util::header_value(&links.join(", ")));
    resp
}

// ---------------------------------------------------------------------------------------------
// Download and delete

fn find_item(app: &App, dep_id: u64, raw: &str) -> Result<Item, Problem> {
    let id = raw
        .trim()
        .parse::<u64>()
        .map_err(|_| snapshot_not_found(raw))?;
    let mut inner = app.lock();
    let doomed = app.sweep(&mut inner);
    let found = inner
        .items
        .iter()
        .find(|i| i.id == id && i.deployment_id == dep_id)
        .cloned();
    drop(inner);
    if !doomed.is_empty() {
        tokio::spawn(state::remove_files(doomed));
    }
    found.ok_or_else(|| snapshot_not_found(raw))
}

async fn download_snapshot(
    State(app): State<App>,
    Path((deployment_id, snapshot_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    let rid = request_id(req.extensions());
    let dep = match authorized_deployment(&app, req.headers(), Perm::Read, &deployment_id) {
        Ok(d) => d,
        Err(p) => return problem_response(p, &rid),
    };
    let item = match find_item(&app, dep.id, &snapshot_id) {
        Ok(i) => i,
        Err(p) => return problem_response(p, &rid),
    };
    match item.status {
        ItemStatus::Completed => {}
        ItemStatus::Processing => {
            let p = Problem::new(
                StatusCode::CONFLICT,
                "snapshot_not_ready",
                format!(
                    "snapshot {} is still processing; try again once it has completed",
                    item.id
                ),
            );
            return problem_response(p, &rid);
        }
        ItemStatus::Failed => {
            let p = Problem::new(
                StatusCode::CONFLICT,
                "snapshot_failed",
                format!("snapshot {} failed and has no archive", item.id),
            );
            return problem_response(p, &rid);
        }
    }
    let url = storage::presign(&app, &item.object());
    let mut resp = (
        StatusCode::OK,
        axum::Json(serde_json::json!({ "url": url })),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, util::header_value("no-store"));
    resp
}

async fn delete_snapshot(
    State(app): State<App>,
    Path((deployment_id, snapshot_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    let rid = request_id(req.extensions());
    let dep = match authorized_deployment(&app, req.headers(), Perm::Manage, &deployment_id) {
        Ok(d) => d,
        Err(p) => return problem_response(p, &rid),
    };
    let Ok(id) = snapshot_id.trim().parse::<u64>() else {
        return problem_response(snapshot_not_found(&snapshot_id), &rid);
    };
    let (removed, mut doomed) = {
        let mut inner = app.lock();
        let doomed = app.sweep(&mut inner);
        let pos = inner
            .items
            .iter()
            .position(|i| i.id == id && i.deployment_id == dep.id);
        let removed = pos.map(|p| inner.items.remove(p));
        app.save(&inner);
        (removed, doomed)
    };
    let Some(item) = removed else {
        state::remove_files(doomed).await;
        return problem_response(snapshot_not_found(&snapshot_id), &rid);
    };
    if let Some(f) = &item.file {
        doomed.push(app.archive_path(f));
    }
    state::remove_files(doomed).await;
    StatusCode::NO_CONTENT.into_response()
}
