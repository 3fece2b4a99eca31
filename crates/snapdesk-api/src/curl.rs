//! "Copy as curl": any request as a shell command, with the key written as `$LD_API_KEY`.

/// Quotes a string for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A curl command for a Supervisor request. The API key is never included: the command
/// reads it from `$LD_API_KEY`.
pub fn curl_command(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> String {
    let mut parts = vec!["curl".to_owned()];
    if method != "GET" {
        parts.push(format!("-X {method}"));
    }
    parts.push(shell_quote(url));
    parts.push("-H \"ld-api-key: $LD_API_KEY\"".to_owned());
    for (k, v) in headers {
        if k.eq_ignore_ascii_case("ld-api-key") {
            continue;
        }
        parts.push(format!("-H {}", shell_quote(&format!("{k}: {v}"))));
    }
    if let Some(b) = body {
        parts.push("-H 'Content-Type: application/json'".to_owned());
        parts.push(format!("-d {}", shell_quote(b)));
    }
    parts.join(" \\\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_an_environment_variable_and_values_are_quoted() {
        let c = curl_command(
            "POST",
            "https://sup.example/deployments/1/snapshots",
            &[("idempotency-key", "abc 1"), ("ld-api-key", "SECRET")],
            Some(r#"{"redact_secrets":true,"include_iggy":false}"#),
        );
        assert!(c.contains("-H \"ld-api-key: $LD_API_KEY\""), "{c}");
        assert!(!c.contains("SECRET"));
        assert!(c.contains("-H 'idempotency-key: abc 1'"), "{c}");
        assert!(
            c.contains(r#"-d '{"redact_secrets":true,"include_iggy":false}'"#),
            "{c}"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
