//! The VM request: what was asked for, where it stands in the approval chain,
//! and what was built. Stores (SQLite, etcd) persist these; the workflow moves
//! them from state to state.

use serde::{Deserialize, Serialize};

/// What a requester fills in on the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RequestSpec {
    /// The VM's name in vCenter (see `validate::name`).
    pub name: String,
    /// Template name to clone from.
    pub template: String,
    pub cpu: u32,
    pub memory_gb: u32,
    pub disk_gb: u32,
    /// Network (port group) name; empty = the template's.
    #[serde(default)]
    pub network: String,
    /// Folder path or name; empty = the template's datacenter VM folder.
    #[serde(default)]
    pub folder: String,
    /// Resource pool name; empty = the chosen host's cluster root pool.
    #[serde(default)]
    pub resource_pool: String,
    pub department: String,
    pub purpose: String,
    /// Last day of the lease, `YYYY-MM-DD` (UTC).
    pub lease_end: String,
    #[serde(default)]
    pub snapshot_schedule: SnapshotSchedule,
    /// Run by guest customization after the first boot (kept with the request).
    #[serde(default)]
    pub customization_script: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotSchedule {
    #[default]
    None,
    Daily,
    Weekly,
}

impl SnapshotSchedule {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotSchedule::None => "none",
            SnapshotSchedule::Daily => "daily",
            SnapshotSchedule::Weekly => "weekly",
        }
    }

    /// Days between two scheduled snapshots.
    pub fn interval_days(self) -> Option<i64> {
        match self {
            SnapshotSchedule::None => None,
            SnapshotSchedule::Daily => Some(1),
            SnapshotSchedule::Weekly => Some(7),
        }
    }
}

/// Where a request stands. The chain is
/// `PendingManager -> PendingAdmin -> Approved -> Provisioning -> Provisioned`,
/// with `Rejected` (quota check or an approver), `Failed` (retryable) and,
/// once provisioned, `Expired` (powered off at lease end) and `Reclaimed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename = "RequestState", rename_all = "snake_case")] // RequestState in the IPC contract
pub enum State {
    PendingManager,
    PendingAdmin,
    Approved,
    Provisioning,
    Provisioned,
    Failed,
    Rejected,
    Expired,
    Reclaimed,
    Withdrawn,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::PendingManager => "pending_manager",
            State::PendingAdmin => "pending_admin",
            State::Approved => "approved",
            State::Provisioning => "provisioning",
            State::Provisioned => "provisioned",
            State::Failed => "failed",
            State::Rejected => "rejected",
            State::Expired => "expired",
            State::Reclaimed => "reclaimed",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        ALL_STATES.iter().copied().find(|x| x.as_str() == s)
    }

    /// Still waiting for a decision or for its VM: counts against the quota.
    pub fn is_pending(self) -> bool {
        matches!(self, State::PendingManager | State::PendingAdmin | State::Approved | State::Provisioning | State::Failed)
    }

    /// Has (or had) a VM in vCenter that still uses resources.
    pub fn holds_vm(self) -> bool {
        matches!(self, State::Provisioned | State::Expired)
    }
}

pub const ALL_STATES: [State; 10] = [
    State::PendingManager,
    State::PendingAdmin,
    State::Approved,
    State::Provisioning,
    State::Provisioned,
    State::Failed,
    State::Rejected,
    State::Expired,
    State::Reclaimed,
    State::Withdrawn,
];

/// Which approval step a decision belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Manager,
    Admin,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Manager => "manager",
            Stage::Admin => "admin",
        }
    }
}

/// An approver's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Decision {
    pub stage: Stage,
    pub approved: bool,
    pub actor: String,
    pub at: String,
    #[serde(default)]
    pub comment: String,
    /// Set when a delegate decided in this approver's name (a delegation in
    /// force then): "by `actor` on behalf of `on_behalf_of`".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// Set when the department's escalation delegate decided a step that
    /// waited past the department's approval timeout.
    #[serde(default)]
    pub escalated: bool,
}

/// One recorded move of a request: who, when, from where to where, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Transition {
    pub at: String,
    pub actor: String,
    pub from: Option<State>,
    pub to: State,
    #[serde(default)]
    pub comment: String,
}

/// The outcome of the automatic quota check at submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct QuotaCheck {
    pub ok: bool,
    /// Human-readable lines, e.g. "vCPU 18 of 16 (this request 4)".
    pub lines: Vec<String>,
}

/// The VM built for a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct Asset {
    /// Managed object id (`vm-123`).
    pub vm_id: String,
    pub name: String,
    pub host: String,
    pub datastore: String,
    #[serde(default)]
    pub snapshot: String,
    /// What the guest reported after customization (None: its network has
    /// no IP settings, so it was not customized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// `Linux` or `Windows`: how the guest was customized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_os: Option<String>,
    pub provisioned_at: String,
    /// Lifecycle steps already taken (warning sent, powered off), so each is done once.
    #[serde(default)]
    pub lease_warned_at: Option<String>,
    #[serde(default)]
    pub powered_off_at: Option<String>,
    #[serde(default)]
    pub reclaimed_at: Option<String>,
    /// When the lifecycle last began a scheduled snapshot (recorded before
    /// it is taken, so a second pass never takes the same one again).
    #[serde(default)]
    pub snapshot_begun_at: Option<String>,
}

/// A request as the UI and the CLI see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct VmRequest {
    pub id: String,
    pub spec: RequestSpec,
    pub requester: String,
    pub created_at: String,
    pub state: State,
    pub quota: QuotaCheck,
    pub decisions: Vec<Decision>,
    pub history: Vec<Transition>,
    #[serde(default)]
    pub asset: Option<Asset>,
    #[serde(default)]
    pub failure: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    /// Opaque store revision; pass it back to detect concurrent changes.
    pub version: i64,
    /// What the store found wrong with this request's records and ignored:
    /// a decision by the requester themselves, a record written around
    /// Opsdeck, a change made after approval (see `store::compose`).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Lease extensions asked for (the approved ones are in `spec.lease_end`).
    #[serde(default)]
    pub extensions: Vec<Extension>,
    /// The monthly cost estimated on the form when it was filed (or last edited).
    #[serde(default)]
    pub estimate: Option<crate::showback::CostEstimate>,
    /// Steps that waited past the department's approval timeout and went to
    /// its escalation delegate (see `vms::escalation`).
    #[serde(default)]
    pub escalations: Vec<super::escalation::Escalation>,
}

#[cfg(test)]
impl VmRequest {
    /// A request as unit tests need one: this spec, filed by `requester`, in
    /// `state`, quota fine, nothing decided or provisioned yet.
    pub(crate) fn for_test(id: &str, spec: RequestSpec, requester: &str, state: State) -> Self {
        VmRequest {
            id: id.into(),
            spec,
            requester: requester.into(),
            created_at: String::new(),
            state,
            quota: QuotaCheck { ok: true, lines: vec![] },
            decisions: vec![],
            history: vec![],
            asset: None,
            failure: None,
            attempts: 0,
            version: 1,
            notes: vec![],
            extensions: vec![],
            estimate: None,
            escalations: vec![],
        }
    }
}

/// A department's limits. Zero means "no limit" for that resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct Quota {
    pub vms: u32,
    pub vcpu: u32,
    pub memory_gb: u32,
    pub disk_gb: u32,
    /// The longest total lease a VM of the department may have, in days from
    /// its request, extensions included (0 = no limit).
    #[serde(default)]
    pub max_lease_days: u32,
}

/// Where a lease extension stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionState {
    Pending,
    Approved,
    Rejected,
}

/// A lease extension of a provisioned VM: its own small request, approved
/// by the department's manager (never the requester).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Extension {
    pub n: u32,
    pub lease_end: String,
    pub reason: String,
    pub at: String,
    pub state: ExtensionState,
    #[serde(default)]
    pub decision: Option<Decision>,
}

/// What a department uses (existing VMs plus pending requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct Usage {
    pub vms: u32,
    pub vcpu: u32,
    pub memory_gb: u32,
    pub disk_gb: u32,
}

impl Usage {
    pub fn add(&mut self, spec: &RequestSpec) {
        self.vms += 1;
        self.vcpu += spec.cpu;
        self.memory_gb += spec.memory_gb;
        self.disk_gb += spec.disk_gb;
    }
}

/// A department quota with its current use, for the quota editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DepartmentQuota {
    pub department: String,
    pub quota: Quota,
    pub usage: Usage,
}
