//! Render + parse of a report with 50 checks and 10,000 log lines (target: at most 100 ms).

use criterion::{criterion_group, criterion_main, Criterion};
use snapdesk_report::{parse, render, Report};

fn bench(c: &mut Criterion) {
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
