//! The shared request store in etcd (the cluster the Config workspace edits).
//!
//! Keys under the prefix (default `/opsdeck/vms/`), split by who writes them
//! so etcd's own roles enforce who may do what:
//!
//! | key                                   | written by                 |
//! |---------------------------------------|----------------------------|
//! | `requests/<id>`, `names/<vm-name>`    | requesters                 |
//! | `decisions/manager/<department>/<id>` | that department's managers |
//! | `decisions/admin/<id>`                | IT admins                  |
//! | `runs/<id>`, `locks/<id>`, `quotas/<department>` | IT admins (executor) |
//!
//! Every write is a transaction comparing the revisions read, so two
//! approvers can never both move one request; the execution lock is a key
//! bound to a lease that dies with the app instance holding it.
//! [`ensure_roles`] creates the roles (run once by an etcd root user).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{Client, Compare, CompareOp, GetOptions, Permission, PutOptions, Txn, TxnOp};
use serde::{de::DeserializeOwned, Serialize};
use tokio_util::sync::CancellationToken;

use super::{DecisionRecord, ExecLock, Records, RequestRecord, RequestStore, RunRecord, Versioned};
use crate::connectors::etcd::classify;
use crate::error::{with_timeout, Error, Result};
use crate::vms::model::{Decision, Quota, Stage};

pub const DEFAULT_PREFIX: &str = "/opsdeck/vms/";
const TIMEOUT: Duration = Duration::from_secs(10);
/// The execution lock outlives a crashed instance by at most this long.
const LOCK_TTL_SECS: i64 = 15;

pub const ROLE_REQUESTER: &str = "opsdeck-vm-requester";
pub const ROLE_ADMIN: &str = "opsdeck-vm-admin";

/// The manager role of one department.
pub fn manager_role(department: &str) -> String {
    format!("opsdeck-vm-manager-{department}")
}

pub fn validate_prefix(prefix: &str) -> Result<()> {
    if !prefix.starts_with('/') || !prefix.ends_with('/') || prefix.len() < 2 {
        return Err(Error::invalid(format!("request store prefix \"{prefix}\": must start and end with '/', e.g. {DEFAULT_PREFIX}")));
    }
    Ok(())
}

#[derive(Clone)]
pub struct EtcdStore {
    client: Client,
    prefix: String,
    user: Option<String>,
    label: String,
}

impl EtcdStore {
    /// `prefix` must end with `/`; `user` is the authenticated etcd user (or
    /// `None` when auth is off); `label` names the connection in errors.
    pub fn new(client: Client, prefix: &str, user: Option<String>, label: &str) -> Result<EtcdStore> {
        validate_prefix(prefix)?;
        Ok(EtcdStore { client, prefix: prefix.into(), user, label: label.into() })
    }

    fn key(&self, parts: &[&str]) -> String {
        format!("{}{}", self.prefix, parts.join("/"))
    }

    fn manager_key(&self, department: &str, id: &str) -> String {
        self.key(&["decisions", "manager", department, id])
    }

    fn err(&self, what: &str, e: etcd_client::Error) -> Error {
        match classify(e, &self.label, self.user.as_deref()) {
            Error::Forbidden(m) => Error::Forbidden(format!(
                "{what}: etcd refused it for user \"{}\" ({m}); ask an etcd administrator for the right Opsdeck VM role",
                self.user.as_deref().unwrap_or("none")
            )),
            other => other,
        }
    }

    async fn txn(&self, what: &str, txn: Txn) -> Result<bool> {
        let mut c = self.client.clone();
        let r = with_timeout(format!("etcd ({what})"), TIMEOUT, async { c.txn(txn).await.map_err(|e| self.err(what, e)) }).await?;
        Ok(r.succeeded())
    }

    async fn range(&self, key: &str, prefix: bool) -> Result<Vec<(String, Vec<u8>, i64)>> {
        let mut c = self.client.clone();
        let opts = prefix.then(|| GetOptions::new().with_prefix());
        let r = with_timeout("etcd (read VM requests)", TIMEOUT, async { c.get(key, opts).await.map_err(|e| self.err("reading VM requests", e)) }).await?;
        Ok(r.kvs().iter().map(|kv| (String::from_utf8_lossy(kv.key()).into_owned(), kv.value().to_vec(), kv.mod_revision())).collect())
    }
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Internal(format!("cannot serialise a VM request record: {e}")))
}

fn parse<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Storage(format!("etcd key {key} does not hold an Opsdeck VM record ({e})")))
}

/// Groups a range read of the whole prefix into records per request.
fn assemble(prefix: &str, kvs: Vec<(String, Vec<u8>, i64)>) -> Result<Vec<Records>> {
    #[derive(Default)]
    struct Parts {
        request: Option<Versioned<RequestRecord>>,
        manager: Option<Versioned<DecisionRecord>>,
        admin: Option<Versioned<DecisionRecord>>,
        run: Option<Versioned<RunRecord>>,
    }
    let mut by_id: BTreeMap<String, Parts> = BTreeMap::new();
    for (key, value, revision) in kvs {
        let rest = &key[prefix.len()..];
        let segs: Vec<&str> = rest.split('/').collect();
        match segs.as_slice() {
            ["requests", id] => by_id.entry(id.to_string()).or_default().request = Some(Versioned { value: parse(&key, &value)?, revision }),
            ["decisions", "manager", _, id] => by_id.entry(id.to_string()).or_default().manager = Some(Versioned { value: parse(&key, &value)?, revision }),
            ["decisions", "admin", id] => by_id.entry(id.to_string()).or_default().admin = Some(Versioned { value: parse(&key, &value)?, revision }),
            ["runs", id] => by_id.entry(id.to_string()).or_default().run = Some(Versioned { value: parse(&key, &value)?, revision }),
            _ => {}
        }
    }
    Ok(by_id
        .into_values()
        .filter_map(|p| p.request.map(|request| Records { request, manager: p.manager, admin: p.admin, run: p.run }))
        .collect())
}

struct EtcdLock {
    client: Client,
    lease: i64,
    stop: CancellationToken,
}

#[async_trait]
impl ExecLock for EtcdLock {
    async fn release(self: Box<Self>) {
        self.stop.cancel();
        let mut c = self.client.clone();
        let _ = tokio::time::timeout(TIMEOUT, c.lease_revoke(self.lease)).await;
    }
}

impl Drop for EtcdLock {
    fn drop(&mut self) {
        // Stops the keep-alive; the lease then expires within its TTL.
        self.stop.cancel();
    }
}

#[async_trait]
impl RequestStore for EtcdStore {
    fn kind(&self) -> &'static str {
        "etcd"
    }

    fn authenticated_user(&self) -> Option<String> {
        self.user.clone()
    }

    async fn list(&self) -> Result<Vec<Records>> {
        let kvs = self.range(&self.prefix, true).await?;
        assemble(&self.prefix, kvs)
    }

    async fn get(&self, id: &str) -> Result<Records> {
        // The request key, then its decisions and run (separate reads: every
        // write compares the revisions read, and `compose` ignores a decision
        // made on another request revision).
        let mut kvs = self.range(&self.key(&["requests", id]), false).await?;
        if kvs.is_empty() {
            return Err(Error::NotFound(format!("VM request {id} does not exist in etcd ({})", self.label)));
        }
        let rec: RequestRecord = parse(&kvs[0].0, &kvs[0].1)?;
        kvs.extend(self.range(&self.manager_key(&rec.spec.department, id), false).await?);
        kvs.extend(self.range(&self.key(&["decisions", "admin", id]), false).await?);
        kvs.extend(self.range(&self.key(&["runs", id]), false).await?);
        assemble(&self.prefix, kvs)?.pop().ok_or_else(|| Error::NotFound(format!("VM request {id}")))
    }

    async fn create(&self, record: &RequestRecord) -> Result<Records> {
        let name_key = self.key(&["names", &record.spec.name]);
        let req_key = self.key(&["requests", &record.id]);
        // The name is free if unheld, or held by a request that is no longer live.
        let held = self.range(&name_key, false).await?;
        let name_guard = match held.first() {
            None => Compare::create_revision(name_key.clone(), CompareOp::Equal, 0),
            Some((_, holder, rev)) => {
                let holder = String::from_utf8_lossy(holder).into_owned();
                if let Ok(r) = self.get(&holder).await {
                    let s = r.compose().state;
                    if s.is_pending() || s.holds_vm() {
                        return Err(Error::Conflict(format!("name \"{}\" is already asked for by request {holder} ({})", record.spec.name, s.as_str())));
                    }
                }
                Compare::mod_revision(name_key.clone(), CompareOp::Equal, *rev)
            }
        };
        let txn = Txn::new()
            .when([name_guard, Compare::create_revision(req_key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(req_key, json(record)?, None), TxnOp::put(name_key, record.id.clone(), None)]);
        if !self.txn("submitting a VM request", txn).await? {
            return Err(Error::Conflict(format!("name \"{}\" was just taken by another request; choose another name", record.spec.name)));
        }
        self.get(&record.id).await
    }

    async fn decide(&self, current: &Records, stage: Stage, decision: &Decision) -> Result<Records> {
        let req = &current.request.value;
        let req_key = self.key(&["requests", &req.id]);
        let (key, seen) = match stage {
            Stage::Manager => (self.manager_key(&req.spec.department, &req.id), &current.manager),
            Stage::Admin => (self.key(&["decisions", "admin", &req.id]), &current.admin),
        };
        let mut guards = vec![
            Compare::mod_revision(req_key, CompareOp::Equal, current.request.revision),
            match seen {
                None => Compare::create_revision(key.clone(), CompareOp::Equal, 0),
                Some(d) => Compare::mod_revision(key.clone(), CompareOp::Equal, d.revision),
            },
        ];
        if stage == Stage::Admin {
            // The manager's approval the admin saw must still stand.
            let m = current.manager.as_ref().ok_or_else(|| Error::Conflict(format!("VM request {} has no manager approval", req.id)))?;
            guards.push(Compare::mod_revision(self.manager_key(&req.spec.department, &req.id), CompareOp::Equal, m.revision));
        }
        let rec = DecisionRecord { decision: decision.clone(), request_revision: current.request.revision };
        let txn = Txn::new().when(guards).and_then([TxnOp::put(key, json(&rec)?, None)]);
        if !self.txn(&format!("recording the {} decision", stage.as_str()), txn).await? {
            return Err(Error::Conflict(format!("VM request {}: someone else decided the {} step first; reload it", req.id, stage.as_str())));
        }
        self.get(&req.id).await
    }

    async fn put_run(&self, current: &Records, run: &RunRecord) -> Result<Records> {
        let id = &current.request.value.id;
        let key = self.key(&["runs", id]);
        let guard = match &current.run {
            None => Compare::create_revision(key.clone(), CompareOp::Equal, 0),
            Some(r) => Compare::mod_revision(key.clone(), CompareOp::Equal, r.revision),
        };
        let txn = Txn::new().when([guard]).and_then([TxnOp::put(key, json(run)?, None)]);
        if !self.txn("recording the provisioning state", txn).await? {
            return Err(Error::Conflict(format!("VM request {id} was moved by someone else meanwhile")));
        }
        self.get(id).await
    }

    async fn lock(&self, id: &str, owner: &str) -> Result<Option<Box<dyn ExecLock>>> {
        let mut c = self.client.clone();
        let lease = with_timeout("etcd (lease grant)", TIMEOUT, async {
            c.lease_grant(LOCK_TTL_SECS, None).await.map_err(|e| self.err("taking the execution lock", e))
        })
        .await?
        .id();
        let key = self.key(&["locks", id]);
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, owner, Some(PutOptions::new().with_lease(lease)))]);
        if !self.txn("taking the execution lock", txn).await? {
            let _ = c.lease_revoke(lease).await;
            return Ok(None);
        }
        let (mut keeper, mut stream) = c.lease_keep_alive(lease).await.map_err(|e| self.err("keeping the execution lock", e))?;
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs((LOCK_TTL_SECS / 3).max(1) as u64);
            loop {
                tokio::select! {
                    _ = stopped.cancelled() => break,
                    _ = tokio::time::sleep(every) => {
                        if keeper.keep_alive().await.is_err() || stream.message().await.is_err() {
                            tracing::warn!("lost the keep-alive of an execution lock; it expires in {LOCK_TTL_SECS} s");
                            break;
                        }
                    }
                }
            }
        });
        Ok(Some(Box::new(EtcdLock { client: self.client.clone(), lease, stop })))
    }

    async fn quotas(&self) -> Result<Vec<(String, Quota)>> {
        let p = self.key(&["quotas", ""]);
        let kvs = self.range(&p, true).await?;
        kvs.into_iter().map(|(k, v, _)| Ok((k[p.len()..].to_string(), parse(&k, &v)?))).collect()
    }

    async fn set_quota(&self, department: &str, quota: &Quota) -> Result<()> {
        let txn = Txn::new().and_then([TxnOp::put(self.key(&["quotas", department]), json(quota)?, None)]);
        self.txn("saving a department quota", txn).await.map(|_| ())
    }
}

/// Creates (or completes) the Opsdeck VM roles over `prefix`, as an etcd
/// root user: requester, IT admin, and one manager role per department.
/// Grant them to users with `etcdctl user grant-role USER ROLE`.
pub async fn ensure_roles(client: &mut Client, prefix: &str, departments: &[String]) -> Result<Vec<String>> {
    let p = |s: &str| format!("{prefix}{s}");
    let mut plan: Vec<(String, Vec<Permission>)> = vec![
        (ROLE_REQUESTER.into(), vec![Permission::read(prefix).with_prefix(), Permission::read_write(p("requests/")).with_prefix(), Permission::read_write(p("names/")).with_prefix()]),
        (
            ROLE_ADMIN.into(),
            vec![
                Permission::read(prefix).with_prefix(),
                Permission::read_write(p("decisions/admin/")).with_prefix(),
                Permission::read_write(p("runs/")).with_prefix(),
                Permission::read_write(p("locks/")).with_prefix(),
                Permission::read_write(p("quotas/")).with_prefix(),
            ],
        ),
    ];
    for d in departments {
        plan.push((manager_role(d), vec![Permission::read(prefix).with_prefix(), Permission::read_write(p(&format!("decisions/manager/{d}/"))).with_prefix()]));
    }
    let mut made = Vec::new();
    for (role, perms) in plan {
        if let Err(e) = client.role_add(role.clone()).await {
            if !e.to_string().contains("already exists") {
                return Err(classify(e, "etcd", None));
            }
        }
        for perm in perms {
            client.role_grant_permission(role.clone(), perm).await.map_err(|e| classify(e, "etcd", None))?;
        }
        made.push(role);
    }
    Ok(made)
}
