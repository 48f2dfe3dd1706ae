//! Delegations, escalation policies and escalations in the local SQLite
//! store (migration 0015); the same rules as the etcd store's
//! (`etcd_delegation.rs`): compare-and-set on the store revision, an
//! escalation written once per step and request revision.

use async_trait::async_trait;
use sqlx::SqliteConnection;

use super::local::{bump, from_json, to_json, LocalStore};
use crate::error::{Error, Result};
use crate::vms::delegation::{Delegation, DelegationRecords, DelegationStore};
use crate::vms::escalation::{EscalationPolicy, EscalationRecord};
use crate::vms::store::{Records, RequestStore, Versioned};

async fn delegations_in(conn: &mut SqliteConnection) -> Result<Vec<Versioned<Delegation>>> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT record, revision FROM vm_delegations ORDER BY id").fetch_all(&mut *conn).await?;
    rows.into_iter().map(|(rec, rev)| Ok(Versioned { value: from_json("delegation", &rec)?, revision: rev, writer: None })).collect()
}

async fn policies_in(conn: &mut SqliteConnection) -> Result<Vec<EscalationPolicy>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT policy FROM vm_escalation_policies ORDER BY department").fetch_all(&mut *conn).await?;
    rows.into_iter().map(|(p,)| from_json("escalation policy", &p)).collect()
}

/// The delegation records of one read (the caller's snapshot).
pub(super) struct Snapshot {
    delegations: Vec<Versioned<Delegation>>,
    policies: Vec<EscalationPolicy>,
    escalations: Vec<(String, Versioned<EscalationRecord>)>,
}

pub(super) async fn read(conn: &mut SqliteConnection) -> Result<Snapshot> {
    let delegations = delegations_in(conn).await?;
    let policies = policies_in(conn).await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as("SELECT id, record, revision FROM vm_escalations").fetch_all(&mut *conn).await?;
    let mut escalations = Vec::new();
    for (id, rec, rev) in rows {
        escalations.push((id, Versioned { value: from_json("escalation", &rec)?, revision: rev, writer: None }));
    }
    Ok(Snapshot { delegations, policies, escalations })
}

impl Snapshot {
    /// Fills each record's delegation view: every delegation, its
    /// escalations, its department's policy.
    pub(super) fn fill(&self, records: &mut [Records]) {
        for r in records {
            let id = &r.request.value.id;
            r.delegation = DelegationRecords {
                delegations: self.delegations.clone(),
                escalations: self.escalations.iter().filter(|(i, _)| i == id).map(|(_, e)| e.clone()).collect(),
                policy: self.policies.iter().find(|p| p.department == r.request.value.spec.department).cloned(),
            };
        }
    }
}

#[async_trait]
impl DelegationStore for LocalStore {
    async fn delegations(&self) -> Result<Vec<Versioned<Delegation>>> {
        let mut conn = self.db().pool().acquire().await?;
        delegations_in(&mut conn).await
    }

    async fn put_delegation(&self, d: &Delegation, revision: i64) -> Result<()> {
        let mut tx = self.db().pool().begin().await?;
        let rev = bump(&mut tx).await?;
        let changed = if revision == 0 {
            sqlx::query("INSERT INTO vm_delegations (id, approver, record, revision) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING")
                .bind(&d.id)
                .bind(&d.approver)
                .bind(to_json(d)?)
                .bind(rev)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        } else {
            sqlx::query("UPDATE vm_delegations SET record = ?, revision = ? WHERE id = ? AND approver = ? AND revision = ?")
                .bind(to_json(d)?)
                .bind(rev)
                .bind(&d.id)
                .bind(&d.approver)
                .bind(revision)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        };
        if changed == 0 {
            return Err(Error::Conflict(format!("delegation {} changed meanwhile (or exists already): reload it", d.id)));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn escalation_policies(&self) -> Result<Vec<EscalationPolicy>> {
        let mut conn = self.db().pool().acquire().await?;
        policies_in(&mut conn).await
    }

    async fn set_escalation_policy(&self, p: &EscalationPolicy) -> Result<()> {
        sqlx::query(
            "INSERT INTO vm_escalation_policies (department, policy) VALUES (?, ?)
             ON CONFLICT(department) DO UPDATE SET policy = excluded.policy",
        )
        .bind(&p.department)
        .bind(to_json(p)?)
        .execute(self.db().pool())
        .await?;
        Ok(())
    }

    async fn remove_escalation_policy(&self, department: &str) -> Result<()> {
        let gone =
            sqlx::query("DELETE FROM vm_escalation_policies WHERE department = ?").bind(department).execute(self.db().pool()).await?;
        if gone.rows_affected() == 0 {
            return Err(Error::NotFound(format!("department \"{department}\" has no escalation policy")));
        }
        Ok(())
    }

    async fn put_escalation(&self, current: &Records, e: &EscalationRecord) -> Result<Option<Records>> {
        let id = &current.request.value.id;
        let mut tx = self.db().pool().begin().await?;
        // The bump takes SQLite's write lock: the checks and the write are one step.
        let rev = bump(&mut tx).await?;
        let (req_rev,): (i64,) = sqlx::query_as("SELECT revision FROM vm_requests WHERE id = ?").bind(id).fetch_one(&mut *tx).await?;
        let (decided,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(revision), 0) FROM vm_decisions WHERE id = ?").bind(id).fetch_one(&mut *tx).await?;
        let seen = current.decisions.iter().map(|d| d.revision).max().unwrap_or(0);
        if req_rev != current.request.revision || decided != seen {
            return Err(Error::Conflict(format!("VM request {id} was edited or decided meanwhile: not escalated")));
        }
        // Once per step and request revision: an older revision's row is replaced, a current one stays.
        let written = sqlx::query(
            "INSERT INTO vm_escalations (id, stage, record, request_revision, revision) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(id, stage) DO UPDATE SET record = excluded.record, request_revision = excluded.request_revision,
             revision = excluded.revision WHERE vm_escalations.request_revision < excluded.request_revision",
        )
        .bind(id)
        .bind(e.stage.as_str())
        .bind(to_json(e)?)
        .bind(e.request_revision)
        .bind(rev)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written == 0 {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(self.get(id).await?))
    }
}
