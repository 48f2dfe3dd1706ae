//! vCenter inventory: one PropertyCollector retrieval per object type (a
//! container view over the root folder), never a call per VM. The result is
//! plain data, cached in SQLite and shown before the network answers.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vim_rs::core::client::Client;
use vim_rs::core::pc_retrieve::ObjectRetriever;
use vim_rs::types::enums::{HostSystemConnectionStateEnum, VirtualMachinePowerStateEnum};
use vim_rs::types::structs::{ManagedObjectReference, VirtualMachineSnapshotInfo, VirtualMachineSnapshotTree};
use vim_rs::vim_retrievable;

use super::vsphere::{vim_error, TIMEOUT};
use crate::error::{with_timeout, Result};

/// The VM properties a [`VmRow`] is made of, written once for both vim_rs
/// macros: `vim_retrievable!` for the one-shot inventory read (`VmProps`,
/// here) and `vim_updatable!` for live updates (`live::VmLive`).
macro_rules! vm_properties {
    ($macro:ident, $name:ident) => {
        $macro!(
            struct $name: VirtualMachine {
                name = "name",
                power = "runtime.power_state",
                host = "runtime.host",
                boot_time = "runtime.boot_time",
                template = "config.template"?,
                cpu = "config.hardware.num_cpu"?,
                memory_mb = "config.hardware.memory_mb"?,
                annotation = "config.annotation"?,
                tools = "summary.guest.tools_running_status",
                committed = "summary.storage.committed"?,
                datastores = "datastore",
                snapshot = "snapshot",
                parent = "parent",
                pool = "resource_pool",
            }
        );
    };
}
pub(crate) use vm_properties;

vm_properties!(vim_retrievable, VmProps);

vim_retrievable!(
    struct HostProps: HostSystem {
        name = "name",
        parent = "parent",
        connection = "runtime.connection_state"?,
        maintenance = "runtime.in_maintenance_mode"?,
        cpu_usage = "summary.quick_stats.overall_cpu_usage"?,
        memory_usage = "summary.quick_stats.overall_memory_usage"?,
        cpu_mhz = "summary.hardware.cpu_mhz"?,
        cores = "summary.hardware.num_cpu_cores"?,
        threads = "summary.hardware.num_cpu_threads"?,
        memory_size = "summary.hardware.memory_size"?,
        vms = "vm",
        datastores = "datastore",
    }
);

vim_retrievable!(
    struct DatastoreProps: Datastore {
        name = "name",
        capacity = "summary.capacity"?,
        free = "summary.free_space"?,
        accessible = "summary.accessible"?,
    }
);

vim_retrievable!(
    struct NetworkProps: Network {
        name = "name",
    }
);

vim_retrievable!(
    struct FolderProps: Folder {
        name = "name",
        parent = "parent",
        child_type = "child_type"?,
    }
);

vim_retrievable!(
    struct PoolProps: ResourcePool {
        name = "name",
        parent = "parent",
        owner = "owner"?,
    }
);

vim_retrievable!(
    struct ComputeProps: ComputeResource {
        name = "name",
        pool = "resource_pool",
    }
);

vim_retrievable!(
    struct DatacenterProps: Datacenter {
        name = "name",
        vm_folder = "vm_folder"?,
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct SnapshotRow {
    pub id: String,
    pub name: String,
    /// RFC 3339 as vCenter reports it.
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct VmRow {
    pub id: String,
    pub name: String,
    /// `poweredOn`, `poweredOff`, `suspended`.
    pub power: String,
    pub template: bool,
    /// `guestToolsRunning`, `guestToolsNotRunning`, ... or empty when unknown.
    pub tools: String,
    pub cpu: u32,
    pub memory_mb: u32,
    pub committed_bytes: u64,
    pub host: String,
    pub datastores: Vec<String>,
    pub folder: String,
    pub pool: String,
    pub annotation: String,
    pub snapshots: Vec<SnapshotRow>,
    pub boot_time: Option<String>,
}

/// First line of the annotation Opsdeck writes; tag lines follow as `key: value`.
pub const ANNOTATION_HEADER: &str = "Managed by Opsdeck";

impl VmRow {
    /// A `key: value` line of an Opsdeck annotation (`request`, `owner`, `department`, `lease`).
    pub fn tag(&self, key: &str) -> Option<&str> {
        tag(&self.annotation, key)
    }

    pub fn powered_on(&self) -> bool {
        self.power == "poweredOn"
    }

    /// Age in days of the oldest snapshot at `now`.
    pub fn oldest_snapshot_days(&self, now: OffsetDateTime) -> Option<i64> {
        self.snapshots.iter().filter_map(|s| parse_time(&s.created)).min().map(|t| (now - t).whole_days())
    }
}

pub fn tag<'a>(annotation: &'a str, key: &str) -> Option<&'a str> {
    if !annotation.starts_with(ANNOTATION_HEADER) {
        return None;
    }
    annotation.lines().skip(1).find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(": ")).map(str::trim))
}

pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct HostRow {
    pub id: String,
    pub name: String,
    /// The compute resource (cluster or standalone) it belongs to.
    pub compute: String,
    pub connected: bool,
    pub maintenance: bool,
    pub cpu_usage_mhz: u64,
    pub cpu_total_mhz: u64,
    pub cpu_threads: u32,
    pub memory_usage_mb: u64,
    pub memory_total_mb: u64,
    pub vm_count: u32,
    pub datastores: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DatastoreRow {
    pub id: String,
    pub name: String,
    pub capacity_bytes: u64,
    pub free_bytes: u64,
    pub accessible: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct NamedRow {
    pub id: String,
    pub name: String,
    /// Parent (folders, pools) or owner compute resource, when relevant.
    #[serde(default)]
    pub parent: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ComputeRow {
    pub id: String,
    pub name: String,
    pub root_pool: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct Inventory {
    pub vms: Vec<VmRow>,
    pub hosts: Vec<HostRow>,
    pub datastores: Vec<DatastoreRow>,
    pub networks: Vec<NamedRow>,
    /// VM folders only.
    pub folders: Vec<NamedRow>,
    pub pools: Vec<NamedRow>,
    pub computes: Vec<ComputeRow>,
    /// Datacenter name and its VM folder id.
    pub datacenters: Vec<NamedRow>,
}

impl Inventory {
    pub fn templates(&self) -> impl Iterator<Item = &VmRow> {
        self.vms.iter().filter(|v| v.template)
    }

    pub fn vm_by_name(&self, name: &str) -> Option<&VmRow> {
        self.vms.iter().find(|v| v.name == name)
    }

    /// A folder by name or id.
    pub fn folder(&self, name: &str) -> Option<&NamedRow> {
        self.folders.iter().find(|f| f.name == name || f.id == name)
    }

    /// A resource pool by name or id.
    pub fn pool(&self, name: &str) -> Option<&NamedRow> {
        self.pools.iter().find(|p| p.name == name || p.id == name)
    }

    pub fn host(&self, id: &str) -> Option<&HostRow> {
        self.hosts.iter().find(|h| h.id == id)
    }

    pub fn datastore(&self, id: &str) -> Option<&DatastoreRow> {
        self.datastores.iter().find(|d| d.id == id)
    }

    /// The root resource pool of the cluster (or standalone host) a host belongs to.
    pub fn root_pool_of_host(&self, host_id: &str) -> Option<&str> {
        let compute = &self.host(host_id)?.compute;
        self.computes.iter().find(|c| &c.id == compute).map(|c| c.root_pool.as_str())
    }
}

fn id(m: &ManagedObjectReference) -> String {
    m.value.clone()
}

pub fn power(p: &VirtualMachinePowerStateEnum) -> String {
    match p {
        VirtualMachinePowerStateEnum::PoweredOn => "poweredOn".into(),
        VirtualMachinePowerStateEnum::PoweredOff => "poweredOff".into(),
        VirtualMachinePowerStateEnum::Suspended => "suspended".into(),
        VirtualMachinePowerStateEnum::Other_(s) => s.clone(),
    }
}

/// Every snapshot of a VM's snapshot tree, parents first.
pub fn snapshot_rows(info: Option<&VirtualMachineSnapshotInfo>) -> Vec<SnapshotRow> {
    let mut out = Vec::new();
    if let Some(s) = info {
        flatten(&s.root_snapshot_list, &mut out);
    }
    out
}

fn flatten(trees: &[VirtualMachineSnapshotTree], out: &mut Vec<SnapshotRow>) {
    for t in trees {
        out.push(SnapshotRow { id: t.snapshot.value.clone(), name: t.name.clone(), created: t.create_time.clone() });
        if let Some(children) = &t.child_snapshot_list {
            flatten(children, out);
        }
    }
}

/// Builds a [`VmRow`] from a `VmProps` (one-shot read) or a `live::VmLive`
/// (an update): both are generated from the same property list.
macro_rules! vm_row {
    ($v:expr) => {{
        let v = $v;
        let id = |m: &vim_rs::types::structs::ManagedObjectReference| m.value.clone();
        $crate::vms::inventory::VmRow {
            id: id(&v.id),
            name: v.name.clone(),
            power: $crate::vms::inventory::power(&v.power),
            template: v.template.unwrap_or(false),
            tools: v.tools.clone().unwrap_or_default(),
            cpu: $crate::vms::inventory::count(v.cpu),
            memory_mb: $crate::vms::inventory::count(v.memory_mb),
            committed_bytes: v.committed.map(|c| c.max(0) as u64).unwrap_or(0),
            host: v.host.as_ref().map(id).unwrap_or_default(),
            datastores: v.datastores.iter().flatten().map(id).collect(),
            folder: v.parent.as_ref().map(id).unwrap_or_default(),
            pool: v.pool.as_ref().map(id).unwrap_or_default(),
            annotation: v.annotation.clone().unwrap_or_default(),
            snapshots: $crate::vms::inventory::snapshot_rows(v.snapshot.as_ref()),
            boot_time: v.boot_time.clone(),
        }
    }};
}
pub(crate) use vm_row;

/// A vSphere count (an optional, possibly negative int) as a `u32`.
pub(crate) fn count(v: Option<i32>) -> u32 {
    v.unwrap_or(0).max(0) as u32
}

/// Loads the whole inventory: one retrieval per object type, all in parallel.
pub async fn load(client: &Arc<Client>) -> Result<Inventory> {
    let retriever = ObjectRetriever::new(client.clone()).map_err(|e| vim_error("vSphere inventory", e))?;
    let root = client.service_content().root_folder.clone();
    macro_rules! fetch {
        ($t:ty, $what:literal) => {
            with_timeout(concat!("vSphere (", $what, ")"), TIMEOUT, async {
                retriever.retrieve_objects_from_container::<$t>(&root).await.map_err(|e| vim_error(concat!("listing ", $what), e))
            })
        };
    }
    let (vms, hosts, datastores, networks, folders, pools, computes, dcs) = tokio::try_join!(
        fetch!(VmProps, "VMs"),
        fetch!(HostProps, "hosts"),
        fetch!(DatastoreProps, "datastores"),
        fetch!(NetworkProps, "networks"),
        fetch!(FolderProps, "folders"),
        fetch!(PoolProps, "resource pools"),
        fetch!(ComputeProps, "clusters"),
        fetch!(DatacenterProps, "datacenters"),
    )?;
    let mut inv = Inventory { vms: vms.iter().map(|v| vm_row!(v)).collect(), ..Default::default() };
    for h in hosts {
        let mhz = h.cpu_mhz.unwrap_or(0).max(0) as u64;
        let cores = h.cores.unwrap_or(0).max(0) as u64;
        inv.hosts.push(HostRow {
            id: id(&h.id),
            name: h.name,
            compute: h.parent.as_ref().map(id).unwrap_or_default(),
            connected: !matches!(
                h.connection,
                Some(HostSystemConnectionStateEnum::Disconnected) | Some(HostSystemConnectionStateEnum::NotResponding)
            ),
            maintenance: h.maintenance.unwrap_or(false),
            cpu_usage_mhz: h.cpu_usage.unwrap_or(0).max(0) as u64,
            cpu_total_mhz: mhz * cores,
            cpu_threads: h.threads.unwrap_or(0).max(0) as u32,
            memory_usage_mb: h.memory_usage.unwrap_or(0).max(0) as u64,
            memory_total_mb: h.memory_size.unwrap_or(0).max(0) as u64 / (1 << 20),
            vm_count: h.vms.as_ref().map(|v| v.len()).unwrap_or(0) as u32,
            datastores: h.datastores.unwrap_or_default().iter().map(id).collect(),
        });
    }
    for d in datastores {
        inv.datastores.push(DatastoreRow {
            id: id(&d.id),
            name: d.name,
            capacity_bytes: d.capacity.unwrap_or(0).max(0) as u64,
            free_bytes: d.free.unwrap_or(0).max(0) as u64,
            accessible: d.accessible.unwrap_or(true),
        });
    }
    inv.networks = networks.into_iter().map(|x| NamedRow { id: id(&x.id), name: x.name, parent: String::new() }).collect();
    inv.folders = folders
        .into_iter()
        .filter(|f| f.child_type.as_ref().is_some_and(|t| t.iter().any(|c| c == "VirtualMachine")))
        .map(|f| NamedRow { id: id(&f.id), name: f.name, parent: f.parent.as_ref().map(id).unwrap_or_default() })
        .collect();
    inv.pools =
        pools.into_iter().map(|p| NamedRow { id: id(&p.id), name: p.name, parent: p.owner.as_ref().map(id).unwrap_or_default() }).collect();
    inv.computes = computes
        .into_iter()
        .map(|c| ComputeRow { id: id(&c.id), name: c.name, root_pool: c.pool.as_ref().map(id).unwrap_or_default() })
        .collect();
    inv.datacenters = dcs
        .into_iter()
        .map(|d| NamedRow { id: id(&d.id), name: d.name, parent: d.vm_folder.as_ref().map(id).unwrap_or_default() })
        .collect();
    inv.vms.sort_by(|a, b| a.name.cmp(&b.name));
    inv.hosts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(inv)
}
