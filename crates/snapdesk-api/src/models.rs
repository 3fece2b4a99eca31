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

/// Items of one trigger grouped by `name`: a deployment-wide snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotGroup<'a> {
    pub name: &'a str,
    pub created_at: DateTime<Utc>,
    pub items: Vec<&'a SnapshotItem>,
}

impl SnapshotGroup<'_> {
    /// Completed when every node completed.
    pub fn completed(&self) -> bool {
        self.items.iter().all(|i| i.status.is_completed())
    }
}

/// Groups items by snapshot name, newest first; items inside by node id.
pub fn group_by_name(items: &[SnapshotItem]) -> Vec<SnapshotGroup<'_>> {
    let mut groups: Vec<SnapshotGroup<'_>> = Vec::new();
    for item in items {
        match groups.iter_mut().find(|g| g.name == item.name) {
            Some(g) => g.items.push(item),
            None => groups.push(SnapshotGroup {
                name: &item.name,
                created_at: item.created_at,
                items: vec![item],
            }),
        }
    }
    for g in &mut groups {
        g.items.sort_by_key(|i| i.node_id);
    }
    groups.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(a.name)));
    groups
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

    #[test]
    fn groups_by_name_newest_first() {
        let mk = |id, node, name: &str, t: &str, st: &str| SnapshotItem {
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
        };
        let items = vec![
            mk(1, 2, "a", "2026-06-01T10:00:00Z", "completed"),
            mk(2, 1, "a", "2026-06-01T10:00:00Z", "completed"),
            mk(3, 1, "b", "2026-06-02T10:00:00Z", "processing"),
        ];
        let g = group_by_name(&items);
        assert_eq!(g[0].name, "b");
        assert!(!g[0].completed());
        assert_eq!(
            g[1].items.iter().map(|i| i.node_id).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert!(g[1].completed());
    }
}
