//! The request store: one trait, two implementations.
//! - [`local::LocalStore`]: this machine's SQLite (one operator, no etcd).
//! - [`etcd::EtcdStore`]: a shared etcd (a team): every move is an etcd
//!   transaction and etcd users/roles decide who may approve.
//!
//! Both keep the same records, split by who writes them (the requester, the
//! manager, the IT admin, the executor), and [`compose`] turns them into the
//! [`VmRequest`] everyone sees.

pub mod compose;
pub mod etcd;
mod etcd_delegation;
pub mod local;
mod local_delegation;
pub mod rules_etcd;
pub mod rules_local;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::model::{Asset, Decision, Quota, QuotaCheck, RequestSpec, Stage, State, Transition, VmRequest};
use crate::error::Result;
use crate::vms::ipam::{IpLease, IpPool};
pub use compose::compose;

/// Written by the requester at submission, and again by the requester
/// alone when they edit or withdraw it (any change voids the decisions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RequestRecord {
    pub id: String,
    pub spec: RequestSpec,
    pub requester: String,
    pub created_at: String,
    pub quota: QuotaCheck,
    /// Set when the requester withdrew the request.
    #[serde(default)]
    pub withdrawn: Option<Withdrawal>,
    /// When the requester last edited it (None = as submitted).
    #[serde(default)]
    pub edited_at: Option<String>,
    /// The monthly cost shown on the form when it was filed or last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<crate::showback::CostEstimate>,
    /// The department's rule that approved the manager step as filed (see
    /// [`crate::vms::rules`]); checked by every reader against the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_approval: Option<crate::vms::rules::AutoApproval>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Withdrawal {
    pub at: String,
    #[serde(default)]
    pub comment: String,
}

/// Written by an approver; valid only for the request revision it names, so
/// a request edited after a decision needs deciding again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DecisionRecord {
    pub decision: Decision,
    pub request_revision: i64,
}

/// A lease extension asked for by the requester of a provisioned request
/// (etcd: `requests/<user>/<id>.ext-<n>`, beside the request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ExtensionRecord {
    pub n: u32,
    pub lease_end: String,
    pub reason: String,
    pub at: String,
}

/// An extension and the decisions on it (manager's, valid or not).
#[derive(Debug, Clone)]
pub struct ExtensionRecords {
    pub record: Versioned<ExtensionRecord>,
    pub decisions: Vec<Versioned<DecisionRecord>>,
}

/// What the executor built from: the request revision and spec that were
/// approved, and by whom. Provisioning, retries and the lifecycle use this
/// spec; a request changed afterwards does not change what is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Approved {
    pub request_revision: i64,
    pub spec: RequestSpec,
    /// SHA-256 of the spec's JSON, so a reader can check the copy is intact.
    pub spec_sha256: String,
    pub requester: String,
    pub manager: String,
    pub admin: String,
}

/// SHA-256 (hex) of a spec's canonical JSON (field order is the struct's).
pub fn spec_sha256(spec: &RequestSpec) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(serde_json::to_vec(spec).unwrap_or_default()))
}

/// Written by the executor and the lifecycle jobs once a request is approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RunRecord {
    pub state: State,
    pub history: Vec<Transition>,
    #[serde(default)]
    pub asset: Option<Asset>,
    #[serde(default)]
    pub failure: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    /// The approved request this run executes (absent only in records of
    /// an older Opsdeck, which then do not count).
    #[serde(default)]
    pub approved: Option<Approved>,
    /// Set when the last attempt was interrupted (SIGINT/SIGTERM) at a safe
    /// point: what was in flight, which the next attempt resumes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interruption>,
}

/// What an interrupted provisioning attempt left in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Interruption {
    pub at: String,
    /// The app instance that was interrupted.
    pub by: String,
    /// The step it stopped in or after (`clone`, `power_on`, ...).
    pub step: String,
    /// The vSphere task that was running (it keeps running in vCenter), if one was.
    #[serde(default)]
    pub task: Option<String>,
    /// The VM's name, and its id when the clone had returned it.
    pub vm_name: String,
    #[serde(default)]
    pub vm: Option<String>,
    /// A call starting a task that was cut off before it answered (a second
    /// signal): vCenter may run that task anyway.
    #[serde(default)]
    pub cut_off: Option<String>,
}

/// A record, the store revision it was read at, and who wrote it when the
/// store can prove it (the etcd user its key path belongs to).
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub revision: i64,
    pub writer: Option<String>,
}

/// How the store knows who wrote a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// This machine's database: one operator, whose `--as` is only a claim;
    /// no separation of duties.
    Personal,
    /// A shared etcd with auth: each record's key path names the etcd user
    /// that etcd let write it; the approvers must be different people.
    Shared,
    /// A shared etcd with auth disabled (the user opted in): anyone can
    /// write anything, nothing is enforced.
    SharedNoAuth,
}

impl Trust {
    /// Separation of duties is checked only where identities are proven.
    pub fn proves_identity(self) -> bool {
        self == Trust::Shared
    }
}

/// Everything stored for one request.
#[derive(Debug, Clone)]
pub struct Records {
    pub request: Versioned<RequestRecord>,
    /// Every decision found for the request, valid or not ([`compose`] decides).
    pub decisions: Vec<Versioned<DecisionRecord>>,
    pub run: Option<Versioned<RunRecord>>,
    /// Revision of the request's turn marker (0 = none): every decision
    /// compares and moves it, so of two approvers exactly one wins.
    pub turn: i64,
    pub trust: Trust,
    /// Lease extensions and the decisions on them.
    pub extensions: Vec<ExtensionRecords>,
    /// The department's longest total lease in days (0 = none), from its quota.
    pub max_lease_days: u32,
    /// The approval rule generation the request's auto-approval names, as stored.
    pub rule: Option<crate::vms::rules::RuleVersion>,
    /// Every delegation, this request's escalations and its department's
    /// escalation policy (see [`crate::vms::delegation`]).
    pub delegation: crate::vms::delegation::DelegationRecords,
}

impl Records {
    /// The request as seen by everyone (state derived from the records).
    pub fn compose(&self) -> VmRequest {
        compose(self)
    }

    pub fn revision(&self) -> i64 {
        let decisions = self.decisions.iter().map(|d| d.revision);
        [self.request.revision, self.run.as_ref().map_or(0, |r| r.revision), self.turn].into_iter().chain(decisions).max().unwrap_or(0)
    }

    /// The decision this store would overwrite for `stage` by `actor`.
    pub fn own_decision(&self, stage: Stage, actor: &str) -> Option<&Versioned<DecisionRecord>> {
        self.decisions.iter().find(|d| d.value.decision.stage == stage && d.writer.as_deref().unwrap_or(&d.value.decision.actor) == actor)
    }
}

/// A key under the store's prefix that is not a valid Opsdeck record (or
/// sits where its writer may not put it): skipped, and shown as such.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct StoreProblem {
    pub key: String,
    pub reason: String,
}

/// Every request, and what was skipped.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub records: Vec<Records>,
    pub problems: Vec<StoreProblem>,
    /// The store revision it was read at.
    pub at: i64,
}

pub const QUOTA_ACTOR: &str = "opsdeck (quota check)";

/// Held while one app instance executes a request; dropping it releases.
#[async_trait]
pub trait ExecLock: Send + Sync {
    /// Cancelled once the lock is lost (its lease expired or was revoked,
    /// the key deleted): another instance may take over, so the holder
    /// stops at its next safe point.
    fn lost(&self) -> tokio_util::sync::CancellationToken;
    /// Releases the lock now (dropping does it too, in the background).
    async fn release(self: Box<Self>);
}

/// Where requests live. Every state change is a compare-and-set on the
/// revisions read: of two concurrent movers of one request, one gets
/// [`crate::Error::Conflict`].
#[async_trait]
pub trait RequestStore: crate::vms::rules::RuleStore + crate::vms::delegation::DelegationStore + Send + Sync {
    /// `local` or `etcd`.
    fn kind(&self) -> &'static str;
    /// The identity the store authenticates (the etcd user), if any; it is
    /// recorded as the actor instead of whatever the app claims.
    fn authenticated_user(&self) -> Option<String>;
    /// How far the store proves who wrote what (shown on every view of it).
    fn trust(&self) -> Trust;
    /// The team store this request store lives in (its audit trail gets
    /// every move), if it is a shared one.
    fn team(&self) -> Option<&crate::team::TeamStore> {
        None
    }

    /// Every request, and the keys skipped as malformed or misplaced.
    async fn list(&self) -> Result<Listing>;
    async fn get(&self, id: &str) -> Result<Records>;
    /// Stores a new request; the VM name is reserved atomically (a name
    /// held by a live request is refused with Conflict).
    async fn create(&self, record: &RequestRecord) -> Result<Records>;
    /// Replaces the request record (an edit or a withdrawal by its
    /// requester) if it is unchanged since `current` was read.
    async fn update(&self, current: &Records, record: &RequestRecord) -> Result<Records>;
    /// Records an approver's decision if neither the request nor any
    /// decision on it changed since `current` was read.
    async fn decide(&self, current: &Records, stage: Stage, decision: &Decision) -> Result<Records>;
    /// Replaces the run record if neither it nor the request changed since
    /// `current` was read.
    async fn put_run(&self, current: &Records, run: &RunRecord) -> Result<Records>;
    /// Files lease extension `ext` of the request (its requester only);
    /// refused with Conflict when the request moved since `current` was read
    /// or an extension under that number exists.
    async fn put_extension(&self, current: &Records, ext: &ExtensionRecord) -> Result<Records>;
    /// Records the manager's decision on extension `n` if nothing moved since
    /// `current` was read (of two deciding at once, one wins).
    async fn decide_extension(&self, current: &Records, n: u32, decision: &Decision) -> Result<Records>;
    /// Takes the execution lock of a request; `None` when another instance holds it.
    async fn lock(&self, id: &str, owner: &str) -> Result<Option<Box<dyn ExecLock>>>;

    async fn quotas(&self) -> Result<Vec<(String, Quota)>>;
    async fn set_quota(&self, department: &str, quota: &Quota) -> Result<()>;

    /// The IPv4 settings of every network that has some (see [`crate::vms::ipam`]).
    async fn ip_pools(&self) -> Result<Vec<IpPool>>;
    /// Adds or replaces the settings of `pool.network`.
    async fn set_ip_pool(&self, pool: &IpPool) -> Result<()>;
    /// Removes a network's settings; refused while an address of it is held.
    async fn remove_ip_pool(&self, network: &str) -> Result<()>;
    /// The addresses held on `network` (every network when None).
    async fn ip_leases(&self, network: Option<&str>) -> Result<Vec<IpLease>>;
    /// [`RequestStore::put_run`] and, in the same transaction, takes
    /// `lease` for its request: refused with [`crate::Error::Conflict`] when
    /// the run moved or another request holds the address (already holding
    /// it is fine).
    async fn put_run_claiming(&self, current: &Records, run: &RunRecord, lease: &IpLease) -> Result<Records>;
    /// Gives back every address `request` holds; returns them.
    async fn release_ips(&self, request: &str) -> Result<Vec<IpLease>>;
}
