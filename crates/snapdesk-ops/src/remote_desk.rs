//! A desktop host's remote work, by connection name: each is the flow of [`deployment`] plus
//! what the host keeps for the session (the permissions a key showed, the deployment's name),
//! so that a Tauri command is one line and no flow is written in the host.

use snapdesk_api::CreateSnapshot;
use snapdesk_core::{Cancel, Error, ErrorCode, Result};
use snapdesk_library::Library;

use crate::connections::Connector;
use crate::contexts::{self, ContextTest, Permissions};
use crate::deployment::{self, ApiRequest, DeploymentView, Downloaded, SnapshotsDeleted};
use crate::progress::ProgressFn;
use crate::snapshots::{WaitEnd, Waited};

/// A snapshot id as the UI sends it (text: ids pass 2^53).
pub fn parse_id(s: &str) -> Result<u64> {
    snapdesk_api::ids::parse_id(s).map_err(|e| Error::invalid_input(format!("snapshot id {e}")))
}

/// Snapshot ids as the UI sends them.
pub fn parse_ids(given: &[String]) -> Result<Vec<u64>> {
    given.iter().map(|s| parse_id(s)).collect()
}

impl Connector {
    /// Lists with the connection's key, then asks whether it may manage (see
    /// [`contexts::test`]); without a deployment, the connection's first. What it learns is
    /// kept for the session.
    pub async fn test(&self, connection: &str, deployment: Option<&str>) -> Result<ContextTest> {
        let deployment = match deployment {
            Some(d) => d.to_owned(),
            None => self
                .get(connection)?
                .deployments
                .first()
                .map(|d| d.id.clone())
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "{connection} knows no deployment to test against"
                    ))
                    .with_hint("add a deployment id to the connection")
                })?,
        };
        let remote = self.remote(connection, &deployment).await?;
        let test = contexts::test(&remote, true).await?;
        self.learn_permissions(connection, remote.deployment(), test.permissions);
        Ok(test)
    }

    /// The deployment's snapshots, each node marked when the library holds it. The first
    /// view of a deployment in a session also asks what the key may do (the probe of
    /// [`contexts::test`], so that create and delete can be offered or refused up front); a
    /// key that may not list is an error, a probe that fails otherwise leaves it unknown.
    /// The deployment's name from the API is recorded in the connection.
    pub async fn view(
        &self,
        connection: &str,
        deployment: &str,
        lib: &Library,
    ) -> Result<DeploymentView> {
        let remote = self.remote(connection, deployment).await?;
        let dep = remote.deployment();
        let permissions = match self.permissions(connection, dep) {
            Some(p) => Some(p),
            None => match contexts::test(&remote, true).await {
                Ok(t) => {
                    self.learn_permissions(connection, dep, t.permissions);
                    Some(t.permissions)
                }
                Err(e) if matches!(e.code, ErrorCode::Forbidden | ErrorCode::Unauthorized) => {
                    return Err(e)
                }
                Err(_) => None,
            },
        };
        let view = deployment::view(&remote, lib, permissions).await?;
        if let Err(e) = self.remember_name(connection, dep, &view.deployment_name) {
            tracing::warn!("the deployment's name was not recorded: {}", e.message);
        }
        Ok(view)
    }

    /// Creates a snapshot and follows it to its end ([`deployment::create_and_follow`]); a
    /// success shows the key may manage, a refusal that it may not.
    pub async fn create(
        &self,
        connection: &str,
        deployment: &str,
        body: CreateSnapshot,
        cancel: &Cancel,
        progress: ProgressFn<'_>,
    ) -> Result<Waited> {
        let remote = self.remote(connection, deployment).await?;
        let r =
            deployment::create_and_follow(&remote, body, deployment::FOLLOW_FOR, cancel, progress)
                .await;
        match &r {
            Ok(_) => self.learn_permissions(
                connection,
                remote.deployment(),
                Permissions {
                    read: true,
                    manage: Some(true),
                },
            ),
            Err(e) => self.learn_from_error(connection, remote.deployment(), e),
        }
        r
    }

    /// Downloads nodes of one snapshot into the library ([`deployment::download`]).
    pub async fn download(
        &self,
        connection: &str,
        deployment: &str,
        lib: &Library,
        ids: &[String],
        cancel: &Cancel,
        progress: ProgressFn<'_>,
    ) -> Result<Downloaded> {
        let ids = parse_ids(ids)?;
        let remote = self.remote(connection, deployment).await?;
        deployment::download(&remote, lib, &ids, cancel, progress).await
    }

    /// Deletes server copies, and the library's only when asked ([`deployment::delete`]).
    pub async fn delete(
        &self,
        connection: &str,
        deployment: &str,
        lib: &Library,
        ids: &[String],
        also_library: bool,
    ) -> Result<SnapshotsDeleted> {
        let ids = parse_ids(ids)?;
        let remote = self.remote(connection, deployment).await?;
        let r = deployment::delete(&remote, lib, &ids, also_library, &Cancel::new()).await;
        if let Err(e) = &r {
            self.learn_from_error(connection, remote.deployment(), e);
        }
        r
    }

    /// A request as a curl command, the key written as `$LD_API_KEY` (no key is read).
    pub fn curl(&self, connection: &str, deployment: &str, request: &ApiRequest) -> Result<String> {
        deployment::curl(&self.target(connection, deployment)?, request)
    }
}

impl Waited {
    /// How the wait ended, as a title and a line (a desktop notification says this).
    pub fn summary(&self) -> (String, String) {
        let s = &self.snapshot;
        match self.end {
            WaitEnd::Completed => (
                format!("Snapshot {} completed", s.name),
                format!("All {} nodes have an archive to download.", s.items.len()),
            ),
            WaitEnd::Failed => {
                let failed: Vec<String> = s.failed_nodes().map(|i| i.node_id.to_string()).collect();
                (
                    format!("Snapshot {} failed on {} nodes", s.name, failed.len()),
                    format!("Failed nodes: {}", failed.join(", ")),
                )
            }
            WaitEnd::TimedOut => (
                format!("Snapshot {} is still processing", s.name),
                format!(
                    "{}/{} nodes completed; it goes on on the Supervisor.",
                    s.completed_nodes(),
                    s.items.len()
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_past_2_pow_53_parse_exactly_and_a_bad_one_is_named() {
        assert_eq!(
            parse_ids(&["9007199254740993".into()]).unwrap(),
            vec![9_007_199_254_740_993]
        );
        let e = parse_ids(&["1".into(), "x1".into()]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains("snapshot id"), "{}", e.message);
    }
}
