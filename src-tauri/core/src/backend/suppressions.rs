//! Image scan suppressions in the team store (issue 15 item 4): added,
//! listed and removed by the CLI (`opsdeck scan suppress …`), and applied by
//! every scan, the app's and CI's, when the settings name a shared store.

use super::Backend;
use crate::cache::db::now_rfc3339;
use crate::error::{Error, Result};
use crate::team::suppressions::{self, NewSuppression, TeamSuppression};
use crate::team::TeamStore;

impl Backend {
    /// The team store of the settings, when one is shared.
    async fn suppressions_team(&self) -> Result<Option<TeamStore>> {
        self.team_store(&self.vm_settings().await?.store).await
    }

    async fn required_team(&self) -> Result<TeamStore> {
        self.suppressions_team().await?.ok_or_else(|| {
            Error::invalid("no team store is set: team suppressions live in the shared etcd store (the team store chosen in Settings → VMs); use an opsdeck-ignore.yaml file otherwise")
        })
    }

    /// The team's suppressions and the records refused as problems; `None`
    /// when no team store is set.
    pub async fn team_suppressions(&self) -> Result<Option<(Vec<TeamSuppression>, Vec<String>)>> {
        match self.suppressions_team().await? {
            Some(team) => Ok(Some(suppressions::list(&team).await?)),
            None => Ok(None),
        }
    }

    /// Adds a suppression as the team store's user. Audited, refused or not.
    pub async fn suppress_add(&self, n: &NewSuppression) -> Result<TeamSuppression> {
        let team = self.required_team().await?;
        let r = async {
            suppressions::validate(n, time::OffsetDateTime::now_utc().date())?;
            let id = format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
            suppressions::add(&team, n, &id, &now_rfc3339()).await
        }
        .await;
        let detail = r.as_ref().map(describe);
        self.audit_in(Some(&team), "docker", n.vulnerability.trim(), "image.suppression.add", detail).await;
        r
    }

    /// Removes one of the user's own suppressions. Audited, refused or not.
    pub async fn suppress_remove(&self, id: &str) -> Result<TeamSuppression> {
        let team = self.required_team().await?;
        let r = suppressions::remove(&team, id).await;
        let detail = r.as_ref().map(|s| format!("removed {}", describe(s)));
        let target = r.as_ref().map(|s| s.suppression.id.clone()).unwrap_or_else(|_| id.to_string());
        self.audit_in(Some(&team), "docker", &target, "image.suppression.remove", detail).await;
        r
    }
}

fn describe(s: &TeamSuppression) -> String {
    let x = &s.suppression;
    let scope = [x.package.as_ref().map(|p| format!("package {p}")), x.image.as_ref().map(|i| format!("image {i}"))]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let scope = if scope.is_empty() { "every package and image".to_string() } else { scope };
    format!("suppression {} of {} ({scope}) by {} until {}: {}", s.id, x.id, x.author, x.expires, x.reason)
}

impl Backend {
    /// Applies the team's suppressions to a scan of the app (the CLI merges
    /// them with its file's). A team store that cannot be read hides
    /// nothing, and the report says so in its notes.
    pub async fn apply_team_suppressions(&self, report: &mut crate::scanner::scan::ScanReport, policy: &crate::scanner::policy::Policy) {
        match Box::pin(self.team_suppressions()).await {
            Ok(None) => {}
            Ok(Some((list, problems))) => {
                report.notes.extend(problems.into_iter().map(|p| format!("team suppressions: {p}")));
                let options = crate::scanner::gate::GateOptions {
                    suppressions: list.into_iter().map(|s| s.suppression).collect(),
                    ..Default::default()
                };
                crate::scanner::gate::apply(report, policy, &options);
            }
            Err(e) => report.notes.push(format!("the team's suppressions could not be read ({e}): none applied")),
        }
    }
}
