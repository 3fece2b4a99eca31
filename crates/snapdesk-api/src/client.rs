//! The HTTP client of the snapshots API.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt, TryStreamExt};
use reqwest::header::{
    HeaderMap, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE, RETRY_AFTER,
};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use snapdesk_core::{Cancel, Error};
use ts_rs::TS;
use url::Url;

use crate::curl::curl_command;
use crate::error::{parse_error_body, ApiError, Permission, TlsProblem};
use crate::models::{CreateSnapshot, DownloadUrl, Page, SnapshotItem};
use crate::retry::RetryPolicy;

/// Header with the API key.
pub const KEY_HEADER: &str = "ld-api-key";
/// Header with the request id support asks for.
pub const REQUEST_ID_HEADER: &str = "ld-request";
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Bytes between two download progress reports.
const PROGRESS_STEP: u64 = 512 * 1024;
/// The API's largest page.
pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Debug, Clone, Copy)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// Whole-request timeout of API calls (not of downloads, which stream).
    pub request_timeout: Duration,
    /// Longest silence while streaming a download.
    pub read_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

/// Download progress, reported from the one core callback to a CLI bar or a UI channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct DownloadProgress {
    #[ts(type = "number")]
    pub downloaded: u64,
    #[ts(type = "number | null")]
    pub total: Option<u64>,
}

/// What a create answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateOutcome {
    /// The server replayed an earlier outcome for the same idempotency key.
    pub replayed: bool,
    pub request_id: Option<String>,
}

/// What a download wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Downloaded {
    pub path: PathBuf,
    pub bytes: u64,
    /// How many times the transfer resumed with `Range` after a break.
    pub resumed: u32,
    /// Whether a fresh presigned URL was needed.
    pub refreshed_url: bool,
    /// The bytes a previous run left in `.partial` and this one kept (resumed across runs).
    pub resumed_from: Option<u64>,
    /// The sha256 of the whole file (hex), taken while it was written: bytes a previous run
    /// kept are hashed once when the download resumes from them, never the file again.
    pub sha256: String,
}

/// Where the resume validator of `dest.partial` is kept: `dest.partial.meta`.
pub fn partial_meta_path(dest: &Path) -> PathBuf {
    let mut name = snapdesk_core::paths::partial_path(dest).into_os_string();
    name.push(".meta");
    PathBuf::from(name)
}

/// What a later run needs to trust a `.partial` file: the object's validator (an ETag, else
/// its Last-Modified date) and its whole length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
struct PartialMeta {
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    total: u64,
}

/// The validator to send as `If-Range`: a strong ETag, else Last-Modified.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RangeValidator {
    ETag(String),
    LastModified(String),
}

impl RangeValidator {
    fn as_str(&self) -> &str {
        match self {
            Self::ETag(v) | Self::LastModified(v) => v,
        }
    }
}

impl PartialMeta {
    fn new(v: &RangeValidator, total: u64) -> Self {
        let (etag, last_modified) = match v {
            RangeValidator::ETag(e) => (Some(e.clone()), None),
            RangeValidator::LastModified(l) => (None, Some(l.clone())),
        };
        Self {
            etag,
            last_modified,
            total,
        }
    }

    fn validator(&self) -> Option<RangeValidator> {
        match (&self.etag, &self.last_modified) {
            (Some(e), _) => Some(RangeValidator::ETag(e.clone())),
            (None, Some(l)) => Some(RangeValidator::LastModified(l.clone())),
            _ => None,
        }
    }

    async fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        tokio::fs::write(path, json).await
    }
}

/// A weak ETag (`W/"..."`) cannot validate a byte range; Last-Modified is the fallback.
fn response_validator(h: &HeaderMap) -> Option<RangeValidator> {
    match header_str(h, ETAG.as_str()) {
        Some(e) if !e.starts_with("W/") => Some(RangeValidator::ETag(e)),
        _ => header_str(h, LAST_MODIFIED.as_str()).map(RangeValidator::LastModified),
    }
}

/// A previous run's `.partial` that may be resumed: its length and validator, when both
/// files are there, the validator is usable and the length is not past the whole.
async fn resumable_partial(partial: &Path, meta: &Path) -> Option<(u64, PartialMeta)> {
    let len = tokio::fs::metadata(partial).await.ok()?.len();
    let raw = tokio::fs::read(meta).await.ok()?;
    let m: PartialMeta = serde_json::from_slice(&raw).ok()?;
    (m.validator().is_some() && len <= m.total).then_some((len, m))
}

async fn has_bytes(p: &Path) -> bool {
    tokio::fs::metadata(p).await.is_ok_and(|m| m.len() > 0)
}

/// The first byte of `Content-Range: bytes START-END/TOTAL`.
fn content_range_start(v: &str) -> Option<u64> {
    v.trim()
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Whether a failed download leaves bytes worth resuming: a break, a timeout, a refusal that
/// a fresh URL fixes or a cancel; not a file that proved bad or a disk that is full.
fn keeps_partial(e: &ApiError) -> bool {
    match e {
        ApiError::Connect { .. }
        | ApiError::Timeout { .. }
        | ApiError::Cancelled
        | ApiError::UrlRefused { .. } => true,
        ApiError::Http { .. } => e.is_retryable(),
        _ => false,
    }
}

/// A request described for "Copy as curl".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Create {
        deployment: u64,
        body: CreateSnapshot,
        idempotency_key: String,
    },
    List {
        deployment: u64,
        page: u32,
        results: u32,
    },
    DownloadUrl {
        deployment: u64,
        snapshot: u64,
    },
    Delete {
        deployment: u64,
        snapshot: u64,
    },
}

/// A Supervisor API client for one base URL and key.
#[derive(Clone)]
pub struct Client {
    /// API calls: never follows redirects, so the key header cannot be carried elsewhere.
    http: reqwest::Client,
    /// Presigned downloads: no key is sent, so redirects (as storage may use) are followed.
    storage: reqwest::Client,
    base: Url,
    key: String,
    opts: ClientOptions,
    validator: Option<Validator>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish()
    }
}

/// Parses a base URL, with or without a trailing slash.
pub fn parse_base_url(base: &str) -> Result<Url, ApiError> {
    let trimmed = base.trim();
    let mut url = Url::parse(trimmed).map_err(|e| {
        ApiError::Invalid(format!("{trimmed:?} is not a valid Supervisor URL: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::Invalid(format!(
            "the Supervisor URL must start with https:// (or http:// for a local emulator), not {}:",
            url.scheme()
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ApiError::Invalid(
            "the Supervisor URL must not have a query or fragment".into(),
        ));
    }
    // The API key travels in a header: plain http only where it cannot leave the machine.
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(ApiError::Invalid(format!(
            "{trimmed} uses plain http: the API key would cross the network unencrypted; \
             use https:// (http:// is accepted only for 127.0.0.1, ::1 and localhost)"
        )));
    }
    // The API lives at the root of one host per region: a path is a pasted endpoint (or a
    // console page), and requests under it would all answer 404.
    if url.path() != "/" && !url.path().is_empty() {
        return Err(ApiError::Invalid(format!(
            "the Supervisor URL is a host without a path, like https://supervisor-aws-us.example; \
             {trimmed} has the path {}",
            url.path()
        )));
    }
    url.set_path("/");
    Ok(url)
}

/// Checks an API key before it goes into a header: visible ASCII only. A trailing newline
/// (from `echo` or a file) is the usual culprit; it is named rather than trimmed, so the key
/// that is stored or exported gets fixed.
pub fn check_key(key: &str) -> Result<(), ApiError> {
    if key.trim().is_empty() {
        return Err(ApiError::Invalid("the API key is empty".into()));
    }
    if let Some((pos, c)) = key.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
        let what = match c {
            '\n' | '\r' => "a line break (often a trailing newline from `echo` or a file)",
            ' ' | '\t' => "a space or tab",
            c if c.is_ascii_control() => "a control character",
            _ => "a non-ASCII character",
        };
        return Err(ApiError::Invalid(format!(
            "the API key contains {what} at position {}: an API key is visible ASCII only",
            pos + 1
        )));
    }
    Ok(())
}

/// A presigned URL as it may be logged: host and path only (its query is a credential).
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.path()
            )
        }
        Err(_) => "<invalid url>".into(),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks a downloaded file before it takes its final name (e.g. "is it a whole ZIP?").
pub type Validator = std::sync::Arc<dyn Fn(&Path) -> Result<(), String> + Send + Sync>;

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get(RETRY_AFTER)?.to_str().ok()?.trim().to_owned();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(&v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0) as u64;
    Some(Duration::from_secs(secs))
}

/// Sorts a TLS failure out of a connection error's text (rustls names them; reqwest keeps
/// them as the error's sources).
fn tls_problem(reason: &str) -> Option<TlsProblem> {
    let r = reason.to_ascii_lowercase();
    if r.contains("invalidcontenttype")
        || r.contains("corrupt message")
        || r.contains("wrong version number")
    {
        Some(TlsProblem::NotTls)
    } else if r.contains("invalid peer certificate")
        || r.contains("notvalidforname")
        || r.contains("not valid for name")
        || r.contains("unknownissuer")
        || r.contains("certificate verify failed")
    {
        Some(TlsProblem::Certificate)
    } else {
        None
    }
}

fn transport_error(url: &Url, e: reqwest::Error, what: &str) -> ApiError {
    if e.is_timeout() {
        ApiError::Timeout {
            what: what.to_owned(),
        }
    } else {
        // reqwest's message may include the URL; keep only host and path.
        let mut reason = e.to_string();
        if let Some(q) = url.query() {
            reason = reason.replace(q, "…");
        }
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            reason.push_str(&format!(": {s}"));
            source = s.source();
        }
        match tls_problem(&reason) {
            Some(problem) => ApiError::Tls {
                url: redact_url(url.as_str()),
                problem,
                reason,
            },
            None => ApiError::Connect {
                url: redact_url(url.as_str()),
                reason,
            },
        }
    }
}

impl Client {
    pub fn new(
        base_url: &str,
        api_key: impl Into<String>,
        opts: ClientOptions,
    ) -> Result<Self, ApiError> {
        let base = parse_base_url(base_url)?;
        let key = api_key.into();
        check_key(&key)?;
        let builder = || {
            reqwest::Client::builder()
                .user_agent(snapdesk_core::user_agent())
                .connect_timeout(opts.connect_timeout)
                .read_timeout(opts.read_timeout)
        };
        let build_err =
            |e: reqwest::Error| ApiError::Invalid(format!("cannot build the HTTP client: {e}"));
        let http = builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(build_err)?;
        let storage = builder()
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(build_err)?;
        Ok(Self {
            http,
            storage,
            base,
            key,
            opts,
            validator: None,
        })
    }

    /// Downloads are checked by `validator` before they are renamed into place; a file it
    /// refuses is deleted and the download fails.
    #[must_use]
    pub fn with_validator(mut self, validator: Validator) -> Self {
        self.validator = Some(validator);
        self
    }

    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    fn endpoint(&self, segments: &[String]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut s) = url.path_segments_mut() {
            s.pop_if_empty();
            for seg in segments {
                s.push(seg);
            }
        }
        url
    }

    fn snapshots_url(&self, deployment: u64) -> Url {
        self.endpoint(&[
            "deployments".into(),
            deployment.to_string(),
            "snapshots".into(),
        ])
    }

    fn snapshot_url(&self, deployment: u64, snapshot: u64) -> Url {
        self.endpoint(&[
            "deployments".into(),
            deployment.to_string(),
            "snapshots".into(),
            snapshot.to_string(),
        ])
    }

    /// Sends an API request with retries where safe; returns the successful response.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<String>,
        idempotency_key: Option<&str>,
        context: &str,
    ) -> Result<reqwest::Response, ApiError> {
        // POST retries only with its idempotency key: the server then cannot act twice.
        let safe = method != Method::POST || idempotency_key.is_some();
        // The API's split: reading is GET, creating and deleting manage.
        let needs = if method == Method::GET {
            Permission::Read
        } else {
            Permission::Manage
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .timeout(self.opts.request_timeout)
                .header(KEY_HEADER, &self.key);
            if let Some(k) = idempotency_key {
                req = req.header(IDEMPOTENCY_HEADER, k);
            }
            if let Some(b) = &body {
                req = req.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            let started = Instant::now();
            let err: ApiError = match req.send().await {
                Ok(resp) if resp.status().is_success() => {
                    tracing::debug!(
                        %method, path = url.path(), status = resp.status().as_u16(),
                        request_id = header_str(resp.headers(), REQUEST_ID_HEADER).as_deref(),
                        ms = started.elapsed().as_millis() as u64, "supervisor request"
                    );
                    return Ok(resp);
                }
                Ok(resp) => self.error_from(resp, context, needs).await,
                Err(e) => transport_error(&url, e, context),
            };
            tracing::info!(%method, path = url.path(), attempt, error = %err, "supervisor request failed");
            if !(safe && err.is_retryable()) {
                return Err(err);
            }
            match self.opts.retry.delay(attempt, err.retry_after()) {
                Some(d) => tokio::time::sleep(d).await,
                None => return Err(err),
            }
        }
    }

    async fn error_from(
        &self,
        resp: reqwest::Response,
        context: &str,
        needs: Permission,
    ) -> ApiError {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let ct = header_str(&headers, CONTENT_TYPE.as_str());
        let mut body = Vec::new();
        let mut s = resp.bytes_stream();
        while let Some(Ok(chunk)) = s.next().await {
            body.extend_from_slice(&chunk);
            if body.len() > 64 * 1024 {
                break;
            }
        }
        let (problem, body_start) = parse_error_body(ct.as_deref(), &body);
        ApiError::Http {
            status,
            problem: problem.map(Box::new),
            body_start,
            request_id: header_str(&headers, REQUEST_ID_HEADER),
            retry_after: retry_after(&headers),
            context: context.to_owned(),
            needs,
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        resp: reqwest::Response,
        what: &str,
    ) -> Result<T, ApiError> {
        let request_id = header_str(resp.headers(), REQUEST_ID_HEADER);
        let bytes = resp.bytes().await.map_err(|e| ApiError::Decode {
            what: what.to_owned(),
            reason: e.to_string(),
            request_id: request_id.clone(),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
            what: what.to_owned(),
            reason: format!(
                "{e} (body starts {:?})",
                String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
            ),
            request_id,
        })
    }

    /// `POST /deployments/{id}/snapshots`. One idempotency key per user action: pass the same
    /// key again to retry the same action safely.
    pub async fn create_snapshot(
        &self,
        deployment: u64,
        body: CreateSnapshot,
        idempotency_key: &str,
    ) -> Result<CreateOutcome, ApiError> {
        let json = serde_json::to_string(&body).map_err(|e| ApiError::Invalid(e.to_string()))?;
        let ctx = format!("creating a snapshot of deployment {deployment}");
        let resp = self
            .send(
                Method::POST,
                self.snapshots_url(deployment),
                Some(json),
                Some(idempotency_key),
                &ctx,
            )
            .await?;
        Ok(CreateOutcome {
            replayed: header_str(resp.headers(), REPLAYED_HEADER).is_some_and(|v| v == "true"),
            request_id: header_str(resp.headers(), REQUEST_ID_HEADER),
        })
    }

    /// One page of snapshots (one item per node).
    pub async fn list_snapshots(
        &self,
        deployment: u64,
        page: u32,
        results: u32,
    ) -> Result<Page<SnapshotItem>, ApiError> {
        let mut url = self.snapshots_url(deployment);
        url.query_pairs_mut()
            .append_pair("page", &page.max(1).to_string())
            .append_pair("results", &results.clamp(1, MAX_PAGE_SIZE).to_string());
        let ctx = format!("listing snapshots of deployment {deployment}");
        let resp = self.send(Method::GET, url, None, None, &ctx).await?;
        Self::json(resp, &ctx).await
    }

    /// Every page, `concurrency` pages at a time after the first; items in page order.
    pub async fn list_all(
        &self,
        deployment: u64,
        concurrency: usize,
    ) -> Result<Vec<SnapshotItem>, ApiError> {
        let first = self.list_snapshots(deployment, 1, MAX_PAGE_SIZE).await?;
        let pages = first.total_pages;
        let mut items = first.items;
        if pages > 1 {
            let mut rest: Vec<(u32, Vec<SnapshotItem>)> = stream::iter(2..=pages)
                .map(|p| async move {
                    self.list_snapshots(deployment, p, MAX_PAGE_SIZE)
                        .await
                        .map(|pg| (p, pg.items))
                })
                .buffer_unordered(concurrency.max(1))
                .try_collect()
                .await?;
            rest.sort_by_key(|(p, _)| *p);
            for (_, mut v) in rest {
                items.append(&mut v);
            }
        }
        Ok(items)
    }

    /// The presigned URL of one node's archive.
    pub async fn download_url(&self, deployment: u64, snapshot: u64) -> Result<String, ApiError> {
        let mut url = self.snapshot_url(deployment, snapshot);
        if let Ok(mut s) = url.path_segments_mut() {
            s.push("download");
        }
        let ctx = format!("snapshot {snapshot} of deployment {deployment}");
        let resp = self.send(Method::GET, url, None, None, &ctx).await?;
        let d: DownloadUrl = Self::json(resp, &ctx).await?;
        Ok(d.url)
    }

    /// `DELETE`s one node's snapshot and its archive.
    pub async fn delete_snapshot(&self, deployment: u64, snapshot: u64) -> Result<(), ApiError> {
        let ctx = format!("snapshot {snapshot} of deployment {deployment}");
        self.send(
            Method::DELETE,
            self.snapshot_url(deployment, snapshot),
            None,
            None,
            &ctx,
        )
        .await?;
        Ok(())
    }

    /// Downloads one node's archive to `dest`, streaming to `dest.partial` and renaming when
    /// whole. A broken transfer resumes with `Range`; an expired presigned URL is replaced by
    /// a fresh one once. Nothing partial is left under `dest` on failure.
    pub async fn download(
        &self,
        deployment: u64,
        snapshot: u64,
        dest: &Path,
        progress: &mut (dyn FnMut(DownloadProgress) + Send),
    ) -> Result<Downloaded, ApiError> {
        self.download_cancellable(deployment, snapshot, dest, progress, &Cancel::new())
            .await
    }

    /// [`Client::download`] that stops when `cancel` is set, keeping `dest.partial` (and its
    /// validator in `dest.partial.meta`) so that the next download resumes from it.
    pub async fn download_cancellable(
        &self,
        deployment: u64,
        snapshot: u64,
        dest: &Path,
        progress: &mut (dyn FnMut(DownloadProgress) + Send),
        cancel: &Cancel,
    ) -> Result<Downloaded, ApiError> {
        if cancel.is_cancelled() {
            return Err(ApiError::Cancelled);
        }
        let url = self.download_url(deployment, snapshot).await?;
        self.download_from_cancellable(&url, dest, progress, Some((deployment, snapshot)), cancel)
            .await
    }

    /// Downloads from a presigned URL (see [`Client::download`]); `refresh` names the snapshot
    /// to ask a fresh URL for when this one is refused.
    pub async fn download_from(
        &self,
        presigned: &str,
        dest: &Path,
        progress: &mut (dyn FnMut(DownloadProgress) + Send),
        refresh: Option<(u64, u64)>,
    ) -> Result<Downloaded, ApiError> {
        self.download_from_cancellable(presigned, dest, progress, refresh, &Cancel::new())
            .await
    }

    async fn download_from_cancellable(
        &self,
        presigned: &str,
        dest: &Path,
        progress: &mut (dyn FnMut(DownloadProgress) + Send),
        refresh: Option<(u64, u64)>,
        cancel: &Cancel,
    ) -> Result<Downloaded, ApiError> {
        let partial = snapdesk_core::paths::partial_path(dest);
        let meta = partial_meta_path(dest);
        let result = self
            .download_inner(presigned, dest, &partial, &meta, progress, refresh, cancel)
            .await;
        match &result {
            Ok(_) => {
                let _ = tokio::fs::remove_file(&meta).await;
            }
            // Bytes that are good but incomplete are kept for the next run to resume.
            Err(e) if keeps_partial(e) && has_bytes(&partial).await => {
                tracing::info!(partial = %partial.display(), "download stopped; kept for resuming: {e}");
            }
            Err(_) => {
                let _ = tokio::fs::remove_file(&partial).await;
                let _ = tokio::fs::remove_file(&meta).await;
            }
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn download_inner(
        &self,
        presigned: &str,
        dest: &Path,
        partial: &Path,
        meta_path: &Path,
        progress: &mut (dyn FnMut(DownloadProgress) + Send),
        refresh: Option<(u64, u64)>,
        cancel: &Cancel,
    ) -> Result<Downloaded, ApiError> {
        let local =
            |e: std::io::Error, action: &str, p: &Path| ApiError::Local(Error::io_at(e, action, p));
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| local(e, "create directory", dir))?;
        }
        let previous = resumable_partial(partial, meta_path).await;
        let (file, mut written, mut total, mut validator) = match &previous {
            Some((len, m)) => {
                let file = std::fs::OpenOptions::new()
                    .append(true)
                    .open(partial)
                    .map_err(|e| local(e, "open", partial))?;
                (file, *len, Some(m.total), m.validator())
            }
            None => {
                let _ = tokio::fs::remove_file(meta_path).await;
                let file =
                    std::fs::File::create(partial).map_err(|e| local(e, "create", partial))?;
                (file, 0, None, None)
            }
        };
        let mut resumed_from = previous.as_ref().map(|(len, _)| *len).filter(|l| *l > 0);
        let mut out = DiskWriter::spawn(file);
        if written > 0 {
            // What a previous run kept: hashed once, so that the rest is hashed as it arrives.
            out.hash_prefix(partial, written)
                .map_err(|e| local(e, "read", partial))?;
        }
        let mut url = Url::parse(presigned)
            .map_err(|e| ApiError::Invalid(format!("invalid download URL: {e}")))?;
        let mut resumed = 0u32;
        let mut refreshed = false;
        let mut failures = 0u32;
        tracing::info!(url = %redact_url(url.as_str()), resume_at = written, "downloading snapshot archive");
        loop {
            if cancel.is_cancelled() {
                out.finish().await.map_err(|e| local(e, "write", partial))?;
                return Err(ApiError::Cancelled);
            }
            let mut req = self.storage.get(url.clone());
            if written > 0 {
                req = req.header(RANGE, format!("bytes={written}-"));
                // The rest only if the object is still the one the first bytes came from;
                // otherwise the server sends it whole and we start over.
                if let Some(v) = &validator {
                    req = req.header(IF_RANGE, v.as_str());
                }
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let err = transport_error(&url, e, "downloading the archive");
                    failures += 1;
                    match self.opts.retry.delay(failures, None) {
                        Some(d) if err.is_retryable() => {
                            tokio::time::sleep(d).await;
                            continue;
                        }
                        _ => return Err(err),
                    }
                }
            };
            let status = resp.status();
            if status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED {
                let body = resp.text().await.unwrap_or_default();
                let reason = s3_message(&body);
                match refresh {
                    Some((dep, snap)) if !refreshed => {
                        tracing::info!("download URL refused ({reason}); asking for a fresh one");
                        url = Url::parse(&self.download_url(dep, snap).await?)
                            .map_err(|e| ApiError::Invalid(format!("invalid download URL: {e}")))?;
                        refreshed = true;
                        continue;
                    }
                    _ => {
                        return Err(ApiError::UrlRefused {
                            status: status.as_u16(),
                            reason,
                        })
                    }
                }
            }
            if status == StatusCode::RANGE_NOT_SATISFIABLE && total == Some(written) {
                break;
            }
            if !status.is_success() {
                let err = self
                    .error_from(resp, "downloading the archive", Permission::Read)
                    .await;
                failures += 1;
                match self.opts.retry.delay(failures, err.retry_after()) {
                    Some(d) if err.is_retryable() => {
                        tokio::time::sleep(d).await;
                        continue;
                    }
                    _ => return Err(err),
                }
            }
            let range_start = header_str(resp.headers(), CONTENT_RANGE.as_str())
                .and_then(|cr| content_range_start(&cr));
            let restart = written > 0
                && (status == StatusCode::OK
                    || (status == StatusCode::PARTIAL_CONTENT && range_start != Some(written)));
            if restart {
                // The server ignored the range, or the object changed: start over.
                out.send(Chunk::Restart)
                    .await
                    .map_err(|e| local(e, "truncate", partial))?;
                written = 0;
                resumed_from = None;
            }
            if status == StatusCode::PARTIAL_CONTENT {
                total = header_str(resp.headers(), CONTENT_RANGE.as_str())
                    .and_then(|cr| cr.rsplit('/').next().and_then(|t| t.parse().ok()))
                    .or(total);
            } else {
                total = resp.content_length().or(total);
            }
            let fresh = response_validator(resp.headers());
            if fresh.is_some() {
                validator = fresh;
            }
            // What a later run needs to resume: written before the body, so that a process
            // killed mid-body leaves both.
            if let (Some(t), Some(v)) = (total, &validator) {
                let m = PartialMeta::new(v, t);
                if let Err(e) = m.save(meta_path).await {
                    tracing::info!("cannot write {}: {e}", meta_path.display());
                }
            }
            progress(DownloadProgress {
                downloaded: written,
                total,
            });
            let mut next_report = written + PROGRESS_STEP;
            let mut body = resp.bytes_stream();
            let mut broke = false;
            while let Some(chunk) = body.next().await {
                if cancel.is_cancelled() {
                    out.finish().await.map_err(|e| local(e, "write", partial))?;
                    return Err(ApiError::Cancelled);
                }
                match chunk {
                    Ok(bytes) => {
                        written += bytes.len() as u64;
                        out.send(Chunk::Data(bytes))
                            .await
                            .map_err(|e| local(e, "write", partial))?;
                        // Progress every 512 KiB (and at the end): a UI cannot show more, and
                        // a call per 16 KiB chunk costs throughput.
                        if written >= next_report || total == Some(written) {
                            next_report = written + PROGRESS_STEP;
                            progress(DownloadProgress {
                                downloaded: written,
                                total,
                            });
                        }
                    }
                    Err(e) => {
                        tracing::info!(written, "download broke: {e}; resuming");
                        broke = true;
                        break;
                    }
                }
            }
            progress(DownloadProgress {
                downloaded: written,
                total,
            });
            if !broke && total.is_none_or(|t| written >= t) {
                break;
            }
            // Broken or short: resume where we are.
            out.finish().await.map_err(|e| local(e, "write", partial))?;
            resumed += 1;
            failures += 1;
            match self.opts.retry.delay(failures, None) {
                Some(d) => tokio::time::sleep(d.min(Duration::from_millis(500))).await,
                None => {
                    return Err(ApiError::Connect {
                        url: redact_url(url.as_str()),
                        reason: format!("the transfer broke {resumed} times at {written} bytes"),
                    })
                }
            }
        }
        if let Some(t) = total {
            if written != t {
                return Err(ApiError::Decode {
                    what: "downloading the archive".into(),
                    reason: format!("got {written} bytes, expected {t}"),
                    request_id: None,
                });
            }
        }
        out.finish().await.map_err(|e| local(e, "write", partial))?;
        if let Some(validate) = &self.validator {
            validate(partial).map_err(|reason| ApiError::Archive { reason })?;
        }
        // No fsync: the rename is what makes the download all-or-nothing for a killed or
        // failed process (the page cache outlives the process). Forcing 1 GiB to disk would
        // halve the throughput; a reader verifies entries against the manifest's sha256.
        tokio::fs::rename(partial, dest)
            .await
            .map_err(|e| local(e, "rename", partial))?;
        Ok(Downloaded {
            path: dest.to_path_buf(),
            bytes: written,
            resumed,
            refreshed_url: refreshed,
            resumed_from,
            sha256: out.sha256(),
        })
    }

    /// The request as a curl command, key as `$LD_API_KEY`.
    pub fn curl(&self, op: &Operation) -> String {
        match op {
            Operation::Create {
                deployment,
                body,
                idempotency_key,
            } => curl_command(
                "POST",
                self.snapshots_url(*deployment).as_str(),
                &[(IDEMPOTENCY_HEADER, idempotency_key)],
                serde_json::to_string(body).ok().as_deref(),
            ),
            Operation::List {
                deployment,
                page,
                results,
            } => {
                let mut u = self.snapshots_url(*deployment);
                u.query_pairs_mut()
                    .append_pair("page", &page.to_string())
                    .append_pair("results", &results.to_string());
                curl_command("GET", u.as_str(), &[], None)
            }
            Operation::DownloadUrl {
                deployment,
                snapshot,
            } => {
                let mut u = self.snapshot_url(*deployment, *snapshot);
                if let Ok(mut s) = u.path_segments_mut() {
                    s.push("download");
                }
                curl_command("GET", u.as_str(), &[], None)
            }
            Operation::Delete {
                deployment,
                snapshot,
            } => curl_command(
                "DELETE",
                self.snapshot_url(*deployment, *snapshot).as_str(),
                &[],
                None,
            ),
        }
    }
}

enum Chunk {
    Data(bytes::Bytes),
    /// The server ignored `Range`: truncate and start over.
    Restart,
}

/// Writes a download straight from the receive loop: writes land in the page cache (no
/// fsync), which costs less CPU than handing chunks to another thread; on 2 cores shared with
/// the network stack that decides the throughput. Every byte written is hashed on the way
/// (SHA-256 runs at GB/s with the CPU's SHA extensions, far above the network), so that the
/// library never reads a download a second time to learn its hash.
struct DiskWriter {
    w: std::io::BufWriter<std::fs::File>,
    hash: sha2::Sha256,
}

impl DiskWriter {
    fn spawn(file: std::fs::File) -> Self {
        use sha2::Digest;
        Self {
            w: std::io::BufWriter::with_capacity(1 << 20, file),
            hash: sha2::Sha256::new(),
        }
    }

    /// Hashes the first `len` bytes a previous run left in `path` (the file being appended).
    fn hash_prefix(&mut self, path: &Path, len: u64) -> std::io::Result<()> {
        use sha2::Digest;
        use std::io::Read;
        let mut r = std::fs::File::open(path)?.take(len);
        let mut buf = vec![0u8; 1 << 20];
        let mut seen = 0u64;
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            self.hash.update(&buf[..n]);
            seen += n as u64;
        }
        if seen != len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the partial file holds {seen} bytes, not {len}"),
            ));
        }
        Ok(())
    }

    async fn send(&mut self, chunk: Chunk) -> std::io::Result<()> {
        use sha2::Digest;
        use std::io::{Seek, Write};
        match chunk {
            Chunk::Data(b) => {
                self.hash.update(&b);
                self.w.write_all(&b)
            }
            Chunk::Restart => {
                self.hash = sha2::Sha256::new();
                self.w.flush()?;
                self.w.get_mut().set_len(0)?;
                self.w.get_mut().rewind().map(|_| ())
            }
        }
    }

    /// The hash of everything written so far.
    fn sha256(&self) -> String {
        use sha2::Digest;
        hex::encode(self.hash.clone().finalize())
    }

    async fn finish(&mut self) -> std::io::Result<()> {
        std::io::Write::flush(&mut self.w)
    }
}

/// The `<Message>` (or `<Code>`) of an S3-style XML error, else the start of the body.
fn s3_message(body: &str) -> String {
    let tag = |t: &str| {
        let open = format!("<{t}>");
        let close = format!("</{t}>");
        let s = body.find(&open)? + open.len();
        let e = body[s..].find(&close)? + s;
        Some(body[s..e].to_owned())
    };
    match (tag("Code"), tag("Message")) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        (None, Some(m)) => m,
        _ => body.chars().take(200).collect(),
    }
}

/// A fresh idempotency key for one user action.
pub fn new_idempotency_key() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    format!(
        "snapdesk-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Client::new` refuses with `invalid_input`, and the message names `names`.
    #[track_caller]
    fn assert_invalid(url: &str, key: &str, names: &str) {
        let err = Client::new(url, key, ClientOptions::default()).unwrap_err();
        assert!(matches!(err, ApiError::Invalid(_)), "{err:?}");
        let e = Error::from(err);
        assert_eq!(e.code, snapdesk_core::ErrorCode::InvalidInput);
        assert!(e.message.contains(names), "{}", e.message);
    }

    #[test]
    fn base_url_is_accepted_with_or_without_trailing_slash() {
        let a = Client::new("https://sup.example", "k", ClientOptions::default()).unwrap();
        let b = Client::new("https://sup.example/", "k", ClientOptions::default()).unwrap();
        assert_eq!(
            a.snapshots_url(7).as_str(),
            "https://sup.example/deployments/7/snapshots"
        );
        assert_eq!(a.snapshots_url(7), b.snapshots_url(7));
        assert_invalid("http://10.0.0.5:8080", "k", "10.0.0.5");
        assert!(Client::new("http://localhost:8080", "k", ClientOptions::default()).is_ok());
        assert!(Client::new("http://[::1]:8080", "k", ClientOptions::default()).is_ok());
        // A path is a pasted endpoint: refused, naming the path.
        assert_invalid(
            "http://127.0.0.1:9/deployments/1/snapshots",
            "k",
            "the path /deployments/1/snapshots",
        );
        assert_invalid("ftp://x", "k", "ftp");
        assert_invalid("not a url", "k", "not a url");
        assert_invalid("https://x", " ", "API key");
        assert_invalid("https://x", "ld_abc\n", "a line break");
        assert_invalid("https://x", "ld_a c", "a space");
        assert_invalid("https://x", "ld_é", "non-ASCII");
    }

    #[test]
    fn tls_failures_are_sorted_from_their_text() {
        assert_eq!(
            tls_problem(
                "error sending request: received corrupt message of type InvalidContentType"
            ),
            Some(TlsProblem::NotTls)
        );
        assert_eq!(
            tls_problem("invalid peer certificate: certificate not valid for name \"x\""),
            Some(TlsProblem::Certificate)
        );
        assert_eq!(tls_problem("Connection refused (os error 111)"), None);
        let e = ApiError::Tls {
            url: "https://x".into(),
            problem: TlsProblem::Certificate,
            reason: "NotValidForName".into(),
        };
        assert!(!e.is_retryable(), "a certificate error is not retried");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = Client::new(
            "https://sup.example",
            "very-secret-key",
            ClientOptions::default(),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("very-secret-key"));
    }

    #[test]
    fn presigned_urls_are_logged_as_host_and_path() {
        assert_eq!(
            redact_url("https://storage.example.com/snapshots/a.zip?signature=abc&expires=1"),
            "https://storage.example.com/snapshots/a.zip"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:9000/_storage/x?signature=s"),
            "http://127.0.0.1:9000/_storage/x"
        );
    }

    #[test]
    fn s3_errors_are_read() {
        let xml = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
        assert_eq!(s3_message(xml), "AccessDenied: Request has expired");
    }

    /// A loopback HTTP server that answers every request with a bodiless 503 and counts the
    /// requests it received (counted before it answers, so a client that got its answer has
    /// been counted).
    fn always_503() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let mut reader = BufReader::new(conn);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        (url, hits)
    }

    #[tokio::test]
    async fn a_post_without_an_idempotency_key_is_never_retried_and_one_with_a_key_is() {
        use std::sync::atomic::Ordering;
        let (url, hits) = always_503();
        let mut opts = ClientOptions::default();
        opts.retry.base_delay = Duration::from_millis(1);
        opts.retry.max_delay = Duration::from_millis(5);
        let limit = opts.retry.max_attempts as usize;
        let c = Client::new(&url, "k", opts).unwrap();
        let body = Some("{}".to_owned());
        let err = c
            .send(Method::POST, c.snapshots_url(1), body.clone(), None, "t")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(503));
        assert_eq!(hits.load(Ordering::SeqCst), 1, "no retry without a key");
        // The control: the same server and status with a key is retried to the limit.
        let err = c
            .send(Method::POST, c.snapshots_url(1), body, Some("key-1"), "t")
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(503));
        assert_eq!(hits.load(Ordering::SeqCst), 1 + limit);
    }

    #[test]
    fn idempotency_keys_are_unique_and_short() {
        let a = new_idempotency_key();
        assert_ne!(a, new_idempotency_key());
        assert!(a.len() <= 255);
    }
}
