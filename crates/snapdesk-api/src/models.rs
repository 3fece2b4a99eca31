//! Typed models of the snapshots API. Unknown fields are ignored; an unknown status is kept.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

/// A snapshot's state. `Other` keeps a status this client does not know yet, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, TS)]
#[ts(type = "string")]
pub enum SnapshotStatus {
    Processing,
    Completed,
    Other(String),
}

impl SnapshotStatus {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Other(s) => s,
        }
    }
    pub fn is_completed(&self) -> bool {
        *self == Self::Completed
    }
}

impl fmt::Display for SnapshotStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for SnapshotStatus {
    fn from(s: &str) -> Self {
        match s {
            "processing" => Self::Processing,
            "completed" => Self::Completed,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for SnapshotStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SnapshotStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::from(s.as_str()))
    }
}

/// One list item: one node's share of a snapshot. Ids are integers on the wire and strings
/// when serialised by us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SnapshotItem {
    #[serde(with = "crate::ids")]
    #[ts(type = "string")]
    pub id: u64,
    #[serde(with = "crate::ids::option", default)]
    #[ts(type = "string | null")]
    pub tenant_id: Option<u64>,
    #[serde(with = "crate::ids::option", default)]
    #[ts(type = "string | null")]
    pub division_id: Option<u64>,
    #[serde(with = "crate::ids::option", default)]
    #[ts(type = "string | null")]
    pub environment_id: Option<u64>,
    #[serde(with = "crate::ids")]
    #[ts(type = "string")]
    pub deployment_id: u64,
    #[serde(with = "crate::ids")]
    #[ts(type = "string")]
    pub node_id: u64,
    #[serde(default)]
    pub deployment_name: String,
    pub name: String,
    pub status: SnapshotStatus,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    #[ts(type = "string | null")]
    pub completed_at: Option<DateTime<Utc>>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default = "one")]
    pub page: u32,
    #[serde(default)]
    pub total_results: u64,
    #[serde(default = "one")]
    pub total_pages: u32,
}

fn one() -> u32 {
    1
}

/// The body of a create request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CreateSnapshot {
    pub redact_secrets: bool,
    pub include_iggy: bool,
}

impl Default for CreateSnapshot {
    fn default() -> Self {
        Self {
            redact_secrets: true,
            include_iggy: true,
        }
    }
}

/// `GET .../download`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadUrl {
    pub url: String,
}

impl SnapshotItem {
    /// The node is done, one way or the other: `completed`, or `completed_at` set with
    /// another status (e.g. `failed`), which will never complete.
    pub fn has_ended(&self) -> bool {
        self.status.is_completed() || self.completed_at.is_some()
    }

    /// Ended without an archive.
    pub fn has_failed(&self) -> bool {
        self.has_ended() && !self.status.is_completed()
    }
}

/// Where a deployment-wide snapshot stands: the one rule every host uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotState {
    /// At least one node has not ended yet.
    Processing,
    /// Every node completed: every archive can be downloaded.
    Completed,
    /// Every node ended, and at least one without an archive.
    Failed,
}

impl SnapshotState {
    /// The state of a snapshot with these nodes.
    pub fn of<'a>(items: impl IntoIterator<Item = &'a SnapshotItem>) -> Self {
        let (mut any, mut open, mut failed) = (false, false, false);
        for i in items {
            any = true;
            open |= !i.has_ended();
            failed |= i.has_failed();
        }
        match (any, open, failed) {
            (false, _, _) | (true, true, _) => Self::Processing,
            (true, false, true) => Self::Failed,
            (true, false, false) => Self::Completed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for SnapshotState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The items of one trigger, grouped by `name`: a deployment-wide snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Snapshot {
    pub name: String,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    pub state: SnapshotState,
    /// One per node, by node id.
    pub items: Vec<SnapshotItem>,
}

impl Snapshot {
    /// Groups items by snapshot name, newest first; items inside by node id.
    pub fn group(items: impl IntoIterator<Item = SnapshotItem>) -> Vec<Snapshot> {
        let mut groups: Vec<Snapshot> = Vec::new();
        for item in items {
            match groups.iter_mut().find(|g| g.name == item.name) {
                Some(g) => g.items.push(item),
                None => groups.push(Snapshot {
                    name: item.name.clone(),
                    created_at: item.created_at,
                    state: SnapshotState::Processing,
                    items: vec![item],
                }),
            }
        }
        for g in &mut groups {
            g.items.sort_by_key(|i| i.node_id);
            g.state = SnapshotState::of(&g.items);
        }
        groups.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(&a.name)));
        groups
    }

    /// Nodes that completed (each has an archive).
    pub fn completed_nodes(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.status.is_completed())
            .count()
    }

    /// The nodes that ended without an archive.
    pub fn failed_nodes(&self) -> impl Iterator<Item = &SnapshotItem> {
        self.items.iter().filter(|i| i.has_failed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list response exactly as the API page shows it.
    const DOC_EXAMPLE: &str = r#"{
"items": [
{
"id": 1,
"tenant_id": 615380456123456789,
"division_id": 1,
"environment_id": 1,
"deployment_id": 611298765432109056,
"node_id": 610809900976570889,
"deployment_name": "events-prod",
"name": "snapshot-20260601-103000",
"status": "completed",
"created_at": "2026-06-01T10:30:00Z",
"completed_at": "2026-06-01T10:31:00Z"
}
],
"page": 1,
"total_results": 1,
"total_pages": 1
}"#;

    #[test]
    fn the_documented_list_item_deserializes_with_exact_ids() {
        let page: Page<SnapshotItem> = serde_json::from_str(DOC_EXAMPLE).unwrap();
        let item = &page.items[0];
        assert_eq!(item.tenant_id, Some(615_380_456_123_456_789));
        assert_eq!(item.deployment_id, 611_298_765_432_109_056);
        assert_eq!(item.node_id, 610_809_900_976_570_889);
        assert_eq!(item.status, SnapshotStatus::Completed);
        assert_eq!(page.total_pages, 1);
    }

    #[test]
    fn ids_leave_rust_as_strings_and_come_back_exact() {
        let page: Page<SnapshotItem> = serde_json::from_str(DOC_EXAMPLE).unwrap();
        let json = serde_json::to_value(&page.items[0]).unwrap();
        assert_eq!(json["node_id"], "610809900976570889");
        assert_eq!(json["tenant_id"], "615380456123456789");
        let back: SnapshotItem = serde_json::from_value(json).unwrap();
        assert_eq!(back, page.items[0]);
    }

    #[test]
    fn unknown_fields_are_ignored_and_unknown_status_is_kept() {
        let raw = r#"{"id": 9007199254740993, "deployment_id": 1, "node_id": 2, "name": "s",
            "status": "archiving", "created_at": "2026-06-01T10:30:00Z", "completed_at": null,
            "brand_new_field": {"x": 1}}"#;
        let item: SnapshotItem = serde_json::from_str(raw).unwrap();
        assert_eq!(item.id, 9_007_199_254_740_993);
        assert_eq!(item.status, SnapshotStatus::Other("archiving".into()));
        assert_eq!(item.status.to_string(), "archiving");
    }

    fn item(id: u64, node: u64, name: &str, t: &str, st: &str) -> SnapshotItem {
        SnapshotItem {
            id,
            tenant_id: None,
            division_id: None,
            environment_id: None,
            deployment_id: 1,
            node_id: node,
            deployment_name: "d".into(),
            name: name.into(),
            status: st.into(),
            created_at: t.parse().unwrap(),
            completed_at: None,
        }
    }

    #[test]
    fn a_snapshot_is_processing_until_every_node_ended_and_failed_when_one_ended_without_archive() {
        let t = "2026-06-01T10:00:00Z";
        let done = |id, node| {
            let mut i = item(id, node, "a", t, "completed");
            i.completed_at = Some(t.parse().unwrap());
            i
        };
        let mut failed = item(3, 3, "a", t, "failed");
        failed.completed_at = Some(t.parse().unwrap());
        let open = item(4, 3, "a", t, "processing");
        assert_eq!(
            SnapshotState::of(&[done(1, 1), done(2, 2)]),
            SnapshotState::Completed
        );
        assert_eq!(
            SnapshotState::of(&[done(1, 1), open.clone()]),
            SnapshotState::Processing
        );
        assert_eq!(
            SnapshotState::of(&[done(1, 1), failed.clone()]),
            SnapshotState::Failed
        );
        // A failed node while another still works: not over yet.
        assert_eq!(
            SnapshotState::of(&[failed, open]),
            SnapshotState::Processing
        );
        assert_eq!(SnapshotState::of(&[]), SnapshotState::Processing);
    }

    #[test]
    fn groups_by_name_newest_first() {
        let items = vec![
            item(1, 2, "a", "2026-06-01T10:00:00Z", "completed"),
            item(2, 1, "a", "2026-06-01T10:00:00Z", "completed"),
            item(3, 1, "b", "2026-06-02T10:00:00Z", "processing"),
        ];
        let g = Snapshot::group(items);
        assert_eq!(g[0].name, "b");
        assert_eq!(g[0].state, SnapshotState::Processing);
        assert_eq!(
            g[1].items.iter().map(|i| i.node_id).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(g[1].state, SnapshotState::Completed);
    }
}

/// A Supervisor plan. The API does not say which plan a deployment is on; a person who knows
/// it records it in the context, and the library then knows when the server deletes a
/// snapshot (its retention, counted from the snapshot's creation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Basic,
    Pro,
    Enterprise,
}

impl Plan {
    /// How long the server keeps a snapshot (the API page: Basic 7, Pro 14, Enterprise 90 days).
    pub fn retention_days(self) -> i64 {
        match self {
            Plan::Basic => 7,
            Plan::Pro => 14,
            Plan::Enterprise => 90,
        }
    }

    /// How many snapshots a deployment may hold.
    pub fn snapshot_limit(self) -> usize {
        match self {
            Plan::Basic => 3,
            Plan::Pro => 5,
            Plan::Enterprise => 20,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Basic => "basic",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }

    /// When the server deletes a snapshot created at `created_at`.
    pub fn expiry(self, created_at: DateTime<Utc>) -> DateTime<Utc> {
        created_at + chrono::Duration::days(self.retention_days())
    }
}

impl std::str::FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "basic" => Ok(Plan::Basic),
            "pro" => Ok(Plan::Pro),
            "enterprise" => Ok(Plan::Enterprise),
            _ => Err(format!("{s:?} is not a plan: say basic, pro or enterprise")),
        }
    }
}
