//! Render + parse of a report with 50 checks and 10,000 log lines (target: at most 100 ms),
//! and the size of the page a browser builds (figures printed first; the structural bound
//! is asserted by `tests/format.rs`).

use criterion::{criterion_group, criterion_main, Criterion};
use snapdesk_report::{parse, render, Report};

fn bench(c: &mut Criterion) {
    for (checks, lines) in [(69, 18_000), (1_200, 18_000)] {
        let html = render::render(&snapdesk_report::sample::sample_report(checks, lines));
        println!(
            "figure: {checks} checks and {lines} log lines: {} elements, {:.1} MiB of HTML",
            parse::count_elements(&html),
            html.len() as f64 / (1024.0 * 1024.0)
        );
    }
    let report: Report = snapdesk_report::sample::sample_report(50, 10_000);
    let html = render::render(&report);
    c.bench_function("render_50_checks_10k_log_lines", |b| {
        b.iter(|| render::render(&report))
    });
    c.bench_function("parse_50_checks_10k_log_lines", |b| {
        b.iter(|| parse::parse(&html).map(|p| p.checks.len()).unwrap_or(0))
    });
    c.bench_function("render_then_parse", |b| {
        b.iter(|| {
            let h = render::render(&report);
            parse::parse(&h).map(|p| p.checks.len()).unwrap_or(0)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
