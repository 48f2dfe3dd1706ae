//! The shared request store in etcd (the team store the Config workspace
//! can also edit). Keys under `<root>vms/`, each writable only by whoever
//! may write it, so a reader tells who wrote a record from its key:
//!
//! | key                                          | written by (etcd role)                  |
//! |----------------------------------------------|-----------------------------------------|
//! | `requests/<user>/<id>`                       | that user only (`opsdeck-user-<user>`)  |
//! | `decisions/manager/<department>/<user>/<id>` | that user, if they manage the department|
//! | `decisions/admin/<user>/<id>`                | that user, if they are an IT admin      |
//! | `names/<vm-name>`                            | requesters (a name reservation)         |
//! | `turns/<id>`                                 | approvers (who decides first)           |
//! | `runs/<id>`, `locks/<id>`                    | the executor                            |
//! | `quotas/<department>`                        | IT admins                               |
//! | `ippools/<network>`                          | IT admins (IPv4 settings per network)   |
//! | `ipleases/<network>/<address>`               | the executor (an address held)          |
//!
//! The roles are made by [`crate::team::roles`]. Every write is a
//! transaction comparing the revisions read, so two approvers can never both
//! move one request; the execution lock is a key bound to a lease that dies
//! with the app instance holding it. Reading is done in one range read of
//! the whole prefix (one consistent revision) and composed by
//! [`super::compose`]; keys that are not valid records where they sit are
//! skipped and listed, never fatal.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{Client, Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse};
use serde::{de::DeserializeOwned, Serialize};
use tokio_util::sync::CancellationToken;

use super::{
    DecisionRecord, ExecLock, ExtensionRecord, ExtensionRecords, Listing, Records, RequestRecord, RequestStore, RunRecord, StoreProblem,
    Trust, Versioned,
};
use crate::error::{with_timeout, Error, Result};
use crate::team::TeamStore;
use crate::vms::ipam::{self, IpLease, IpPool};
use crate::vms::model::{Decision, Quota, Stage};

const TIMEOUT: Duration = Duration::from_secs(10);
/// The execution lock outlives a crashed instance by at most this long.
const LOCK_TTL_SECS: i64 = 15;

#[derive(Clone)]
pub struct EtcdStore {
    team: TeamStore,
    /// `<root>vms/`
    prefix: String,
}

/// One key as read: key, value, mod revision, create revision.
pub(super) type Kv = (String, Vec<u8>, i64, i64);

fn kv_of(kv: &etcd_client::KeyValue) -> Kv {
    (String::from_utf8_lossy(kv.key()).into_owned(), kv.value().to_vec(), kv.mod_revision(), kv.create_revision())
}

impl EtcdStore {
    pub fn new(team: TeamStore) -> EtcdStore {
        let prefix = format!("{}vms/", team.root());
        EtcdStore { team, prefix }
    }

    pub(super) fn key(&self, parts: &[&str]) -> String {
        format!("{}{}", self.prefix, parts.join("/"))
    }

    /// The etcd user this store writes as (the app's actor when auth is off).
    pub(super) fn me(&self, fallback: &str) -> String {
        self.team.user().map(String::from).unwrap_or_else(|| fallback.to_string())
    }

    fn err(&self, what: &str, e: etcd_client::Error) -> Error {
        self.team.etcd_error(
            what,
            e,
            "only the role that owns these keys may write them — ask an etcd administrator if this user should hold it",
        )
    }

    pub(super) async fn txn(&self, what: &str, txn: Txn) -> Result<bool> {
        let mut c = self.team.client();
        let r = with_timeout(format!("etcd ({what})"), TIMEOUT, async { c.txn(txn).await.map_err(|e| self.err(what, e)) }).await?;
        Ok(r.succeeded())
    }

    pub(super) async fn range(&self, key: &str, prefix: bool) -> Result<Vec<Kv>> {
        let mut c = self.team.client();
        let opts = prefix.then(|| GetOptions::new().with_prefix());
        let r = with_timeout("etcd (read VM requests)", TIMEOUT, async {
            c.get(key, opts).await.map_err(|e| self.err("reading VM requests", e))
        })
        .await?;
        Ok(r.kvs().iter().map(kv_of).collect())
    }

    /// Runs a transaction of reads: the store revision it ran at, and every key read.
    async fn txn_gets(&self, what: &str, txn: Txn) -> Result<(i64, Vec<Kv>)> {
        let mut c = self.team.client();
        let r = with_timeout(format!("etcd ({what})"), TIMEOUT, async { c.txn(txn).await.map_err(|e| self.err(what, e)) }).await?;
        let at = r.header().map_or(0, |h| h.revision());
        let kvs = r
            .op_responses()
            .into_iter()
            .filter_map(|op| match op {
                TxnOpResponse::Get(g) => Some(g.kvs().iter().map(kv_of).collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect();
        Ok((at, kvs))
    }

    async fn listing(&self) -> Result<Listing> {
        let all = Txn::new().and_then([TxnOp::get(self.prefix.as_str(), Some(GetOptions::new().with_prefix()))]);
        let (at, kvs) = self.txn_gets("reading VM requests", all).await?;
        Ok(Listing { at, ..assemble(&self.prefix, kvs, self.team.trust()) })
    }

    /// The compares and writes that file `record` as this store's user: the
    /// request key is new and the VM name is free (or held by a request no
    /// longer live, as read).
    pub(super) async fn filing(&self, record: &RequestRecord) -> Result<(Vec<Compare>, Vec<TxnOp>)> {
        let me = self.me(&record.requester);
        if record.requester != me {
            return Err(Error::Internal(format!("a request by {} cannot be filed as {me}", record.requester)));
        }
        let name_key = self.key(&["names", &record.spec.name]);
        let req_key = self.key(&["requests", &me, &record.id]);
        // The name is free if unheld, or held by a request that is no longer live.
        let held = self.range(&name_key, false).await?;
        let name_guard = match held.first() {
            None => Compare::create_revision(name_key.clone(), CompareOp::Equal, 0),
            Some((_, holder, rev, _)) => {
                let holder = String::from_utf8_lossy(holder).into_owned();
                if let Ok(r) = self.get(&holder).await {
                    let s = r.compose().state;
                    if s.is_pending() || s.holds_vm() {
                        return Err(Error::Conflict(format!(
                            "name \"{}\" is already asked for by request {holder} ({})",
                            record.spec.name,
                            s.as_str()
                        )));
                    }
                }
                Compare::mod_revision(name_key.clone(), CompareOp::Equal, *rev)
            }
        };
        Ok((
            vec![name_guard, Compare::create_revision(req_key.clone(), CompareOp::Equal, 0)],
            vec![TxnOp::put(req_key, json(record)?, None), TxnOp::put(name_key, record.id.clone(), None)],
        ))
    }
}

pub(super) fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    crate::team::to_json(v, "a VM request record")
}

pub(super) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not an Opsdeck VM record ({e})"))
}

pub(super) fn guard_rev(key: &str, revision: i64) -> Compare {
    if revision == 0 {
        Compare::create_revision(key, CompareOp::Equal, 0)
    } else {
        Compare::mod_revision(key, CompareOp::Equal, revision)
    }
}

/// Groups a range read of the whole prefix into records per request. A key
/// that does not parse, or holds a record its path's user did not make, is
/// a [`StoreProblem`], never an error: one bad key must not hide the rest.
fn assemble(prefix: &str, kvs: Vec<Kv>, trust: Trust) -> Listing {
    #[derive(Default)]
    struct Parts {
        request: Option<(Versioned<RequestRecord>, i64)>,
        decisions: Vec<(Versioned<DecisionRecord>, Option<String>, String)>,
        run: Option<Versioned<RunRecord>>,
        turn: i64,
        /// Lease extensions: (n, record, key).
        extensions: Vec<(u32, Versioned<ExtensionRecord>, String)>,
        /// Manager decisions on extensions: (n, decision, department, key).
        extension_decisions: Vec<(u32, Versioned<DecisionRecord>, String, String)>,
    }
    let mut by_id: BTreeMap<String, Parts> = BTreeMap::new();
    let mut max_lease: BTreeMap<String, u32> = BTreeMap::new();
    let mut rules: Vec<crate::vms::rules::RuleVersion> = Vec::new();
    let mut problems = Vec::new();
    let mut collected = super::etcd_delegation::Collected::default();
    let mut problem = |key: &str, reason: String| problems.push(StoreProblem { key: key.to_string(), reason });
    for (key, value, revision, created) in kvs {
        let rest = &key[prefix.len()..];
        let segs: Vec<&str> = rest.split('/').collect();
        match collected.take(&segs, &value, revision) {
            Some(Ok(())) => continue,
            Some(Err(why)) => {
                problem(&key, why);
                continue;
            }
            None => {}
        }
        // `<id>.ext-<n>`: lease extension n of request id, beside it.
        let ext =
            segs.last().and_then(|last| last.split_once(".ext-")).and_then(|(id, n)| n.parse::<u32>().ok().map(|n| (id.to_string(), n)));
        match (segs.as_slice(), ext) {
            (["requests", user, _], Some((id, n))) => match parse::<ExtensionRecord>(&value) {
                Ok(rec) if rec.n == n => by_id.entry(id).or_default().extensions.push((
                    n,
                    Versioned { value: rec, revision, writer: Some(user.to_string()) },
                    key.clone(),
                )),
                Ok(_) => problem(&key, "an extension under another number: skipped".into()),
                Err(e) => problem(&key, format!("{e}: skipped")),
            },
            (["decisions", "manager", dept, user, _], Some((id, n))) => match parse::<DecisionRecord>(&value) {
                Ok(d) => by_id.entry(id).or_default().extension_decisions.push((
                    n,
                    Versioned { value: d, revision, writer: Some(user.to_string()) },
                    dept.to_string(),
                    key.clone(),
                )),
                Err(e) => problem(&key, format!("{e}: skipped")),
            },
            (_, Some(_)) => problem(&key, "not a key of the Opsdeck VM store: skipped".into()),
            (["rules", ..], None) => match super::rules_etcd::rule_of(&segs[1..], &value, revision, created) {
                Ok(v) => rules.push(v),
                Err(e) => problem(&key, format!("{e}: skipped")),
            },
            (["quotas", dept], None) => {
                if let Ok(q) = parse::<Quota>(&value) {
                    max_lease.insert(dept.to_string(), q.max_lease_days);
                }
            }
            (segs, None) => match segs {
                ["requests", user, id] => match parse::<RequestRecord>(&value) {
                    Ok(rec) if rec.id != *id => problem(&key, format!("holds request {} under the id {id}: skipped", rec.id)),
                    Ok(rec) if rec.requester != *user => {
                        problem(&key, format!("names \"{}\" as requester but sits under user \"{user}\": skipped", rec.requester))
                    }
                    Ok(rec) => {
                        let p = by_id.entry(id.to_string()).or_default();
                        match &p.request {
                            Some((first, c)) if *c < created => {
                                problem(&key, format!("a second request with id {id} (the first is by {}): skipped", first.value.requester))
                            }
                            _ => {
                                if let Some((other, _)) = p.request.take() {
                                    problem(
                                        &format!("{prefix}requests/{}/{id}", other.value.requester),
                                        format!("a second request with id {id} (the first is by {user}): skipped"),
                                    );
                                }
                                p.request = Some((Versioned { value: rec, revision, writer: Some(user.to_string()) }, created));
                            }
                        }
                    }
                    Err(e) => problem(&key, format!("{e}: skipped")),
                },
                ["decisions", "manager", dept, user, id] => match parse::<DecisionRecord>(&value) {
                    Ok(d) if d.decision.stage != Stage::Manager => {
                        problem(&key, "a non-manager decision in the manager's place: skipped".into())
                    }
                    Ok(d) => by_id.entry(id.to_string()).or_default().decisions.push((
                        Versioned { value: d, revision, writer: Some(user.to_string()) },
                        Some(dept.to_string()),
                        key.clone(),
                    )),
                    Err(e) => problem(&key, format!("{e}: skipped")),
                },
                // A delegate's decision: counts only through a delegation or an escalation.
                ["decisions", "delegate", user, id] => match parse::<DecisionRecord>(&value) {
                    Ok(d) if d.decision.on_behalf_of.is_none() && !d.decision.escalated => {
                        problem(&key, "a delegate's decision that names no delegation or escalation: skipped".into())
                    }
                    Ok(d) => by_id.entry(id.to_string()).or_default().decisions.push((
                        Versioned { value: d, revision, writer: Some(user.to_string()) },
                        None,
                        key.clone(),
                    )),
                    Err(e) => problem(&key, format!("{e}: skipped")),
                },
                ["decisions", "admin", user, id] => match parse::<DecisionRecord>(&value) {
                    Ok(d) if d.decision.stage != Stage::Admin => problem(&key, "a non-admin decision in the admin's place: skipped".into()),
                    Ok(d) => by_id.entry(id.to_string()).or_default().decisions.push((
                        Versioned { value: d, revision, writer: Some(user.to_string()) },
                        None,
                        key.clone(),
                    )),
                    Err(e) => problem(&key, format!("{e}: skipped")),
                },
                ["runs", id] => match parse::<RunRecord>(&value) {
                    Ok(r) => by_id.entry(id.to_string()).or_default().run = Some(Versioned { value: r, revision, writer: None }),
                    Err(e) => problem(&key, format!("{e}: skipped")),
                },
                ["turns", id] => by_id.entry(id.to_string()).or_default().turn = revision,
                ["names", _] | ["locks", _] | ["ippools", _] | ["ipleases", _, _] => {}
                _ => problem(&key, "not a key of the Opsdeck VM store (an older layout, or written around Opsdeck): skipped".into()),
            },
        }
    }
    let mut records = Vec::new();
    for (id, p) in by_id {
        let Some((request, _)) = p.request else {
            for (_, _, key) in &p.decisions {
                problem(key, format!("a decision on request {id}, which does not exist: skipped"));
            }
            continue;
        };
        let mut decisions = Vec::new();
        for (d, dept, key) in p.decisions {
            match dept {
                Some(dept) if dept != request.value.spec.department => problem(
                    &key,
                    format!("a manager decision for department \"{dept}\" on a request of \"{}\": skipped", request.value.spec.department),
                ),
                _ => decisions.push(d),
            }
        }
        let dept = request.value.spec.department.clone();
        let mut extensions: Vec<ExtensionRecords> = Vec::new();
        let mut ext_decisions = p.extension_decisions;
        let mut exts = p.extensions;
        exts.sort_by_key(|e| e.0);
        for (n, record, key) in exts {
            if record.writer != request.writer {
                problem(&key, format!("an extension of request {id} by someone other than its requester: skipped"));
                continue;
            }
            let (mine, rest): (Vec<_>, Vec<_>) = ext_decisions.into_iter().partition(|d| d.0 == n);
            ext_decisions = rest;
            let mut decisions = Vec::new();
            for (_, d, d_dept, d_key) in mine {
                if d_dept == dept {
                    decisions.push(d);
                } else {
                    problem(&d_key, format!("a decision for department \"{d_dept}\" on an extension of \"{dept}\": skipped"));
                }
            }
            extensions.push(ExtensionRecords { record, decisions });
        }
        for (_, _, _, d_key) in ext_decisions {
            problem(&d_key, format!("a decision on an extension of request {id} that does not exist: skipped"));
        }
        let max_lease_days = max_lease.get(&dept).copied().unwrap_or(0);
        let delegation = collected.for_request(&id, &dept);
        let mut r = Records { request, decisions, run: p.run, turn: p.turn, trust, extensions, max_lease_days, rule: None, delegation };
        super::rules_local::attach(&mut r, &rules);
        records.push(r);
    }
    Listing { records, problems, at: 0 }
}

struct EtcdLock {
    client: Client,
    lease: i64,
    stop: CancellationToken,
    lost: CancellationToken,
}

#[async_trait]
impl ExecLock for EtcdLock {
    fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }

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

/// Keeps the lock's lease alive and watches its key until `stop`; cancels
/// `lost` at once when the key goes (lease revoked or expired, key deleted)
/// or a renewal fails or answers that the lease is gone.
async fn keep_lock(mut client: Client, key: String, lease: i64, stop: CancellationToken, lost: CancellationToken) {
    let every = Duration::from_secs((LOCK_TTL_SECS / 3).max(1) as u64);
    let (mut keeper, mut replies) = match client.lease_keep_alive(lease).await {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!("cannot keep the execution lock {key} alive: {e}");
            lost.cancel();
            return;
        }
    };
    let mut watch = match client.watch(key.as_str(), None).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("cannot watch the execution lock {key}: {e}");
            lost.cancel();
            return;
        }
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                let alive = match keeper.keep_alive().await {
                    Ok(()) => matches!(replies.message().await, Ok(Some(r)) if r.ttl() > 0),
                    Err(_) => false,
                };
                if !alive {
                    tracing::warn!("lost the execution lock {key}: its lease could not be renewed");
                    lost.cancel();
                    return;
                }
            }
            msg = watch.message() => {
                let gone = match msg {
                    Ok(Some(resp)) => resp.canceled() || resp.events().iter().any(|e| e.event_type() == etcd_client::EventType::Delete),
                    _ => true,
                };
                if gone {
                    tracing::warn!("lost the execution lock {key}: the key was removed (lease revoked or expired)");
                    lost.cancel();
                    return;
                }
            }
        }
    }
}

#[async_trait]
impl RequestStore for EtcdStore {
    fn kind(&self) -> &'static str {
        "etcd"
    }

    fn authenticated_user(&self) -> Option<String> {
        self.team.user().map(String::from)
    }

    fn trust(&self) -> Trust {
        self.team.trust()
    }

    fn team(&self) -> Option<&TeamStore> {
        Some(&self.team)
    }

    async fn list(&self) -> Result<Listing> {
        self.listing().await
    }

    async fn get(&self, id: &str) -> Result<Records> {
        // The request's keys sit under their writers' names: find them with
        // a keys-only read of requests/ and decisions/ (names, not values),
        // then read them, the run and the turn at that same revision: one
        // consistent view, so a decision made meanwhile moves the turn past
        // what this view holds and deciding on it conflicts.
        let (suffix, ext_infix) = (format!("/{id}"), format!("/{id}.ext-"));
        let keys_only = || Some(GetOptions::new().with_prefix().with_keys_only());
        let find = Txn::new()
            .and_then([TxnOp::get(self.key(&["requests", ""]), keys_only()), TxnOp::get(self.key(&["decisions", ""]), keys_only())]);
        let (at, found) = self.txn_gets("reading VM requests", find).await?;
        // Every delegation too (they sit under their approvers' decision prefixes).
        let mut keys: Vec<String> = found
            .into_iter()
            .map(|kv| kv.0)
            .filter(|k| k.ends_with(&suffix) || k.contains(&ext_infix) || k.contains("/delegation."))
            .collect();
        keys.extend([self.key(&["runs", id]), self.key(&["turns", id])]);
        keys.extend([self.key(&["escalations", "manager", id]), self.key(&["escalations", "admin", id])]);
        let mut ops: Vec<TxnOp> = keys.iter().map(|k| TxnOp::get(k.as_str(), Some(GetOptions::new().with_revision(at)))).collect();
        ops.push(TxnOp::get(self.key(&["quotas", ""]), Some(GetOptions::new().with_prefix().with_revision(at))));
        ops.push(TxnOp::get(self.key(&["rules", ""]), Some(GetOptions::new().with_prefix().with_revision(at))));
        ops.push(TxnOp::get(self.key(&["escalation", ""]), Some(GetOptions::new().with_prefix().with_revision(at))));
        let read = Txn::new().and_then(ops);
        let (_, kvs) = self.txn_gets("reading a VM request", read).await?;
        assemble(&self.prefix, kvs, self.team.trust())
            .records
            .into_iter()
            .find(|r| r.request.value.id == id)
            .ok_or_else(|| Error::NotFound(format!("VM request {id} does not exist in etcd ({})", self.team.label())))
    }

    async fn create(&self, record: &RequestRecord) -> Result<Records> {
        let (guards, ops) = self.filing(record).await?;
        let txn = Txn::new().when(guards).and_then(ops);
        if !self.txn("submitting a VM request", txn).await? {
            return Err(Error::Conflict(format!("name \"{}\" was just taken by another request; choose another name", record.spec.name)));
        }
        self.get(&record.id).await
    }

    async fn update(&self, current: &Records, record: &RequestRecord) -> Result<Records> {
        let owner = current.request.writer.clone().unwrap_or_else(|| current.request.value.requester.clone());
        let me = self.me(&record.requester);
        if owner != me || record.requester != owner {
            return Err(Error::Forbidden(format!("request {} is {owner}'s: only they can edit or withdraw it (you are {me})", record.id)));
        }
        let key = self.key(&["requests", &owner, &record.id]);
        let txn = Txn::new().when([Compare::mod_revision(key.clone(), CompareOp::Equal, current.request.revision)]).and_then([TxnOp::put(
            key,
            json(record)?,
            None,
        )]);
        if !self.txn("changing a VM request", txn).await? {
            return Err(Error::Conflict(format!("VM request {} changed meanwhile: reload it", record.id)));
        }
        self.get(&record.id).await
    }

    async fn decide(&self, current: &Records, stage: Stage, decision: &Decision) -> Result<Records> {
        let req = &current.request.value;
        let owner = current.request.writer.clone().unwrap_or_else(|| req.requester.clone());
        let me = self.me(&decision.actor);
        let key = match stage {
            // A delegate writes under their own name; the delegation or escalation it names is checked by every reader.
            _ if decision.on_behalf_of.is_some() || decision.escalated => self.delegate_decision_key(&me, &req.id),
            Stage::Manager => self.key(&["decisions", "manager", &req.spec.department, &me, &req.id]),
            Stage::Admin => self.key(&["decisions", "admin", &me, &req.id]),
        };
        let turn = self.key(&["turns", &req.id]);
        let txn = Txn::new()
            .when([
                Compare::mod_revision(self.key(&["requests", &owner, &req.id]), CompareOp::Equal, current.request.revision),
                guard_rev(&turn, current.turn),
            ])
            .and_then([
                TxnOp::put(
                    key.clone(),
                    json(&DecisionRecord { decision: decision.clone(), request_revision: current.request.revision })?,
                    None,
                ),
                TxnOp::put(turn, key, None),
            ]);
        if !self.txn(&format!("recording the {} decision", stage.as_str()), txn).await? {
            return Err(Error::Conflict(format!("VM request {}: it changed or someone else decided first; reload it", req.id)));
        }
        self.get(&req.id).await
    }

    async fn put_run(&self, current: &Records, run: &RunRecord) -> Result<Records> {
        let id = &current.request.value.id;
        let owner = current.request.writer.clone().unwrap_or_else(|| current.request.value.requester.clone());
        let key = self.key(&["runs", id]);
        let guards = [
            guard_rev(&key, current.run.as_ref().map_or(0, |r| r.revision)),
            Compare::mod_revision(self.key(&["requests", &owner, id]), CompareOp::Equal, current.request.revision),
        ];
        let txn = Txn::new().when(guards).and_then([TxnOp::put(key, json(run)?, None)]);
        if !self.txn("recording the provisioning state", txn).await? {
            return Err(Error::Conflict(format!("VM request {id} was changed or moved by someone else meanwhile")));
        }
        self.get(id).await
    }

    async fn put_extension(&self, current: &Records, ext: &ExtensionRecord) -> Result<Records> {
        let id = &current.request.value.id;
        let owner = current.request.writer.clone().unwrap_or_else(|| current.request.value.requester.clone());
        let key = self.key(&["requests", &owner, &format!("{id}.ext-{}", ext.n)]);
        let txn = Txn::new()
            .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0), guard_rev(&self.key(&["turns", id]), current.turn)])
            .and_then([TxnOp::put(key.as_str(), json(ext)?, None)]);
        if !self.txn("asking for a lease extension", txn).await? {
            return Err(Error::Conflict(format!("VM request {id} changed meanwhile: reload it")));
        }
        self.get(id).await
    }

    async fn decide_extension(&self, current: &Records, n: u32, decision: &Decision) -> Result<Records> {
        let req = &current.request.value;
        let me = self.me(&decision.actor);
        let ext = current
            .extensions
            .iter()
            .find(|e| e.record.value.n == n)
            .ok_or_else(|| Error::NotFound(format!("request {} has no extension {n}", req.id)))?;
        let owner = current.request.writer.clone().unwrap_or_else(|| req.requester.clone());
        let ext_key = self.key(&["requests", &owner, &format!("{}.ext-{n}", req.id)]);
        let key = self.key(&["decisions", "manager", &req.spec.department, &me, &format!("{}.ext-{n}", req.id)]);
        let turn = self.key(&["turns", &req.id]);
        let txn = Txn::new()
            .when([Compare::mod_revision(ext_key.as_str(), CompareOp::Equal, ext.record.revision), guard_rev(&turn, current.turn)])
            .and_then([
                TxnOp::put(
                    key.as_str(),
                    json(&DecisionRecord { decision: decision.clone(), request_revision: ext.record.revision })?,
                    None,
                ),
                TxnOp::put(turn, key, None),
            ]);
        if !self.txn("deciding a lease extension", txn).await? {
            return Err(Error::Conflict(format!("VM request {}: the extension changed or someone decided first; reload it", req.id)));
        }
        self.get(&req.id).await
    }

    async fn lock(&self, id: &str, owner: &str) -> Result<Option<Box<dyn ExecLock>>> {
        let mut c = self.team.client();
        let lease = with_timeout("etcd (lease grant)", TIMEOUT, async {
            c.lease_grant(LOCK_TTL_SECS, None).await.map_err(|e| self.err("taking the execution lock", e))
        })
        .await?
        .id();
        let key = self.key(&["locks", id]);
        let txn = Txn::new().when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)]).and_then([TxnOp::put(
            key.clone(),
            owner,
            Some(PutOptions::new().with_lease(lease)),
        )]);
        if !self.txn("taking the execution lock", txn).await? {
            let _ = c.lease_revoke(lease).await;
            return Ok(None);
        }
        let (stop, lost) = (CancellationToken::new(), CancellationToken::new());
        tokio::spawn(keep_lock(self.team.client(), key, lease, stop.clone(), lost.clone()));
        Ok(Some(Box::new(EtcdLock { client: self.team.client(), lease, stop, lost })))
    }

    async fn quotas(&self) -> Result<Vec<(String, Quota)>> {
        let p = self.key(&["quotas", ""]);
        let kvs = self.range(&p, true).await?;
        // A malformed quota is skipped (and logged), like any bad record.
        Ok(kvs
            .into_iter()
            .filter_map(|(k, v, _, _)| match parse::<Quota>(&v) {
                Ok(q) => Some((k[p.len()..].to_string(), q)),
                Err(e) => {
                    tracing::warn!(key = %k, "skipping a malformed quota: {e}");
                    None
                }
            })
            .collect())
    }

    async fn set_quota(&self, department: &str, quota: &Quota) -> Result<()> {
        let txn = Txn::new().and_then([TxnOp::put(self.key(&["quotas", department]), json(quota)?, None)]);
        self.txn("saving a department quota", txn).await.map(|_| ())
    }

    async fn ip_pools(&self) -> Result<Vec<IpPool>> {
        let kvs = self.range(&self.key(&["ippools", ""]), true).await?;
        Ok(kvs
            .into_iter()
            .filter_map(|(k, v, _, _)| match parse::<IpPool>(&v) {
                Ok(p) if ipam::key_segment(&p.network) == k[self.key(&["ippools", ""]).len()..] => Some(p),
                Ok(_) | Err(_) => {
                    tracing::warn!(key = %k, "skipping a malformed IP pool");
                    None
                }
            })
            .collect())
    }

    async fn set_ip_pool(&self, pool: &IpPool) -> Result<()> {
        let txn = Txn::new().and_then([TxnOp::put(self.key(&["ippools", &ipam::key_segment(&pool.network)]), json(pool)?, None)]);
        self.txn("saving an IP pool", txn).await.map(|_| ())
    }

    async fn remove_ip_pool(&self, network: &str) -> Result<()> {
        let seg = ipam::key_segment(network);
        let pool_key = self.key(&["ippools", &seg]);
        let leases_key = self.key(&["ipleases", &seg, ""]);
        let (_, found) = self
            .txn_gets(
                "reading an IP pool",
                Txn::new().and_then([
                    TxnOp::get(pool_key.as_str(), None),
                    TxnOp::get(leases_key.as_str(), Some(GetOptions::new().with_prefix().with_keys_only())),
                ]),
            )
            .await?;
        let Some(pool) = found.iter().find(|kv| kv.0 == pool_key) else {
            return Err(Error::NotFound(format!("network \"{network}\" has no IP settings")));
        };
        let held = found.iter().filter(|kv| kv.0.starts_with(&leases_key)).count();
        if held > 0 {
            return Err(Error::Conflict(format!(
                "network \"{network}\" has {held} address(es) held by requests: destroy their VMs (or let the attempts end) first"
            )));
        }
        // Removed only if no address was taken meanwhile.
        let txn = Txn::new()
            .when([
                Compare::mod_revision(pool_key.as_str(), CompareOp::Equal, pool.2),
                Compare::create_revision(leases_key.as_str(), CompareOp::Equal, 0).with_prefix(),
            ])
            .and_then([TxnOp::delete(pool_key.as_str(), None)]);
        if !self.txn("removing an IP pool", txn).await? {
            return Err(Error::Conflict(format!("network \"{network}\": its pool changed or an address was taken meanwhile; try again")));
        }
        Ok(())
    }

    async fn ip_leases(&self, network: Option<&str>) -> Result<Vec<IpLease>> {
        let key = match network {
            Some(n) => self.key(&["ipleases", &ipam::key_segment(n), ""]),
            None => self.key(&["ipleases", ""]),
        };
        let kvs = self.range(&key, true).await?;
        Ok(kvs
            .into_iter()
            .filter_map(|(k, v, _, _)| match parse::<IpLease>(&v) {
                Ok(l) if k.ends_with(&format!("{}/{}", ipam::key_segment(&l.network), l.address)) => Some(l),
                Ok(_) | Err(_) => {
                    tracing::warn!(key = %k, "skipping a malformed IP lease");
                    None
                }
            })
            .collect())
    }

    async fn put_run_claiming(&self, current: &Records, run: &RunRecord, lease: &IpLease) -> Result<Records> {
        let id = &current.request.value.id;
        if lease.request != *id {
            return Err(Error::Internal(format!("an address for request {} cannot be taken with request {id}", lease.request)));
        }
        let owner = current.request.writer.clone().unwrap_or_else(|| current.request.value.requester.clone());
        let key = self.key(&["runs", id]);
        let lease_key = self.key(&["ipleases", &ipam::key_segment(&lease.network), &lease.address]);
        let held = self.range(&lease_key, false).await?;
        let lease_guard = match held.first() {
            None => Compare::create_revision(lease_key.as_str(), CompareOp::Equal, 0),
            Some((_, v, rev, _)) => match parse::<IpLease>(v) {
                Ok(l) if l.request == *id => Compare::mod_revision(lease_key.as_str(), CompareOp::Equal, *rev),
                Ok(l) => {
                    return Err(Error::Conflict(format!(
                        "address {} of network \"{}\" is already held by request {}",
                        lease.address, lease.network, l.request
                    )))
                }
                Err(e) => return Err(Error::Conflict(format!("address {} is held by a record Opsdeck cannot read ({e})", lease.address))),
            },
        };
        let guards = [
            guard_rev(&key, current.run.as_ref().map_or(0, |r| r.revision)),
            Compare::mod_revision(self.key(&["requests", &owner, id]), CompareOp::Equal, current.request.revision),
            lease_guard,
        ];
        let txn = Txn::new().when(guards).and_then([TxnOp::put(key, json(run)?, None), TxnOp::put(lease_key, json(lease)?, None)]);
        if !self.txn("taking an IP address and recording the provisioning state", txn).await? {
            return Err(Error::Conflict(format!(
                "VM request {id}: it was moved meanwhile, or address {} was just taken by another request",
                lease.address
            )));
        }
        self.get(id).await
    }

    async fn release_ips(&self, request: &str) -> Result<Vec<IpLease>> {
        let mut out = Vec::new();
        for l in self.ip_leases(None).await?.into_iter().filter(|l| l.request == request) {
            let key = self.key(&["ipleases", &ipam::key_segment(&l.network), &l.address]);
            // Deleted only while it still names this request.
            let txn =
                Txn::new().when([Compare::value(key.as_str(), CompareOp::Equal, json(&l)?)]).and_then([TxnOp::delete(key.as_str(), None)]);
            if self.txn("giving an IP address back", txn).await? {
                out.push(l);
            }
        }
        Ok(out)
    }
}
