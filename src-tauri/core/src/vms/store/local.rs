//! The request store in this machine's SQLite, for one operator without etcd.
//! Same records and compare-and-set rules as the etcd store; the revision is
//! a store-wide counter bumped inside each write transaction.

use async_trait::async_trait;
use serde::{de::DeserializeOwned, Serialize};
use sqlx::{Sqlite, SqliteConnection, Transaction};

use super::{
    DecisionRecord, ExecLock, ExtensionRecord, ExtensionRecords, Listing, Records, RequestRecord, RequestStore, RunRecord, StoreProblem,
    Trust, Versioned,
};
use crate::cache::Db;
use crate::error::{Error, Result};
use crate::vms::ipam::{IpLease, IpPool};
use crate::vms::model::{Decision, Quota, Stage};

/// How long a local execution lock lives without being released (a crashed
/// process must not block a request forever): 10 minutes, or
/// `OPSDECK_PROVISION_LOCK_SECS` seconds (tests, or an operator who knows
/// their clones are short).
const LOCK_TTL_MS: i64 = 10 * 60 * 1000;

fn lock_ttl_ms() -> i64 {
    std::env::var("OPSDECK_PROVISION_LOCK_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|s| *s > 0)
        .map_or(LOCK_TTL_MS, |s| s.saturating_mul(1000))
}

#[derive(Clone)]
pub struct LocalStore {
    db: Db,
}

impl LocalStore {
    pub fn new(db: Db) -> LocalStore {
        LocalStore { db }
    }

    pub(super) fn db(&self) -> &Db {
        &self.db
    }
}

pub(super) fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("cannot serialise a VM request record: {e}")))
}

pub(super) fn from_json<T: DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| Error::Storage(format!("the stored {what} does not parse ({e}); was it written by a newer Opsdeck?")))
}

pub(super) async fn bump(tx: &mut Transaction<'_, Sqlite>) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("UPDATE vm_revision SET n = n + 1 RETURNING n").fetch_one(&mut **tx).await?;
    Ok(n)
}

async fn load(db: &Db, id: &str) -> Result<Option<Records>> {
    let mut conn = db.pool().acquire().await?;
    load_in(&mut conn, id).await
}

async fn load_in(conn: &mut SqliteConnection, id: &str) -> Result<Option<Records>> {
    let Some((record, revision)): Option<(String, i64)> =
        sqlx::query_as("SELECT record, revision FROM vm_requests WHERE id = ?").bind(id).fetch_optional(&mut *conn).await?
    else {
        return Ok(None);
    };
    let decisions: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT stage, record, revision FROM vm_decisions WHERE id = ?").bind(id).fetch_all(&mut *conn).await?;
    let run: Option<(String, i64)> =
        sqlx::query_as("SELECT record, revision FROM vm_runs WHERE id = ?").bind(id).fetch_optional(&mut *conn).await?;
    let mut r = records(&record, revision, decisions, run)?;
    let rows: Vec<ExtensionRow> = sqlx::query_as(EXTENSIONS_SQL).bind(id).fetch_all(&mut *conn).await?;
    let quotas = quotas_in(conn).await?;
    with_extensions(&mut r, rows, &quotas)?;
    let rules = super::rules_local::rules_in(conn, Some(&r.request.value.spec.department)).await?;
    super::rules_local::attach(&mut r, &rules);
    super::local_delegation::read(conn).await?.fill(std::slice::from_mut(&mut r));
    Ok(Some(r))
}

/// A row of `vm_extensions`: request id, n, record, revision, decision and its revision.
type ExtensionRow = (String, i64, String, i64, Option<String>, Option<i64>);
const EXTENSIONS_SQL: &str = "SELECT id, n, record, revision, decision, decision_revision FROM vm_extensions WHERE id = ? ORDER BY n";

async fn quotas_in(conn: &mut SqliteConnection) -> Result<Vec<(String, Quota)>> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT department, quota FROM vm_quotas").fetch_all(&mut *conn).await?;
    rows.into_iter().map(|(d, q)| Ok((d, from_json("quota", &q)?))).collect()
}

/// Adds a request's lease extensions and its department's longest lease to its records.
fn with_extensions(r: &mut Records, rows: Vec<ExtensionRow>, quotas: &[(String, Quota)]) -> Result<()> {
    for (_, _, rec, rev, decision, decision_rev) in rows {
        let decisions = match (decision, decision_rev) {
            (Some(d), Some(drev)) => {
                vec![Versioned { value: from_json::<DecisionRecord>("extension decision", &d)?, revision: drev, writer: None }]
            }
            _ => vec![],
        };
        let record = Versioned { value: from_json::<ExtensionRecord>("lease extension", &rec)?, revision: rev, writer: None };
        r.extensions.push(ExtensionRecords { record, decisions });
    }
    let dept = &r.request.value.spec.department;
    r.max_lease_days = quotas.iter().find(|(d, _)| d == dept).map_or(0, |(_, q)| q.max_lease_days);
    Ok(())
}

/// One request's records from its rows: the request, its decisions as
/// (stage, record, revision), its run record.
fn records(record: &str, revision: i64, decisions: Vec<(String, String, i64)>, run: Option<(String, i64)>) -> Result<Records> {
    let v = |value, revision| Versioned { value, revision, writer: None };
    Ok(Records {
        request: v(from_json("request", record)?, revision),
        decisions: decisions
            .into_iter()
            .map(|(_, rec, rev)| Ok(Versioned { value: from_json::<DecisionRecord>("decision", &rec)?, revision: rev, writer: None }))
            .collect::<Result<_>>()?,
        run: match run {
            Some((rec, rev)) => Some(Versioned { value: from_json("run record", &rec)?, revision: rev, writer: None }),
            None => None,
        },
        turn: 0,
        trust: Trust::Personal,
        extensions: vec![],
        max_lease_days: 0,
        rule: None,
        delegation: Default::default(),
    })
}

/// The run record's compare-and-set, inside a write transaction at revision `rev`.
async fn put_run_in(tx: &mut Transaction<'_, Sqlite>, current: &Records, run: &RunRecord, rev: i64) -> Result<()> {
    let id = &current.request.value.id;
    let (req_rev,): (i64,) = sqlx::query_as("SELECT revision FROM vm_requests WHERE id = ?").bind(id).fetch_one(&mut **tx).await?;
    if req_rev != current.request.revision {
        return Err(Error::Conflict(format!("VM request {id} changed meanwhile: reload it")));
    }
    let changed = match &current.run {
        None => sqlx::query("INSERT INTO vm_runs (id, record, revision) VALUES (?, ?, ?) ON CONFLICT(id) DO NOTHING")
            .bind(id)
            .bind(to_json(run)?)
            .bind(rev)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
        Some(seen) => sqlx::query("UPDATE vm_runs SET record = ?, revision = ? WHERE id = ? AND revision = ?")
            .bind(to_json(run)?)
            .bind(rev)
            .bind(id)
            .bind(seen.revision)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    };
    if changed == 0 {
        return Err(Error::Conflict(format!("VM request {id} was moved by someone else meanwhile")));
    }
    Ok(())
}

/// Inserts a new request at revision `rev`, inside a write transaction: the
/// VM name is free unless a live request holds it.
pub(super) async fn insert_request(tx: &mut Transaction<'_, Sqlite>, record: &RequestRecord, rev: i64) -> Result<()> {
    let holders: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM vm_requests WHERE name = ?").bind(&record.spec.name).fetch_all(&mut **tx).await?;
    for (id,) in holders {
        if let Some(r) = load_in(tx, &id).await? {
            let s = r.compose().state;
            if s.is_pending() || s.holds_vm() {
                return Err(Error::Conflict(format!(
                    "name \"{}\" is already asked for by request {id} ({})",
                    record.spec.name,
                    s.as_str()
                )));
            }
        }
    }
    let inserted = sqlx::query("INSERT INTO vm_requests (id, name, record, revision) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING")
        .bind(&record.id)
        .bind(&record.spec.name)
        .bind(to_json(record)?)
        .bind(rev)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if inserted == 0 {
        return Err(Error::Conflict(format!("VM request {} already exists", record.id)));
    }
    Ok(())
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

struct LocalLock {
    db: Db,
    id: String,
    owner: String,
    /// Never cancelled: only this machine's processes share the lock, and it
    /// lasts [`LOCK_TTL_MS`] (or `OPSDECK_PROVISION_LOCK_SECS`).
    lost: tokio_util::sync::CancellationToken,
}

#[async_trait]
impl ExecLock for LocalLock {
    fn lost(&self) -> tokio_util::sync::CancellationToken {
        self.lost.clone()
    }

    async fn release(self: Box<Self>) {
        let _ =
            sqlx::query("DELETE FROM vm_locks WHERE id = ? AND owner = ?").bind(&self.id).bind(&self.owner).execute(self.db.pool()).await;
    }
}

#[async_trait]
impl RequestStore for LocalStore {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn authenticated_user(&self) -> Option<String> {
        None
    }

    fn trust(&self) -> Trust {
        Trust::Personal
    }

    /// Every request: one query per table, in one read transaction (one
    /// consistent snapshot), grouped by request id.
    async fn list(&self) -> Result<Listing> {
        let mut tx = self.db.pool().begin().await?;
        let requests: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT id, record, revision FROM vm_requests ORDER BY id").fetch_all(&mut *tx).await?;
        let decision_rows: Vec<(String, String, String, i64)> =
            sqlx::query_as("SELECT id, stage, record, revision FROM vm_decisions").fetch_all(&mut *tx).await?;
        let run_rows: Vec<(String, String, i64)> = sqlx::query_as("SELECT id, record, revision FROM vm_runs").fetch_all(&mut *tx).await?;
        let ext_rows: Vec<ExtensionRow> =
            sqlx::query_as("SELECT id, n, record, revision, decision, decision_revision FROM vm_extensions ORDER BY id, n")
                .fetch_all(&mut *tx)
                .await?;
        let quotas = quotas_in(&mut tx).await?;
        let rules = super::rules_local::rules_in(&mut tx, None).await?;
        let (at,): (i64,) = sqlx::query_as("SELECT n FROM vm_revision").fetch_one(&mut *tx).await?;
        let delegation = super::local_delegation::read(&mut tx).await?;
        tx.commit().await?;
        let mut extensions: std::collections::HashMap<String, Vec<ExtensionRow>> = std::collections::HashMap::new();
        for row in ext_rows {
            extensions.entry(row.0.clone()).or_default().push(row);
        }
        let mut decisions: std::collections::HashMap<String, Vec<(String, String, i64)>> = std::collections::HashMap::new();
        for (id, stage, rec, rev) in decision_rows {
            decisions.entry(id).or_default().push((stage, rec, rev));
        }
        let mut runs: std::collections::HashMap<String, (String, i64)> =
            run_rows.into_iter().map(|(id, rec, rev)| (id, (rec, rev))).collect();
        let mut out = Listing { at, ..Listing::default() };
        for (id, record, revision) in requests {
            let found = records(&record, revision, decisions.remove(&id).unwrap_or_default(), runs.remove(&id))
                .and_then(|mut r| with_extensions(&mut r, extensions.remove(&id).unwrap_or_default(), &quotas).map(|()| r))
                .map(|mut r| {
                    super::rules_local::attach(&mut r, &rules);
                    r
                });
            match found {
                Ok(r) => out.records.push(r),
                Err(e) => out.problems.push(StoreProblem { key: format!("request {id}"), reason: format!("{e}: skipped") }),
            }
        }
        delegation.fill(&mut out.records);
        Ok(out)
    }

    async fn get(&self, id: &str) -> Result<Records> {
        load(&self.db, id).await?.ok_or_else(|| Error::NotFound(format!("VM request {id} does not exist")))
    }

    async fn create(&self, record: &RequestRecord) -> Result<Records> {
        let mut tx = self.db.pool().begin().await?;
        // The bump takes SQLite's write lock first, so the name check and the
        // insert are atomic against other writers.
        let rev = bump(&mut tx).await?;
        insert_request(&mut tx, record, rev).await?;
        tx.commit().await?;
        self.get(&record.id).await
    }

    async fn update(&self, current: &Records, record: &RequestRecord) -> Result<Records> {
        let id = &record.id;
        let mut tx = self.db.pool().begin().await?;
        let rev = bump(&mut tx).await?;
        let changed = sqlx::query("UPDATE vm_requests SET record = ?, name = ?, revision = ? WHERE id = ? AND revision = ?")
            .bind(to_json(record)?)
            .bind(&record.spec.name)
            .bind(rev)
            .bind(id)
            .bind(current.request.revision)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(Error::Conflict(format!("VM request {id} changed meanwhile: reload it")));
        }
        tx.commit().await?;
        self.get(id).await
    }

    async fn decide(&self, current: &Records, stage: Stage, decision: &Decision) -> Result<Records> {
        let id = &current.request.value.id;
        let mut tx = self.db.pool().begin().await?;
        let rev = bump(&mut tx).await?;
        let (req_rev,): (i64,) = sqlx::query_as("SELECT revision FROM vm_requests WHERE id = ?").bind(id).fetch_one(&mut *tx).await?;
        if req_rev != current.request.revision {
            return Err(Error::Conflict(format!("VM request {id} changed meanwhile: reload it and decide again")));
        }
        let rec = DecisionRecord { decision: decision.clone(), request_revision: current.request.revision };
        let seen = current.decisions.iter().find(|d| d.value.decision.stage == stage).map(|d| d.revision);
        let changed = match seen {
            None => {
                sqlx::query("INSERT INTO vm_decisions (id, stage, record, revision) VALUES (?, ?, ?, ?) ON CONFLICT(id, stage) DO NOTHING")
                    .bind(id)
                    .bind(stage.as_str())
                    .bind(to_json(&rec)?)
                    .bind(rev)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            }
            Some(seen) => sqlx::query("UPDATE vm_decisions SET record = ?, revision = ? WHERE id = ? AND stage = ? AND revision = ?")
                .bind(to_json(&rec)?)
                .bind(rev)
                .bind(id)
                .bind(stage.as_str())
                .bind(seen)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
        };
        if changed == 0 {
            return Err(Error::Conflict(format!("VM request {id}: someone else decided the {} step first", stage.as_str())));
        }
        tx.commit().await?;
        self.get(id).await
    }

    async fn put_run(&self, current: &Records, run: &RunRecord) -> Result<Records> {
        let id = &current.request.value.id;
        let mut tx = self.db.pool().begin().await?;
        let rev = bump(&mut tx).await?;
        put_run_in(&mut tx, current, run, rev).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Files extension `ext`: refused when the request changed since it was
    /// read or an extension under that number exists (two asks at once: one).
    async fn put_extension(&self, current: &Records, ext: &ExtensionRecord) -> Result<Records> {
        let id = &current.request.value.id;
        let mut tx = self.db.pool().begin().await?;
        let rev = bump(&mut tx).await?;
        let (req_rev,): (i64,) = sqlx::query_as("SELECT revision FROM vm_requests WHERE id = ?").bind(id).fetch_one(&mut *tx).await?;
        if req_rev != current.request.revision {
            return Err(Error::Conflict(format!("VM request {id} changed meanwhile: reload it")));
        }
        let inserted = sqlx::query("INSERT INTO vm_extensions (id, n, record, revision) VALUES (?, ?, ?, ?) ON CONFLICT(id, n) DO NOTHING")
            .bind(id)
            .bind(i64::from(ext.n))
            .bind(to_json(ext)?)
            .bind(rev)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if inserted == 0 {
            return Err(Error::Conflict(format!("VM request {id}: extension {} was asked for meanwhile; reload it", ext.n)));
        }
        tx.commit().await?;
        self.get(id).await
    }

    /// Records the decision on extension `n` if the extension is as read and
    /// nobody decided it yet (of two approvers at once, one wins).
    async fn decide_extension(&self, current: &Records, n: u32, decision: &Decision) -> Result<Records> {
        let id = &current.request.value.id;
        let ext = current
            .extensions
            .iter()
            .find(|e| e.record.value.n == n)
            .ok_or_else(|| Error::NotFound(format!("request {id} has no extension {n}")))?;
        let rec = DecisionRecord { decision: decision.clone(), request_revision: ext.record.revision };
        let mut tx = self.db.pool().begin().await?;
        let rev = bump(&mut tx).await?;
        let changed = sqlx::query(
            "UPDATE vm_extensions SET decision = ?, decision_revision = ? WHERE id = ? AND n = ? AND revision = ? AND decision IS NULL",
        )
        .bind(to_json(&rec)?)
        .bind(rev)
        .bind(id)
        .bind(i64::from(n))
        .bind(ext.record.revision)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(Error::Conflict(format!("VM request {id}: the extension changed or someone decided first; reload it")));
        }
        tx.commit().await?;
        self.get(id).await
    }

    async fn lock(&self, id: &str, owner: &str) -> Result<Option<Box<dyn ExecLock>>> {
        let now = now_ms();
        let taken = sqlx::query(
            "INSERT INTO vm_locks (id, owner, until_ms) VALUES (?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms
             WHERE vm_locks.until_ms < ?",
        )
        .bind(id)
        .bind(owner)
        .bind(now + lock_ttl_ms())
        .bind(now)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        Ok((taken == 1).then(|| {
            Box::new(LocalLock { db: self.db.clone(), id: id.into(), owner: owner.into(), lost: Default::default() }) as Box<dyn ExecLock>
        }))
    }

    async fn quotas(&self) -> Result<Vec<(String, Quota)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT department, quota FROM vm_quotas ORDER BY department").fetch_all(self.db.pool()).await?;
        rows.into_iter().map(|(d, q)| Ok((d, from_json("quota", &q)?))).collect()
    }

    async fn set_quota(&self, department: &str, quota: &Quota) -> Result<()> {
        sqlx::query("INSERT INTO vm_quotas (department, quota) VALUES (?, ?) ON CONFLICT(department) DO UPDATE SET quota = excluded.quota")
            .bind(department)
            .bind(to_json(quota)?)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn ip_pools(&self) -> Result<Vec<IpPool>> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT pool FROM vm_ip_pools ORDER BY network").fetch_all(self.db.pool()).await?;
        rows.into_iter().map(|(p,)| from_json("IP pool", &p)).collect()
    }

    async fn set_ip_pool(&self, pool: &IpPool) -> Result<()> {
        sqlx::query("INSERT INTO vm_ip_pools (network, pool) VALUES (?, ?) ON CONFLICT(network) DO UPDATE SET pool = excluded.pool")
            .bind(&pool.network)
            .bind(to_json(pool)?)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn remove_ip_pool(&self, network: &str) -> Result<()> {
        let mut tx = self.db.pool().begin().await?;
        bump(&mut tx).await?;
        let (held,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM vm_ip_leases WHERE network = ?").bind(network).fetch_one(&mut *tx).await?;
        if held > 0 {
            return Err(Error::Conflict(format!(
                "network \"{network}\" has {held} address(es) held by requests: destroy their VMs (or let the attempts end) first"
            )));
        }
        let gone = sqlx::query("DELETE FROM vm_ip_pools WHERE network = ?").bind(network).execute(&mut *tx).await?.rows_affected();
        if gone == 0 {
            return Err(Error::NotFound(format!("network \"{network}\" has no IP settings")));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn ip_leases(&self, network: Option<&str>) -> Result<Vec<IpLease>> {
        let rows: Vec<(String, String, String)> = match network {
            Some(n) => sqlx::query_as("SELECT network, address, request FROM vm_ip_leases WHERE network = ? ORDER BY address").bind(n),
            None => sqlx::query_as("SELECT network, address, request FROM vm_ip_leases ORDER BY network, address"),
        }
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|(network, address, request)| IpLease { network, address, request }).collect())
    }

    async fn put_run_claiming(&self, current: &Records, run: &RunRecord, lease: &IpLease) -> Result<Records> {
        let id = &current.request.value.id;
        if lease.request != *id {
            return Err(Error::Internal(format!("an address for request {} cannot be taken with request {id}", lease.request)));
        }
        let mut tx = self.db.pool().begin().await?;
        let rev = bump(&mut tx).await?;
        // Taken first: the insert and the run update commit together or not at all.
        let holder: Option<(String,)> = sqlx::query_as(
            "INSERT INTO vm_ip_leases (network, address, request) VALUES (?, ?, ?)
             ON CONFLICT(network, address) DO UPDATE SET request = request RETURNING request",
        )
        .bind(&lease.network)
        .bind(&lease.address)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((other,)) = holder.filter(|(h,)| h != id) {
            return Err(Error::Conflict(format!(
                "address {} of network \"{}\" is already held by request {other}",
                lease.address, lease.network
            )));
        }
        put_run_in(&mut tx, current, run, rev).await?;
        tx.commit().await?;
        self.get(id).await
    }

    async fn release_ips(&self, request: &str) -> Result<Vec<IpLease>> {
        let rows: Vec<(String, String)> = sqlx::query_as("DELETE FROM vm_ip_leases WHERE request = ? RETURNING network, address")
            .bind(request)
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.into_iter().map(|(network, address)| IpLease { network, address, request: request.to_string() }).collect())
    }
}
