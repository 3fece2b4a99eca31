//! The inspection as a readable tree for a terminal.

use std::fmt::Write as _;

use crate::model::{ConsumerKind, Inspection, Severity};

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1,355,900 B (1.3 MiB)`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{} B", thousands(n));
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{} B ({v:.1} {unit})", thousands(n))
}

fn range(first: Option<u64>, last: Option<u64>) -> String {
    match (first, last) {
        (Some(f), Some(l)) => format!("{f}..{l}"),
        _ => "empty".to_owned(),
    }
}

fn name(n: &Option<String>) -> &str {
    n.as_deref().unwrap_or("(not in metadata)")
}

/// The tree, totals and findings.
pub fn render(ins: &Inspection) -> String {
    let mut o = String::new();
    let t = &ins.totals;
    let _ = writeln!(o, "Iggy data, format {}: {}", ins.format, ins.source);
    let _ = writeln!(
        o,
        "{} streams, {} topics, {} partitions, {} segments, {} messages, log {}, index {}",
        t.streams,
        t.topics,
        t.partitions,
        thousands(t.segments),
        thousands(t.messages),
        bytes(t.log_bytes),
        bytes(t.index_bytes)
    );
    for s in &ins.streams {
        let _ = writeln!(
            o,
            "stream {} {}: {} messages, log {}",
            s.id,
            name(&s.name),
            thousands(s.totals.messages),
            bytes(s.totals.log_bytes)
        );
        for tp in &s.topics {
            let _ = write!(
                o,
                "  topic {} {}: {} partitions, {} messages, log {}",
                tp.id,
                name(&tp.name),
                tp.partitions.len(),
                thousands(tp.totals.messages),
                bytes(tp.totals.log_bytes)
            );
            if let Some(ss) = tp.segment_size {
                let _ = write!(o, ", segment size {}", bytes(ss));
            }
            let _ = writeln!(o);
            for g in &tp.consumer_groups {
                let _ = writeln!(o, "    consumer group {} {}", g.id, g.name);
            }
            for p in &tp.partitions {
                let _ = write!(
                    o,
                    "    partition {}: {} messages, offsets {}, log {}, index {}",
                    p.id,
                    thousands(p.messages),
                    range(p.first_offset, p.last_offset),
                    bytes(p.log_bytes),
                    bytes(p.index_bytes)
                );
                if let Some(b) = p.batches {
                    let _ = write!(o, ", {b} batches");
                }
                if p.messages_with_headers > 0 {
                    let _ = write!(
                        o,
                        ", {} with user headers ({})",
                        p.messages_with_headers,
                        bytes(p.header_bytes)
                    );
                }
                let _ = writeln!(o);
                for sg in &p.segments {
                    let _ = writeln!(
                        o,
                        "      segment {:020}: {} messages, offsets {}, log {}, index {} ({} entries)",
                        sg.start_offset,
                        thousands(sg.messages),
                        range(sg.first_offset, sg.last_offset),
                        bytes(sg.log_bytes),
                        bytes(sg.index_bytes),
                        sg.index_entries
                    );
                }
                for c in &p.consumers {
                    let kind = match c.kind {
                        ConsumerKind::Consumer => "consumer",
                        ConsumerKind::ConsumerGroup => "group",
                    };
                    let lag = c.lag.map_or("-".to_owned(), thousands);
                    let _ = writeln!(
                        o,
                        "      {kind} {}{}: offset {}, lag {lag}",
                        c.id,
                        c.name.as_ref().map(|n| format!(" {n}")).unwrap_or_default(),
                        c.offset
                    );
                }
            }
        }
    }
    if ins.findings.is_empty() {
        let _ = writeln!(o, "no findings");
    } else {
        let _ = writeln!(
            o,
            "findings: {} errors, {} warnings, {} info",
            ins.count(Severity::Error),
            ins.count(Severity::Warning),
            ins.count(Severity::Info)
        );
        for f in &ins.findings {
            let at = f.byte_offset.map(|b| format!(" @{b}")).unwrap_or_default();
            let _ = writeln!(o, "  {:<7} {}{at}: {}", f.severity, f.path, f.message);
        }
    }
    o.truncate(o.trim_end().len());
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(thousands(1355900), "1,355,900");
        assert_eq!(thousands(999), "999");
        assert_eq!(bytes(100), "100 B");
        assert_eq!(bytes(1355900), "1,355,900 B (1.3 MiB)");
    }
}
