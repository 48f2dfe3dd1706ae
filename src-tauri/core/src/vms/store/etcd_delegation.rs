//! Delegations, escalation policies and escalations in the team store, next
//! to the requests, each where only its rightful writer may write:
//!
//! | key under `<root>vms/`                                   | written by                                  |
//! |----------------------------------------------------------|---------------------------------------------|
//! | `decisions/manager/<dept>/<user>/delegation.<id>`        | that user, if they manage the department    |
//! | `decisions/admin/<user>/delegation.<id>`                 | that user, if an IT admin                   |
//! | `decisions/delegate/<user>/<request>`                    | that user (a decision as delegate)          |
//! | `escalation/<dept>`                                      | IT admins (timeout and escalation delegate) |
//! | `escalations/<stage>/<request>`                          | members (`opsdeck-approver`): the pass      |
//!
//! A delegation sits under the approver's own decision prefix, so etcd's
//! permission on it proves the approver holds the step delegated. Every
//! reader checks the rest ([`crate::vms::delegation::authorises`]).

use async_trait::async_trait;
use etcd_client::{Compare, CompareOp, Txn, TxnOp};

use super::etcd::{guard_rev, json, parse, EtcdStore};
use crate::error::{Error, Result};
use crate::vms::delegation::{Delegation, DelegationRecords, DelegationStore};
use crate::vms::escalation::{EscalationPolicy, EscalationRecord};
use crate::vms::model::Stage;
use crate::vms::store::{Records, RequestStore, Versioned};

/// The delegation keys of one range read, gathered while the requests are.
#[derive(Default)]
pub(super) struct Collected {
    delegations: Vec<Versioned<Delegation>>,
    escalations: Vec<(String, Versioned<EscalationRecord>)>,
    policies: Vec<EscalationPolicy>,
}

impl Collected {
    /// Takes the key if it is one of this module's (`segs`: its path under
    /// `vms/`): `Some(Err(why))` for a bad one (skipped), `None` if not one.
    pub(super) fn take(&mut self, segs: &[&str], value: &[u8], revision: i64) -> Option<std::result::Result<(), String>> {
        let taken = match segs {
            ["decisions", "manager", dept, user, last] if last.starts_with("delegation.") => match parse::<Delegation>(value) {
                Ok(d) if d.approver != *user || d.stage != Stage::Manager || d.department.as_deref() != Some(dept) => Err(format!(
                    "a delegation by \"{}\" of the {} step sits under manager \"{user}\" of \"{dept}\": skipped",
                    d.approver,
                    d.stage.as_str()
                )),
                Ok(d) if last[11..] != d.id => Err("a delegation under another id: skipped".into()),
                Ok(d) => {
                    self.delegations.push(Versioned { value: d, revision, writer: Some(user.to_string()) });
                    Ok(())
                }
                Err(e) => Err(format!("{e}: skipped")),
            },
            ["decisions", "admin", user, last] if last.starts_with("delegation.") => match parse::<Delegation>(value) {
                Ok(d) if d.approver != *user || d.stage != Stage::Admin => {
                    Err(format!("a delegation by \"{}\" sits under admin \"{user}\": skipped", d.approver))
                }
                Ok(d) if last[11..] != d.id => Err("a delegation under another id: skipped".into()),
                Ok(d) => {
                    self.delegations.push(Versioned { value: d, revision, writer: Some(user.to_string()) });
                    Ok(())
                }
                Err(e) => Err(format!("{e}: skipped")),
            },
            ["escalation", dept] => match parse::<EscalationPolicy>(value) {
                Ok(p) if p.department == *dept => {
                    self.policies.push(p);
                    Ok(())
                }
                Ok(_) => Err("an escalation policy of another department: skipped".into()),
                Err(e) => Err(format!("{e}: skipped")),
            },
            ["escalations", stage, id] => match parse::<EscalationRecord>(value) {
                Ok(e) if e.stage.as_str() == *stage => {
                    self.escalations.push((id.to_string(), Versioned { value: e, revision, writer: None }));
                    Ok(())
                }
                Ok(_) => Err("an escalation of another step: skipped".into()),
                Err(e) => Err(format!("{e}: skipped")),
            },
            _ => return None,
        };
        Some(taken)
    }

    /// The view of request `id` of `department`.
    pub(super) fn for_request(&self, id: &str, department: &str) -> DelegationRecords {
        DelegationRecords {
            delegations: self.delegations.clone(),
            escalations: self.escalations.iter().filter(|(i, _)| i == id).map(|(_, e)| e.clone()).collect(),
            policy: self.policies.iter().find(|p| p.department == department).cloned(),
        }
    }
}

impl EtcdStore {
    fn delegation_key(&self, d: &Delegation) -> Result<String> {
        let leaf = format!("delegation.{}", d.id);
        Ok(match (d.stage, &d.department) {
            (Stage::Manager, Some(dept)) => self.key(&["decisions", "manager", dept, &d.approver, &leaf]),
            (Stage::Admin, _) => self.key(&["decisions", "admin", &d.approver, &leaf]),
            (Stage::Manager, None) => return Err(Error::invalid("a manager delegation names its department")),
        })
    }

    /// A delegate's decision key.
    pub(super) fn delegate_decision_key(&self, user: &str, id: &str) -> String {
        self.key(&["decisions", "delegate", user, id])
    }
}

#[async_trait]
impl DelegationStore for EtcdStore {
    async fn delegations(&self) -> Result<Vec<Versioned<Delegation>>> {
        let kvs = self.range(&self.key(&["decisions", ""]), true).await?;
        let prefix_len = self.key(&[]).len();
        let mut c = Collected::default();
        for (key, value, revision, _) in kvs {
            let segs: Vec<&str> = key[prefix_len..].split('/').collect();
            if let Some(Err(why)) = c.take(&segs, &value, revision) {
                tracing::warn!(key = %key, "{why}");
            }
        }
        Ok(c.delegations)
    }

    async fn put_delegation(&self, d: &Delegation, revision: i64) -> Result<()> {
        let me = self.me(&d.approver);
        if me != d.approver {
            return Err(Error::Forbidden(format!("a delegation by {} cannot be written as {me}", d.approver)));
        }
        let key = self.delegation_key(d)?;
        let txn = Txn::new().when([guard_rev(&key, revision)]).and_then([TxnOp::put(key.as_str(), json(d)?, None)]);
        if !self.txn(if revision == 0 { "saving a delegation" } else { "revoking a delegation" }, txn).await? {
            return Err(Error::Conflict(format!("delegation {} changed meanwhile (or exists already): reload it", d.id)));
        }
        Ok(())
    }

    async fn escalation_policies(&self) -> Result<Vec<EscalationPolicy>> {
        let p = self.key(&["escalation", ""]);
        let kvs = self.range(&p, true).await?;
        Ok(kvs
            .into_iter()
            .filter_map(|(k, v, _, _)| match parse::<EscalationPolicy>(&v) {
                Ok(pol) if pol.department == k[p.len()..] => Some(pol),
                Ok(_) | Err(_) => {
                    tracing::warn!(key = %k, "skipping a malformed escalation policy");
                    None
                }
            })
            .collect())
    }

    async fn set_escalation_policy(&self, p: &EscalationPolicy) -> Result<()> {
        let txn = Txn::new().and_then([TxnOp::put(self.key(&["escalation", &p.department]), json(p)?, None)]);
        self.txn("saving an escalation policy", txn).await.map(|_| ())
    }

    async fn remove_escalation_policy(&self, department: &str) -> Result<()> {
        let key = self.key(&["escalation", department]);
        let txn =
            Txn::new().when([Compare::create_revision(key.as_str(), CompareOp::Greater, 0)]).and_then([TxnOp::delete(key.as_str(), None)]);
        if !self.txn("removing an escalation policy", txn).await? {
            return Err(Error::NotFound(format!("department \"{department}\" has no escalation policy")));
        }
        Ok(())
    }

    async fn put_escalation(&self, current: &Records, e: &EscalationRecord) -> Result<Option<Records>> {
        let req = &current.request.value;
        let owner = current.request.writer.clone().unwrap_or_else(|| req.requester.clone());
        let key = self.key(&["escalations", e.stage.as_str(), &req.id]);
        // Replaces only an escalation of an earlier request revision.
        let seen = current.delegation.escalations.iter().find(|x| x.value.stage == e.stage);
        if seen.is_some_and(|x| x.value.request_revision >= e.request_revision) {
            return Ok(None);
        }
        let txn = Txn::new()
            .when([
                guard_rev(&key, seen.map_or(0, |x| x.revision)),
                Compare::mod_revision(self.key(&["requests", &owner, &req.id]), CompareOp::Equal, current.request.revision),
                guard_rev(&self.key(&["turns", &req.id]), current.turn),
            ])
            .and_then([TxnOp::put(key.as_str(), json(e)?, None)]);
        if self.txn("escalating a VM request", txn).await? {
            return Ok(Some(self.get(&req.id).await?));
        }
        // Lost: another pass escalated it, or the request moved.
        let now = self.get(&req.id).await?;
        if now.delegation.escalations.iter().any(|x| x.value.stage == e.stage && x.value.request_revision == now.request.revision) {
            return Ok(None);
        }
        Err(Error::Conflict(format!("VM request {} was edited or decided meanwhile: not escalated", req.id)))
    }
}
