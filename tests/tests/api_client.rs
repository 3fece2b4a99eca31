//! The API client against the real emulator over HTTP on 127.0.0.1: every endpoint and every
//! error path, retries, idempotency, pagination, resumable downloads and fresh URLs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use snapdesk_api::client::new_idempotency_key;
use snapdesk_api::{ApiError, Client, ClientOptions, CreateSnapshot};
use snapdesk_core::ErrorCode;
use snapdesk_emulator::{DeploymentSpec, EmulatorConfig, Plan};
use snapdesk_report::archive::{self, ArchiveKind};
use snapdesk_report::Status;
use snapdesk_tests::emu::Admin;

const DEP: u64 = 611_298_765_432_109_056;

fn config(nodes: u32, processing_ms: u64) -> EmulatorConfig {
    EmulatorConfig {
        processing_ms,
        deployments: vec![
            DeploymentSpec {
                id: DEP,
                name: "events-prod".into(),
                plan: Plan::Pro,
                nodes,
            },
            DeploymentSpec {
                id: DEP + 1,
                name: "small".into(),
                plan: Plan::Basic,
                nodes: 1,
            },
        ],
        ..EmulatorConfig::default()
    }
}

/// Processing that never ends on its own: tests finish it with [`finish_processing`] (the
/// emulator's clock), so a "still processing" window never depends on the machine's speed.
const FOREVER_MS: u64 = 3_600_000;

async fn finish_processing(admin: &Admin) {
    admin.advance_clock(FOREVER_MS / 1000 + 1).await;
}

/// The requests the emulator received from index `from` on, as (method, idempotency key).
async fn attempts_since(admin: &Admin, from: usize) -> Vec<(String, Option<String>)> {
    admin
        .requests()
        .await
        .iter()
        .skip(from)
        .map(|r| {
            (
                r["method"].as_str().unwrap_or_default().to_owned(),
                r["idempotency_key"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn fast_retries() -> ClientOptions {
    let mut o = ClientOptions::default();
    o.retry.base_delay = Duration::from_millis(20);
    o.retry.max_delay = Duration::from_millis(100);
    o
}

struct Env {
    emu: snapdesk_emulator::Emulator,
    manage: Client,
    read: Client,
    admin: Admin,
}

async fn env(nodes: u32, processing_ms: u64) -> Env {
    let emu = snapdesk_emulator::start(config(nodes, processing_ms))
        .await
        .unwrap();
    let manage = Client::new(&emu.supervisor_url, &emu.manage_key, fast_retries()).unwrap();
    let read = Client::new(
        &format!("{}/", emu.supervisor_url),
        &emu.read_key,
        fast_retries(),
    )
    .unwrap();
    let admin = Admin::new(&emu.supervisor_url, &emu.admin_token);
    Env {
        emu,
        manage,
        read,
        admin,
    }
}

async fn wait_completed(c: &Client, dep: u64) -> Vec<snapdesk_api::SnapshotItem> {
    for _ in 0..200 {
        let items = c.list_all(dep, 4).await.unwrap();
        if !items.is_empty() && items.iter().all(|i| i.status.is_completed()) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("snapshots did not complete");
}

#[tokio::test]
async fn create_list_download_delete_end_to_end() {
    let e = env(3, 150).await;
    let key = new_idempotency_key();
    let out = e
        .manage
        .create_snapshot(DEP, CreateSnapshot::default(), &key)
        .await
        .unwrap();
    assert!(!out.replayed);
    assert_eq!(out.request_id.as_ref().map(String::len), Some(32));

    let page = e.read.list_snapshots(DEP, 1, 10).await.unwrap();
    assert_eq!(page.items.len(), 3, "one item per node");
    assert!(page.items.iter().all(|i| i.name == page.items[0].name));
    assert!(page
        .items
        .iter()
        .all(|i| i.id > 1 << 53 && i.node_id > 1 << 53));

    let items = wait_completed(&e.read, DEP).await;
    assert!(items.iter().all(|i| i.completed_at.is_some()));

    let tmp = tempfile::tempdir().unwrap();
    let mut fails = 0;
    for item in &items {
        let dest = tmp
            .path()
            .join(format!("{}-{}.zip", item.name, item.node_id));
        let seen = Arc::new(AtomicU64::new(0));
        let s2 = seen.clone();
        let mut cb =
            move |p: snapdesk_api::DownloadProgress| s2.store(p.downloaded, Ordering::SeqCst);
        let d = e.read.download(DEP, item.id, &dest, &mut cb).await.unwrap();
        assert_eq!(d.bytes, std::fs::metadata(&dest).unwrap().len());
        assert_eq!(
            seen.load(Ordering::SeqCst),
            d.bytes,
            "progress reached the end"
        );
        let opened = archive::open(&dest).unwrap();
        assert_eq!(opened.kind, ArchiveKind::Snapdesk);
        let m = opened.manifest.unwrap();
        assert_eq!(m.node_id, Some(item.node_id.to_string()));
        assert_eq!(m.deployment_id, Some(DEP.to_string()));
        assert!(archive::verify(&dest, &m).unwrap().is_empty());
        let report = opened.parsed.unwrap().report.unwrap();
        assert!(report.checks.len() >= 30);
        fails += report
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count();
        assert!(opened
            .entries
            .iter()
            .any(|x| x.name == archive::IGGY_DATA_ENTRY));
    }
    assert!(fails >= 1, "the nodes differ: one has a nearly full disk");

    // Delete one node's snapshot: it is gone from the list and its download 404s.
    e.manage.delete_snapshot(DEP, items[0].id).await.unwrap();
    let after = e.read.list_all(DEP, 2).await.unwrap();
    assert!(after.iter().all(|i| i.id != items[0].id));
    let err = e.read.download_url(DEP, items[0].id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    e.emu.shutdown().await;
}

#[tokio::test]
async fn auth_and_permission_errors_are_typed() {
    let e = env(2, 100).await;
    let bad = Client::new(&e.emu.supervisor_url, "ld_wrong", fast_retries()).unwrap();
    let err = bad.list_snapshots(DEP, 1, 10).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.request_id().map(str::len), Some(32));
    assert_eq!(
        snapdesk_core::Error::from(err).code,
        ErrorCode::Unauthorized
    );

    let err = e
        .read
        .create_snapshot(DEP, CreateSnapshot::default(), &new_idempotency_key())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.problem_code(), Some("insufficient_permissions"));
    let core = snapdesk_core::Error::from(err);
    assert_eq!(core.code, ErrorCode::Forbidden);
    assert!(core.hint.unwrap().contains("deployment:manage"));
    let err = e.read.delete_snapshot(DEP, 1).await.unwrap_err();
    assert_eq!(err.status(), Some(403));

    let err = e.read.list_snapshots(42, 1, 10).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let core = snapdesk_core::Error::from(err);
    assert_eq!(core.code, ErrorCode::NotFound);
    assert!(core.message.contains("42"), "{}", core.message);
    let err = e.read.download_url(DEP, 999).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("999"), "{err}");
    e.emu.shutdown().await;
}

#[tokio::test]
async fn conflicts_limits_and_idempotent_retries() {
    let e = env(1, FOREVER_MS).await;
    let key = new_idempotency_key();
    e.manage
        .create_snapshot(DEP + 1, CreateSnapshot::default(), &key)
        .await
        .unwrap();
    // Same action again (same key): replayed, not a second snapshot.
    let again = e
        .manage
        .create_snapshot(DEP + 1, CreateSnapshot::default(), &key)
        .await
        .unwrap();
    assert!(again.replayed);
    // A new action while one is processing: 409.
    let err = e
        .manage
        .create_snapshot(DEP + 1, CreateSnapshot::default(), &new_idempotency_key())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert_eq!(snapdesk_core::Error::from(err).code, ErrorCode::Conflict);
    finish_processing(&e.admin).await;
    wait_completed(&e.read, DEP + 1).await;
    assert_eq!(e.read.list_all(DEP + 1, 1).await.unwrap().len(), 1);

    // Basic plan: 3 snapshots, then snapshot_limit_reached.
    for _ in 0..2 {
        e.manage
            .create_snapshot(DEP + 1, CreateSnapshot::default(), &new_idempotency_key())
            .await
            .unwrap();
        finish_processing(&e.admin).await;
        wait_completed(&e.read, DEP + 1).await;
    }
    let err = e
        .manage
        .create_snapshot(DEP + 1, CreateSnapshot::default(), &new_idempotency_key())
        .await
        .unwrap_err();
    assert_eq!(err.problem_code(), Some("snapshot_limit_reached"));
    assert_eq!(
        snapdesk_core::Error::from(err).code,
        ErrorCode::LimitReached
    );
    e.emu.shutdown().await;
}

#[tokio::test]
async fn retries_of_a_create_carry_the_same_idempotency_key_and_it_acts_once() {
    let e = env(1, 100).await;
    // Two 503s, then success: three attempts at the server, all with the caller's key.
    e.admin
        .fault(json!({"count": 2, "kind": "status", "status": 503, "path_prefix": "/deployments", "method": "POST"}))
        .await;
    let key = new_idempotency_key();
    let from = e.admin.requests().await.len();
    e.manage
        .create_snapshot(DEP + 1, CreateSnapshot::default(), &key)
        .await
        .unwrap();
    let attempts = attempts_since(&e.admin, from).await;
    assert_eq!(
        attempts,
        vec![("POST".to_owned(), Some(key.clone())); 3],
        "every attempt carries the one key of the action"
    );
    wait_completed(&e.read, DEP + 1).await;
    assert_eq!(
        e.read.list_all(DEP + 1, 1).await.unwrap().len(),
        1,
        "exactly one snapshot"
    );
    e.emu.shutdown().await;
}

#[tokio::test]
async fn retries_stop_at_the_exact_limit_and_never_follow_a_non_retryable_status() {
    let e = env(1, 100).await;
    let limit = fast_retries().retry.max_attempts as usize;
    assert_eq!(limit, 4, "the default policy: 4 attempts in all");

    // A persistent retryable status on a GET: exactly `limit` attempts, then the error.
    e.admin
        .fault(json!({"count": 10, "kind": "status", "status": 503, "path_prefix": "/deployments"}))
        .await;
    let from = e.admin.requests().await.len();
    let err = e.read.list_snapshots(DEP + 1, 1, 10).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        attempts_since(&e.admin, from).await,
        vec![("GET".to_owned(), None); limit]
    );

    // The same on a create with its key: `limit` attempts, every one with that key.
    let key = new_idempotency_key();
    let from = e.admin.requests().await.len();
    let err = e
        .manage
        .create_snapshot(DEP + 1, CreateSnapshot::default(), &key)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        attempts_since(&e.admin, from).await,
        vec![("POST".to_owned(), Some(key)); limit]
    );
    e.admin.clear_faults().await;

    // A non-retryable status: one attempt, and the error says what it was.
    e.admin
        .fault(json!({"count": 10, "kind": "status", "status": 400, "path_prefix": "/deployments"}))
        .await;
    let from = e.admin.requests().await.len();
    let err = e.read.list_snapshots(DEP + 1, 1, 10).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(attempts_since(&e.admin, from).await.len(), 1);
    assert_eq!(snapdesk_core::Error::from(err).code, ErrorCode::Api);
    e.admin.clear_faults().await;

    // 429 with retry-after: waited (at least that long, whatever the machine's load), then fine.
    e.admin
        .fault(json!({"count": 1, "kind": "status", "status": 429, "retry_after": 1, "path_prefix": "/deployments"}))
        .await;
    let t = std::time::Instant::now();
    e.read.list_snapshots(DEP + 1, 1, 10).await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "retry-after honoured"
    );

    // A reset connection is retried for a GET: two attempts.
    e.admin
        .fault(json!({"count": 1, "kind": "reset", "path_prefix": "/deployments"}))
        .await;
    let from = e.admin.requests().await.len();
    e.read.list_snapshots(DEP + 1, 1, 10).await.unwrap();
    assert_eq!(attempts_since(&e.admin, from).await.len(), 2);
    e.emu.shutdown().await;
}

#[tokio::test]
async fn malformed_json_in_a_success_answer_is_a_clear_error() {
    let e = env(1, 100).await;
    e.admin
        .fault(json!({"count": 1, "kind": "malformed_json", "path_prefix": "/deployments"}))
        .await;
    let err = e.read.list_snapshots(DEP + 1, 1, 10).await.unwrap_err();
    assert!(matches!(err, ApiError::Decode { .. }), "{err:?}");
    assert_eq!(snapdesk_core::Error::from(err).code, ErrorCode::Api);
    e.emu.shutdown().await;
}

#[tokio::test]
async fn every_page_of_a_large_deployment_is_listed_in_order() {
    let e = env(250, 0).await;
    e.manage
        .create_snapshot(DEP, CreateSnapshot::default(), &new_idempotency_key())
        .await
        .unwrap();
    let first = e.read.list_snapshots(DEP, 1, 100).await.unwrap();
    assert_eq!(first.total_results, 250);
    assert_eq!(first.total_pages, 3);
    let all = e.read.list_all(DEP, 3).await.unwrap();
    assert_eq!(all.len(), 250);
    let mut nodes: Vec<u64> = all.iter().map(|i| i.node_id).collect();
    nodes.dedup();
    assert_eq!(nodes.len(), 250, "no duplicates across pages");
    let serial: Vec<u64> = {
        let mut v = Vec::new();
        for p in 1..=3 {
            v.extend(
                e.read
                    .list_snapshots(DEP, p, 100)
                    .await
                    .unwrap()
                    .items
                    .iter()
                    .map(|i| i.id),
            );
        }
        v
    };
    assert_eq!(
        all.iter().map(|i| i.id).collect::<Vec<_>>(),
        serial,
        "page order kept"
    );
    e.emu.shutdown().await;
}

#[tokio::test]
async fn a_broken_download_resumes_with_range_and_an_expired_url_is_refreshed_once() {
    let e = env(1, 0).await;
    let seeded = e
        .admin
        .post(
            "/_admin/seed",
            json!({"deployment_id": DEP.to_string(), "archive_bytes": 3_000_000}),
        )
        .await;
    let id: u64 = seeded["id_str"].as_str().unwrap().parse().unwrap();
    let tmp = tempfile::tempdir().unwrap();

    // The body is cut half-way: the client resumes with Range and the file is whole.
    e.admin
        .fault(json!({"count": 1, "kind": "truncate", "path_prefix": "/_storage"}))
        .await;
    let dest = tmp.path().join("a.zip");
    let d = e.read.download(DEP, id, &dest, &mut |_| {}).await.unwrap();
    assert!(d.resumed >= 1, "{d:?}");
    assert_eq!(d.bytes, std::fs::metadata(&dest).unwrap().len());
    let reference = tmp.path().join("ref.zip");
    e.read
        .download(DEP, id, &reference, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        std::fs::read(&reference).unwrap()
    );

    // The URL expires between the break and the resume: one fresh URL, then Range. The
    // emulator moves its own clock as it cuts the body, so there is no race to win.
    let url = e.read.download_url(DEP, id).await.unwrap();
    e.admin
        .fault(json!({"count": 1, "kind": "truncate", "path_prefix": "/_storage", "advance_clock_secs": 3600}))
        .await;
    let dest2 = tmp.path().join("b.zip");
    let d = e
        .read
        .download_from(&url, &dest2, &mut |_| {}, Some((DEP, id)))
        .await
        .unwrap();
    assert!(d.refreshed_url, "{d:?}");
    assert!(d.resumed >= 1, "{d:?}");
    assert_eq!(
        std::fs::read(&dest2).unwrap(),
        std::fs::read(&reference).unwrap()
    );
    // Hashed while written, across the break: the hash is the whole file's.
    {
        use sha2::Digest;
        let whole = hex::encode(sha2::Sha256::digest(std::fs::read(&reference).unwrap()));
        assert_eq!(d.sha256, whole);
    }

    // Without a snapshot to refresh from, an expired URL is a clear error and nothing is left.
    let dest3 = tmp.path().join("c.zip");
    let err = e
        .read
        .download_from(&url, &dest3, &mut |_| {}, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::UrlRefused { status: 403, .. }),
        "{err:?}"
    );
    assert_eq!(snapdesk_core::Error::from(err).code, ErrorCode::UrlExpired);
    assert!(!dest3.exists());
    assert!(!tmp.path().join("c.zip.partial").exists());
    e.emu.shutdown().await;
}

#[tokio::test]
async fn ids_above_2_pow_53_survive_a_round_trip_exactly() {
    let e = env(2, 0).await;
    e.manage
        .create_snapshot(DEP, CreateSnapshot::default(), &new_idempotency_key())
        .await
        .unwrap();
    let raw = reqwest::Client::new()
        .get(format!(
            "{}/deployments/{DEP}/snapshots",
            e.emu.supervisor_url
        ))
        .header("ld-api-key", &e.emu.read_key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page = e.read.list_snapshots(DEP, 1, 10).await.unwrap();
    for item in &page.items {
        // On the wire: JSON integers, exactly as the API page shows them.
        assert!(
            raw.contains(&format!("\"node_id\":{}", item.node_id)),
            "{raw}"
        );
        assert!(raw.contains(&format!("\"deployment_id\":{DEP}")));
        // Leaving Rust: strings, and back to the same u64.
        let v = serde_json::to_value(item).unwrap();
        assert_eq!(v["node_id"], item.node_id.to_string());
        let back: snapdesk_api::SnapshotItem = serde_json::from_value(v).unwrap();
        assert_eq!(&back, item);
    }
    e.emu.shutdown().await;
}

/// The mechanism only, with a validator that refuses everything; the real one (the ZIP check
/// the CLI installs) is tested through `snapdesk snapshots download` in `cli_remote.rs`.
#[tokio::test]
async fn a_download_its_validator_refuses_never_takes_its_final_name() {
    let e = env(1, 0).await;
    let seeded = e
        .admin
        .post(
            "/_admin/seed",
            json!({"deployment_id": DEP.to_string(), "archive_bytes": 200_000}),
        )
        .await;
    let id: u64 = seeded["id_str"].as_str().unwrap().parse().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("x.zip");
    let refusing = e
        .read
        .clone()
        .with_validator(Arc::new(|_p: &std::path::Path| {
            Err("not a whole ZIP".into())
        }));
    let err = refusing
        .download(DEP, id, &dest, &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a whole ZIP"), "{err}");
    assert!(matches!(err, ApiError::Archive { .. }), "{err:?}");
    assert_eq!(
        snapdesk_core::Error::from(err).code,
        ErrorCode::Archive,
        "a corrupt download is an archive error, not an api one"
    );
    assert!(!dest.exists());
    assert!(!tmp.path().join("x.zip.partial").exists());
    e.emu.shutdown().await;
}

#[tokio::test]
async fn the_api_key_is_never_carried_across_a_redirect() {
    use std::io::{Read, Write};
    // Server B records whether it ever saw the key; server A redirects every request to B.
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b_port = b.local_addr().unwrap().port();
    b.set_nonblocking(true).unwrap();
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a_url = format!("http://127.0.0.1:{}", a.local_addr().unwrap().port());
    std::thread::spawn(move || {
        if let Ok((mut c, _)) = a.accept() {
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = write!(
                c,
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{b_port}/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    let client = Client::new(&a_url, "ld_SECRET_KEY_123", fast_retries()).unwrap();
    let err = client.list_snapshots(DEP, 1, 10).await.unwrap_err();
    assert_eq!(err.status(), Some(302), "{err}");
    std::thread::sleep(Duration::from_millis(200));
    let mut seen = String::new();
    if let Ok((mut c, _)) = b.accept() {
        c.set_nonblocking(false).unwrap();
        let mut buf = [0u8; 4096];
        let n = c.read(&mut buf).unwrap_or(0);
        seen = String::from_utf8_lossy(&buf[..n]).into_owned();
    }
    assert!(
        !seen.contains("ld_SECRET_KEY_123"),
        "the key reached another server: {seen}"
    );
}
