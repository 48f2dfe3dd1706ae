//! The team plane on the backend: the team trail (read, filtered, verified)
//! and the local log's chain check.

use super::vms::StoreChoice;
use super::Backend;
use crate::cache::audit;
use crate::error::{Error, Result};
use crate::team::chain::Break;
use crate::team::trail::{self, TrailFilter, TrailReport};

impl Backend {
    /// The team trail of `choice` (default: the team store in the
    /// settings), verified, then filtered; the breaks are always all of them.
    pub async fn team_trail(&self, choice: Option<&StoreChoice>, filter: &TrailFilter) -> Result<TrailReport> {
        let choice = match choice {
            Some(c) => c.clone(),
            None => self.vm_settings().await?.store,
        };
        let team = self.team_store(&choice).await?.ok_or_else(|| {
            Error::invalid("no team store is set: choose a shared etcd store in the VM settings, or name one (--etcd CONNECTION)")
        })?;
        let mut report = trail::read(&team).await?;
        report.entries.retain(|e| filter.matches(&e.entry));
        Ok(report)
    }

    /// Where the local audit log's hash chain is broken (empty = intact).
    pub async fn audit_verify_local(&self) -> Result<Vec<Break>> {
        audit::verify(&self.db).await
    }
}
