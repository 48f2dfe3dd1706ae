//! The request store: one trait, two implementations.
//! - [`local::LocalStore`]: this machine's SQLite (one operator, no etcd).
//! - [`etcd::EtcdStore`]: a shared etcd (a team): every move is an etcd
//!   transaction and etcd users/roles decide who may approve.
//!
//! Both keep the same records, split by who writes them (the requester, the
//! manager, the IT admin, the executor), and [`compose`] turns them into the
//! [`VmRequest`] everyone sees.

pub mod etcd;
pub mod local;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::model::{Asset, Decision, Quota, QuotaCheck, RequestSpec, Stage, State, Transition, VmRequest};
use crate::error::Result;

/// Written once by the requester at submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub id: String,
    pub spec: RequestSpec,
    pub requester: String,
    pub created_at: String,
    pub quota: QuotaCheck,
}

/// Written by an approver; valid only for the request revision it names, so
/// a request edited after a decision needs deciding again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub decision: Decision,
    pub request_revision: i64,
}

/// Written by the executor and the lifecycle jobs once a request is approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub state: State,
    pub history: Vec<Transition>,
    #[serde(default)]
    pub asset: Option<Asset>,
    #[serde(default)]
    pub failure: Option<String>,
    #[serde(default)]
    pub attempts: u32,
}

/// A record and the store revision it was read at (0 = absent).
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub revision: i64,
}

/// Everything stored for one request.
#[derive(Debug, Clone)]
pub struct Records {
    pub request: Versioned<RequestRecord>,
    pub manager: Option<Versioned<DecisionRecord>>,
    pub admin: Option<Versioned<DecisionRecord>>,
    pub run: Option<Versioned<RunRecord>>,
}

impl Records {
    /// The request as seen by everyone (state derived from the records).
    pub fn compose(&self) -> VmRequest {
        compose(self)
    }

    /// A decision counts only for the request revision it was made on.
    fn valid(&self, d: &Option<Versioned<DecisionRecord>>) -> Option<Decision> {
        d.as_ref().filter(|d| d.value.request_revision == self.request.revision).map(|d| d.value.decision.clone())
    }

    pub fn revision(&self) -> i64 {
        [Some(self.request.revision), self.manager.as_ref().map(|d| d.revision), self.admin.as_ref().map(|d| d.revision), self.run.as_ref().map(|r| r.revision)]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0)
    }
}

pub const QUOTA_ACTOR: &str = "opsdeck (quota check)";

pub fn compose(r: &Records) -> VmRequest {
    let req = &r.request.value;
    let manager = r.valid(&r.manager);
    let admin = manager.as_ref().filter(|m| m.approved).and(r.valid(&r.admin));
    let first = if req.quota.ok { State::PendingManager } else { State::Rejected };
    let mut history = vec![Transition {
        at: req.created_at.clone(),
        actor: req.requester.clone(),
        from: None,
        to: first,
        comment: if req.quota.ok { "submitted".into() } else { format!("submitted; quota exceeded: {}", req.quota.lines.join("; ")) },
    }];
    let mut state = first;
    let mut decisions = Vec::new();
    for (d, from, yes) in [(&manager, State::PendingManager, State::PendingAdmin), (&admin, State::PendingAdmin, State::Approved)] {
        if let Some(d) = d {
            let to = if d.approved { yes } else { State::Rejected };
            history.push(Transition { at: d.at.clone(), actor: d.actor.clone(), from: Some(from), to, comment: d.comment.clone() });
            decisions.push(d.clone());
            state = to;
        }
    }
    let (mut asset, mut failure, mut attempts) = (None, None, 0);
    if let Some(run) = &r.run {
        history.extend(run.value.history.iter().cloned());
        state = run.value.state;
        asset = run.value.asset.clone();
        failure = run.value.failure.clone();
        attempts = run.value.attempts;
    }
    if let (Some(m), None, true) = (&r.manager, &manager, r.run.is_none()) {
        // A decision on an older revision: the request changed after it.
        history.push(Transition {
            at: m.value.decision.at.clone(),
            actor: m.value.decision.actor.clone(),
            from: None,
            to: state,
            comment: "an earlier decision no longer applies: the request changed after it".into(),
        });
    }
    VmRequest {
        id: req.id.clone(),
        spec: req.spec.clone(),
        requester: req.requester.clone(),
        created_at: req.created_at.clone(),
        state,
        quota: req.quota.clone(),
        decisions,
        history,
        asset,
        failure,
        attempts,
        version: r.revision(),
    }
}

/// Held while one app instance executes a request; dropping it releases.
#[async_trait]
pub trait ExecLock: Send + Sync {
    /// Releases the lock now (dropping does it too, in the background).
    async fn release(self: Box<Self>);
}

/// Where requests live. Every state change is a compare-and-set on the
/// revisions read: of two concurrent movers of one request, one gets
/// [`crate::Error::Conflict`].
#[async_trait]
pub trait RequestStore: Send + Sync {
    /// `local` or `etcd`.
    fn kind(&self) -> &'static str;
    /// The identity the store authenticates (the etcd user), if any; it is
    /// recorded as the actor instead of whatever the app claims.
    fn authenticated_user(&self) -> Option<String>;

    async fn list(&self) -> Result<Vec<Records>>;
    async fn get(&self, id: &str) -> Result<Records>;
    /// Stores a new request; the VM name is reserved atomically (a name
    /// held by a live request is refused with Conflict).
    async fn create(&self, record: &RequestRecord) -> Result<Records>;
    /// Records an approver's decision if nobody decided this stage since `current` was read.
    async fn decide(&self, current: &Records, stage: Stage, decision: &Decision) -> Result<Records>;
    /// Replaces the run record if it is unchanged since `current` was read.
    async fn put_run(&self, current: &Records, run: &RunRecord) -> Result<Records>;
    /// Takes the execution lock of a request; `None` when another instance holds it.
    async fn lock(&self, id: &str, owner: &str) -> Result<Option<Box<dyn ExecLock>>>;

    async fn quotas(&self) -> Result<Vec<(String, Quota)>>;
    async fn set_quota(&self, department: &str, quota: &Quota) -> Result<()>;
}
