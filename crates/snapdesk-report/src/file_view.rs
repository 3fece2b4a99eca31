//! One file of an archive as a viewer shows it: a page built once, served in the same
//! sandboxed frame as reports. Text is escaped (an HTML file is shown as its source, never
//! rendered), JSON is pretty-printed when it parses, and anything else is a hex dump. The
//! bytes never travel to the app's own page.

use crate::archive::{FileBytes, FileKind};
use crate::render::escape;
use crate::view::{escape_wrapped, own_page_head, PAGE_STYLE};

/// The most of a text file shown.
pub const TEXT_SHOWN: u64 = 1024 * 1024;
/// The most of a binary file shown as hex (a dump is about four times the bytes).
pub const HEX_SHOWN: u64 = 64 * 1024;

/// How many bytes to read for a file of `kind`.
pub fn shown_bytes(kind: FileKind) -> u64 {
    match kind {
        FileKind::Binary | FileKind::Zip => HEX_SHOWN,
        _ => TEXT_SHOWN,
    }
}

const HEX_STYLE: &str = ".hex{white-space:pre;font:12px/1.45 ui-monospace,monospace}\
.off{color:#8a8f98}.asc{color:#5b6270}";

/// The page for `name`, whose first bytes are `file`.
pub fn file_page(name: &str, kind: FileKind, file: &FileBytes) -> String {
    let mut out = String::with_capacity(file.bytes.len() * 2 + 1024);
    own_page_head(name, &[PAGE_STYLE, HEX_STYLE], &mut out);
    out.push_str("<header><h1>");
    escape(name, &mut out);
    out.push_str("</h1></header><section>");
    if file.truncated {
        out.push_str(&format!(
            "<p class=\"note\" role=\"note\">Showing the first {} of {} bytes. Export the file to read all of it.</p>",
            file.bytes.len(),
            file.total
        ));
    }
    let text = std::str::from_utf8(&file.bytes).ok();
    match (kind, text) {
        (FileKind::Json, Some(t)) if !file.truncated => {
            let pretty = serde_json::from_str::<serde_json::Value>(t)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok());
            out.push_str("<pre data-kind=\"json\">");
            escape_wrapped(pretty.as_deref().unwrap_or(t), &mut out);
            out.push_str("</pre>");
        }
        (FileKind::Text | FileKind::Json | FileKind::Html, Some(t)) => {
            out.push_str("<pre data-kind=\"text\">");
            escape_wrapped(t, &mut out);
            out.push_str("</pre>");
        }
        // A text file cut inside a character still reads as text up to the cut.
        (FileKind::Text | FileKind::Json | FileKind::Html, None)
            if file.truncated && valid_prefix(&file.bytes) + 4 >= file.bytes.len() =>
        {
            let t = String::from_utf8_lossy(&file.bytes[..valid_prefix(&file.bytes)]);
            out.push_str("<pre data-kind=\"text\">");
            escape_wrapped(&t, &mut out);
            out.push_str("</pre>");
        }
        _ => hex_dump(
            &file.bytes[..file.bytes.len().min(HEX_SHOWN as usize)],
            &mut out,
        ),
    }
    out.push_str("</section></body></html>\n");
    out
}

fn valid_prefix(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    }
}

/// `xxd`-style lines: offset, 16 bytes in hex, the printable ASCII.
fn hex_dump(bytes: &[u8], out: &mut String) {
    use std::fmt::Write;
    out.push_str("<pre class=\"hex\" data-kind=\"hex\">");
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "<span class=\"off\">{:08x}</span>  ", i * 16);
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if j == 7 {
                out.push(' ');
            }
        }
        out.push_str(" <span class=\"asc\">");
        for &b in chunk {
            match b {
                b'<' => out.push_str("&lt;"),
                b'>' => out.push_str("&gt;"),
                b'&' => out.push_str("&amp;"),
                0x20..=0x7e => out.push(b as char),
                _ => out.push('.'),
            }
        }
        out.push_str("</span>\n");
    }
    out.push_str("</pre>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(b: &[u8], total: u64) -> FileBytes {
        FileBytes {
            bytes: b.to_vec(),
            total,
            truncated: (b.len() as u64) < total,
        }
    }

    #[test]
    fn html_is_shown_as_escaped_source_never_as_markup() {
        let page = file_page(
            "report.html",
            FileKind::Html,
            &bytes(b"<script>alert(1)</script><img src=x onerror=y>", 47),
        );
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<img"));
    }

    #[test]
    fn json_is_pretty_printed_and_a_cut_file_says_so() {
        let page = file_page(
            "m.json",
            FileKind::Json,
            &bytes(br#"{"a":[1,2],"b":"<x>"}"#, 21),
        );
        assert!(page.contains("&quot;a&quot;: [\n"), "{page}");
        assert!(page.contains("&lt;x&gt;"));
        let cut = file_page("log.txt", FileKind::Text, &bytes(b"hello", 1_000));
        assert!(cut.contains("Showing the first 5 of 1000 bytes"));
    }

    #[test]
    fn binary_is_a_hex_dump_with_escaped_ascii() {
        let page = file_page("seg.log", FileKind::Binary, &bytes(b"\x00\x01<ab>\xff", 7));
        assert!(page.contains("00000000"));
        assert!(page.contains("00 01 3c 61 62 3e ff"));
        assert!(page.contains("..&lt;ab&gt;."), "{page}");
    }
}
