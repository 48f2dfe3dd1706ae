//! Auto-approval rules in the local SQLite store (migration 0014), and the
//! guarded filing of an auto-approved request: one write transaction that
//! checks the rule, the quota and the requests as read, then inserts.

use async_trait::async_trait;
use sqlx::SqliteConnection;

use super::local::{bump, from_json, insert_request, to_json, LocalStore};
use super::{Records, RequestRecord, RequestStore};
use crate::cache::db::now_rfc3339;
use crate::error::{Error, Result};
use crate::vms::model::Quota;
use crate::vms::rules::{ApprovalRule, AutoGuard, RuleRecord, RuleRemoval, RuleStore, RuleVersion};

type RuleRow = (String, i64, i64);

/// Every rule generation (of `department`, or all), oldest first.
pub(super) async fn rules_in(conn: &mut SqliteConnection, department: Option<&str>) -> Result<Vec<RuleVersion>> {
    let rows: Vec<RuleRow> = match department {
        Some(d) => {
            sqlx::query_as("SELECT record, created_rev, revision FROM vm_approval_rules WHERE department = ? ORDER BY name, generation")
                .bind(d)
        }
        None => sqlx::query_as("SELECT record, created_rev, revision FROM vm_approval_rules ORDER BY department, name, generation"),
    }
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(rec, created, revision)| Ok(RuleVersion { record: from_json::<RuleRecord>("approval rule", &rec)?, created, revision }))
        .collect()
}

/// Sets the rule generation a request's auto-approval names, if stored.
pub(super) fn attach(r: &mut Records, rules: &[RuleVersion]) {
    let req = &r.request.value;
    r.rule = req.auto_approval.as_ref().and_then(|a| {
        rules
            .iter()
            .find(|v| {
                v.record.rule.department == req.spec.department && v.record.rule.name == a.rule && v.record.generation == a.generation
            })
            .cloned()
    });
}

async fn live_in(conn: &mut SqliteConnection, department: &str, name: &str) -> Result<Option<RuleVersion>> {
    let row: Option<RuleRow> =
        sqlx::query_as("SELECT record, created_rev, revision FROM vm_approval_rules WHERE department = ? AND name = ? AND live = 1")
            .bind(department)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(rec, created, revision)| Ok(RuleVersion { record: from_json("approval rule", &rec)?, created, revision })).transpose()
}

async fn mark_removed(conn: &mut SqliteConnection, v: &RuleVersion, by: &str, rev: i64) -> Result<RuleVersion> {
    let mut record = v.record.clone();
    record.removed = Some(RuleRemoval { by: by.to_string(), at: now_rfc3339() });
    let r = &record.rule;
    sqlx::query("UPDATE vm_approval_rules SET record = ?, revision = ?, live = 0 WHERE department = ? AND name = ? AND generation = ?")
        .bind(to_json(&record)?)
        .bind(rev)
        .bind(&r.department)
        .bind(&r.name)
        .bind(i64::from(record.generation))
        .execute(&mut *conn)
        .await?;
    Ok(RuleVersion { record, created: v.created, revision: rev })
}

#[async_trait]
impl RuleStore for LocalStore {
    async fn approval_rules(&self, department: Option<&str>) -> Result<Vec<RuleVersion>> {
        let mut conn = self.db().pool().acquire().await?;
        rules_in(&mut conn, department).await
    }

    async fn put_approval_rule(&self, rule: &ApprovalRule, by: &str, replace: bool) -> Result<RuleVersion> {
        let mut tx = self.db().pool().begin().await?;
        let rev = bump(&mut tx).await?;
        if let Some(live) = live_in(&mut tx, &rule.department, &rule.name).await? {
            if !replace {
                return Err(Error::Conflict(format!(
                    "department {} already has a rule \"{}\" ({}): remove it first or replace it",
                    rule.department,
                    rule.name,
                    crate::vms::rules::describe(&live.record.rule)
                )));
            }
            mark_removed(&mut tx, &live, by, rev).await?;
        }
        let (last,): (Option<i64>,) = sqlx::query_as("SELECT MAX(generation) FROM vm_approval_rules WHERE department = ? AND name = ?")
            .bind(&rule.department)
            .bind(&rule.name)
            .fetch_one(&mut *tx)
            .await?;
        let generation = u32::try_from(last.unwrap_or(0) + 1).unwrap_or(u32::MAX);
        let record = RuleRecord { rule: rule.clone(), generation, added_by: by.to_string(), added_at: now_rfc3339(), removed: None };
        sqlx::query(
            "INSERT INTO vm_approval_rules (department, name, generation, record, created_rev, revision, live) VALUES (?, ?, ?, ?, ?, ?, 1)",
        )
        .bind(&rule.department)
        .bind(&rule.name)
        .bind(i64::from(generation))
        .bind(to_json(&record)?)
        .bind(rev)
        .bind(rev)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RuleVersion { record, created: rev, revision: rev })
    }

    async fn remove_approval_rule(&self, department: &str, name: &str, by: &str) -> Result<RuleVersion> {
        let mut tx = self.db().pool().begin().await?;
        let rev = bump(&mut tx).await?;
        let Some(live) = live_in(&mut tx, department, name).await? else {
            return Err(Error::NotFound(format!("department {department} has no approval rule \"{name}\"")));
        };
        let removed = mark_removed(&mut tx, &live, by, rev).await?;
        tx.commit().await?;
        Ok(removed)
    }

    async fn create_auto_approved(&self, record: &RequestRecord, guard: &AutoGuard) -> Result<Option<Records>> {
        let mut tx = self.db().pool().begin().await?;
        // The bump takes SQLite's write lock: nothing moves until the commit.
        let rev = bump(&mut tx).await?;
        let rule = &guard.rule.record.rule;
        let now = live_in(&mut tx, &rule.department, &rule.name).await?;
        if now.as_ref() != Some(&guard.rule) {
            return Ok(None);
        }
        let quota: Option<(String,)> =
            sqlx::query_as("SELECT quota FROM vm_quotas WHERE department = ?").bind(&rule.department).fetch_optional(&mut *tx).await?;
        match quota.map(|(q,)| from_json::<Quota>("quota", &q)).transpose()? {
            Some(q) if q == guard.quota => {}
            _ => return Ok(None),
        }
        let (moved,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM vm_requests WHERE revision > ?").bind(guard.listing_at).fetch_one(&mut *tx).await?;
        if moved > 0 {
            return Ok(None);
        }
        match insert_request(&mut tx, record, rev).await {
            Ok(()) => {}
            Err(Error::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        self.get(&record.id).await.map(Some)
    }
}
