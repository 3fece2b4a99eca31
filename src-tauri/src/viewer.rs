//! The report viewer's host side: archives opened for viewing, and the `report:` URI scheme
//! that serves their pages to a sandboxed iframe. Reports never travel over IPC: the UI gets
//! a summary and a URL; the page itself comes through this scheme, with a CSP that forbids
//! every network request.
//!
//! A report is hostile: it may navigate its own frame in a loop (each navigation is a scheme
//! request) or point at any URL it likes. So the page is prepared once at open and shared;
//! a request is answered inline from that (no thread, no disk read, no copy of the archive);
//! only the exact URL of an open report is served; and each report may load only a few
//! times a second (a security review measured 8 GB in 50 s from a 20 ms navigation loop when
//! each request did real work).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use snapdesk_core::{Cancel, Error, ErrorCode};
use snapdesk_report::archive::{self, Limits};
use snapdesk_report::view::{self, OpenedReport, PreparedView};
use tauri::http::{header, Response, StatusCode, Uri};

/// The scheme the sandboxed report frame loads from.
pub const SCHEME: &str = "report";

/// The CSP of every report page: inline scripts and styles run, nothing is fetched.
pub const REPORT_CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; \
style-src 'unsafe-inline'; img-src data:; font-src data:; media-src 'none'; connect-src 'none'; \
frame-src 'none'; child-src 'none'; worker-src 'none'; form-action 'none'; base-uri 'none'";

/// How long opening one archive may take before it gives up (it can be cancelled sooner).
pub const OPEN_TIME_LIMIT: Duration = Duration::from_secs(60);

/// The path, under a report's token, of its "Iggy data" page.
const IGGY_PAGE: &str = "iggy-data";
/// The path, under a report's token, of its file pages: `files/<n>/`.
const FILES_PAGE: &str = "files";
/// File pages kept per open archive; the oldest goes first.
const MAX_FILE_PAGES: usize = 16;
/// The most a file export reads (an archive's whole copy is the library's export).
const EXPORT_MAX: u64 = 64 * 1024 * 1024;

/// Loads of one report allowed in a burst, then one more per [`LOAD_REFILL`].
const LOAD_BURST: u32 = 8;
const LOAD_REFILL: Duration = Duration::from_millis(500);

/// An origin as the webview sees it: scheme and host, never a port or user info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub scheme: &'static str,
    pub host: &'static str,
}

impl Origin {
    /// Whether `url` is on exactly this origin (default port, no credentials).
    pub fn contains(&self, url: &tauri::Url) -> bool {
        url.scheme() == self.scheme
            && url.host_str() == Some(self.host)
            && url.port().is_none()
            && url.username().is_empty()
            && url.password().is_none()
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }
}

/// The app's own pages on this platform. On Linux `http://tauri.localhost` is not the app:
/// WebKitGTK resolves `*.localhost` to 127.0.0.1, so only the platform's own form is allowed.
pub const APP_ORIGIN: Origin = if cfg!(windows) {
    Origin {
        scheme: "http",
        host: "tauri.localhost",
    }
} else {
    Origin {
        scheme: "tauri",
        host: "localhost",
    }
};

/// The report pages on this platform (see [`APP_ORIGIN`] for why only one form).
pub const REPORT_ORIGIN: Origin = if cfg!(windows) {
    Origin {
        scheme: "http",
        host: "report.localhost",
    }
} else {
    Origin {
        scheme: "report",
        host: "localhost",
    }
};

/// The origin of the scheme on this platform, as a string.
pub fn origin() -> String {
    REPORT_ORIGIN.url()
}

/// One opened report: what is served, and how often it was loaded lately.
struct Entry {
    view: Arc<PreparedView>,
    /// The "Iggy data" page, when the archive carries Iggy data.
    iggy: Option<Arc<[u8]>>,
    /// The archive on disk, for its file list and file pages.
    source: PathBuf,
    /// Pages of single files asked for, by number (at most [`MAX_FILE_PAGES`] kept).
    files: std::collections::BTreeMap<u32, Arc<[u8]>>,
    next_file: u32,
    tokens: f64,
    refilled: Instant,
}

impl Entry {
    /// Takes one load from the bucket; false when the report reloads itself too often.
    fn take_load(&mut self, now: Instant) -> bool {
        let refill = now.duration_since(self.refilled).as_secs_f64() / LOAD_REFILL.as_secs_f64();
        self.tokens = (self.tokens + refill).min(f64::from(LOAD_BURST));
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Archives opened in this run, by token, and opens in progress, by request id.
#[derive(Default)]
pub struct Viewer {
    open: Mutex<HashMap<String, Entry>>,
    limits: Limits,
}

/// 128 random bits, as 32 hex digits: a report's URL cannot be guessed from another's.
fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn poisoned() -> Error {
    Error::internal("viewer state poisoned")
}

impl Viewer {
    /// Opens an archive from disk (any snapshot ZIP) and registers it for the frame.
    #[cfg(test)]
    pub fn open(&self, path: PathBuf) -> Result<OpenedReport, Error> {
        self.open_with(path, &Cancel::new())
    }

    /// Opens an archive under a switch the caller holds (a job of several steps).
    pub fn open_with(&self, path: PathBuf, cancel: &Cancel) -> Result<OpenedReport, Error> {
        if !path.is_file() {
            return Err(
                Error::not_found(format!("{} is not a file", path.display()))
                    .with_hint("give the path of a snapshot ZIP"),
            );
        }
        let result =
            archive::open_with(&path, &self.limits, &cancel.with_deadline(OPEN_TIME_LIMIT));
        let opened = result.map_err(Error::from)?;
        // Only what is served is kept: the page (shared with the archive's bytes) and the
        // summary. The archive's other parts are dropped here.
        let prepared = view::prepare(&opened, &self.limits.parse);
        drop(opened);
        // The same "Iggy data" section a collected report carries, for any archive with Iggy
        // data, read in place by the inspector (with its own budgets).
        let iggy = prepared.summary.has_iggy_data.then(|| {
            let inspection = snapdesk_collector::iggy_data::inspect(&path);
            let section = snapdesk_collector::iggy_data::section(&inspection);
            let title = format!("Iggy data: {}", prepared.summary.title);
            Arc::<[u8]>::from(snapdesk_report::iggy_data::page(&title, &section).into_bytes())
        });
        let token = new_token();
        let url = format!("{}/{token}/", origin());
        let iggy_url = iggy.as_ref().map(|_| format!("{url}{IGGY_PAGE}/"));
        let summary = prepared.summary.clone();
        let checks = prepared.checks.clone();
        self.open.lock().map_err(|_| poisoned())?.insert(
            token.clone(),
            Entry {
                view: Arc::new(prepared),
                iggy,
                source: path.clone(),
                files: Default::default(),
                next_file: 0,
                tokens: f64::from(LOAD_BURST),
                refilled: Instant::now(),
            },
        );
        Ok(OpenedReport {
            token,
            url,
            iggy_url,
            summary,
            checks,
            entry_id: None,
        })
    }

    fn source_of(&self, token: &str) -> Result<PathBuf, Error> {
        let open = self.open.lock().map_err(|_| poisoned())?;
        open.get(token)
            .map(|e| e.source.clone())
            .ok_or_else(|| not_open(token))
    }

    /// The files of an opened archive, nested `iggy-data.zip` entries included.
    pub fn files(&self, token: &str) -> Result<Vec<archive::ArchiveFile>, Error> {
        let path = self.source_of(token)?;
        let cancel = Cancel::new().with_deadline(OPEN_TIME_LIMIT);
        Ok(archive::list_files(&path, &self.limits, &cancel)?)
    }

    /// Prepares the page of one file (read once, within the archive budgets) and returns its
    /// URL for the frame.
    pub fn file_page(&self, token: &str, file: &str) -> Result<String, Error> {
        let path = self.source_of(token)?;
        let kind = archive::kind_of(file);
        let cancel = Cancel::new().with_deadline(OPEN_TIME_LIMIT);
        let bytes = archive::read_file(
            &path,
            file,
            snapdesk_report::file_view::shown_bytes(kind),
            &self.limits,
            &cancel,
        )?;
        let page: Arc<[u8]> = snapdesk_report::file_view::file_page(file, kind, &bytes)
            .into_bytes()
            .into();
        let mut open = self.open.lock().map_err(|_| poisoned())?;
        let entry = open.get_mut(token).ok_or_else(|| not_open(token))?;
        let n = entry.next_file;
        entry.next_file = entry.next_file.wrapping_add(1);
        entry.files.insert(n, page);
        while entry.files.len() > MAX_FILE_PAGES {
            entry.files.pop_first();
        }
        Ok(format!("{}/{token}/{FILES_PAGE}/{n}/", origin()))
    }

    /// Writes one file of an opened archive to `dest` (whole, or not at all).
    pub fn export_file(
        &self,
        token: &str,
        file: &str,
        dest: &std::path::Path,
    ) -> Result<(), Error> {
        let path = self.source_of(token)?;
        let cancel = Cancel::new().with_deadline(OPEN_TIME_LIMIT);
        let bytes = archive::read_file(&path, file, EXPORT_MAX, &self.limits, &cancel)?;
        if bytes.truncated {
            return Err(Error::new(
                ErrorCode::LimitReached,
                format!("{file} is larger than 64 MiB and was not exported"),
            )
            .with_hint("export the whole snapshot from the library and unzip it"));
        }
        let partial = snapdesk_core::paths::partial_path(dest);
        std::fs::write(&partial, &bytes.bytes).map_err(|e| Error::io_at(e, "write", &partial))?;
        std::fs::rename(&partial, dest).map_err(|e| Error::io_at(e, "write", dest))?;
        Ok(())
    }

    /// Forgets an opened archive.
    pub fn close(&self, token: &str) -> Result<(), Error> {
        self.open.lock().map_err(|_| poisoned())?.remove(token);
        Ok(())
    }

    /// How many archives are open.
    pub fn open_count(&self) -> usize {
        self.open.lock().map(|m| m.len()).unwrap_or_default()
    }

    /// The response for a `report:` request. Only `<report origin>/<token>/` of an open report
    /// is served, from the bytes prepared at open; anything else is a plain refusal.
    pub fn respond(&self, uri: &Uri) -> Response<Cow<'static, [u8]>> {
        let Some((token, page)) = page_of(uri) else {
            return plain(StatusCode::NOT_FOUND, "Not a report page.");
        };
        let body = {
            let Ok(mut open) = self.open.lock() else {
                return plain(StatusCode::INTERNAL_SERVER_ERROR, "Viewer state poisoned.");
            };
            let Some(entry) = open.get_mut(token) else {
                return plain(StatusCode::NOT_FOUND, "This report is no longer open.");
            };
            let body = match page {
                Page::Report => entry.view.page.clone(),
                Page::Iggy => match &entry.iggy {
                    Some(p) => p.clone(),
                    None => return plain(StatusCode::NOT_FOUND, "This archive has no Iggy data."),
                },
                Page::File(n) => match entry.files.get(&n) {
                    Some(p) => p.clone(),
                    None => return plain(StatusCode::NOT_FOUND, "This file page is gone."),
                },
            };
            if !entry.take_load(Instant::now()) {
                return paused();
            }
            body
        };
        // The one copy: WebKit takes the body as its own buffer.
        secure(
            Response::builder(),
            StatusCode::OK,
            "text/html; charset=utf-8",
        )
        .header(header::CONTENT_SECURITY_POLICY, REPORT_CSP)
        .body(Cow::Owned(body.to_vec()))
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "Bad response."))
    }
}

/// The pages an opened archive has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Report,
    Iggy,
    File(u32),
}

/// The token and page of a report URL, when the URL is exactly a page on this platform's
/// report origin: `/<32 hex digits>/` (the report) or `/<32 hex digits>/iggy-data/`, no query,
/// no other path.
fn page_of(uri: &Uri) -> Option<(&str, Page)> {
    let scheme_ok = uri.scheme_str() == Some(REPORT_ORIGIN.scheme);
    let host_ok = uri.host() == Some(REPORT_ORIGIN.host) && uri.port().is_none();
    if !scheme_ok || !host_ok || uri.query().is_some() {
        return None;
    }
    let path = uri.path().strip_prefix('/')?.strip_suffix('/')?;
    let (token, page) = match path.split_once('/') {
        None => (path, Page::Report),
        Some((token, IGGY_PAGE)) => (token, Page::Iggy),
        Some((token, rest)) => {
            let n = rest.strip_prefix(FILES_PAGE)?.strip_prefix('/')?;
            // Digits only, no sign or leading zero: one URL per page.
            if n.is_empty()
                || (n.len() > 1 && n.starts_with('0'))
                || !n.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            (token, Page::File(n.parse().ok()?))
        }
    };
    (token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some((token, page))
}

/// Headers every response carries, refusals included.
fn secure(
    builder: tauri::http::response::Builder,
    status: StatusCode,
    content_type: &str,
) -> tauri::http::response::Builder {
    builder
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer")
}

fn plain(status: StatusCode, text: &'static str) -> Response<Cow<'static, [u8]>> {
    secure(Response::builder(), status, "text/plain; charset=utf-8")
        .header(header::CONTENT_SECURITY_POLICY, "default-src 'none'")
        .body(Cow::Borrowed(text.as_bytes()))
        .unwrap_or_default()
}

/// The page a report gets when it reloads itself in a loop: a styled notice whose one script
/// is the theme listener (its CSP allows that script by hash, nothing else).
fn paused() -> Response<Cow<'static, [u8]>> {
    let page = view::notice_page(
        "Report paused",
        "This report reloads itself too often, so Snapdesk paused it. Go back to the library and open it again to load it once more.",
    );
    secure(
        Response::builder(),
        StatusCode::TOO_MANY_REQUESTS,
        "text/html; charset=utf-8",
    )
    .header(header::CONTENT_SECURITY_POLICY, view::own_page_csp())
    .body(Cow::Owned(page.into_bytes()))
    .unwrap_or_else(|_| plain(StatusCode::TOO_MANY_REQUESTS, "Report paused."))
}

/// Which URLs a webview may navigate to (frames included): this platform's app and report
/// origins, exactly, and blank frames.
pub fn navigation_allowed(url: &tauri::Url) -> bool {
    APP_ORIGIN.contains(url)
        || REPORT_ORIGIN.contains(url)
        || matches!(url.as_str(), "about:blank" | "about:srcdoc")
}

/// Maps a missing viewer state to an error (used by commands).
pub fn not_open(token: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("report {token} is not open"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn write_report(dir: &std::path::Path) -> PathBuf {
        let zip = dir.join("r.zip");
        let report = snapdesk_report::sample::sample_report(3, 3);
        let mut w = archive::ArchiveWriter::create(&zip).unwrap();
        w.add_bytes(
            archive::REPORT_ENTRY,
            snapdesk_report::render::render(&report).as_bytes(),
            true,
        )
        .unwrap();
        let mut m = archive::Manifest::new("s".into(), "h".into(), report.collector.clone());
        w.finish(&mut m).unwrap();
        zip
    }

    fn header_of<'a>(r: &'a Response<Cow<'static, [u8]>>, h: header::HeaderName) -> &'a str {
        r.headers()
            .get(&h)
            .unwrap_or_else(|| panic!("no {h}"))
            .to_str()
            .unwrap()
    }

    #[test]
    fn only_this_platforms_exact_app_and_report_origins_are_navigable() {
        let (app, report) = if cfg!(windows) {
            (
                "http://tauri.localhost/index.html",
                "http://report.localhost/abc/",
            )
        } else {
            ("tauri://localhost/index.html", "report://localhost/abc/")
        };
        for ok in [app, report, "about:blank", "about:srcdoc"] {
            assert!(navigation_allowed(&ok.parse().unwrap()), "{ok}");
        }
        let mut bad = vec![
            "https://example.com/",
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "https://localhost/",
            "http://localhost:443/",
            "file:///etc/passwd",
            "report://evil/",
            "report://localhost:8080/x/",
            "tauri://user@localhost/",
            "javascript:alert(1)",
            "data:text/html,<p>x</p>",
            "blob:tauri://localhost/1",
            "about:config",
            // The finding: on Linux these resolve to loopback ports 80 and 443.
            "http://report.localhost:80/x/",
            "https://report.localhost/x/",
            "https://tauri.localhost/",
        ];
        if !cfg!(windows) {
            bad.extend(["http://report.localhost/x/", "http://tauri.localhost/"]);
        }
        for b in bad {
            assert!(!navigation_allowed(&b.parse().unwrap()), "{b}");
        }
    }

    #[test]
    fn an_open_report_is_served_at_its_exact_url_only_with_the_csp_and_safe_headers() {
        let v = Viewer::default();
        let tmp = tempfile::tempdir().unwrap();
        let opened = v.open(write_report(tmp.path())).unwrap();
        assert_eq!(opened.token.len(), 32);
        assert_eq!(opened.url, format!("{}/{}/", origin(), opened.token));

        let r = v.respond(&uri(&opened.url));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            header_of(&r, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&r, header::CONTENT_SECURITY_POLICY), REPORT_CSP);
        assert_eq!(header_of(&r, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-store");
        assert!(String::from_utf8_lossy(r.body()).contains("snapdesk-report"));

        let t = &opened.token;
        let o = origin();
        for other in [
            format!("{o}/{t}"),
            format!("{o}/{t}/x"),
            format!("{o}/{t}/index.html"),
            format!("{o}/{t}/?q=1"),
            format!("{o}//{t}/"),
            format!("{o}/{}/", t.to_uppercase().replace(char::is_numeric, "Z")),
            format!("{o}/{}/", &t[..31]),
            format!("{o}:8080/{t}/"),
            format!("report://evil/{t}/"),
            format!("http://localhost/{t}/"),
        ] {
            let r = v.respond(&uri(&other));
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{other}");
            // Refusals carry the same safety headers and no page.
            assert_eq!(header_of(&r, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            assert_eq!(header_of(&r, header::CACHE_CONTROL), "no-store");
            assert_eq!(
                header_of(&r, header::CONTENT_SECURITY_POLICY),
                "default-src 'none'"
            );
            assert_eq!(
                header_of(&r, header::CONTENT_TYPE),
                "text/plain; charset=utf-8"
            );
        }

        v.close(t).unwrap();
        assert_eq!(v.respond(&uri(&opened.url)).status(), StatusCode::NOT_FOUND);
        let e = v.open(tmp.path().join("missing.zip")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
    }

    #[test]
    fn a_report_that_reloads_itself_in_a_loop_is_paused_and_shares_one_page() {
        let v = Viewer::default();
        let tmp = tempfile::tempdir().unwrap();
        let opened = v.open(write_report(tmp.path())).unwrap();
        let u = uri(&opened.url);
        let served = (0..200)
            .filter(|_| v.respond(&u).status() == StatusCode::OK)
            .count();
        // A burst of 8, plus whatever refilled while the loop ran (well under a second).
        assert!((8..=12).contains(&served), "{served}");
        let paused = v.respond(&u);
        assert_eq!(paused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            header_of(&paused, header::CONTENT_SECURITY_POLICY),
            view::own_page_csp()
        );
        assert_eq!(
            header_of(&paused, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff"
        );
        assert!(String::from_utf8_lossy(paused.body()).contains("paused it"));
        // The page is one shared allocation, whatever the number of requests.
        let open = v.open.lock().unwrap();
        let entry = open.get(&opened.token).unwrap();
        assert_eq!(Arc::strong_count(&entry.view), 1);
    }

    #[test]
    fn the_page_served_is_the_one_read_at_open_even_if_the_file_changes() {
        let v = Viewer::default();
        let tmp = tempfile::tempdir().unwrap();
        let zip = write_report(tmp.path());
        let opened = v.open(zip.clone()).unwrap();
        let first = v.respond(&uri(&opened.url)).into_body().into_owned();
        // Replace the archive on disk with something else entirely.
        std::fs::write(&zip, b"not a zip any more").unwrap();
        let second = v.respond(&uri(&opened.url));
        assert_eq!(second.status(), StatusCode::OK);
        assert_eq!(second.body().as_ref(), &first[..]);
    }

    #[test]
    fn an_archive_with_iggy_data_gets_its_iggy_data_page_at_its_exact_url() {
        let v = Viewer::default();
        let tmp = tempfile::tempdir().unwrap();
        // A report without Iggy data has no such page.
        let plain_report = v.open(write_report(tmp.path())).unwrap();
        assert_eq!(plain_report.iggy_url, None);
        let u = format!("{}iggy-data/", plain_report.url);
        assert_eq!(v.respond(&uri(&u)).status(), StatusCode::NOT_FOUND);

        // One with a (non-Iggy) iggy-data.zip: the page exists and says what it found.
        let zip = tmp.path().join("with-data.zip");
        let report = snapdesk_report::sample::sample_report(3, 1);
        let mut inner = Vec::new();
        {
            let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut inner));
            z.start_file("notes.txt", zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut z, b"not iggy").unwrap();
            z.finish().unwrap();
        }
        let mut w = archive::ArchiveWriter::create(&zip).unwrap();
        w.add_bytes(
            archive::REPORT_ENTRY,
            snapdesk_report::render::render(&report).as_bytes(),
            true,
        )
        .unwrap();
        w.add_bytes(archive::IGGY_DATA_ENTRY, &inner, false)
            .unwrap();
        let mut m = archive::Manifest::new("s".into(), "h".into(), report.collector.clone());
        w.finish(&mut m).unwrap();
        let opened = v.open(zip).unwrap();
        let iggy_url = opened.iggy_url.clone().unwrap();
        assert_eq!(iggy_url, format!("{}iggy-data/", opened.url));
        let r = v.respond(&uri(&iggy_url));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header_of(&r, header::CONTENT_SECURITY_POLICY), REPORT_CSP);
        let html = String::from_utf8_lossy(r.body()).into_owned();
        assert!(html.contains("Iggy data"), "{html}");
        // Its one script is the theme listener, which its own CSP allows by hash.
        assert_eq!(html.matches("<script").count(), 1, "{html}");
        assert!(html.contains(snapdesk_report::view::own_page_csp()));
        for bad in ["iggy-data", "iggy-data/x/", "other/"] {
            let u = format!("{}{bad}", opened.url);
            assert_eq!(v.respond(&uri(&u)).status(), StatusCode::NOT_FOUND, "{u}");
        }
    }

    #[test]
    fn tokens_are_128_random_bits() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn a_file_page_is_prepared_once_and_served_at_its_exact_url_only() {
        let tmp = tempfile::tempdir().unwrap();
        let v = Viewer::default();
        let opened = v.open(write_report(tmp.path())).unwrap();
        let files = v.files(&opened.token).unwrap();
        assert!(files.iter().any(|f| f.path == "manifest.json"), "{files:?}");
        let url = v.file_page(&opened.token, "manifest.json").unwrap();
        assert_eq!(url, format!("{}files/0/", opened.url));
        let r = v.respond(&uri(&url));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header_of(&r, header::CONTENT_SECURITY_POLICY), REPORT_CSP);
        let body = String::from_utf8_lossy(r.body());
        assert!(body.contains("&quot;snapshot_name&quot;"), "{body}");
        for bad in [
            "files/1/",
            "files/00/",
            "files/+0/",
            "files/0",
            "files/",
            "files/0/x/",
        ] {
            let r = v.respond(&uri(&format!("{}{bad}", opened.url)));
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
        }
        // Export writes the whole file, or nothing.
        let dest = tmp.path().join("manifest-copy.json");
        v.export_file(&opened.token, "manifest.json", &dest)
            .unwrap();
        assert!(std::fs::read_to_string(&dest)
            .unwrap()
            .contains("snapshot_name"));
        assert!(v.file_page(&opened.token, "nope.txt").is_err());
        assert!(v.files("0123456789abcdef0123456789abcdef").is_err());
    }
}
