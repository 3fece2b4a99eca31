//! The object storage behind presigned URLs: `GET /_storage/{object}?expires=&signature=`,
//! answering errors the way S3 does (XML), and serving the archive from disk with Range
//! support and bounded memory.

use std::io::{self, SeekFrom};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::model::ItemStatus;
use crate::problem::request_id;
use crate::state::{remove_files, App};
use crate::util;

const CHUNK: usize = 64 * 1024;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn s3_error(status: StatusCode, code: &str, message: &str, rid: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code><Message>{}</Message>\
         <RequestId>{}</RequestId></Error>",
        xml_escape(code),
        xml_escape(message),
        xml_escape(rid)
    );
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, util::header_value("application/xml"));
    resp
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// What a `Range` header asks for, against a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeAsk {
    /// No usable Range header: the whole file.
    Full,
    /// Inclusive byte range.
    Part(u64, u64),
    Unsatisfiable,
}

/// Parses `bytes=N-`, `bytes=N-M`, `bytes=-N`. Malformed or multi-range headers are
/// ignored (the whole file is sent), as RFC 9110 allows.
pub(crate) fn parse_range(value: &str, size: u64) -> RangeAsk {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAsk::Full;
    };
    if spec.contains(',') {
        return RangeAsk::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAsk::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix: the last N bytes.
        let Ok(n) = b.parse::<u64>() else {
            return RangeAsk::Full;
        };
        if n == 0 || size == 0 {
            return RangeAsk::Unsatisfiable;
        }
        let n = n.min(size);
        return RangeAsk::Part(size - n, size - 1);
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeAsk::Full;
    };
    let end = if b.is_empty() {
        None
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => Some(e),
            _ => return RangeAsk::Full,
        }
    };
    if start >= size {
        return RangeAsk::Unsatisfiable;
    }
    let end = end.unwrap_or(size - 1).min(size - 1);
    RangeAsk::Part(start, end)
}

pub(crate) async fn get_object(
    State(app): State<App>,
    Path(object): Path<String>,
    req: Request,
) -> Response {
    let rid = request_id(req.extensions());
    let query = req.uri().query().unwrap_or("").to_owned();
    let (Some(expires), Some(signature)) = (
        query_param(&query, "expires"),
        query_param(&query, "signature"),
    ) else {
        return s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Query-string authentication requires the expires and signature parameters",
            &rid,
        );
    };
    let expires_ok = expires.parse::<i64>().ok();
    let signed = expires_ok.is_some_and(|e| util::verify(&app.secret, &object, e, signature));
    if !signed {
        return s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
            &rid,
        );
    }
    if expires_ok.is_some_and(|e| e < app.now().timestamp()) {
        return s3_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request has expired",
            &rid,
        );
    }
    let item = {
        let mut inner = app.lock();
        let doomed = app.sweep(&mut inner);
        if !doomed.is_empty() {
            tokio::spawn(remove_files(doomed));
        }
        inner
            .items
            .iter()
            .find(|i| i.status == ItemStatus::Completed && i.object() == object)
            .cloned()
    };
    let no_such_key = || {
        s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
            &rid,
        )
    };
    let Some(item) = item else {
        return no_such_key();
    };
    let Some(file_name) = &item.file else {
        return no_such_key();
    };
    let path = app.archive_path(file_name);
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return no_such_key(),
    };
    let size = match file.metadata().await {
        Ok(m) => m.len(),
        Err(_) => return no_such_key(),
    };
    let etag = format!("\"{:x}-{:x}\"", item.id, size);

    let range = range_for(req.headers(), &etag, size);
    let (status, start, len) = match range {
        RangeAsk::Full => (StatusCode::OK, 0, size),
        RangeAsk::Part(s, e) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
        RangeAsk::Unsatisfiable => {
            let mut resp = s3_error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The requested range is not satisfiable",
                &rid,
            );
            resp.headers_mut().insert(
                header::CONTENT_RANGE,
                util::header_value(&format!("bytes */{size}")),
            );
            return resp;
        }
    };
    if start > 0 && file.seek(SeekFrom::Start(start)).await.is_err() {
        return s3_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
            &rid,
        );
    }

    let stream = futures_util::stream::unfold((file, len), |(mut file, remaining)| async move {
        if remaining == 0 {
            return None;
        }
        let want = usize::try_from(remaining).unwrap_or(CHUNK).min(CHUNK);
        let mut buf = vec![0u8; want];
        match file.read(&mut buf).await {
            Ok(0) => Some((
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the archive is shorter than expected",
                )),
                (file, 0),
            )),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), (file, remaining - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });

    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, util::header_value("application/zip"));
    h.insert(header::CONTENT_LENGTH, util::header_value(&len.to_string()));
    h.insert(header::ACCEPT_RANGES, util::header_value("bytes"));
    h.insert(header::ETAG, util::header_value(&etag));
    h.insert(
        header::CONTENT_DISPOSITION,
        util::header_value(&format!("attachment; filename=\"{}\"", item.file_name())),
    );
    h.insert(
        header::LAST_MODIFIED,
        util::header_value(
            &item
                .completed_at
                .unwrap_or(item.created_at)
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        ),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            util::header_value(&format!("bytes {}-{}/{size}", start, start + len - 1)),
        );
    }
    resp
}

/// The Range to serve, honouring `If-Range` (a different ETag means the whole file).
fn range_for(headers: &HeaderMap, etag: &str, size: u64) -> RangeAsk {
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return RangeAsk::Full;
    };
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        if if_range.trim() != etag {
            return RangeAsk::Full;
        }
    }
    parse_range(range, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-", 10), RangeAsk::Part(0, 9));
        assert_eq!(parse_range("bytes=2-4", 10), RangeAsk::Part(2, 4));
        assert_eq!(parse_range("bytes=5-100", 10), RangeAsk::Part(5, 9));
        assert_eq!(parse_range("bytes=-3", 10), RangeAsk::Part(7, 9));
        assert_eq!(parse_range("bytes=-30", 10), RangeAsk::Part(0, 9));
        assert_eq!(parse_range("bytes=10-", 10), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=4-2", 10), RangeAsk::Full);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), RangeAsk::Full);
        assert_eq!(parse_range("items=0-1", 10), RangeAsk::Full);
    }
}
