//! The report viewer's host side: archives opened for viewing, and the `report:` URI scheme
//! that serves their pages to a sandboxed iframe. Reports never travel over IPC: the UI gets
//! a summary and a URL; the page itself comes through this scheme, with a CSP that forbids
//! every network request.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use snapdesk_core::{Error, ErrorCode};
use snapdesk_report::archive::{self, OpenedArchive};
use snapdesk_report::view::{self, ArchiveSummary, OpenedReport};
use tauri::http::{header, Response, StatusCode};

/// The scheme the sandboxed report frame loads from.
pub const SCHEME: &str = "report";

/// The CSP of every report page: inline scripts and styles run, nothing is fetched.
pub const REPORT_CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; \
style-src 'unsafe-inline'; img-src data:; font-src data:; media-src 'none'; connect-src 'none'; \
frame-src 'none'; child-src 'none'; worker-src 'none'; form-action 'none'; base-uri 'none'";

/// Archives opened in this run, by token.
#[derive(Default)]
pub struct Viewer {
    open: Mutex<HashMap<String, OpenedArchive>>,
}

/// The origin of the scheme on this platform (`report://localhost` on Linux and macOS,
/// `http://report.localhost` on Windows).
pub fn origin() -> &'static str {
    if cfg!(windows) {
        "http://report.localhost"
    } else {
        "report://localhost"
    }
}

fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:016x}", h.finish())
}

impl Viewer {
    /// Opens an archive from disk (any snapshot ZIP) and registers it for the frame.
    pub fn open(&self, path: PathBuf) -> Result<OpenedReport, Error> {
        if !path.is_file() {
            return Err(
                Error::not_found(format!("{} is not a file", path.display()))
                    .with_hint("give the path of a snapshot ZIP"),
            );
        }
        let opened = archive::open(&path).map_err(Error::from)?;
        let summary = ArchiveSummary::of(&opened);
        let token = new_token();
        let url = format!("{}/{token}/", origin());
        self.open
            .lock()
            .map_err(|_| Error::internal("viewer state poisoned"))?
            .insert(token.clone(), opened);
        Ok(OpenedReport {
            token,
            url,
            summary,
        })
    }

    /// Forgets an opened archive.
    pub fn close(&self, token: &str) -> Result<(), Error> {
        self.open
            .lock()
            .map_err(|_| Error::internal("viewer state poisoned"))?
            .remove(token);
        Ok(())
    }

    /// The response for a `report:` request: `/<token>/` is the page.
    pub fn respond(&self, path: &str) -> Response<Vec<u8>> {
        let token = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        let opened = self.open.lock().ok().and_then(|m| m.get(token).cloned());
        let Some(opened) = opened else {
            return plain(StatusCode::NOT_FOUND, "This report is no longer open.");
        };
        match view::page(&opened) {
            Ok(body) => Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .header(header::CONTENT_SECURITY_POLICY, REPORT_CSP)
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .header(header::CACHE_CONTROL, "no-store")
                .header("Referrer-Policy", "no-referrer")
                .body(body)
                .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "bad response")),
            Err(e) => {
                let e = Error::from(e);
                plain(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &format!("Cannot show this report: {}", e.message),
                )
            }
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CONTENT_SECURITY_POLICY, "default-src 'none'")
        .body(text.as_bytes().to_vec())
        .unwrap_or_default()
}

/// Which URLs a webview may navigate to (frames included): the app itself and report pages.
pub fn navigation_allowed(url: &tauri::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "tauri" => host == "localhost",
        "report" => host == "localhost",
        "http" | "https" => host == "tauri.localhost" || host == "report.localhost",
        "about" => url.as_str() == "about:blank" || url.as_str() == "about:srcdoc",
        _ => false,
    }
}

/// Maps a missing viewer state to an error (used by commands).
pub fn not_open(token: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("report {token} is not open"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_app_and_report_pages_are_navigable() {
        for ok in [
            "tauri://localhost/index.html",
            "report://localhost/abc/",
            "http://tauri.localhost/",
            "about:blank",
        ] {
            assert!(navigation_allowed(&ok.parse().unwrap()), "{ok}");
        }
        for bad in [
            "https://example.com/",
            "http://127.0.0.1:8080/",
            "file:///etc/passwd",
            "report://evil/",
            "javascript:alert(1)",
        ] {
            assert!(!navigation_allowed(&bad.parse().unwrap()), "{bad}");
        }
    }

    #[test]
    fn unknown_tokens_get_404_and_pages_carry_the_csp() {
        let v = Viewer::default();
        assert_eq!(v.respond("/nope/").status(), StatusCode::NOT_FOUND);
        let tmp = tempfile::tempdir().unwrap();
        let zip = tmp.path().join("r.zip");
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
        let opened = v.open(zip).unwrap();
        assert!(opened.url.ends_with(&format!("/{}/", opened.token)));
        let r = v.respond(&format!("/{}/", opened.token));
        assert_eq!(r.status(), StatusCode::OK);
        let csp = r
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'none'"));
        assert!(String::from_utf8_lossy(r.body()).contains("snapdesk-report"));
        v.close(&opened.token).unwrap();
        assert_eq!(
            v.respond(&format!("/{}/", opened.token)).status(),
            StatusCode::NOT_FOUND
        );
        let e = v.open(tmp.path().join("missing.zip")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
    }
}
