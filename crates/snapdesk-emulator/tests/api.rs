//! The emulator over real HTTP on 127.0.0.1, as a client sees it.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use snapdesk_emulator::{start, Emulator, EmulatorConfig};
use snapdesk_report::archive::{self, ArchiveKind};
use snapdesk_report::Status;

const EVENTS: u64 = 611_298_765_432_109_056;
const STAGING: u64 = 611_298_765_432_109_057;
const MANAGE: &str = "ld_manage_test_key";
const READ: &str = "ld_read_test_key";
const ADMIN: &str = "admin-test-token";

async fn emulator(processing_ms: u64) -> Emulator {
    start(EmulatorConfig {
        processing_ms,
        manage_key: Some(MANAGE.into()),
        read_key: Some(READ.into()),
        admin_token: Some(ADMIN.into()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn is_request_id(s: &str) -> bool {
    s.len() == 32
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

fn request_id(resp: &Response) -> String {
    let rid = resp
        .headers()
        .get("ld-request")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(is_request_id(&rid), "bad ld-request {rid:?}");
    rid
}

/// Asserts a problem response and returns its body.
async fn problem(resp: Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    let rid = request_id(&resp);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = resp.json().await.expect("problem json");
    assert_eq!(body["instance"], json!(rid));
    assert_eq!(body["status"], json!(status));
    assert_eq!(body["code"], json!(code), "{body}");
    for k in [
        "type",
        "title",
        "reason",
        "field",
        "field_issues",
        "retryable",
    ] {
        assert!(body.get(k).is_some(), "problem lacks {k}: {body}");
    }
    body
}

fn snapshots_url(emu: &Emulator, dep: u64) -> String {
    format!("{}/deployments/{dep}/snapshots", emu.supervisor_url)
}

async fn create(c: &Client, emu: &Emulator, dep: u64, body: Option<Value>) -> Response {
    let mut req = c.post(snapshots_url(emu, dep)).header("ld-api-key", MANAGE);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("create")
}

async fn list(c: &Client, emu: &Emulator, dep: u64, query: &str) -> Response {
    c.get(format!("{}{query}", snapshots_url(emu, dep)))
        .header("ld-api-key", READ)
        .send()
        .await
        .expect("list")
}

async fn items(c: &Client, emu: &Emulator, dep: u64) -> Vec<Value> {
    let resp = list(c, emu, dep, "?results=100").await;
    assert_eq!(resp.status(), StatusCode::OK);
    request_id(&resp);
    let v: Value = resp.json().await.expect("list json");
    v["items"].as_array().cloned().unwrap_or_default()
}

/// Polls until every item of the deployment is completed.
async fn wait_completed(c: &Client, emu: &Emulator, dep: u64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let its = items(c, emu, dep).await;
        if !its.is_empty() && its.iter().all(|i| i["status"] == "completed") {
            return its;
        }
        assert!(
            Instant::now() < deadline,
            "snapshots did not complete: {its:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn download_url(c: &Client, emu: &Emulator, dep: u64, id: u64) -> String {
    let resp = c
        .get(format!("{}/{id}/download", snapshots_url(emu, dep)))
        .header("ld-api-key", READ)
        .send()
        .await
        .expect("download");
    assert_eq!(resp.status(), StatusCode::OK);
    request_id(&resp);
    let v: Value = resp.json().await.expect("download json");
    v["url"].as_str().expect("url").to_owned()
}

async fn admin(c: &Client, emu: &Emulator, path: &str, body: Value) -> Value {
    let resp = c
        .post(format!("{}/_admin/{path}", emu.supervisor_url))
        .header("x-admin-token", ADMIN)
        .json(&body)
        .send()
        .await
        .expect("admin");
    assert!(
        resp.status().is_success(),
        "admin {path}: {}",
        resp.status()
    );
    resp.json().await.unwrap_or(Value::Null)
}

fn id_of(item: &Value) -> u64 {
    item["id"].as_u64().expect("id is an integer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_and_not_found() {
    let emu = emulator(200).await;
    let c = client();
    let url = snapshots_url(&emu, EVENTS);

    let r = c.get(&url).send().await.expect("send");
    let body = problem(r, 401, "unauthorized").await;
    assert_eq!(body["reason"], "missing or invalid API key");
    let r = c
        .get(&url)
        .header("ld-api-key", "ld_nope")
        .send()
        .await
        .expect("send");
    problem(r, 401, "unauthorized").await;

    let r = c
        .post(&url)
        .header("ld-api-key", READ)
        .send()
        .await
        .expect("send");
    let body = problem(r, 403, "insufficient_permissions").await;
    assert!(body["reason"]
        .as_str()
        .unwrap_or("")
        .contains("deployment:manage"));
    let r = c
        .delete(format!("{url}/612000000000000001"))
        .header("ld-api-key", READ)
        .send()
        .await
        .expect("send");
    problem(r, 403, "insufficient_permissions").await;

    let r = list(&c, &emu, 42, "").await;
    let body = problem(r, 404, "deployment_not_found").await;
    assert!(body["reason"].as_str().unwrap_or("").contains("42"));
    let r = c
        .get(format!("{url}/612999999999999999/download"))
        .header("ld-api-key", READ)
        .send()
        .await
        .expect("send");
    let body = problem(r, 404, "snapshot_not_found").await;
    assert!(body["reason"]
        .as_str()
        .unwrap_or("")
        .contains("612999999999999999"));
    let r = c
        .get(format!("{}/nope", emu.supervisor_url))
        .send()
        .await
        .expect("send");
    problem(r, 404, "not_found").await;

    // The startup line: ids as strings.
    let line: Value = serde_json::from_str(&emu.startup_line()).expect("startup json");
    assert_eq!(line["deployments"][0]["id"], json!(EVENTS.to_string()));
    assert_eq!(line["keys"]["manage"], json!(MANAGE));
    emu.shutdown().await;
}

async fn admin_get(c: &Client, emu: &Emulator, path: &str) -> Value {
    let resp = c
        .get(format!("{}/_admin/{path}", emu.supervisor_url))
        .header("x-admin-token", ADMIN)
        .send()
        .await
        .expect("admin");
    assert!(
        resp.status().is_success(),
        "admin {path}: {}",
        resp.status()
    );
    resp.json().await.expect("admin json")
}

/// Processing that never ends on its own: a test finishes it by moving the emulator's clock
/// (see [`finish_processing`]), so no window depends on how fast the machine is.
const FOREVER_MS: u64 = 3_600_000;

async fn finish_processing(c: &Client, emu: &Emulator) {
    admin(
        c,
        emu,
        "clock",
        json!({ "advance_secs": FOREVER_MS / 1000 + 1 }),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_list_complete_download() {
    let emu = emulator(FOREVER_MS).await;
    let c = client();
    let r = create(&c, &emu, EVENTS, Some(json!({}))).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    request_id(&r);

    let its = items(&c, &emu, EVENTS).await;
    assert_eq!(its.len(), 3, "one item per node");
    let name = its[0]["name"].clone();
    let created = its[0]["created_at"].clone();
    let mut ids = std::collections::BTreeSet::new();
    for i in &its {
        assert_eq!(i["name"], name);
        assert_eq!(i["created_at"], created);
        assert!(i["status"] == "processing" || i["status"] == "completed");
        if i["status"] == "processing" {
            assert!(i["completed_at"].is_null());
        }
        assert!(id_of(i) > 1u64 << 53);
        ids.insert(id_of(i));
    }
    assert_eq!(ids.len(), 3);
    assert!(name.as_str().unwrap_or("").starts_with("snapshot-"));

    let r = create(&c, &emu, EVENTS, None).await;
    problem(r, 409, "snapshot_in_progress").await;

    finish_processing(&c, &emu).await;
    let its = wait_completed(&c, &emu, EVENTS).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut fails = Vec::new();
    let mut host_names = std::collections::BTreeSet::new();
    for (n, item) in its.iter().enumerate() {
        assert!(item["completed_at"].is_string());
        let url = download_url(&c, &emu, EVENTS, id_of(item)).await;
        let resp = c.get(&url).send().await.expect("storage");
        assert_eq!(resp.status(), StatusCode::OK);
        request_id(&resp);
        assert_eq!(resp.headers()["content-type"], "application/zip");
        assert_eq!(resp.headers()["accept-ranges"], "bytes");
        assert!(resp.headers().contains_key("etag"));
        let bytes = resp.bytes().await.expect("body");
        let path = dir.path().join(format!("node-{n}.zip"));
        std::fs::write(&path, &bytes).expect("write");
        let opened = archive::open(&path).expect("valid snapshot");
        assert_eq!(opened.kind, ArchiveKind::Snapdesk);
        let manifest = opened.manifest.expect("manifest");
        assert_eq!(
            manifest.deployment_id.as_deref(),
            Some("611298765432109056")
        );
        assert!(manifest.redaction.redacted);
        assert!(manifest.entries.iter().any(|e| e.name == "iggy-data.zip"));
        assert!(archive::verify(&path, &manifest)
            .expect("verify")
            .is_empty());
        let report = opened.parsed.and_then(|p| p.report).expect("report");
        assert!(report.checks.len() >= 30, "{} checks", report.checks.len());
        host_names.insert(report.host_name.clone());
        fails.push(
            report
                .checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .count(),
        );
        let html = read_html(&path);
        assert!(
            !html.contains("demo-root-pass"),
            "secret left in a redacted report"
        );
    }
    assert_eq!(host_names.len(), 3, "nodes differ");
    // Items are sorted by node id: node 2 is the second, with the full data disk (and the
    // write errors it causes in its kernel log).
    assert_eq!(fails, vec![0, 2, 0]);
    emu.shutdown().await;
}

fn read_html(path: &Path) -> String {
    let raw = archive::read_entry(path, "report.html", 64 * 1024 * 1024).expect("report.html");
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redaction_can_be_turned_off() {
    let emu = emulator(100).await;
    let c = client();
    let body = json!({ "redact_secrets": false, "include_iggy": false });
    let r = create(&c, &emu, STAGING, Some(body)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let its = wait_completed(&c, &emu, STAGING).await;
    let url = download_url(&c, &emu, STAGING, id_of(&its[0])).await;
    let bytes = c
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.zip");
    std::fs::write(&path, &bytes).expect("write");
    let html = read_html(&path);
    assert!(html.contains("demo-root-pass"));
    assert!(html.contains("demo-jwt-secret-"));
    let opened = archive::open(&path).expect("open");
    assert!(!opened.manifest.expect("manifest").redaction.redacted);
    assert!(!opened.entries.iter().any(|e| e.name == "iggy-data.zip"));

    // Wrong types and malformed JSON are 400 with the field named.
    let r = create(&c, &emu, STAGING, Some(json!({ "redact_secrets": "yes" }))).await;
    let p = problem(r, 400, "validation_error").await;
    assert_eq!(p["field"], "redact_secrets");
    let r = c
        .post(snapshots_url(&emu, STAGING))
        .header("ld-api-key", MANAGE)
        .header("content-type", "application/json")
        .body("{\"redact_secrets\": tru")
        .send()
        .await
        .expect("send");
    let p = problem(r, 400, "invalid_body").await;
    assert!(!p["field_issues"].as_array().expect("issues").is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency() {
    let emu = emulator(100).await;
    let c = client();
    let post = |key: String, body: Value| {
        c.post(snapshots_url(&emu, EVENTS))
            .header("ld-api-key", MANAGE)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let r = post("k1".into(), json!({})).await.expect("send");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers().get("idempotent-replayed").is_none());
    let r = post("k1".into(), json!({})).await.expect("send");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    request_id(&r);
    let r = post("k1".into(), json!({ "include_iggy": false }))
        .await
        .expect("send");
    problem(r, 409, "idempotency_error").await;
    let r = post("x".repeat(256), json!({})).await.expect("send");
    problem(r, 400, "invalid_idempotency_key").await;
    // Still a single snapshot.
    let its = wait_completed(&c, &emu, EVENTS).await;
    assert_eq!(its.len(), 3);

    // In progress: the first request is held by a delay fault. The second goes only once
    // the emulator says the first is in progress (polled, not a guessed sleep); the delay
    // leaves it seconds to arrive.
    admin(
        &c,
        &emu,
        "faults",
        json!({ "kind": "delay", "delay_ms": 3000, "count": 1, "method": "POST",
                "path_prefix": "/deployments" }),
    )
    .await;
    let first = tokio::spawn(post("k2".into(), json!({})));
    let deadline = Instant::now() + Duration::from_secs(10);
    while admin_get(&c, &emu, "state").await["idempotency_in_progress"] != 1 {
        assert!(Instant::now() < deadline, "the first request never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = post("k2".into(), json!({})).await.expect("send");
    problem(r, 409, "idempotent_request_in_progress").await;
    let r = first.await.expect("join").expect("send");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_limit_and_pagination() {
    let emu = emulator(60).await;
    let c = client();
    for _ in 0..3 {
        let r = create(&c, &emu, STAGING, None).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        wait_completed(&c, &emu, STAGING).await;
    }
    let r = create(&c, &emu, STAGING, None).await;
    problem(r, 409, "snapshot_limit_reached").await;

    // 3 snapshots x 2 nodes.
    let r = list(&c, &emu, STAGING, "?results=2").await;
    assert_eq!(r.status(), StatusCode::OK);
    let link = r.headers()["link"].to_str().expect("link").to_owned();
    assert!(link.contains("rel=\"next\""), "{link}");
    assert!(link.contains("rel=\"last\""), "{link}");
    assert!(link.contains("rel=\"first\""), "{link}");
    assert!(!link.contains("rel=\"prev\""), "{link}");
    assert!(link.contains("page=2&results=2>; rel=\"next\""), "{link}");
    let raw = r.text().await.expect("text");
    // Ids above 2^53 travel as JSON integers, exactly.
    assert!(
        raw.contains("\"deployment_id\":611298765432109057"),
        "{raw}"
    );
    assert!(raw.contains("\"tenant_id\":615380456123456789"), "{raw}");
    let v: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(v["total_results"], 6);
    assert_eq!(v["total_pages"], 3);
    assert_eq!(v["page"], 1);
    let page1 = v["items"].as_array().expect("items").clone();
    assert_eq!(page1.len(), 2);
    let id = id_of(&page1[0]);
    assert!(raw.contains(&format!("\"id\":{id}")));
    assert_eq!(
        page1[0]["name"], page1[1]["name"],
        "a trigger's nodes are adjacent"
    );

    let r = list(&c, &emu, STAGING, "?results=2&page=3").await;
    let link = r.headers()["link"].to_str().expect("link").to_owned();
    assert!(
        link.contains("rel=\"prev\"") && !link.contains("rel=\"next\""),
        "{link}"
    );
    let r = list(&c, &emu, STAGING, "?results=2&page=4").await;
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["items"].as_array().map(Vec::len), Some(0));

    for q in ["?results=101", "?results=0", "?results=abc"] {
        let r = list(&c, &emu, STAGING, q).await;
        let p = problem(r, 400, "validation_error").await;
        assert_eq!(p["field"], "results");
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_ranges_signatures_delete_retention() {
    let emu = emulator(100).await;
    let c = client();
    assert_eq!(
        create(&c, &emu, EVENTS, None).await.status(),
        StatusCode::NO_CONTENT
    );
    let its = wait_completed(&c, &emu, EVENTS).await;
    let id = id_of(&its[0]);
    let url = download_url(&c, &emu, EVENTS, id).await;
    let full = c
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    let size = full.len();

    let get_range = |range: String| c.get(&url).header("range", range).send();
    let r = get_range("bytes=0-99".into()).await.expect("range");
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 0-99/{size}").as_str()
    );
    assert_eq!(r.bytes().await.expect("body")[..], full[..100]);
    let r = get_range("bytes=100-".into()).await.expect("range");
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.expect("body")[..], full[100..]);
    let r = get_range("bytes=-50".into()).await.expect("range");
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.expect("body")[..], full[size - 50..]);
    let r = get_range(format!("bytes={size}-")).await.expect("range");
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );

    // Tampered signature: S3-style XML, with the request id.
    let mut tampered = url.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == '0' { '1' } else { '0' });
    let r = c.get(&tampered).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let rid = request_id(&r);
    assert_eq!(r.headers()["content-type"], "application/xml");
    let xml = r.text().await.expect("xml");
    assert!(xml.contains("<Code>SignatureDoesNotMatch</Code>"), "{xml}");
    assert!(xml.contains(&format!("<RequestId>{rid}</RequestId>")));

    // Delete: 204, then the download 404s and the storage object is gone.
    let r = c
        .delete(format!("{}/{id}", snapshots_url(&emu, EVENTS)))
        .header("ld-api-key", MANAGE)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    request_id(&r);
    let r = c
        .get(format!("{}/{id}/download", snapshots_url(&emu, EVENTS)))
        .header("ld-api-key", READ)
        .send()
        .await
        .expect("get");
    problem(r, 404, "snapshot_not_found").await;
    let r = c.get(&url).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.expect("xml").contains("NoSuchKey"));

    // Expiry: the clock moves past the URL's lifetime.
    let url2 = download_url(&c, &emu, EVENTS, id_of(&its[1])).await;
    admin(&c, &emu, "clock", json!({ "advance_secs": 301 })).await;
    let r = c.get(&url2).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let xml = r.text().await.expect("xml");
    assert!(xml.contains("<Code>AccessDenied</Code>") && xml.contains("Request has expired"));

    // Retention: Pro keeps 14 days.
    assert_eq!(items(&c, &emu, EVENTS).await.len(), 2);
    admin(&c, &emu, "clock", json!({ "advance_secs": 15 * 86_400 })).await;
    assert!(items(&c, &emu, EVENTS).await.is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_resume() {
    let emu = emulator(100).await;
    let c = client();
    admin(
        &c,
        &emu,
        "faults",
        json!({ "kind": "status", "status": 503, "retry_after": 1, "count": 1,
                "path_prefix": "/deployments" }),
    )
    .await;
    let r = list(&c, &emu, EVENTS, "").await;
    assert_eq!(r.headers()["retry-after"], "1");
    let p = problem(r, 503, "injected_fault").await;
    assert_eq!(p["retryable"], true);
    assert_eq!(list(&c, &emu, EVENTS, "").await.status(), StatusCode::OK);

    admin(
        &c,
        &emu,
        "faults",
        json!({ "kind": "malformed_json", "path_prefix": "/deployments" }),
    )
    .await;
    let r = list(&c, &emu, EVENTS, "").await;
    assert_eq!(r.status(), StatusCode::OK);
    let e = serde_json::from_str::<Value>(&r.text().await.expect("text")).unwrap_err();
    assert_eq!(
        e.classify(),
        serde_json::error::Category::Eof,
        "cut mid-body: {e}"
    );

    admin(
        &c,
        &emu,
        "faults",
        json!({ "kind": "reset", "path_prefix": "/deployments" }),
    )
    .await;
    let failed = match tokio::time::timeout(Duration::from_secs(10), async {
        c.get(snapshots_url(&emu, EVENTS))
            .header("ld-api-key", READ)
            .send()
            .await
    })
    .await
    {
        Ok(Ok(r)) => r.bytes().await.is_err(),
        Ok(Err(_)) => true,
        Err(_) => false,
    };
    assert!(failed, "a reset must fail the request");

    // Truncate a download, then resume with Range.
    let r = create(&c, &emu, EVENTS, None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let its = wait_completed(&c, &emu, EVENTS).await;
    let url = download_url(&c, &emu, EVENTS, id_of(&its[0])).await;
    let full = c
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    admin(
        &c,
        &emu,
        "faults",
        json!({ "kind": "truncate", "path_prefix": "/_storage" }),
    )
    .await;
    let r = c.get(&url).send().await.expect("get");
    assert_eq!(
        r.headers()["content-length"],
        full.len().to_string().as_str()
    );
    let mut got: Vec<u8> = Vec::new();
    let mut stream = r.bytes_stream();
    let mut broke = false;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(b) => got.extend_from_slice(&b),
            Err(_) => {
                broke = true;
                break;
            }
        }
    }
    assert!(broke, "the truncated body must end in an error");
    assert!(got.len() < full.len());
    let r = c
        .get(&url)
        .header("range", format!("bytes={}-", got.len()))
        .send()
        .await
        .expect("resume");
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    got.extend_from_slice(&r.bytes().await.expect("rest"));
    assert_eq!(got, full.to_vec());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_archive_has_the_asked_size() {
    let emu = emulator(100).await;
    let c = client();
    let target = 3_000_000u64;
    let v = admin(
        &c,
        &emu,
        "seed",
        json!({ "deployment_id": EVENTS.to_string(), "archive_bytes": target }),
    )
    .await;
    let size = v["archive_bytes"].as_u64().expect("size");
    assert!(size.abs_diff(target) < 4096, "{size} vs {target}");
    let id = v["id"].as_u64().expect("id");
    let url = download_url(&c, &emu, EVENTS, id).await;
    let r = c.get(&url).send().await.expect("get");
    assert_eq!(r.headers()["content-length"], size.to_string().as_str());
    let bytes = r.bytes().await.expect("body");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("seed.zip");
    std::fs::write(&path, &bytes).expect("write");
    let opened = archive::open(&path).expect("valid archive");
    assert_eq!(opened.kind, ArchiveKind::Snapdesk);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_journal_records_every_request_with_its_idempotency_key_and_fault() {
    let emu = emulator(FOREVER_MS).await;
    let c = client();
    admin(
        &c,
        &emu,
        "faults",
        json!({ "kind": "status", "status": 503, "count": 2, "method": "POST",
                "path_prefix": "/deployments" }),
    )
    .await;
    for key in ["key-a", "key-a", "key-a"] {
        c.post(snapshots_url(&emu, EVENTS))
            .header("ld-api-key", MANAGE)
            .header("idempotency-key", key)
            .json(&json!({}))
            .send()
            .await
            .expect("send");
    }
    list(&c, &emu, EVENTS, "").await;
    let v = admin_get(&c, &emu, "requests").await;
    let reqs = v["requests"].as_array().expect("requests");
    let path = format!("/deployments/{EVENTS}/snapshots");
    let seen: Vec<(&str, &str, Option<&str>, &Value)> = reqs
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap_or_default(),
                r["path"].as_str().unwrap_or_default(),
                r["idempotency_key"].as_str(),
                &r["fault"],
            )
        })
        .collect();
    let status = json!("status");
    assert_eq!(
        seen,
        vec![
            ("POST", path.as_str(), Some("key-a"), &status),
            ("POST", path.as_str(), Some("key-a"), &status),
            ("POST", path.as_str(), Some("key-a"), &Value::Null),
            ("GET", path.as_str(), None, &Value::Null),
        ],
        "admin requests are not journaled, API requests are, in order"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_body_keeps_its_length_and_a_truncation_can_expire_the_url() {
    let emu = emulator(100).await;
    let c = client();
    let v = admin(
        &c,
        &emu,
        "seed",
        json!({ "deployment_id": EVENTS.to_string(), "archive_bytes": 100_000 }),
    )
    .await;
    let id = v["id"].as_u64().expect("id");
    let url = download_url(&c, &emu, EVENTS, id).await;
    let whole = c
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    assert!(whole.starts_with(b"PK"));

    admin(
        &c,
        &emu,
        "faults",
        json!({ "kind": "corrupt", "path_prefix": "/_storage" }),
    )
    .await;
    let r = c.get(&url).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    let zeros = r.bytes().await.expect("a whole body");
    assert_eq!(zeros.len(), whole.len());
    assert!(zeros.iter().all(|b| *b == 0));

    // The clock moves past the URL's lifetime as the body is cut: the resume is refused.
    admin(
        &c,
        &emu,
        "faults",
        json!({ "kind": "truncate", "path_prefix": "/_storage", "advance_clock_secs": 3600 }),
    )
    .await;
    let r = c.get(&url).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.is_err_and(|e| e.is_body() || e.is_decode()));
    let r = c
        .get(&url)
        .header("range", "bytes=10-")
        .send()
        .await
        .expect("resume");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let xml = r.text().await.expect("xml");
    assert!(xml.contains("Request has expired"), "{xml}");
    emu.shutdown().await;
}
