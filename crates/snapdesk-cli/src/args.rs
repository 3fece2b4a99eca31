//! Value parsers for the options: one message per kind of mistake, in our words, never a raw
//! parser string ("invalid digit found in string").

use std::time::Duration;

/// A snapshot or deployment id: a positive decimal number that fits in 64 bits.
pub fn id(s: &str) -> Result<u64, String> {
    snapdesk_api::ids::parse_id(s).map_err(|e| e.to_string())
}

/// A whole, non-negative number, named `unit` in messages.
fn whole(s: &str, unit: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!("{s:?} is negative: give a whole number of {unit}"));
    }
    if t.contains(['.', ',']) {
        return Err(format!("{s:?} is not a whole number of {unit}"));
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{s:?} is not a number: give a whole number of {unit}"
        ));
    }
    t.parse::<u64>()
        .map_err(|_| format!("{s:?} is out of range for a number of {unit}"))
}

fn within(v: u64, lo: u64, hi: u64, unit: &str) -> Result<u64, String> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is out of range: from {lo} to {hi} {unit}"))
    }
}

/// A timeout of a wait, in whole seconds (1 s to 1 day).
pub fn wait_secs(s: &str) -> Result<Duration, String> {
    whole(s, "seconds")
        .and_then(|v| within(v, 1, 86_400, "seconds"))
        .map(Duration::from_secs)
}

/// A timeout of one check, in whole seconds (1 to 600).
pub fn check_secs(s: &str) -> Result<u64, String> {
    whole(s, "seconds").and_then(|v| within(v, 1, 600, "seconds"))
}

/// A page number (1 or more).
pub fn page(s: &str) -> Result<u32, String> {
    whole(s, "pages")
        .and_then(|v| within(v, 1, u64::from(u32::MAX), "pages"))
        .map(|v| v as u32)
}

/// Items per page: 1 to 100, the API's limit.
pub fn results(s: &str) -> Result<u32, String> {
    whole(s, "items")
        .and_then(|v| within(v, 1, 100, "items"))
        .map(|v| v as u32)
}

/// A size in MiB.
pub fn mib(s: &str) -> Result<u64, String> {
    whole(s, "MiB").and_then(|v| within(v, 1, 1 << 40, "MiB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_mistake_has_its_own_words() {
        assert!(id("18446744073709551616")
            .unwrap_err()
            .contains("out of range"));
        assert!(id("-3").unwrap_err().contains("negative"));
        assert!(id("x1").unwrap_err().contains("not a decimal number"));
        assert_eq!(id("42"), Ok(42));
        assert!(wait_secs("1.5")
            .unwrap_err()
            .contains("not a whole number of seconds"));
        assert!(wait_secs("-1").unwrap_err().contains("negative"));
        assert!(wait_secs("0")
            .unwrap_err()
            .contains("from 1 to 86400 seconds"));
        assert_eq!(wait_secs("30"), Ok(Duration::from_secs(30)));
        assert!(results("101").unwrap_err().contains("from 1 to 100 items"));
        assert!(page("1.0").unwrap_err().contains("whole number of pages"));
    }
}
