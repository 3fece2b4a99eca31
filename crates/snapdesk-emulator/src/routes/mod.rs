//! The HTTP surface, on top of the model and the store: the API routes (`api`), the object
//! storage behind presigned URLs (`storage`), the admin routes (`admin`) and the fault
//! middleware (`faults`). Handlers return `Result<Response, Problem>` (storage: S3 errors).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;

use crate::problem::{problem_response, Problem, RequestId, Unrendered, LD_REQUEST};
use crate::state::App;
use crate::util;

mod admin;
mod api;
mod faults;
mod storage;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route(
            "/deployments/{deployment_id}/snapshots",
            get(api::list_snapshots).post(api::create_snapshot),
        )
        .route(
            "/deployments/{deployment_id}/snapshots/{snapshot_id}",
            delete(api::delete_snapshot),
        )
        .route(
            "/deployments/{deployment_id}/snapshots/{snapshot_id}/download",
            get(api::download_snapshot),
        )
        .route("/_storage/{*object}", get(storage::get_object))
        .route(
            "/_admin/faults",
            post(admin::post_faults).delete(admin::delete_faults),
        )
        .route("/_admin/clock", post(admin::post_clock))
        .route("/_admin/state", get(admin::get_state))
        .route("/_admin/requests", get(admin::get_requests))
        .route("/_admin/seed", post(admin::post_seed))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            faults::faults_mw,
        ))
        .layer(middleware::from_fn(request_id_mw))
        .with_state(app)
}

/// Gives every request an id, and every response the `ld-request` header. Renders the
/// problems handlers returned (with the id as `instance`), and turns axum's bare 405 into
/// one.
async fn request_id_mw(mut req: Request, next: Next) -> Response {
    let rid = util::new_request_id();
    req.extensions_mut().insert(RequestId(rid.clone()));
    let mut resp = next.run(req).await;
    if let Some(Unrendered(p)) = resp.extensions_mut().remove::<Unrendered>() {
        resp = problem_response(p, &rid);
    }
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

async fn not_found(req: Request) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {} {}", req.method(), req.uri().path()),
    )
}
