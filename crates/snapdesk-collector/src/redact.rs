//! Secret redaction: everything the collector writes (the report, configs and logs in the
//! Iggy data bundle) passes through a [`Redactor`] first.
//!
//! Each secret value is replaced by the fixed marker [`MARKER`]; the key, the quotes and the
//! separators stay, so the text still reads (`password = "[REDACTED]"`). The manifest records
//! how many values each rule replaced, by rule name, never the values.
//!
//! Rules, in the order they run (a value replaced by an earlier rule is not counted again):
//!
//! | name | what |
//! |---|---|
//! | `private_key_field` | the value of a `private_key` / `privateKey` field (service-account JSON) |
//! | `pem_private_key` | the body of `-----BEGIN ... PRIVATE KEY-----` blocks (RSA, EC, OPENSSH, ENCRYPTED, PGP); a block with no END line is redacted up to the next blank line or the end of the text |
//! | `bearer_token` | `Bearer <token>` and the credentials of an `Authorization:` header (`Basic <b64>`, ...) when they look like a token (16+ chars, or 8+ with letters and digits) |
//! | `jwt` | `eyJ...` three base64url segments |
//! | `iggy_pat` | `iggypat-<token>` in connection strings, and the value of keys named `pat`, `token`, `*_pat`, `*personal_access_token` |
//! | `url_credentials` | `scheme://user:password@host` → `scheme://user:[REDACTED]@host`; `scheme://token@host` only when the user part looks like a token (16+ chars with letters and digits) |
//! | `aws_access_key` | `AKIA`/`ASIA` + 16 |
//! | `aws_secret_key` | the 40-char value after `aws_secret_access_key` |
//! | `gcp_api_key` | `AIza` + 35 |
//! | `github_token` | `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_` |
//! | `slack_token` | `xox[abposr]-...` |
//! | `cli_secret_flag` | `--password hunter2`, `--password=hunter2`, for long flags whose name is a secret key (below). Short flags (`-p`) are not handled: too ambiguous (`-p` is often a port). |
//! | `secret_key_value` | `key=value`, `key = "value"`, `key: value`, `"key": "value"`, `KEY=value`, `key => value`, Rust debug `key: Some("value")`, where the key is a secret key (below). A key alone at the start of a line (env files, INI, YAML) takes the rest of the line as its value. |
//! | `extra_literal` / `extra_regex` | from the extra rules file |
//!
//! A key is a *secret key* when, split into words (on `_`, `.`, `-` and camelCase, compared
//! without case), it is not excluded and one of its words contains `password`, `passwd`,
//! `passphrase` or `secret`, ends with `token`, starts with `credential`, is `pass`,
//! `passcode`, `apikey`, `accesskey`, `privatekey`, `privkey`, `secretkey`, `encryptionkey`,
//! `signingkey`, `masterkey`, `authkey`, or is `pwd` in a key of two words or more (`PWD`
//! alone is the shell's working directory). Keys ending in a `key`/`keys` word
//! (`encryption_key`, `system.encryption.key`, `api-key`, `client_key`) are secret keys too,
//! except `partition_key`, `message_key`, `routing_key`, `primary_key` and other data keys
//! (see `NOT_SECRET_KEY_OWNERS`), and except when the value is a file path. The key `key`
//! alone (Iggy's `[system.encryption] key`) is a secret when its value looks like key
//! material (16+ base64/hex characters).
//!
//! Excluded keys: the last word is `file`, `path`, `dir`, `url`, `expiry`, `ttl`, `timeout`,
//! `interval`, `enabled`, `size`, `length`, `count`, `limit`, `id`, `type`, `algorithm`,
//! `name`, ... (a path, a setting about the secret, not the secret: `key_file`,
//! `token_expiry = "1h"`, `access_token_expiry`, `password_min_length`), or the first word is
//! `max`, `min`, `use`, `allow`, `enable`, `is`, `has`, ... (`max_tokens_per_user`,
//! `use_base64_secret`, `allow_credentials`), or a word is `public` (`public_key`).
//!
//! Values left alone (not changed, not counted): empty or blank (`""`, `''`, nothing: an empty
//! secret is another check's finding, and there is nothing to hide), values holding the marker
//! (redaction is idempotent: `redact(redact(x)) == redact(x)` with no new counts), values
//! already masked (`D4o***`), booleans and nulls (`true`, `false`, `null`, `none`, `nil`),
//! and placeholders (`${VAR}`, `{{ var }}`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use snapdesk_report::Report;

/// What replaces each secret value.
pub const MARKER: &str = "[REDACTED]";

/// The rule names, for documentation and the manifest.
pub const RULE_NAMES: [&str; 15] = [
    "private_key_field",
    "pem_private_key",
    "bearer_token",
    "jwt",
    "iggy_pat",
    "url_credentials",
    "aws_access_key",
    "aws_secret_key",
    "gcp_api_key",
    "github_token",
    "slack_token",
    "cli_secret_flag",
    "secret_key_value",
    "extra_literal",
    "extra_regex",
];

#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("cannot read the redaction rules file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}, line {line}: invalid regex: {reason}")]
    BadRegex {
        origin: String,
        line: usize,
        reason: String,
    },
    #[error("{origin}, line {line}: empty rule")]
    EmptyRule { origin: String, line: usize },
}

/// Decides whether a match is a secret: gets the key (for key/value rules) and the value.
type Accept = fn(Option<&str>, &str) -> bool;

#[derive(Debug, Clone)]
struct Rule {
    name: &'static str,
    re: Regex,
    /// Groups holding the key (named `key*`); the first that took part is used.
    key_groups: Vec<usize>,
    /// Groups holding the value (named `v*`); the first that took part is used, else the
    /// whole match.
    value_groups: Vec<usize>,
    accept: Accept,
}

impl Rule {
    fn from_regex(name: &'static str, re: Regex, accept: Accept) -> Rule {
        let mut key_groups = Vec::new();
        let mut value_groups = Vec::new();
        for (i, n) in re.capture_names().enumerate() {
            match n {
                Some(n) if n.starts_with("key") => key_groups.push(i),
                Some(n) if n.starts_with('v') => value_groups.push(i),
                _ => {}
            }
        }
        Rule {
            name,
            re,
            key_groups,
            value_groups,
            accept,
        }
    }

    fn builtin(name: &'static str, pattern: &str, accept: Accept) -> Rule {
        let re = Regex::new(pattern).expect("built-in redaction patterns compile");
        Rule::from_regex(name, re, accept)
    }

    /// Replaces the accepted values; `None` when nothing was replaced.
    fn replace(&self, text: &str) -> Option<(String, u64)> {
        let mut out = String::new();
        let mut copied = 0usize;
        let mut count = 0u64;
        let mut pos = 0usize;
        while pos <= text.len() {
            let Some(caps) = self.re.captures_at(text, pos) else {
                break;
            };
            let Some(whole) = caps.get(0) else { break };
            let key = self.key_groups.iter().find_map(|&i| caps.get(i));
            let value = self.value_groups.iter().find_map(|&i| caps.get(i));
            let v = value.unwrap_or(whole);
            let s = v.as_str();
            // A key right after `::` is a Rust path, a log target (`server::jwt_token_cleaner:
            // JWT token cleaner is enabled`), not a setting.
            let rust_path = key.is_some_and(|k| text[..k.start()].ends_with("::"));
            // `pat: personal_access_token: <value>`: a "value" that ends like a key is the
            // next key; its own value is looked at on the next round.
            let chained = s.ends_with(':');
            let hide = !rust_path
                && !chained
                && !s.trim().is_empty()
                && !s.contains(MARKER)
                && (self.accept)(key.map(|k| k.as_str()), s);
            let next = if hide {
                if out.is_empty() {
                    out.reserve(text.len() + 64);
                }
                out.push_str(&text[copied..v.start()]);
                out.push_str(MARKER);
                copied = v.end();
                count += 1;
                whole.end()
            } else if let Some(k) = key {
                // Pairs inside a value that was not a secret are still looked at.
                k.end()
            } else if let Some(v) = value {
                v.start()
            } else {
                whole.end()
            };
            pos = if next > pos {
                next
            } else {
                next_char(text, pos)
            };
        }
        if count == 0 {
            return None;
        }
        out.push_str(&text[copied..]);
        Some((out, count))
    }
}

fn next_char(text: &str, pos: usize) -> usize {
    text[pos..]
        .chars()
        .next()
        .map(|c| pos + c.len_utf8())
        .unwrap_or(text.len() + 1)
}

// ---------------------------------------------------------------------------------------------
// Keys

/// Last words that make a key a setting about a secret, not a secret.
const NOT_SECRET_LAST: &[&str] = &[
    "file",
    "files",
    "path",
    "paths",
    "dir",
    "directory",
    "url",
    "uri",
    "endpoint",
    "expiry",
    "expires",
    "expiration",
    "expire",
    "ttl",
    "timeout",
    "interval",
    "lifetime",
    "duration",
    "enabled",
    "enable",
    "disabled",
    "size",
    "length",
    "len",
    "count",
    "limit",
    "id",
    "ids",
    "type",
    "algorithm",
    "alg",
    "name",
    "names",
    "header",
    "format",
    "version",
    "policy",
    "rotation",
    "cleaner",
    "location",
    "mode",
    "required",
    "ref",
    "refs",
    "min",
    "max",
    "hint",
    "prefix",
    "age",
];

/// First words that make a key a setting.
const NOT_SECRET_FIRST: &[&str] = &[
    "max", "min", "use", "num", "allow", "enable", "enabled", "disable", "require", "required",
    "is", "has", "no", "skip",
];

/// Words before a final `key` that name a data key, not a secret.
const NOT_SECRET_KEY_OWNERS: &[&str] = &[
    "partition",
    "message",
    "messages",
    "routing",
    "primary",
    "foreign",
    "sort",
    "shard",
    "hash",
    "cache",
    "idempotency",
    "group",
    "consumer",
    "object",
    "dedup",
    "deduplication",
    "index",
    "lookup",
    "row",
    "unique",
    "map",
    "entry",
    "record",
    "public",
    "sequence",
    "field",
    "column",
    "hot",
    "short",
];

/// Words that alone make a key a secret key.
const SECRET_WORDS: &[&str] = &[
    "pass",
    "passcode",
    "apikey",
    "accesskey",
    "privatekey",
    "privkey",
    "secretkey",
    "encryptionkey",
    "signingkey",
    "masterkey",
    "authkey",
];

/// Splits a key into lowercase words on `_`, `.`, `-`, spaces and camelCase.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if matches!(c, '_' | '.' | '-' | ' ' | '"' | '\'') {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn excluded(words: &[String]) -> bool {
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return true;
    };
    NOT_SECRET_LAST.contains(&last.as_str())
        || (words.len() > 1 && NOT_SECRET_FIRST.contains(&first.as_str()))
        || words.iter().any(|w| w == "public")
}

/// How a key names a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyClass {
    No,
    /// A password, a token, a secret: any value is hidden.
    Strong,
    /// `*_key`: hidden unless the value is a file path.
    KeySuffix,
    /// The key `key` alone: hidden when the value looks like key material.
    BareKey,
}

fn classify_key(key: &str) -> KeyClass {
    let words = key_words(key);
    if excluded(&words) {
        return KeyClass::No;
    }
    let strong = words.iter().any(|w| {
        w.contains("password")
            || w.contains("passwd")
            || w.contains("passphrase")
            || w.contains("secret")
            || w.ends_with("token")
            || w.starts_with("credential")
            || SECRET_WORDS.contains(&w.as_str())
            || (w == "pwd" && words.len() > 1)
    });
    if strong {
        return KeyClass::Strong;
    }
    let n = words.len();
    if n == 1 && (words[0] == "key" || words[0] == "keys") {
        return KeyClass::BareKey;
    }
    if n >= 2 && (words[n - 1] == "key" || words[n - 1] == "keys") {
        let owner = words[n - 2].as_str();
        if !NOT_SECRET_KEY_OWNERS.contains(&owner) {
            return KeyClass::KeySuffix;
        }
    }
    KeyClass::No
}

/// Whether a key names an Iggy personal access token (or a bare token).
fn is_pat_key(key: &str) -> bool {
    let words = key_words(key);
    if excluded(&words) {
        return false;
    }
    let joined = words.join("_");
    joined == "token"
        || joined == "pat"
        || words.last().is_some_and(|w| w == "pat")
        || joined.ends_with("personal_access_token")
}

/// Whether the value of `key` is hidden whatever its shape (used for env vars and facts).
fn is_sensitive_key(key: &str) -> bool {
    is_pat_key(key) || matches!(classify_key(key), KeyClass::Strong | KeyClass::KeySuffix)
}

// ---------------------------------------------------------------------------------------------
// Values

fn hideable(v: &str) -> bool {
    let t = v.trim();
    if t.is_empty() || t.contains("***") || t.starts_with("${") || t.starts_with("{{") {
        return false;
    }
    !["true", "false", "null", "none", "nil", "~", "undefined"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
}

fn looks_like_key_material(v: &str) -> bool {
    let t = v.trim();
    t.len() >= 16
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
}

fn looks_like_path(v: &str) -> bool {
    let t = v.trim();
    let lower = t.to_ascii_lowercase();
    t.starts_with('/')
        || t.starts_with("./")
        || t.starts_with("../")
        || t.starts_with("~/")
        || [".pem", ".key", ".crt", ".der", ".p12", ".pfx", ".jks"]
            .iter()
            .any(|e| lower.ends_with(e))
}

fn token_like(v: &str) -> bool {
    let has_digit = v.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = v.bytes().any(|b| b.is_ascii_alphabetic());
    v.len() >= 16 || (v.len() >= 8 && has_digit && has_alpha)
}

fn accept_any(_: Option<&str>, _: &str) -> bool {
    true
}

fn accept_token_like(_: Option<&str>, v: &str) -> bool {
    token_like(v)
}

fn accept_url_token(_: Option<&str>, v: &str) -> bool {
    v.len() >= 16
        && v.bytes().any(|b| b.is_ascii_digit())
        && v.bytes().any(|b| b.is_ascii_alphabetic())
}

fn accept_private_key_field(key: Option<&str>, v: &str) -> bool {
    let Some(key) = key else { return false };
    let joined = key_words(key).join("_");
    (joined == "private_key" || joined == "privatekey") && hideable(v)
}

fn accept_pat(key: Option<&str>, v: &str) -> bool {
    let Some(k) = key.filter(|k| !k.starts_with('-') && is_pat_key(k)) else {
        return false;
    };
    // A bare `PAT` is also the kernel's page attribute table (`x86/PAT: Configuration [0-7]:
    // WB WC UC- ...` in dmesg): only a token-shaped value is a personal access token there.
    if k.eq_ignore_ascii_case("pat") && !token_like(v) {
        return false;
    }
    hideable(v)
}

fn accept_secret_kv(key: Option<&str>, v: &str) -> bool {
    let Some(key) = key else { return false };
    // `--flag: text` in prose is a flag's name (the cli rule handles flags with values).
    if key.starts_with('-') || !hideable(v) {
        return false;
    }
    match classify_key(key) {
        KeyClass::No => false,
        KeyClass::Strong => true,
        KeyClass::KeySuffix => !looks_like_path(v),
        KeyClass::BareKey => looks_like_key_material(v),
    }
}

// ---------------------------------------------------------------------------------------------
// Built-in rules

/// A key holding one of the words the key/value rules look for (the predicate refines).
const KEY_RE: &str =
    r"[A-Za-z0-9_.\-]*(?:pass|pwd|secret|token|credential|key|pat)[A-Za-z0-9_.\-]*";

/// Key/value pairs. First alternative: a key alone at the start of a line with an unquoted
/// value takes the rest of the line. Second: a key anywhere, with a quoted value, a Rust
/// `Some("...")`, or an unquoted value up to a delimiter.
const KV_RE: &str = concat!(
    r#"(?mi)^[ \t]*(?:export[ \t]+)?(?:-[ \t]+)?(?P<key>@KEY@)[ \t]*[:=][ \t]*"#,
    r#"(?P<v>\[REDACTED\]|[^\s"'`\[{(|>][^\r\n]*?)[ \t]*\r?$"#,
    r#"|(?P<key2>@KEY@)["']?[ \t]*(?:=>|:=|=|:)[ \t]*"#,
    r#"(?:"(?P<v2>(?:[^"\\\r\n]|\\.)*)"|'(?P<v3>[^'\r\n]*)'"#,
    r#"|Some\([ \t]*"(?P<v4>(?:[^"\\\r\n]|\\.)*)"[ \t]*\)"#,
    r#"|(?P<v5>\[REDACTED\]|[^\s"'`,;&()\[\]{}<>:=|][^\s"'`,;&()\]{}<>]*))"#,
);

const CLI_RE: &str = concat!(
    r#"--(?P<key>[A-Za-z0-9][A-Za-z0-9_.\-]*)"#,
    r#"(?:=(?:"(?P<v>[^"\r\n]*)"|'(?P<v2>[^'\r\n]*)'|(?P<v3>[^\s"']\S*))"#,
    r#"|[ \t]+(?:"(?P<v4>[^"\r\n]*)"|'(?P<v5>[^'\r\n]*)'|(?P<v6>[^\s"'\-]\S*)))"#,
);

/// Texts with none of these cannot hold a secret any built-in rule finds.
const PREFILTER_RE: &str = concat!(
    r"(?i)pass|pwd|secret|token|credential|key|pat(?:[^a-z]|$)|bearer|authorization",
    r"|://|eyj|akia|asia|aiza|gh[pousr]_|xox",
);

static PREFILTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(PREFILTER_RE).expect("the redaction prefilter compiles"));

static BUILTIN: LazyLock<Vec<Rule>> = LazyLock::new(builtin_rules);

fn builtin_rules() -> Vec<Rule> {
    let kv = KV_RE.replace("@KEY@", KEY_RE);
    vec![
        Rule::builtin("private_key_field", &kv, accept_private_key_field),
        Rule::builtin(
            "pem_private_key",
            concat!(
                r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----\s*(?P<v>.*?)\s*",
                r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
            ),
            accept_any,
        ),
        // A block cut short (a truncated log): up to the next blank line or the end.
        Rule::builtin(
            "pem_private_key",
            concat!(
                r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[ \t]*\r?\n?",
                r"(?P<v>.*?)(?:\r?\n[ \t]*\r?\n|\z)",
            ),
            accept_any,
        ),
        Rule::builtin(
            "bearer_token",
            r"(?i)(?-u:\b)bearer[ \t]+(?P<v>\[REDACTED\]|[A-Za-z0-9\-._~+/]+=*)",
            accept_token_like,
        ),
        Rule::builtin(
            "bearer_token",
            concat!(
                r#"(?i)(?-u:\b)(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?"#,
                r"(?:(?:basic|bearer|token|apikey|negotiate|ntlm)[ \t]+)?",
                r"(?P<v>\[REDACTED\]|[A-Za-z0-9\-._~+/]+=*)",
            ),
            accept_token_like,
        ),
        Rule::builtin(
            "jwt",
            r"(?-u:\b)eyJ[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]+",
            accept_any,
        ),
        Rule::builtin(
            "iggy_pat",
            r"(?-u:\b)iggypat-(?P<v>[A-Za-z0-9_\-]{8,})",
            accept_any,
        ),
        Rule::builtin(
            "url_credentials",
            r#"[A-Za-z][A-Za-z0-9+.\-]*://[^\s:@/?#"'<>]*:(?P<v>[^\s@/?#"'<>]+)@"#,
            accept_any,
        ),
        Rule::builtin(
            "url_credentials",
            r"[A-Za-z][A-Za-z0-9+.\-]*://(?P<v>[A-Za-z0-9_\-.~%]{16,})@",
            accept_url_token,
        ),
        Rule::builtin(
            "aws_access_key",
            r"(?-u:\b)(?:AKIA|ASIA)[A-Z0-9]{16}(?-u:\b)",
            accept_any,
        ),
        Rule::builtin(
            "aws_secret_key",
            concat!(
                r#"(?mi)aws_?secret_?access_?key["']?[ \t]*[:=][ \t]*["']?"#,
                r"(?P<v>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
            ),
            accept_any,
        ),
        Rule::builtin("gcp_api_key", r"AIza[0-9A-Za-z_\-]{35}", accept_any),
        Rule::builtin(
            "github_token",
            r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
            accept_any,
        ),
        Rule::builtin(
            "slack_token",
            r"(?-u:\b)xox[abposr]-[A-Za-z0-9\-]{10,}",
            accept_any,
        ),
        Rule::builtin("cli_secret_flag", CLI_RE, accept_secret_kv),
        Rule::builtin("iggy_pat", &kv, accept_pat),
        Rule::builtin("secret_key_value", &kv, accept_secret_kv),
    ]
}

// ---------------------------------------------------------------------------------------------
// The redactor

/// Replaces secrets with [`MARKER`]. Cheap to share (`Arc`); built-in rules compile once per
/// process.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    extras: Vec<Rule>,
}

impl Redactor {
    /// The built-in rules only.
    pub fn new() -> Redactor {
        Redactor { extras: Vec::new() }
    }

    /// The built-in rules plus those of an extra rules file: one rule per line, `#` comments
    /// and blank lines ignored, `regex:<pattern>` a regex (when it has a capture group, only
    /// group 1 is replaced), `literal:<value>` or a bare line a literal value. Surrounding
    /// whitespace is trimmed.
    pub fn with_extra_rules_file(path: &Path) -> Result<Redactor, RedactError> {
        let text = std::fs::read_to_string(path).map_err(|source| RedactError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::with_extra_rules(&text, &path.display().to_string())
    }

    /// Same as [`Redactor::with_extra_rules_file`] from the file's text; `origin` names it
    /// in errors.
    pub fn with_extra_rules(text: &str, origin: &str) -> Result<Redactor, RedactError> {
        let mut literals: Vec<String> = Vec::new();
        let mut extras = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(pattern) = line.strip_prefix("regex:") {
                let pattern = pattern.trim();
                if pattern.is_empty() {
                    return Err(RedactError::EmptyRule {
                        origin: origin.into(),
                        line: line_no,
                    });
                }
                let bad = |e: regex::Error| RedactError::BadRegex {
                    origin: origin.into(),
                    line: line_no,
                    reason: e.to_string(),
                };
                // Compiled alone first, so that the error names the user's pattern.
                let alone = Regex::new(pattern).map_err(bad)?;
                // The marker first: an earlier redaction is matched whole and left alone.
                let re = Regex::new(&format!(r"\[REDACTED\]|(?:{pattern})")).map_err(bad)?;
                let value_groups = if alone.captures_len() > 1 {
                    vec![1]
                } else {
                    Vec::new()
                };
                extras.push(Rule {
                    name: "extra_regex",
                    re,
                    key_groups: Vec::new(),
                    value_groups,
                    accept: accept_any,
                });
            } else {
                let value = line.strip_prefix("literal:").map(str::trim).unwrap_or(line);
                if value.is_empty() {
                    return Err(RedactError::EmptyRule {
                        origin: origin.into(),
                        line: line_no,
                    });
                }
                literals.push(value.to_owned());
            }
        }
        if !literals.is_empty() {
            // Longest first, so that a literal holding another is replaced whole.
            literals.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
            literals.dedup();
            let mut pattern = String::from(r"\[REDACTED\]");
            for l in &literals {
                pattern.push('|');
                pattern.push_str(&regex::escape(l));
            }
            let re = Regex::new(&pattern).map_err(|e| RedactError::BadRegex {
                origin: origin.into(),
                line: 0,
                reason: e.to_string(),
            })?;
            extras.insert(
                0,
                Rule {
                    name: "extra_literal",
                    re,
                    key_groups: Vec::new(),
                    value_groups: Vec::new(),
                    accept: accept_any,
                },
            );
        }
        Ok(Redactor { extras })
    }

    /// Redacts `text`, adding the number of values each rule replaced to `counts`. Borrows
    /// `text` back when nothing was replaced.
    pub fn redact_into<'a>(
        &self,
        text: &'a str,
        counts: &mut BTreeMap<String, u64>,
    ) -> Cow<'a, str> {
        let mut cur: Cow<'a, str> = Cow::Borrowed(text);
        if PREFILTER.is_match(text) {
            for rule in BUILTIN.iter() {
                apply(rule, &mut cur, counts);
            }
        }
        for rule in &self.extras {
            apply(rule, &mut cur, counts);
        }
        cur
    }

    /// Redacts `text`; returns it with the number of values replaced.
    pub fn redact(&self, text: &str) -> (String, usize) {
        let mut counts = BTreeMap::new();
        let out = self.redact_into(text, &mut counts).into_owned();
        let n: u64 = counts.values().sum();
        (out, usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Redacts a string in place.
    pub fn redact_string(&self, s: &mut String, counts: &mut BTreeMap<String, u64>) {
        let replaced = match self.redact_into(s, counts) {
            Cow::Borrowed(_) => None,
            Cow::Owned(new) => Some(new),
        };
        if let Some(new) = replaced {
            *s = new;
        }
    }

    /// Redacts a `key = value` pair seen apart (an env var, a report fact): the value of a
    /// secret key is replaced whatever its shape; other values go through the text rules.
    pub fn redact_pair(&self, key: &str, value: &mut String, counts: &mut BTreeMap<String, u64>) {
        if is_sensitive_key(key) && hideable(value) && !value.contains(MARKER) {
            let rule = if is_pat_key(key) {
                "iggy_pat"
            } else {
                "secret_key_value"
            };
            *counts.entry(rule.to_owned()).or_insert(0) += 1;
            *value = MARKER.to_owned();
        } else {
            self.redact_string(value, counts);
        }
    }

    /// Redacts an environment: names matching the secret key rule get their value replaced
    /// regardless of its shape; other values go through the text rules (a `DATABASE_URL`
    /// with credentials).
    pub fn redact_env_into(
        &self,
        pairs: &[(String, String)],
        counts: &mut BTreeMap<String, u64>,
    ) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                self.redact_pair(k, &mut v, counts);
                (k.clone(), v)
            })
            .collect()
    }

    /// [`Redactor::redact_env_into`] without counts.
    pub fn redact_env(&self, pairs: &[(String, String)]) -> Vec<(String, String)> {
        let mut counts = BTreeMap::new();
        self.redact_env_into(pairs, &mut counts)
    }

    /// Redacts every string of a report a person can see: the title, check titles,
    /// summaries, facts (keys and values), evidence sources and excerpts, remediations, and
    /// log titles, sources and lines.
    pub fn redact_report(&self, report: &mut Report, counts: &mut BTreeMap<String, u64>) {
        self.redact_string(&mut report.title, counts);
        for check in &mut report.checks {
            self.redact_string(&mut check.title, counts);
            self.redact_string(&mut check.summary, counts);
            for fact in &mut check.facts {
                self.redact_pair(&fact.key, &mut fact.value, counts);
                self.redact_string(&mut fact.key, counts);
            }
            for ev in &mut check.evidence {
                self.redact_string(&mut ev.source, counts);
                self.redact_string(&mut ev.excerpt, counts);
            }
            if let Some(r) = check.remediation.as_mut() {
                self.redact_string(r, counts);
            }
        }
        for log in &mut report.logs {
            self.redact_string(&mut log.title, counts);
            self.redact_string(&mut log.source, counts);
            for line in &mut log.lines {
                self.redact_string(line, counts);
            }
        }
    }
}

fn apply(rule: &Rule, cur: &mut Cow<'_, str>, counts: &mut BTreeMap<String, u64>) {
    let replaced = rule.replace(cur.as_ref());
    if let Some((text, n)) = replaced {
        *counts.entry(rule.name.to_owned()).or_insert(0) += n;
        *cur = Cow::Owned(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(text: &str) -> (String, BTreeMap<String, u64>) {
        let mut counts = BTreeMap::new();
        let out = Redactor::new().redact_into(text, &mut counts).into_owned();
        (out, counts)
    }

    fn assert_unchanged(text: &str) {
        let (out, counts) = red(text);
        assert_eq!(out, text, "changed: {text:?}");
        assert!(counts.is_empty(), "counted {counts:?} for {text:?}");
    }

    fn assert_rule(text: &str, expected: &str, rule: &str) {
        let (out, counts) = red(text);
        assert_eq!(out, expected, "for {text:?}");
        assert!(
            counts.get(rule).copied().unwrap_or(0) >= 1,
            "{rule} not counted: {counts:?}"
        );
        assert_idempotent(&out);
    }

    fn assert_idempotent(text: &str) {
        let (again, counts) = red(text);
        assert_eq!(again, text, "not idempotent");
        assert!(counts.is_empty(), "counted again: {counts:?}");
    }

    #[test]
    fn no_secret_is_borrowed() {
        let mut counts = BTreeMap::new();
        let r = Redactor::new();
        let line = "2026-11-28T07:55:27Z INFO shard-0 server: Message saver is enabled";
        assert!(matches!(r.redact_into(line, &mut counts), Cow::Borrowed(_)));
        let line = "INFO configs: Loading config from path: '/etc/iggy/server.toml'...";
        assert!(matches!(r.redact_into(line, &mut counts), Cow::Borrowed(_)));
        assert!(counts.is_empty());
    }

    #[test]
    fn pem_private_key() {
        let text = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabcdef==\n\
                    -----END RSA PRIVATE KEY-----\nafter";
        assert_rule(
            text,
            "before\n-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----\nafter",
            "pem_private_key",
        );
        let ossh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----";
        assert_rule(
            ossh,
            "-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED]\n-----END OPENSSH PRIVATE KEY-----",
            "pem_private_key",
        );
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHz\n-----END ENCRYPTED PRIVATE KEY-----";
        assert_eq!(red(enc).1.get("pem_private_key"), Some(&1));
        let cut = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\nmore\n\nnext line";
        assert_rule(
            cut,
            "-----BEGIN EC PRIVATE KEY-----\n[REDACTED]\n\nnext line",
            "pem_private_key",
        );
        // Certificates are public.
        assert_unchanged("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
    }

    #[test]
    fn url_credentials() {
        assert_rule(
            "connect postgres://app:hunter2@db:5432/x",
            "connect postgres://app:[REDACTED]@db:5432/x",
            "url_credentials",
        );
        assert_rule(
            "iggy://iggy:iggy@localhost:8090",
            "iggy://iggy:[REDACTED]@localhost:8090",
            "url_credentials",
        );
        assert_rule(
            "https://x9f8e7d6c5b4a3928171@github.com/o/r",
            "https://[REDACTED]@github.com/o/r",
            "url_credentials",
        );
        assert_unchanged("http://localhost:7281/v1/logs");
        assert_unchanged("ssh://git@github.com/o/r");
        assert_unchanged("http://replication-user@host/");
    }

    #[test]
    fn bearer_and_authorization() {
        assert_rule(
            "curl -H 'Authorization: Bearer abcdef0123456789xyz'",
            "curl -H 'Authorization: Bearer [REDACTED]'",
            "bearer_token",
        );
        assert_rule(
            "Authorization: Basic dXNlcjpodW50ZXIy",
            "Authorization: Basic [REDACTED]",
            "bearer_token",
        );
        assert_unchanged("Bearer authentication is used by the HTTP API");
    }

    #[test]
    fn jwt() {
        let t = "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl end";
        assert_rule(t, "token [REDACTED] end", "jwt");
        assert_unchanged("eyJ alone is not a token");
    }

    #[test]
    fn cloud_tokens() {
        assert_rule(
            "id AKIAIOSFODNN7EXAMPLE.",
            "id [REDACTED].",
            "aws_access_key",
        );
        assert_rule(
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
            "aws_secret_access_key = [REDACTED]\n",
            "aws_secret_key",
        );
        assert_rule(
            "k AIzaSyA1234567890abcdefghijklmnopqrstuv x",
            "k [REDACTED] x",
            "gcp_api_key",
        );
        assert_rule(
            "use ghp_0123456789abcdefghijklmnopqrstuvwxyz now",
            "use [REDACTED] now",
            "github_token",
        );
        assert_rule(
            "slack xoxb-1234567890-abcdefghij",
            "slack [REDACTED]",
            "slack_token",
        );
        assert_unchanged("AKIA is a prefix");
    }

    #[test]
    fn private_key_field_in_service_account() {
        let json = r#"{"type": "service_account", "private_key_id": "abc", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", "client_email": "x@y"}"#;
        let (out, counts) = red(json);
        assert!(out.contains(r#""private_key": "[REDACTED]""#), "{out}");
        assert!(out.contains(r#""private_key_id": "abc""#));
        assert_eq!(counts.get("private_key_field"), Some(&1));
        assert_idempotent(&out);
    }

    #[test]
    fn iggy_pat() {
        assert_rule(
            "iggy://iggypat-AbCdEf0123456789@localhost:8090",
            "iggy://iggypat-[REDACTED]@localhost:8090",
            "iggy_pat",
        );
        assert_rule("IGGY_PAT=abc123\n", "IGGY_PAT=[REDACTED]\n", "iggy_pat");
        assert_rule(
            r#"{"token": "xyz"}"#,
            r#"{"token": "[REDACTED]"}"#,
            "iggy_pat",
        );
        assert_rule(
            r#"personal_access_token = "tok""#,
            r#"personal_access_token = "[REDACTED]""#,
            "iggy_pat",
        );
        assert_unchanged("[personal_access_token]\nmax_tokens_per_user = 100\n");
    }

    #[test]
    fn secret_key_value_shapes() {
        assert_rule(
            "password=hunter2",
            "password=[REDACTED]",
            "secret_key_value",
        );
        assert_rule(
            r#"password = "hunter2""#,
            r#"password = "[REDACTED]""#,
            "secret_key_value",
        );
        assert_rule(
            "db.password: hunter2",
            "db.password: [REDACTED]",
            "secret_key_value",
        );
        assert_rule(
            r#"{"password": "hun\"ter2", "user": "x"}"#,
            r#"{"password": "[REDACTED]", "user": "x"}"#,
            "secret_key_value",
        );
        assert_rule(
            "IGGY_ROOT_PASSWORD=pa ss,word;x",
            "IGGY_ROOT_PASSWORD=[REDACTED]",
            "secret_key_value",
        );
        assert_rule(
            "export CLIENT_SECRET='s3cr3t'",
            "export CLIENT_SECRET='[REDACTED]'",
            "secret_key_value",
        );
        assert_rule(
            "root credentials (username: iggy, password: iggy)",
            "root credentials (username: iggy, password: [REDACTED])",
            "secret_key_value",
        );
        assert_rule(
            "Config { jwt_secret: Some(\"abc\"), port: 1 }",
            "Config { jwt_secret: Some(\"[REDACTED]\"), port: 1 }",
            "secret_key_value",
        );
        assert_rule(
            "apiKey: 'k-123'",
            "apiKey: '[REDACTED]'",
            "secret_key_value",
        );
        assert_rule(
            "GET /x?x-api-key=abc123&y=1",
            "GET /x?x-api-key=[REDACTED]&y=1",
            "secret_key_value",
        );
        // A key alone at the start of a line takes the rest of the line.
        assert_rule(
            "x-api-key=abc123&y=1",
            "x-api-key=[REDACTED]",
            "secret_key_value",
        );
        assert_rule(
            "encryption_key = \"c2VjcmV0\"",
            "encryption_key = \"[REDACTED]\"",
            "secret_key_value",
        );
        // Two pairs on one line, the first not a secret.
        assert_rule(
            "user=admin password=hunter2",
            "user=admin password=[REDACTED]",
            "secret_key_value",
        );
    }

    #[test]
    fn secret_key_value_negatives() {
        // Paths, not secrets.
        assert_unchanged(r#"key_file = "/etc/iggy/key.pem""#);
        assert_unchanged(r#"cert_file = "core/certs/iggy_cert.pem""#);
        assert_unchanged(r#"tls_key = "/etc/iggy/tls.key""#);
        // Empty values: nothing to hide, another check's finding.
        assert_unchanged(r#"password = """#);
        assert_unchanged("password=");
        assert_unchanged(r#"encoding_secret = ''"#);
        // A duration about a token, not a token.
        assert_unchanged(r#"token_expiry = "1h""#);
        assert_unchanged("access_token_expiry = \"1h\"");
        // Settings about secrets.
        assert_unchanged("use_base64_secret = false");
        assert_unchanged("allow_credentials = false");
        assert_unchanged("max_tokens_per_user = 100");
        // Data keys.
        assert_unchanged(r#"partition_key = "user-1""#);
        assert_unchanged(r#"message_key: "abc""#);
        // The shell's working directory.
        assert_unchanged("PWD=/home/iggy");
        // Already masked by the server.
        assert_unchanged("generated a random secret: D4o***. JWT tokens will be invalidated");
        // Placeholders.
        assert_unchanged("password: ${DB_PASSWORD}");
        // A bare `key` that is not key material.
        assert_unchanged(r#"key = "abc""#);
    }

    #[test]
    fn bare_encryption_key() {
        let toml = "[system.encryption]\nenabled = true\nkey = \"/rB+DL7n3nkaq2LfMeTMsyAxkl3mAdaMhFlDEKfGwEI=\"\n";
        let (out, counts) = red(toml);
        assert_eq!(
            out,
            "[system.encryption]\nenabled = true\nkey = \"[REDACTED]\"\n"
        );
        assert_eq!(counts.get("secret_key_value"), Some(&1));
    }

    #[test]
    fn cli_flags() {
        assert_rule(
            "iggy --username iggy --password hunter2 stream list",
            "iggy --username iggy --password [REDACTED] stream list",
            "cli_secret_flag",
        );
        assert_rule(
            "cmd --token=abc123",
            "cmd --token=[REDACTED]",
            "cli_secret_flag",
        );
        assert_rule(
            "cmd --encryption-key 'k e y'",
            "cmd --encryption-key '[REDACTED]'",
            "cli_secret_flag",
        );
        assert_unchanged("cmd --key-file /etc/iggy/key.pem --verbose");
        assert_unchanged("cmd --password --verbose");
    }

    #[test]
    fn counts_per_rule() {
        let text = "password=a\nsecret: b\nAKIAIOSFODNN7EXAMPLE\nredis://:pw@h\n";
        let (_, counts) = red(text);
        assert_eq!(counts.get("secret_key_value"), Some(&2));
        assert_eq!(counts.get("aws_access_key"), Some(&1));
        assert_eq!(counts.get("url_credentials"), Some(&1));
        assert_eq!(counts.len(), 3);
        let (_, n) = Redactor::new().redact(text);
        assert_eq!(n, 4);
    }

    #[test]
    fn toml_config() {
        let toml = r#"[http.jwt]
algorithm = "HS256"
access_token_expiry = "1h"
encoding_secret = "top-secret-enc"
decoding_secret = ""
use_base64_secret = false

[http.tls]
enabled = false
cert_file = "core/certs/iggy_cert.pem"
key_file = "core/certs/iggy_key.pem"

[system.encryption]
enabled = false
key = ""
"#;
        let (out, counts) = red(toml);
        assert_eq!(out, toml.replace("top-secret-enc", MARKER));
        assert_eq!(counts.get("secret_key_value"), Some(&1));
        assert_eq!(counts.len(), 1);
        assert_idempotent(&out);
    }

    #[test]
    fn json_config() {
        let json = r#"{
  "http": {"jwt": {"encoding_secret": "abc", "decoding_secret": "abc", "access_token_expiry": "1h"}},
  "cluster": {"credentials": {"username": "node", "password": "p@ss:w0rd"}},
  "tls": {"key_file": "/etc/k.pem", "enabled": true}
}"#;
        let (out, counts) = red(json);
        assert!(out.contains(r#""encoding_secret": "[REDACTED]", "decoding_secret": "[REDACTED]""#));
        assert!(out.contains(r#""password": "[REDACTED]""#));
        assert!(out.contains(r#""access_token_expiry": "1h""#));
        assert!(out.contains(r#""key_file": "/etc/k.pem""#));
        assert!(out.contains(r#""username": "node""#));
        assert_eq!(counts.get("secret_key_value"), Some(&3));
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
        assert_idempotent(&out);
    }

    #[test]
    fn env_dump() {
        let env = "IGGY_ROOT_USERNAME=iggy\nIGGY_ROOT_PASSWORD=secret pass\n\
                   IGGY_HTTP_JWT_ENCODING_SECRET=abc\nIGGY_SYSTEM_ENCRYPTION_KEY=xyz\n\
                   PATH=/usr/bin:/bin\nPWD=/var/lib/iggy\nIGGY_SYSTEM_PATH=local_data\n";
        let (out, counts) = red(env);
        assert_eq!(
            out,
            "IGGY_ROOT_USERNAME=iggy\nIGGY_ROOT_PASSWORD=[REDACTED]\n\
             IGGY_HTTP_JWT_ENCODING_SECRET=[REDACTED]\nIGGY_SYSTEM_ENCRYPTION_KEY=[REDACTED]\n\
             PATH=/usr/bin:/bin\nPWD=/var/lib/iggy\nIGGY_SYSTEM_PATH=local_data\n"
        );
        assert_eq!(counts.get("secret_key_value"), Some(&3));

        let pairs = vec![
            ("IGGY_ROOT_PASSWORD".to_owned(), "x".to_owned()),
            ("IGGY_PAT".to_owned(), "tok".to_owned()),
            ("DATABASE_URL".to_owned(), "postgres://u:pw@h/db".to_owned()),
            ("HOME".to_owned(), "/root".to_owned()),
            ("IGGY_ENCRYPTION_KEY".to_owned(), String::new()),
        ];
        let out = Redactor::new().redact_env(&pairs);
        assert_eq!(out[0].1, MARKER);
        assert_eq!(out[1].1, MARKER);
        assert_eq!(out[2].1, "postgres://u:[REDACTED]@h/db");
        assert_eq!(out[3].1, "/root");
        assert_eq!(out[4].1, "");
    }

    #[test]
    fn log_lines() {
        let log = "2026-11-28T07:55:27.607089Z  INFO main iggy_server: Using default root \
                   credentials (username: iggy, password: iggy) - FOR DEVELOPMENT ONLY!\n\
                   2026-11-28T07:55:27.753645Z  WARN shard-0 server::http::http_server: JWT \
                   encoding and decoding secrets are not configured - generated a random \
                   secret: D4o***. Set 'encoding_secret' and 'decoding_secret' in the config.\n\
                   2026-11-28T07:55:27.597938Z  INFO main file_provider: Using Config: { jwt: { \
                   algorithm: HS256, access_token_expiry: 1h, use_base64_secret: false }, tls: { \
                   enabled: false, cert_file: core/certs/iggy_cert.pem, key_file: \
                   core/certs/iggy_key.pem }, certificate: { cert_file: , key_file:  } }\n";
        let (out, counts) = red(log);
        assert_eq!(out, log.replace("password: iggy)", "password: [REDACTED])"));
        assert_unchanged(
            "INFO shard-0 server::shard::tasks::periodic::personal_access_token: Personal \
             access token cleaner is enabled",
        );
        assert_unchanged(
            "WARN main server::bootstrap: --with-default-root-credentials: a newly created root \
             user will use the well-known development credentials",
        );
        assert_unchanged("WARN shard-1 server::dispatch: denying non-replicated VSR request");
        assert_eq!(counts.get("secret_key_value"), Some(&1));
        assert_eq!(counts.len(), 1);
    }

    #[test]
    fn many_log_lines_are_fast_and_borrowed() {
        let r = Redactor::new();
        let line = "2026-11-28T07:55:27.758382Z  INFO shard-0 server::streaming: Loaded 3 \
                    partitions for topic 1 in stream 0.";
        let mut counts = BTreeMap::new();
        let start = std::time::Instant::now();
        for _ in 0..10_000 {
            assert!(matches!(r.redact_into(line, &mut counts), Cow::Borrowed(_)));
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let text: String = std::iter::repeat_n(format!("{line}\n"), 10_000).collect();
        let text = format!("{text}password=x\n");
        let (out, n) = r.redact(&text);
        assert_eq!(n, 1);
        assert!(out.ends_with("password=[REDACTED]\n"));
    }

    #[test]
    fn extra_rules_file() {
        let file = "# customer-specific\n\nliteral:acme-internal-42\nregex:cust-[0-9]{4}\n\
                    regex:tenant=(\\w+)\nhunter3\n";
        let r = Redactor::with_extra_rules(file, "rules.txt").unwrap();
        let mut counts = BTreeMap::new();
        let out = r.redact_into(
            "a acme-internal-42 b cust-1234 tenant=blue hunter3",
            &mut counts,
        );
        assert_eq!(
            out,
            "a [REDACTED] b [REDACTED] tenant=[REDACTED] [REDACTED]"
        );
        assert_eq!(counts.get("extra_literal"), Some(&2));
        assert_eq!(counts.get("extra_regex"), Some(&2));
        let mut again = BTreeMap::new();
        assert_eq!(r.redact_into(&out, &mut again), out);
        assert!(again.is_empty());

        let err = Redactor::with_extra_rules("# x\nok\nregex:(unclosed\n", "rules.txt");
        match err {
            Err(RedactError::BadRegex { line, .. }) => assert_eq!(line, 3),
            other => panic!("expected a regex error, got {other:?}"),
        }
        assert!(err_line(Redactor::with_extra_rules("regex:   \n", "r")).contains("line 1"));
    }

    fn err_line(r: Result<Redactor, RedactError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn extra_rules_file_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.txt");
        std::fs::write(&path, "literal:s3cr3t-value\n").unwrap();
        let r = Redactor::with_extra_rules_file(&path).unwrap();
        assert_eq!(r.redact("x s3cr3t-value y").0, "x [REDACTED] y");
        let missing = dir.path().join("missing");
        let e = Redactor::with_extra_rules_file(&missing).unwrap_err();
        assert!(
            matches!(&e, RedactError::Io { path, source }
                if *path == missing && source.kind() == std::io::ErrorKind::NotFound),
            "{e:?}"
        );
    }

    #[test]
    fn report_is_redacted() {
        use snapdesk_report::{Check, Evidence, Fact, LogSource, Producer, Status};
        let mut report = Report {
            format_version: 1,
            title: "node password=hunter2".into(),
            snapshot_name: "s".into(),
            deployment_id: None,
            deployment_name: None,
            node_id: None,
            host_name: "h".into(),
            created_at: chrono::Utc::now(),
            completed_at: None,
            collector: Producer {
                name: "c".into(),
                version: "1".into(),
            },
            redacted: false,
            checks: vec![Check {
                id: "iggy.config".into(),
                category: "iggy".into(),
                title: "Config".into(),
                status: Status::Info,
                summary: "jwt_secret: abc".into(),
                facts: vec![
                    Fact::new("http.jwt.encoding_secret", "plain"),
                    Fact::new("http.jwt.access_token_expiry", "1h"),
                ],
                evidence: vec![Evidence::new(
                    "postgres://u:pw@h/db",
                    "[http.jwt]\nencoding_secret = \"x\"\n",
                )],
                remediation: Some("set --password=abc".into()),
                duration_ms: 0,
            }],
            logs: vec![LogSource {
                id: "iggy".into(),
                title: "iggy".into(),
                source: "journalctl".into(),
                lines: vec!["ok".into(), "token=abc".into()],
            }],
        };
        let mut counts = BTreeMap::new();
        Redactor::new().redact_report(&mut report, &mut counts);
        assert_eq!(report.title, "node password=[REDACTED]");
        let c = &report.checks[0];
        assert_eq!(c.summary, "jwt_secret: [REDACTED]");
        assert_eq!(c.facts[0].value, MARKER);
        assert_eq!(c.facts[1].value, "1h");
        assert_eq!(c.evidence[0].source, "postgres://u:[REDACTED]@h/db");
        assert_eq!(
            c.evidence[0].excerpt,
            "[http.jwt]\nencoding_secret = \"[REDACTED]\"\n"
        );
        assert_eq!(c.remediation.as_deref(), Some("set --password=[REDACTED]"));
        assert_eq!(
            report.logs[0].lines,
            vec!["ok".to_owned(), "token=[REDACTED]".to_owned()]
        );
        assert_eq!(counts.values().sum::<u64>(), 7);
        assert_eq!(counts.get("iggy_pat"), Some(&1));
    }

    #[test]
    fn key_words_split() {
        assert_eq!(
            key_words("IGGY_ROOT_PASSWORD"),
            vec!["iggy", "root", "password"]
        );
        assert_eq!(key_words("clientSecret"), vec!["client", "secret"]);
        assert_eq!(key_words("db.password"), vec!["db", "password"]);
        assert_eq!(classify_key("key_file"), KeyClass::No);
        assert_eq!(classify_key("system.encryption.key"), KeyClass::KeySuffix);
        assert_eq!(classify_key("token_expiry"), KeyClass::No);
        assert!(is_pat_key("IGGY_PAT"));
        assert!(!is_pat_key("path"));
    }
}

#[cfg(test)]
mod chained_key_tests {
    use super::*;

    #[test]
    fn a_key_followed_by_another_key_redacts_the_real_value() {
        let r = Redactor::new();
        let (out, _) = r.redact("INFO pat: personal_access_token: log-pat-CANARY22");
        // The kernel's page attribute table is not a personal access token.
        let pat_line =
            "[    0.001573] x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- UC  ";
        let (kept, n) = r.redact(pat_line);
        assert_eq!((kept.as_str(), n), (pat_line, 0));
        let (hidden, n) = r.redact("PAT: iggypat0123456789abcdef");
        assert_eq!((hidden.as_str(), n), ("PAT: [REDACTED]", 1));
        assert!(!out.contains("CANARY22"), "{out}");
        let (out, _) = r.redact("token= password=hunter2secret");
        assert!(!out.contains("hunter2secret"), "{out}");
    }
}
