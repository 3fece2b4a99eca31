//! Writes the sample report as HTML: `cargo run -p snapdesk-report --example render_sample -- OUT.html`.

fn main() -> std::io::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sample-report.html".to_owned());
    let report = snapdesk_report::sample::sample_report(24, 300);
    std::fs::write(&out, snapdesk_report::render::render(&report))?;
    println!("{out}");
    Ok(())
}
