//! The team plane on the backend: the team trail (read, filtered, verified),
//! the local log's chain check, and config change requests.

use super::config::EtcdSession;
use super::vms::StoreChoice;
use super::Backend;
use crate::cache::audit;
use crate::cache::db::now_rfc3339;
use crate::config::promote::{self, PromotePlan, PromoteSelection, PromoteSideName};
use crate::config::transfer::DocValue;
use crate::config::MAX_TXN_OPS;
use crate::error::{Error, Result};
use crate::team::chain::Break;
use crate::team::changes::{self, ChangeOp, ChangeView};
use crate::team::trail::{self, TrailFilter, TrailReport};
use crate::team::TeamStore;
use crate::vms::store::StoreProblem;

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

// ---- config change requests (protected prefixes) -------------------------

impl Backend {
    /// The team store in the etcd of `s`, under `root` (auth required).
    fn team_of(&self, s: &EtcdSession, root: &str) -> Result<TeamStore> {
        let (client, user) = s.parts();
        TeamStore::new(client, root, user, &s.label, false)
    }

    /// Protects `prefix` in the etcd of `s` (an etcd root user). Audited.
    pub async fn config_protect(&self, s: &EtcdSession, root: &str, prefix: &str) -> Result<()> {
        let team = self.team_of(s, root)?;
        let r = changes::protect(&team, prefix, &now_rfc3339()).await;
        let detail = r.as_ref().map(|_| format!("on {}: writable by {} only; changes go through review", s.label, changes::ROLE_PUBLISHER));
        self.audit_in(Some(&team), "etcd", prefix, "config.protect", detail).await;
        r
    }

    /// Proposes a change of protected keys (`None` deletes). Audited.
    pub async fn change_propose(&self, s: &EtcdSession, root: &str, ops: &[(String, Option<String>)], comment: &str) -> Result<ChangeView> {
        let team = self.team_of(s, root)?;
        let comment = comment.trim();
        if comment.chars().count() > 1000 {
            return Err(Error::invalid("comment: at most 1000 characters"));
        }
        // A proposed value must pass its prefix's JSON Schema now, not at publish.
        Box::pin(self.schema_check(s, ops.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.as_bytes()))))).await?;
        let id = format!("c{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let r = Box::pin(changes::propose(&team, &id, ops, comment, &now_rfc3339())).await;
        let target = ops.first().map(|o| o.0.clone()).unwrap_or_default();
        let detail = r.as_ref().map(|c| format!("change {} of {} key(s) on {}: {}", c.id, c.ops.len(), s.label, c.comment));
        self.audit_in(Some(&team), "etcd", &target, "config.change.propose", detail).await;
        if let Ok(c) = &r {
            let keys: Vec<String> = c.ops.iter().map(|o| o.key.clone()).collect();
            self.notify(crate::notify::Event::config_change(&s.label, &c.id, &c.author, &keys, &c.comment)).await;
        }
        r
    }

    pub async fn change_list(&self, s: &EtcdSession, root: &str) -> Result<(Vec<ChangeView>, Vec<StoreProblem>)> {
        changes::list(&self.team_of(s, root)?).await
    }

    pub async fn change_get(&self, s: &EtcdSession, root: &str, id: &str) -> Result<ChangeView> {
        changes::get(&self.team_of(s, root)?, id).await
    }

    /// Approves or rejects a change (never one's own). Audited.
    pub async fn change_review(&self, s: &EtcdSession, root: &str, id: &str, approved: bool, comment: &str) -> Result<ChangeView> {
        let team = self.team_of(s, root)?;
        let r = Box::pin(changes::review(&team, id, approved, comment, &now_rfc3339())).await;
        let detail = r.as_ref().map(|c| format!("change {id} by {}: {}", c.author, if approved { "approved" } else { "rejected" }));
        self.audit_in(Some(&team), "etcd", id, if approved { "config.change.approve" } else { "config.change.reject" }, detail).await;
        r
    }

    /// Publishes an approved change in one guarded transaction. Audited.
    pub async fn change_publish(&self, s: &EtcdSession, root: &str, id: &str) -> Result<ChangeView> {
        let team = self.team_of(s, root)?;
        let r = Box::pin(changes::publish(&team, id, &now_rfc3339())).await;
        let detail = r.as_ref().map(|c| {
            format!(
                "change {id} by {}, approved by {}: {}",
                c.author,
                c.review.as_ref().map_or("?", |v| v.reviewer.as_str()),
                c.ops.iter().map(|o| o.key.as_str()).collect::<Vec<_>>().join(", ")
            )
        });
        self.audit_in(Some(&team), "etcd", id, "config.change.publish", detail).await;
        r
    }
}

/// The change requests of a team store, what was skipped, and the protected prefixes.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub struct ChangeList {
    pub changes: Vec<ChangeView>,
    pub problems: Vec<StoreProblem>,
    pub protected: Vec<String>,
}

impl Backend {
    /// The team root to use in the etcd of `connection_id`: the VM
    /// settings' team store prefix when that store is this connection, else
    /// the default.
    pub async fn team_root_for(&self, connection_id: &str) -> Result<String> {
        Ok(match self.vm_settings().await?.store {
            StoreChoice::Etcd { connection_id: c, prefix, .. } if c == connection_id => prefix,
            _ => crate::team::DEFAULT_ROOT.to_string(),
        })
    }

    /// [`Self::change_list`] with the protected prefixes, for the app.
    pub async fn change_overview(&self, s: &EtcdSession, root: &str) -> Result<ChangeList> {
        let team = self.team_of(s, root)?;
        let (changes, problems) = changes::list(&team).await?;
        Ok(ChangeList { changes, problems, protected: changes::protected(&team).await? })
    }
}

// ---- promotions into a protected prefix ------------------------------------

impl Backend {
    /// The protected prefixes of the target's team store (under its root)
    /// that the items of `plan` picked by `selection` would write under. A
    /// user who may not read the protected list gets none (etcd's RBAC still
    /// refuses their writes there).
    pub async fn config_promote_protected(
        &self,
        to: &EtcdSession,
        plan: &PromotePlan,
        selection: &PromoteSelection,
    ) -> Result<Vec<String>> {
        let (picked, _) = promote::select(plan, selection)?;
        let (client, user) = to.parts();
        let team = TeamStore::new(client, to.schema_root(), user, &to.label, true)?;
        let prefixes = match changes::protected(&team).await {
            Ok(p) => p,
            Err(Error::Forbidden(m)) => {
                tracing::warn!(connection = %to.label, "cannot read the protected prefixes ({m}): promoting as unprotected");
                return Ok(vec![]);
            }
            Err(e) => return Err(e),
        };
        let mut hit: Vec<String> = prefixes
            .into_iter()
            .filter(|p| picked.iter().any(|i| format!("{}{}", plan.to.prefix, i.rel).starts_with(p.as_str())))
            .collect();
        hit.sort();
        Ok(hit)
    }

    /// Files the reviewed `plan` (the items `selection` picks) as a change
    /// request on the target's team store instead of writing it: every op
    /// carries the value reviewed and, as its guard, the target revision
    /// reviewed — publishing the approved change writes exactly that, in one
    /// transaction, or nothing when a target key moved since the review
    /// (the change is stale and lists the keys). Refused, nothing filed,
    /// when a key on either side already moved since the review (listed),
    /// when a picked key is outside the protected prefixes (promote those
    /// separately), or for a binary value (a change request carries text).
    /// Audited as `config.promote.propose`.
    pub async fn config_promote_propose(
        &self,
        from: &EtcdSession,
        to: &EtcdSession,
        plan: &PromotePlan,
        selection: &PromoteSelection,
        comment: &str,
    ) -> Result<ChangeView> {
        let comment = comment.trim();
        if comment.chars().count() > 800 {
            return Err(Error::invalid("comment: at most 800 characters"));
        }
        super::config::check_plan_sessions(from, to, plan)?;
        let (picked, _) = promote::select(plan, selection)?;
        let (mut source, mut target) = (from.client(), to.client());
        from.context(to.context(promote::check_clusters(plan, &mut source, &mut target).await))?;
        let mut moved = from.context(promote::moved(&mut source, plan, PromoteSideName::Source, &picked, MAX_TXN_OPS).await)?;
        moved.extend(to.context(promote::moved(&mut target, plan, PromoteSideName::Target, &picked, MAX_TXN_OPS).await)?);
        if !moved.is_empty() {
            let keys: Vec<&str> = moved.iter().map(|m| m.key.as_str()).collect();
            return Err(Error::Conflict(format!(
                "promotion from {} not filed: changed since the review: {}; nothing filed — plan again",
                plan.from.label(),
                keys.join(", ")
            )));
        }
        let mut ops = Vec::with_capacity(picked.len());
        for i in &picked {
            let key = format!("{}{}", plan.to.prefix, i.rel);
            let value = match &i.value {
                None => None,
                Some(DocValue::Text(t)) => Some(t.clone()),
                Some(DocValue::Binary { .. }) => {
                    return Err(Error::invalid(format!(
                        "{key}: a binary value cannot go through a change request (it carries text); leave it out (--select) and promote it by a publisher"
                    )))
                }
            };
            let base_value = i.current.as_ref().map(|c| match c {
                DocValue::Text(t) => t.clone(),
                DocValue::Binary { base64 } => format!("(binary) base64:{base64}"),
            });
            ops.push(ChangeOp { key, value, base_revision: i.target_mod_revision, base_value });
        }
        Box::pin(self.schema_check_items(to, &plan.to.prefix, picked.iter().copied())).await?;
        let (client, user) = to.parts();
        let team = TeamStore::new(client, to.schema_root(), user, &to.label, false)?;
        let id = format!("c{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let what = format!(
            "promotion from {} (plan {}, reviewed at revisions {} → {}){}",
            plan.from.label(),
            &plan.checksum[..12.min(plan.checksum.len())],
            plan.from.revision,
            plan.to.revision,
            if comment.is_empty() { String::new() } else { format!(": {comment}") }
        );
        let r = Box::pin(changes::propose_reviewed(&team, &id, ops, &what, &now_rfc3339())).await;
        let detail = r.as_ref().map(|c| format!("change {} of {} key(s) on {}: {}", c.id, c.ops.len(), to.label, c.comment));
        self.audit_in(Some(&team), "etcd", &plan.to.prefix, "config.promote.propose", detail).await;
        if let Ok(c) = &r {
            let keys: Vec<String> = c.ops.iter().map(|o| o.key.clone()).collect();
            self.notify(crate::notify::Event::config_change(&to.label, &c.id, &c.author, &keys, &c.comment)).await;
        }
        r
    }
}
