//! The VMs workspace on the backend: vCenter sessions per connection, the
//! inventory (cached), the request store the team chose (local or etcd),
//! the approval chain, provisioning, lifecycle and compliance. Every change
//! is written to the audit log.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Backend;
use crate::cache::db::now_rfc3339;
use crate::cache::settings;
use crate::cache::snapshots::{self, Snapshot};
use crate::connections::ConnectionSpec;
use crate::connectors::vsphere;
use crate::error::{Error, Result};
use crate::team::roles::Member;
use crate::team::{TeamStore, DEFAULT_ROOT};
use crate::vms::compliance::{self, ComplianceRules, Finding};
use crate::vms::inventory::{self, Inventory};
use crate::vms::lifecycle::{self, Action, LifecyclePolicy};
use crate::vms::model::{DepartmentQuota, Quota, RequestSpec, Stage, VmRequest};
use crate::vms::provision::{self, Progress, ProvisionOptions};
use crate::vms::store::etcd::EtcdStore;
use crate::vms::store::local::LocalStore;
use crate::vms::store::{RequestStore, StoreProblem};
use crate::vms::validate::{self, Limits};
use crate::vms::vsphere::Vim;
use crate::vms::{quota, workflow};

/// Cache scope of a vCenter inventory.
pub const VM_INVENTORY_SCOPE: &str = "vm-inventory";
const SETTINGS_KEY: &str = "vm_settings";
/// Requests provisioned at once by "provision all approved".
pub const PROVISION_CONCURRENCY: usize = 4;

/// Where the team's requests live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StoreChoice {
    /// This machine's database (one operator).
    #[default]
    Local,
    /// The team's shared etcd: a saved etcd connection, the team root
    /// prefix (requests under `<prefix>vms/`, the team audit trail under
    /// `<prefix>audit/`), and whether an etcd without auth is accepted.
    Etcd {
        connection_id: String,
        #[serde(default = "default_prefix")]
        prefix: String,
        /// Accept an etcd connection without a user (auth disabled): nothing
        /// is enforced there. Off unless the user opts in.
        #[serde(default)]
        allow_no_auth: bool,
    },
}

fn default_prefix() -> String {
    DEFAULT_ROOT.into()
}

/// The workspace's settings (one settings row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, specta::Type)]
pub struct VmSettings {
    #[serde(default)]
    pub store: StoreChoice,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub lifecycle: LifecyclePolicy,
    #[serde(default)]
    pub compliance: ComplianceRules,
    /// When a powered-on VM counts as idle (utilisation, compliance).
    #[serde(default)]
    pub idle: crate::vms::utilisation::IdleRules,
}

impl Backend {
    pub async fn vm_settings(&self) -> Result<VmSettings> {
        Ok(settings::load_json(&self.db, SETTINGS_KEY).await?.unwrap_or_default())
    }

    pub async fn set_vm_settings(&self, s: &VmSettings) -> Result<()> {
        if s.lifecycle.retention_days < 1 || s.lifecycle.grace_days < 0 || s.lifecycle.warn_days < 0 {
            return Err(Error::invalid("lifecycle: retention at least 1 day, warning and grace periods not negative"));
        }
        s.idle.validate()?;
        if let StoreChoice::Etcd { prefix, connection_id, .. } = &s.store {
            crate::team::validate_root(prefix)?;
            self.connection(connection_id).await?;
        }
        let json = settings::store_json(&self.db, SETTINGS_KEY, s).await?;
        self.audit("vsphere", "vm settings", "vm.settings", Ok(json)).await;
        Ok(())
    }

    /// Opens the request store `choice` names.
    pub async fn vm_store(&self, choice: &StoreChoice) -> Result<Arc<dyn RequestStore>> {
        Ok(match choice {
            StoreChoice::Local => Arc::new(LocalStore::new(self.db.clone())),
            StoreChoice::Etcd { .. } => {
                Arc::new(EtcdStore::new(self.team_store(choice).await?.ok_or_else(|| Error::Internal("no team store".into()))?))
            }
        })
    }

    /// The team store `choice` names (None for the local store). An etcd
    /// connection without a user is refused unless the choice opts in.
    pub async fn team_store(&self, choice: &StoreChoice) -> Result<Option<TeamStore>> {
        let StoreChoice::Etcd { connection_id, prefix, allow_no_auth } = choice else {
            return Ok(None);
        };
        let s = self.etcd_session(connection_id).await?;
        let (client, user) = s.parts();
        TeamStore::new(client, prefix, user, &s.label, *allow_no_auth).map(Some)
    }

    /// The store chosen in the settings.
    pub async fn vm_default_store(&self) -> Result<Arc<dyn RequestStore>> {
        self.vm_store(&self.vm_settings().await?.store).await
    }

    /// Gives team members their etcd roles in the etcd of `etcd_connection`
    /// (its user must be allowed to manage roles, e.g. root). Audited.
    pub async fn team_roles(&self, etcd_connection: &str, root: &str, members: &[Member]) -> Result<Vec<String>> {
        crate::team::validate_root(root)?;
        let s = self.etcd_session(etcd_connection).await?;
        let (mut client, _) = s.parts();
        let result = crate::team::roles::apply(&mut client, root, members).await;
        match &result {
            Ok(lines) => self.audit("etcd", root, "team.roles", Ok(format!("on {}: {}", s.label, lines.join("; ")))).await,
            Err(e) => self.audit("etcd", root, "team.roles", Err(e)).await,
        }
        result
    }

    /// A logged-in vCenter session for a saved vSphere connection (reused).
    pub async fn vim(&self, connection_id: &str) -> Result<Vim> {
        if let Some(v) = self.vim_sessions.lock().ok().and_then(|m| m.get(connection_id).cloned()) {
            return Ok(v);
        }
        let stored = crate::connections::store::get(&self.db, connection_id).await?;
        let c = &stored.connection;
        let ConnectionSpec::Vsphere { url, username, thumbprint } = &c.spec else {
            return Err(Error::invalid(format!("connection \"{}\" is not a vSphere connection", c.name)));
        };
        let secret = self.secret_of(&stored).await?;
        let client = vsphere::connect(url, username, secret.as_ref(), thumbprint.as_deref()).await?;
        let vim = Vim::new(client);
        if let Ok(mut m) = self.vim_sessions.lock() {
            m.insert(connection_id.to_string(), vim.clone());
        }
        Ok(vim)
    }

    /// Loads the inventory, caches it, and notes which VMs are powered off since when.
    pub async fn vm_inventory(&self, connection_id: &str) -> Result<Inventory> {
        let vim = self.vim(connection_id).await?;
        let inv = match inventory::load(&vim.client).await {
            Ok(inv) => inv,
            Err(e) => {
                // A dead session is dropped so the next call logs in again.
                if let Ok(mut m) = self.vim_sessions.lock() {
                    m.remove(connection_id);
                }
                return Err(e);
            }
        };
        snapshots::put(&self.db, connection_id, VM_INVENTORY_SCOPE, &inv).await?;
        self.note_power(connection_id, &inv).await?;
        Ok(inv)
    }

    /// Live VM updates from `connection_id` until the handle is dropped, a
    /// batch of events per vCenter update set (one server page each, up to 100 VMs on vCenter).
    pub async fn vm_watch(
        &self,
        connection_id: &str,
        on_events: impl Fn(Vec<crate::vms::live::VmEvent>) + Send + Sync + 'static,
    ) -> Result<crate::vms::live::LiveHandle> {
        let vim = self.vim(connection_id).await?;
        Ok(crate::vms::live::watch(vim.client.clone(), on_events))
    }

    pub async fn cached_vm_inventory(&self, connection_id: &str) -> Result<Option<Snapshot<Inventory>>> {
        snapshots::get(&self.db, connection_id, VM_INVENTORY_SCOPE).await
    }

    async fn note_power(&self, connection_id: &str, inv: &Inventory) -> Result<()> {
        // Two set-based statements whatever the number of VMs: forget VMs no
        // longer off (powered on, or gone), remember the first sighting of each VM that is off.
        let off: Vec<&str> = inv.vms.iter().filter(|v| !v.template && !v.powered_on()).map(|v| v.id.as_str()).collect();
        let off = serde_json::to_string(&off).map_err(|e| Error::Internal(e.to_string()))?;
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("DELETE FROM vm_powered_off_seen WHERE connection_id = ?1 AND vm_id NOT IN (SELECT value FROM json_each(?2))")
            .bind(connection_id)
            .bind(&off)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO vm_powered_off_seen (connection_id, vm_id, since) SELECT ?1, value, ?3 FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING")
            .bind(connection_id)
            .bind(&off)
            .bind(now_rfc3339())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When each VM of this vCenter was first seen powered off.
    pub async fn powered_off_since(&self, connection_id: &str) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT vm_id, since FROM vm_powered_off_seen WHERE connection_id = ?")
            .bind(connection_id)
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.into_iter().collect())
    }

    pub async fn vm_requests(&self, store: &dyn RequestStore) -> Result<Vec<VmRequest>> {
        workflow::list(store).await
    }

    /// Every request, and the store keys skipped as malformed or written
    /// where their writer may not write (shown, never fatal).
    pub async fn vm_requests_checked(&self, store: &dyn RequestStore) -> Result<(Vec<VmRequest>, Vec<StoreProblem>)> {
        workflow::list_with_problems(store).await
    }

    pub async fn vm_request(&self, store: &dyn RequestStore, id: &str) -> Result<VmRequest> {
        Ok(store.get(id).await?.compose())
    }

    pub(super) fn actor_for(&self, store: &dyn RequestStore) -> String {
        workflow::actor(store, &self.actor)
    }

    /// Files a request (validated against the live inventory of `vcenter`).
    pub async fn vm_submit(&self, store: &dyn RequestStore, vcenter: &str, spec: RequestSpec) -> Result<VmRequest> {
        let target = spec.name.clone();
        let settings = self.vm_settings().await?;
        let result = async {
            let inv = self.vm_inventory(vcenter).await?;
            let estimate = self.request_estimate(store, &spec).await;
            workflow::submit(store, spec, Some(&inv), &settings.limits, &self.actor, estimate).await
        }
        .await;
        let summary = result.as_ref().map(|r| {
            format!(
                "request {} for {} ({} vCPU, {} GB, {} GB disk) in {}: {}{}",
                r.id,
                r.spec.name,
                r.spec.cpu,
                r.spec.memory_gb,
                r.spec.disk_gb,
                r.spec.department,
                r.state.as_str(),
                if r.quota.ok { String::new() } else { format!(" ({})", r.quota.lines.join("; ")) }
            )
        });
        self.audit_as(store, &target, "vm.request", summary).await;
        if let Ok(r) = &result {
            self.notify_vm_request(r, true, "").await;
        }
        result
    }

    /// The requester changes their request (checked against `vcenter`'s inventory).
    pub async fn vm_edit(&self, store: &dyn RequestStore, vcenter: &str, id: &str, spec: RequestSpec) -> Result<VmRequest> {
        let settings = self.vm_settings().await?;
        let result = async {
            let inv = self.vm_inventory(vcenter).await?;
            let estimate = self.request_estimate(store, &spec).await;
            workflow::edit(store, id, spec, Some(&inv), &settings.limits, &self.actor, estimate).await
        }
        .await;
        let summary = result.as_ref().map(|r| {
            format!(
                "request {id} ({}) edited: {} vCPU, {} GB, {} GB disk, lease {}; now {}",
                r.spec.name,
                r.spec.cpu,
                r.spec.memory_gb,
                r.spec.disk_gb,
                r.spec.lease_end,
                r.state.as_str()
            )
        });
        self.audit_as(store, id, "vm.edit", summary).await;
        if let Ok(r) = &result {
            self.notify_vm_request(r, false, "").await;
        }
        result
    }

    /// The requester withdraws their request.
    pub async fn vm_withdraw(&self, store: &dyn RequestStore, id: &str, comment: &str) -> Result<VmRequest> {
        let result = workflow::withdraw(store, id, comment, &self.actor).await;
        let summary = result.as_ref().map(|r| {
            format!(
                "request {id} ({}) withdrawn{}",
                r.spec.name,
                if comment.trim().is_empty() { String::new() } else { format!(": {}", comment.trim()) }
            )
        });
        self.audit_as(store, id, "vm.withdraw", summary).await;
        result
    }

    /// The requester asks to extend their VM's lease (approved by the manager).
    pub async fn vm_extend(&self, store: &dyn RequestStore, id: &str, lease_end: &str, reason: &str) -> Result<VmRequest> {
        let result = workflow::request_extension(store, id, lease_end, reason, &self.actor).await;
        let summary =
            result.as_ref().map(|r| format!("request {id} ({}): lease extension to {lease_end} asked: {}", r.spec.name, reason.trim()));
        self.audit_as(store, id, "vm.extend", summary).await;
        if let Ok(r) = &result {
            let n = r.extensions.iter().map(|e| e.n).max().unwrap_or(0);
            self.notify(crate::notify::Event::vm_extension(r, n, crate::notify::EventKind::VmRequestWaitingManager, "")).await;
        }
        result
    }

    /// The manager approves or rejects a lease extension.
    pub async fn vm_decide_extension(
        &self,
        store: &dyn RequestStore,
        id: &str,
        n: u32,
        approved: bool,
        comment: &str,
    ) -> Result<VmRequest> {
        let result = workflow::decide_extension(store, id, n, approved, comment, &self.actor).await;
        let summary = result.as_ref().map(|r| {
            format!(
                "request {id} ({}): extension {n} {}; lease now {}",
                r.spec.name,
                if approved { "approved" } else { "rejected" },
                r.spec.lease_end
            )
        });
        self.audit_as(store, id, if approved { "vm.extension.approve" } else { "vm.extension.reject" }, summary).await;
        if let Ok(r) = &result {
            use crate::notify::EventKind::{VmRequestApproved, VmRequestRejected};
            let kind = if approved { VmRequestApproved } else { VmRequestRejected };
            self.notify(crate::notify::Event::vm_extension(r, n, kind, comment)).await;
        }
        result
    }

    /// Approves or rejects the manager or admin step.
    pub async fn vm_decide(
        &self,
        store: &dyn RequestStore,
        vcenter: Option<&str>,
        id: &str,
        stage: Stage,
        approved: bool,
        comment: &str,
    ) -> Result<VmRequest> {
        self.vm_decide_via(store, vcenter, id, stage, approved, comment, &crate::vms::delegation::Via::Own).await
    }

    /// [`Backend::vm_decide`] as a delegate or as the escalation delegate
    /// (see `vms::delegation`); the audit line says in whose name.
    #[allow(clippy::too_many_arguments)]
    pub async fn vm_decide_via(
        &self,
        store: &dyn RequestStore,
        vcenter: Option<&str>,
        id: &str,
        stage: Stage,
        approved: bool,
        comment: &str,
        via: &crate::vms::delegation::Via,
    ) -> Result<VmRequest> {
        let inv = match vcenter {
            Some(c) if stage == Stage::Admin && approved => Some(self.vm_inventory(c).await?),
            _ => None,
        };
        let result = workflow::decide_via(store, id, stage, approved, comment, inv.as_ref(), &self.actor, via).await;
        let action = format!("vm.{}.{}", stage.as_str(), if approved { "approve" } else { "reject" });
        let summary = result.as_ref().map(|r| {
            format!(
                "request {id} ({}){}: now {}{}",
                r.spec.name,
                via.describe(),
                r.state.as_str(),
                if comment.trim().is_empty() { String::new() } else { format!("; comment: {}", comment.trim()) }
            )
        });
        self.audit_as(store, id, &action, summary).await;
        if let Ok(r) = &result {
            self.notify_vm_request(r, false, comment).await;
        }
        result
    }

    /// Provisions one approved (or failed) request on `vcenter`.
    pub async fn vm_provision(
        &self,
        store: &dyn RequestStore,
        vcenter: &str,
        id: &str,
        opts: &ProvisionOptions,
        on: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<VmRequest> {
        let vim = self.vim(vcenter).await?;
        let actor = self.actor_for(store);
        let result = provision::provision(store, &vim, id, &actor, opts, on).await;
        self.audit_provision(store, id, &result).await;
        if let Ok(r) = &result {
            self.notify_vm_request(r, false, "").await;
        }
        result
    }

    /// Provisions every approved request, a few at a time.
    pub async fn vm_provision_approved(
        &self,
        store: &dyn RequestStore,
        vcenter: &str,
        opts: &ProvisionOptions,
        on: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Vec<(String, Result<VmRequest>)>> {
        let vim = self.vim(vcenter).await?;
        let actor = self.actor_for(store);
        let ids: Vec<String> =
            self.vm_requests(store).await?.into_iter().filter(|r| r.state == crate::vms::State::Approved).map(|r| r.id).collect();
        let results = provision::provision_many(store, &vim, &ids, &actor, opts, PROVISION_CONCURRENCY, on).await;
        for (id, r) in &results {
            self.audit_provision(store, id, r).await;
            if let Ok(r) = r {
                self.notify_vm_request(r, false, "").await;
            }
        }
        Ok(results)
    }

    async fn audit_provision(&self, store: &dyn RequestStore, id: &str, result: &Result<VmRequest>) {
        // Interrupted (SIGINT/SIGTERM): what was in flight and how to resume.
        if let Err(e @ Error::Cancelled(_)) = result {
            return self.audit_as(store, id, "vm.provision.interrupted", Err(e)).await;
        }
        let summary = match result {
            Ok(r) if r.state == crate::vms::State::Provisioned => {
                let a = r.asset.clone().unwrap_or_default();
                Ok(format!("request {id}: {} ({}) on {} / {}, snapshot {}", a.name, a.vm_id, a.host, a.datastore, a.snapshot))
            }
            Ok(r) => Err(Error::Internal(format!("request {id} ({}): failed: {}", r.spec.name, r.failure.clone().unwrap_or_default()))),
            Err(e) => Err(Error::Internal(format!("request {id}: {e}"))),
        };
        match summary {
            Ok(s) => self.audit_as(store, id, "vm.provision", Ok(s)).await,
            Err(e) => self.audit_as(store, id, "vm.provision", Err(&e)).await,
        }
    }

    /// One lifecycle pass (snapshots, lease warnings, power-off, reclaim); each action audited.
    pub async fn vm_lifecycle(&self, store: &dyn RequestStore, vcenter: &str, now: OffsetDateTime) -> Result<Vec<Action>> {
        let settings = self.vm_settings().await?;
        let vim = self.vim(vcenter).await?;
        let actions = lifecycle::run(store, &vim, now, &settings.lifecycle, &self.actor_for(store)).await?;
        for a in &actions {
            let action = format!("vm.lifecycle.{}", a.action);
            if a.ok {
                self.audit_as(store, &a.vm, &action, Ok(format!("request {}: {}", a.request, a.detail))).await;
            } else {
                self.audit_as(store, &a.vm, &action, Err(&Error::Internal(format!("request {}: {}", a.request, a.detail)))).await;
            }
        }
        self.notify_lifecycle(store, &actions).await;
        Ok(actions)
    }

    /// What a lifecycle pass at `now` would do, and the capacity each
    /// department would get back; nothing is changed (`--dry-run`). The
    /// real pass works the same plan out and does it.
    pub async fn vm_lifecycle_plan(&self, store: &dyn RequestStore, vcenter: &str, now: OffsetDateTime) -> Result<lifecycle::Plan> {
        let settings = self.vm_settings().await?;
        let vim = self.vim(vcenter).await?;
        Ok(lifecycle::prepare(store, &vim, now, &settings.lifecycle).await?.plan)
    }

    /// One lifecycle pass over every saved vCenter with the chosen store
    /// (the app's hourly schedule); the result per connection name.
    pub async fn vm_lifecycle_all(&self, now: OffsetDateTime) -> Vec<(String, Result<Vec<Action>>)> {
        let conns = match self.connections().await {
            Ok(c) => c,
            Err(e) => return vec![("(connections)".into(), Err(e))],
        };
        let store = match self.vm_default_store().await {
            Ok(s) => s,
            Err(e) => return vec![("(request store)".into(), Err(e))],
        };
        let mut out = Vec::new();
        for c in conns.into_iter().filter(|c| matches!(c.spec, ConnectionSpec::Vsphere { .. })) {
            let r = Box::pin(self.vm_lifecycle(store.as_ref(), &c.id, now)).await;
            out.push((c.name, r));
        }
        out
    }

    /// The compliance report of `vcenter` at `now`.
    pub async fn vm_compliance(&self, vcenter: &str, now: OffsetDateTime) -> Result<Vec<Finding>> {
        let settings = self.vm_settings().await?;
        let inv = self.vm_inventory(vcenter).await?;
        let seen = self.powered_off_since(vcenter).await?;
        let mut findings = compliance::report(&inv, &seen, now, &settings.compliance);
        // Idle VMs beside the powered-off rule (PerformanceManager samples);
        // samples that cannot be read leave the other rules standing.
        findings.extend(compliance::idle_or_unchecked(self.vm_idle_findings(vcenter).await, vcenter));
        findings.sort_by(|a, b| a.vm.cmp(&b.vm).then_with(|| a.rule.cmp(&b.rule)));
        Ok(findings)
    }

    /// Every department with a quota or a request, with its use.
    pub async fn vm_quotas(&self, store: &dyn RequestStore, vcenter: Option<&str>) -> Result<Vec<DepartmentQuota>> {
        let quotas = store.quotas().await?;
        let requests = self.vm_requests(store).await?;
        let inv = match vcenter {
            Some(c) => self.cached_vm_inventory(c).await?.map(|s| s.payload),
            None => None,
        };
        let mut depts: Vec<String> =
            quotas.iter().map(|(d, _)| d.clone()).chain(requests.iter().map(|r| r.spec.department.clone())).collect();
        depts.sort();
        depts.dedup();
        Ok(depts
            .into_iter()
            .map(|d| DepartmentQuota {
                quota: quotas.iter().find(|(x, _)| *x == d).map(|(_, q)| *q).unwrap_or_default(),
                usage: quota::usage(&d, &requests, inv.as_ref(), None),
                department: d,
            })
            .collect())
    }

    pub async fn vm_set_quota(&self, store: &dyn RequestStore, department: &str, q: &Quota) -> Result<()> {
        let department = validate::department(department)?;
        let result = store.set_quota(&department, q).await;
        match result.as_ref().map(|_| {
            format!("{department}: {} VMs, {} vCPU, {} GB memory, {} GB disk (0 = no limit)", q.vms, q.vcpu, q.memory_gb, q.disk_gb)
        }) {
            Ok(s) => self.audit_as(store, &department, "vm.quota", Ok(s)).await,
            Err(e) => self.audit_as(store, &department, "vm.quota", Err(e)).await,
        }
        result
    }

    /// Audits as the store's authenticated user when there is one.
    pub(super) async fn audit_as(&self, store: &dyn RequestStore, target: &str, action: &str, outcome: Result<String, &Error>) {
        let outcome = outcome.map(|d| match store.authenticated_user() {
            Some(u) => format!("[{} store as {u}] {d}", store.kind()),
            None => format!("[{} store] {d}", store.kind()),
        });
        self.audit_in(store.team(), "vsphere", target, action, outcome).await;
    }
}

/// IPv4 settings per network (static pools or DHCP) and the addresses held.
impl Backend {
    /// Every network's IP settings, with its size and the addresses held.
    pub async fn vm_ip_pools(&self, store: &dyn RequestStore) -> Result<Vec<crate::vms::ipam::IpPoolUsage>> {
        use crate::vms::ipam::{self, IpMode, IpPoolUsage};
        let pools = store.ip_pools().await?;
        let leases = store.ip_leases(None).await?;
        Ok(pools
            .into_iter()
            .map(|pool| IpPoolUsage {
                size: if pool.mode == IpMode::Static { ipam::size(&pool).unwrap_or(0) } else { 0 },
                leases: leases.iter().filter(|l| l.network == pool.network).cloned().collect(),
                pool,
            })
            .collect())
    }

    /// Adds or replaces a network's IP settings (checked first).
    pub async fn vm_set_ip_pool(&self, store: &dyn RequestStore, pool: crate::vms::ipam::IpPool) -> Result<crate::vms::ipam::IpPool> {
        use crate::vms::ipam::{self, IpMode};
        let pool = ipam::validate(pool)?;
        let result = store.set_ip_pool(&pool).await;
        let summary = match pool.mode {
            IpMode::Dhcp => format!("network {}: DHCP, DNS [{}]", pool.network, pool.dns.join(", ")),
            IpMode::Static => format!(
                "network {}: static {} via {}, DNS [{}], domain {}, excluded [{}]",
                pool.network,
                pool.cidr,
                pool.gateway,
                pool.dns.join(", "),
                if pool.domain.is_empty() { "-" } else { &pool.domain },
                pool.excluded.join(", ")
            ),
        };
        match &result {
            Ok(()) => self.audit_as(store, &pool.network, "vm.ip_pool.set", Ok(summary)).await,
            Err(e) => self.audit_as(store, &pool.network, "vm.ip_pool.set", Err(e)).await,
        }
        result.map(|()| pool)
    }

    /// Removes a network's IP settings (refused while an address of it is held).
    pub async fn vm_remove_ip_pool(&self, store: &dyn RequestStore, network: &str) -> Result<()> {
        let result = store.remove_ip_pool(network).await;
        match &result {
            Ok(()) => self.audit_as(store, network, "vm.ip_pool.remove", Ok(format!("network {network}: IP settings removed"))).await,
            Err(e) => self.audit_as(store, network, "vm.ip_pool.remove", Err(e)).await,
        }
        result
    }
}
