//! The admin routes (`/_admin/...`, header `x-admin-token`): faults, clock, state, the
//! request journal and seeded archives. `snapdesk emulator --help` documents their bodies.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::model::{Fault, FaultKind, FaultSpec, Item, ItemStatus, RequestRecord};
use crate::problem::Problem;
use crate::state::{remove_files, App};
use crate::{archives, util};

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

/// The admin preamble: the admin token checked, the JSON body parsed.
async fn admin_json<T: serde::de::DeserializeOwned>(app: &App, req: Request) -> Result<T, Problem> {
    let (parts, body) = req.into_parts();
    admin_auth(app, &parts.headers)?;
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "unreadable body",
        ));
    };
    parse_json(&body)
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

fn json_response(status: StatusCode, value: &serde_json::Value) -> Result<Response, Problem> {
    Ok((status, axum::Json(value.clone())).into_response())
}

pub(crate) async fn post_faults(State(app): State<App>, req: Request) -> Result<Response, Problem> {
    let spec = admin_json::<FaultSpec>(&app, req).await?;
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
            return Err(p);
        }
    }
    if spec.count == 0 {
        let p = Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_fault",
            "count must be ≥ 1",
        )
        .with_field("count");
        return Err(p);
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

pub(crate) async fn delete_faults(
    State(app): State<App>,
    req: Request,
) -> Result<Response, Problem> {
    admin_auth(&app, req.headers())?;
    app.lock().faults.clear();
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
struct ClockBody {
    #[serde(default)]
    advance_secs: i64,
}

pub(crate) async fn post_clock(State(app): State<App>, req: Request) -> Result<Response, Problem> {
    let b = admin_json::<ClockBody>(&app, req).await?;
    app.advance_clock(b.advance_secs);
    let doomed = {
        let mut inner = app.lock();
        let d = app.sweep(&mut inner);
        app.save(&inner);
        d
    };
    remove_files(doomed).await;
    json_response(
        StatusCode::OK,
        &serde_json::json!({
            "now": util::rfc3339(&app.now()),
            "offset_secs": app.clock_offset_ms() / 1000,
        }),
    )
}

pub(crate) async fn get_state(State(app): State<App>, req: Request) -> Result<Response, Problem> {
    admin_auth(&app, req.headers())?;
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

pub(crate) async fn get_requests(
    State(app): State<App>,
    req: Request,
) -> Result<Response, Problem> {
    admin_auth(&app, req.headers())?;
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

pub(crate) async fn post_seed(State(app): State<App>, req: Request) -> Result<Response, Problem> {
    let b = admin_json::<SeedBody>(&app, req).await?;
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
        return Err(p);
    };
    let Some(&node_id) = dep.node_ids.first() else {
        let p = Problem::new(
            StatusCode::CONFLICT,
            "no_nodes",
            "the deployment has no nodes",
        );
        return Err(p);
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
        archives::write_seeded(&job_path, &job_dep, &job_item, completed_at, target)
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
            return Err(p);
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
        remove_files(vec![path]).await;
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
