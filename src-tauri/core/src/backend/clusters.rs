//! The Clusters workspace on the backend: health of a Kubernetes connection's
//! contexts, with the last result cached in SQLite so the view shows it (and
//! its age) before the network answers.

use std::time::Duration;

use super::Backend;
use crate::cache::snapshots::{self, Snapshot};
use crate::clusters::health::check_all;
use crate::clusters::ClusterHealth;
use crate::connections::ConnectionSpec;
use crate::error::{Error, Result};

/// Cache scope of the last health result.
pub const HEALTH_SCOPE: &str = "cluster-health";
/// Deadline per context.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(10);

impl Backend {
    /// Checks every selected context of a Kubernetes connection now, and caches the result.
    pub async fn cluster_health(&self, connection_id: &str) -> Result<Vec<ClusterHealth>> {
        let stored = crate::connections::store::get(&self.db, connection_id).await?;
        let ConnectionSpec::Kubernetes { kubeconfig, contexts } = &stored.connection.spec else {
            return Err(Error::invalid(format!("connection \"{}\" is not a Kubernetes connection", stored.connection.name)));
        };
        let token = match &stored.secret_ref {
            Some(account) => self.keychain.get(account).await?,
            None => None,
        };
        let result = check_all(kubeconfig, contexts, token.as_ref(), HEALTH_TIMEOUT).await?;
        snapshots::put(&self.db, connection_id, HEALTH_SCOPE, &result).await?;
        Ok(result)
    }

    /// The last cached health of a connection, with the time it was taken.
    pub async fn cached_cluster_health(&self, connection_id: &str) -> Result<Option<Snapshot<Vec<ClusterHealth>>>> {
        snapshots::get(&self.db, connection_id, HEALTH_SCOPE).await
    }
}
