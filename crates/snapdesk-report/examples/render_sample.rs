//! Writes the sample report as HTML:
//! `cargo run -p snapdesk-report --example render_sample -- OUT.html [CHECKS LINES [tricky]]`
//! (24 checks and 300 log lines by default). With `tricky`, the log is made of lines that
//! test level detection and escaping (`scripts/bench-report-page` compares the page script's
//! levels with the renderer's on them).

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args
        .first()
        .cloned()
        .unwrap_or_else(|| "sample-report.html".to_owned());
    let checks = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(24);
    let lines = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(300);
    let mut report = snapdesk_report::sample::sample_report(checks, lines);
    if args.get(3).map(String::as_str) == Some("tricky") {
        let late = format!("{} ERROR past the 160th character", "1".repeat(157));
        let edge = format!("{} ERROR within the first 160", "1".repeat(140));
        let tricky = [
            "ERROR x",
            "terror",
            "errors=0",
            "xERR",
            "[ERR] a",
            "Err: b",
            "panicked at",
            "fatal:",
            "CRIT!",
            "critical",
            "warning: x",
            "WARNINGS",
            "warn_x",
            "_WARN_",
            "debug",
            "TRACE-1",
            "tracer",
            "\u{df}ERROR",
            "\u{e9}warn",
            "ERROR\u{e9}",
            "a-Error-b",
            "INFO errors_total=0",
            &late,
            &edge,
            "\u{17f}\u{17f}ERROR",
            "WARN\u{212a}",
            "</script><script>alert(1)</script>",
            "<!-- </SCRIPT >",
            "\u{2028} id=\"snapdesk-report\"> \\u003c",
        ];
        report.logs[0].lines = (0..lines)
            .map(|i| tricky[i % tricky.len()].to_owned())
            .collect();
    }
    let html = snapdesk_report::render::render(&report);
    std::fs::write(&out, &html)?;
    println!(
        "{out}: {checks} checks, {lines} log lines, {} bytes, {} elements",
        html.len(),
        snapdesk_report::parse::count_elements(&html)
    );
    Ok(())
}
