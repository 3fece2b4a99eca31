//! The one query language of the CLI and the app: free text plus filters.
//!
//! | term | matches |
//! |---|---|
//! | `word`, `"two words"` | checks whose id, category, title, summary or facts hold it (full text, prefix) |
//! | `status:fail` (`status:fail,warn`) | checks with that status |
//! | `category:certificates` | checks of that category |
//! | `node:ID-or-host` | entries of that node id or host name (prefix) |
//! | `deployment:ID-or-name` | entries of that deployment |
//! | `context:NAME` | entries downloaded through that context |
//! | `since:30d` (`12h`, `2w`, `2026-05-01`) | entries completed (or else added) since then |
//! | `has:iggy` | entries that carry Iggy data |
//! | `pinned:yes` / `pinned:no` | pinned entries, or not |
//! | `tag:NAME` | entries with that tag |
//! | `integrity:mismatch` (`verified`, `unverifiable`) | entries whose archive did (not) match its manifest when stored |
//!
//! Values are bound as SQL parameters, never spliced into SQL; free text goes to FTS5 as
//! quoted strings, so its operators are inert.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::types::Value;

use crate::error::{LibraryError, Result};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub text: Vec<String>,
    pub status: Vec<String>,
    pub category: Vec<String>,
    pub node: Vec<String>,
    pub deployment: Vec<String>,
    pub context: Vec<String>,
    /// RFC 3339.
    pub since: Option<String>,
    pub has_iggy: Option<bool>,
    pub pinned: Option<bool>,
    pub tags: Vec<String>,
    /// `verified`, `mismatch` or `unverifiable`.
    pub integrity: Vec<String>,
}

const STATUSES: [&str; 6] = ["pass", "warn", "fail", "info", "error", "skipped"];

fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn yes_no(key: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Ok(true),
        "no" | "false" | "0" => Ok(false),
        _ => Err(LibraryError::Invalid(format!(
            "{key}:{v}: say {key}:yes or {key}:no"
        ))),
    }
}

/// `30d`, `12h`, `2w`, `90m` before `now`, or a date.
pub fn since(v: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let bad = || {
        LibraryError::Invalid(format!(
            "since:{v}: give an age such as 30d, 12h or 2w, or a date such as 2026-05-01"
        ))
    };
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).ok_or_else(bad);
    }
    if v.len() < 2 {
        return Err(bad());
    }
    let (n, unit) = v.split_at(v.len() - 1);
    let n: i64 = n.parse().map_err(|_| bad())?;
    if !(0..=100_000).contains(&n) {
        return Err(bad());
    }
    let d = match unit {
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        "w" => Duration::weeks(n),
        _ => return Err(bad()),
    };
    Ok(now - d)
}

impl Query {
    pub fn parse(s: &str) -> Result<Self> {
        Self::parse_at(s, Utc::now())
    }

    pub fn parse_at(s: &str, now: DateTime<Utc>) -> Result<Self> {
        let mut q = Query::default();
        for t in tokens(s) {
            let Some((key, value)) = t.split_once(':').filter(|(k, v)| {
                !v.is_empty()
                    && matches!(
                        *k,
                        "status"
                            | "category"
                            | "node"
                            | "deployment"
                            | "context"
                            | "since"
                            | "has"
                            | "pinned"
                            | "tag"
                            | "integrity"
                    )
            }) else {
                // The status mark is the index's own (see `db::STATUS_KEY_MARK`): text
                // holding it would match statuses, not words.
                let t: String = t
                    .chars()
                    .filter(|c| *c != crate::db::STATUS_KEY_MARK)
                    .collect();
                if !t.is_empty() {
                    q.text.push(t);
                }
                continue;
            };
            let list = || {
                value
                    .split(',')
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            match key {
                "status" => {
                    for v in list() {
                        let v = v.to_ascii_lowercase();
                        if !STATUSES.contains(&v.as_str()) {
                            return Err(LibraryError::Invalid(format!(
                                "status:{v}: a status is one of {}",
                                STATUSES.join(", ")
                            )));
                        }
                        q.status.push(v);
                    }
                }
                "category" => q.category.extend(list()),
                "node" => q.node.extend(list()),
                "deployment" => q.deployment.extend(list()),
                "context" => q.context.extend(list()),
                "tag" => q.tags.extend(list()),
                "since" => q.since = Some(since(value, now)?.to_rfc3339()),
                "has" => {
                    if value != "iggy" {
                        return Err(LibraryError::Invalid(format!(
                            "has:{value}: only has:iggy is known"
                        )));
                    }
                    q.has_iggy = Some(true);
                }
                "pinned" => q.pinned = Some(yes_no("pinned", value)?),
                "integrity" => {
                    for v in list() {
                        let v = v.to_ascii_lowercase();
                        if crate::model::integrity_of(&v).is_none() {
                            return Err(LibraryError::Invalid(format!(
                                "integrity:{v}: say integrity:mismatch, integrity:verified or \
                                 integrity:unverifiable"
                            )));
                        }
                        q.integrity.push(v);
                    }
                }
                _ => q.text.push(t.clone()),
            }
        }
        Ok(q)
    }

    /// Whether anything filters checks (rather than entries only).
    pub fn filters_checks(&self) -> bool {
        !self.text.is_empty() || !self.status.is_empty() || !self.category.is_empty()
    }

    /// The FTS5 expression of the free text: every word as a quoted prefix.
    pub fn fts(&self) -> Option<String> {
        if self.text.is_empty() {
            return None;
        }
        Some(
            self.text
                .iter()
                .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" AND "),
        )
    }

    /// The match for the entries' words (`entry_terms`, migration 8), when it answers this
    /// query exactly: one free-text word, no status or category, and one token in the word
    /// (that index keeps words, not their order, so it cannot match a phrase). A word of
    /// ASCII letters and digits, with other ASCII characters only around it ("node:"), is one
    /// token to the index's tokenizer; other words take the checks' index.
    pub fn entry_terms_match(&self) -> Option<String> {
        if self.text.len() != 1 || !self.status.is_empty() || !self.category.is_empty() {
            return None;
        }
        let word = &self.text[0];
        let pieces = word
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|p| !p.is_empty())
            .count();
        (word.is_ascii() && pieces == 1)
            .then(|| self.fts())
            .flatten()
    }

    /// [`Query::fts`], narrowed inside the full-text index to the checks of the wanted
    /// statuses (exactly: the index holds each check's status as one token no text makes, see
    /// `db::STATUS_KEY_MARK`) and categories (approximately: a category's words, not the
    /// whole category; the exact `c.category IN (...)` condition still decides, on far fewer
    /// rows). A category with no word character is not narrowed by (its phrase would hold no
    /// token).
    pub fn fts_narrowed(&self) -> Option<String> {
        let mut parts = vec![format!("({})", self.fts()?)];
        let phrases = |vals: &mut dyn Iterator<Item = String>| -> String {
            vals.map(|v| format!("\"{}\"", v.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        if !self.status.is_empty() {
            let mut keys = self
                .status
                .iter()
                .map(|s| format!("{}{s}", crate::db::STATUS_KEY_MARK));
            parts.push(format!("(status_key : ({}))", phrases(&mut keys)));
        }
        let words = |c: &String| c.chars().any(char::is_alphanumeric);
        if !self.category.is_empty() && self.category.iter().all(words) {
            let mut cats = self.category.iter().cloned();
            parts.push(format!("(category : ({}))", phrases(&mut cats)));
        }
        if parts.len() == 1 {
            return self.fts();
        }
        Some(parts.join(" AND "))
    }

    /// Whether [`Query::fts_narrowed`]'s match says all a check must satisfy, so that its
    /// rowids alone answer: its status part is exact, its category part is not (a phrase
    /// "kernel" also matches the category "Kernel parameters").
    pub fn fts_covers_checks(&self) -> bool {
        self.category.is_empty()
    }

    /// Conditions on the entry `e`, as SQL with `?` parameters.
    pub fn entry_sql(&self, sql: &mut Vec<String>, args: &mut Vec<Value>) {
        let any = |sql: &mut Vec<String>, args: &mut Vec<Value>, vals: &[String], one: &str| {
            if vals.is_empty() {
                return;
            }
            let parts: Vec<String> = vals.iter().map(|_| format!("({one})")).collect();
            sql.push(format!("({})", parts.join(" OR ")));
            for v in vals {
                for _ in 0..one.matches('?').count() {
                    args.push(Value::Text(v.clone()));
                }
            }
        };
        any(
            sql,
            args,
            &self.node,
            "e.node_id = ? OR e.host_name LIKE ? || '%'",
        );
        any(
            sql,
            args,
            &self.deployment,
            "e.deployment_id = ? OR e.deployment_name LIKE ? || '%'",
        );
        any(
            sql,
            args,
            &self.context,
            "EXISTS (SELECT 1 FROM origins o WHERE o.entry_id = e.id AND o.context = ?)",
        );
        any(
            sql,
            args,
            &self.tags,
            "EXISTS (SELECT 1 FROM tags t WHERE t.entry_id = e.id AND t.tag = ?)",
        );
        if !self.integrity.is_empty() {
            let marks = vec!["?"; self.integrity.len()].join(", ");
            sql.push(format!("e.integrity IN ({marks})"));
            args.extend(self.integrity.iter().map(|s| Value::Text(s.clone())));
        }
        if let Some(s) = &self.since {
            sql.push("coalesce(e.completed_at, e.created_at, e.added_at) >= ?".into());
            args.push(Value::Text(s.clone()));
        }
        if let Some(b) = self.has_iggy {
            sql.push(format!("e.has_iggy = {}", i32::from(b)));
        }
        if let Some(b) = self.pinned {
            sql.push(format!("e.pinned = {}", i32::from(b)));
        }
    }

    /// Conditions on the check `c` (status, category, and the free text through `f`, the
    /// FTS table, when joined).
    pub fn check_sql(&self, sql: &mut Vec<String>, args: &mut Vec<Value>) {
        if !self.status.is_empty() {
            let marks = vec!["?"; self.status.len()].join(", ");
            sql.push(format!("c.status IN ({marks})"));
            args.extend(self.status.iter().map(|s| Value::Text(s.clone())));
        }
        if !self.category.is_empty() {
            let marks = vec!["?"; self.category.len()].join(", ");
            sql.push(format!("c.category IN ({marks})"));
            args.extend(self.category.iter().map(|s| Value::Text(s.clone())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_free_text_are_told_apart() {
        let now: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
        let q = Query::parse_at(
            "cert \"not after\" status:fail,warn category:certificates node:n1 since:30d \
             has:iggy pinned:no tag:acme deployment:events context:prod http://x",
            now,
        )
        .unwrap();
        assert_eq!(q.text, ["cert", "not after", "http://x"]);
        assert_eq!(q.status, ["fail", "warn"]);
        assert_eq!(q.category, ["certificates"]);
        assert_eq!(q.node, ["n1"]);
        assert_eq!(q.since.as_deref(), Some("2026-05-02T00:00:00+00:00"));
        assert_eq!((q.has_iggy, q.pinned), (Some(true), Some(false)));
        assert_eq!(q.tags, ["acme"]);
        assert!(q.integrity.is_empty());
        assert_eq!(
            Query::parse_at("integrity:mismatch,verified", now)
                .unwrap()
                .integrity,
            ["mismatch", "verified"]
        );
        assert_eq!(
            q.fts().unwrap(),
            "\"cert\"* AND \"not after\"* AND \"http://x\"*"
        );
    }

    #[test]
    fn mistakes_say_what_is_expected() {
        for (q, says) in [
            ("status:broken", "one of pass"),
            ("since:yesterday", "30d"),
            ("has:certs", "has:iggy"),
            ("pinned:maybe", "pinned:yes"),
            ("integrity:bad", "integrity:mismatch"),
        ] {
            let e = Query::parse(q).unwrap_err().to_string();
            assert!(e.contains(says), "{q}: {e}");
        }
    }

    #[test]
    fn categories_narrow_the_full_text_expression_when_they_have_words() {
        let mut q = Query::parse("late category:certificates").unwrap();
        q.category.push("iggy-snap\"x".into());
        assert_eq!(
            q.fts_narrowed().unwrap(),
            "(\"late\"*) AND (category : (\"certificates\" OR \"iggy-snap\"\"x\"))"
        );
        let q = Query::parse("late category:-").unwrap();
        assert_eq!(q.fts_narrowed().unwrap(), "\"late\"*");
        assert_eq!(Query::parse("category:os").unwrap().fts_narrowed(), None);
    }

    #[test]
    fn statuses_narrow_the_match_with_tokens_text_cannot_make() {
        let q = Query::parse("late status:fail,warn").unwrap();
        assert_eq!(
            q.fts_narrowed().unwrap(),
            "(\"late\"*) AND (status_key : (\"\u{E000}fail\" OR \"\u{E000}warn\"))"
        );
        assert!(q.fts_covers_checks());
        // Typed (or pasted) text loses the index's status mark.
        let q = Query::parse("\u{E000}fail x\u{E000} \u{E000}").unwrap();
        assert_eq!(q.text, ["fail", "x"]);
    }

    #[test]
    fn fts_operators_in_text_stay_inert() {
        let q = Query::parse("a\"b OR NEAR(x").unwrap();
        // An unclosed quote runs to the end: one phrase, operators included, as text.
        assert_eq!(q.fts().unwrap(), "\"ab OR NEAR(x\"*");
    }
}
