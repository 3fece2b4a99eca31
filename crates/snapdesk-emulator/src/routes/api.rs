//! The snapshots API: create, list, download (a presigned URL) and delete.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::faults::PendingDelay;
use crate::model::{
    self, CachedOutcome, IdemEntry, Item, ItemStatus, DIVISION_ID, ENVIRONMENT_ID, TENANT_ID,
};
use crate::problem::{outcome_response, request_id, Problem, LD_REQUEST};
use crate::processing::process_items;
use crate::state::{remove_files, App};
use crate::util;

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

fn find_deployment<'a>(app: &'a App, raw: &str) -> Result<&'a model::Deployment, Problem> {
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

pub(super) async fn create_snapshot(
    State(app): State<App>,
    Path(deployment_id): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let rid = request_id(req.extensions());
    let delay = req.extensions().get::<PendingDelay>().copied();
    let (parts, body) = req.into_parts();
    let api_key = authorize(&app, &parts.headers, Perm::Manage)?;
    let dep = find_deployment(&app, &deployment_id)?.clone();
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
                return Err(p);
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
            return Err(p);
        }
    };

    // Idempotency: replay, refuse, or record "in progress".
    let idem = idem_key.map(|k| (k, api_key.clone(), dep.id));
    if let Some(key) = &idem {
        let body_hash = util::sha256_hex(&body);
        let mut inner = app.lock();
        let doomed = app.sweep(&mut inner);
        if !doomed.is_empty() {
            tokio::spawn(remove_files(doomed));
        }
        match inner.idem.get(key) {
            Some(e) if e.body_hash != body_hash => {
                let p = Problem::new(
                    StatusCode::CONFLICT,
                    "idempotency_error",
                    "this idempotency-key was already used with a different request body",
                )
                .with_field("idempotency-key");
                return Err(p);
            }
            Some(e) => match &e.outcome {
                None => {
                    let p = Problem::new(
                        StatusCode::CONFLICT,
                        "idempotent_request_in_progress",
                        "a request with this idempotency-key is still being processed",
                    )
                    .with_field("idempotency-key");
                    return Err(p);
                }
                Some(o) => return Ok(outcome_response(o, true)),
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
    Ok(outcome_response(&outcome, false))
}

async fn do_create(
    app: &App,
    dep: &model::Deployment,
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
    remove_files(doomed).await;
    match result {
        Ok(ids) => {
            tokio::spawn(process_items(app.clone(), ids));
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
    inner: &mut model::Inner,
    dep: &model::Deployment,
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
) -> Result<model::Deployment, Problem> {
    authorize(app, headers, perm)?;
    find_deployment(app, deployment_id).cloned()
}

pub(super) async fn list_snapshots(
    State(app): State<App>,
    Path(deployment_id): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let dep = authorized_deployment(&app, req.headers(), Perm::Read, &deployment_id)?;
    let query = req.uri().query().unwrap_or("").to_owned();
    let page = parse_positive(&query, "page", 1)?;
    let results = match parse_positive(&query, "results", 10) {
        Ok(r) if r > MAX_RESULTS => {
            let p = Problem::new(
                StatusCode::BAD_REQUEST,
                "validation_error",
                format!("results must be at most {MAX_RESULTS}"),
            )
            .with_field("results")
            .with_issue("too_large", format!("at most {MAX_RESULTS}"), "results");
            return Err(p);
        }
        Ok(r) => r,
        Err(p) => return Err(p),
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
    remove_files(doomed).await;
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
    Ok(resp)
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
        tokio::spawn(remove_files(doomed));
    }
    found.ok_or_else(|| snapshot_not_found(raw))
}

pub(super) async fn download_snapshot(
    State(app): State<App>,
    Path((deployment_id, snapshot_id)): Path<(String, String)>,
    req: Request,
) -> Result<Response, Problem> {
    let dep = authorized_deployment(&app, req.headers(), Perm::Read, &deployment_id)?;
    let item = find_item(&app, dep.id, &snapshot_id)?;
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
            return Err(p);
        }
        ItemStatus::Failed => {
            let p = Problem::new(
                StatusCode::CONFLICT,
                "snapshot_failed",
                format!("snapshot {} failed and has no archive", item.id),
            );
            return Err(p);
        }
    }
    let url = app.presign(&item.object());
    let mut resp = (
        StatusCode::OK,
        axum::Json(serde_json::json!({ "url": url })),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, util::header_value("no-store"));
    Ok(resp)
}

pub(super) async fn delete_snapshot(
    State(app): State<App>,
    Path((deployment_id, snapshot_id)): Path<(String, String)>,
    req: Request,
) -> Result<Response, Problem> {
    let dep = authorized_deployment(&app, req.headers(), Perm::Manage, &deployment_id)?;
    let Ok(id) = snapshot_id.trim().parse::<u64>() else {
        return Err(snapshot_not_found(&snapshot_id));
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
        remove_files(doomed).await;
        return Err(snapshot_not_found(&snapshot_id));
    };
    if let Some(f) = &item.file {
        doomed.push(app.archive_path(f));
    }
    remove_files(doomed).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
