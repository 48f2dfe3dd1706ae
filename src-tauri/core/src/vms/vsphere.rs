//! The vSphere calls the VM workflows make (clone, reconfigure, power,
//! snapshots, destroy), each with a timeout, tasks waited on by reading their
//! state (with their progress reported), and faults turned into
//! messages an operator can act on.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use vim_rs::core::client::Client;
use vim_rs::core::pc_retrieve::ObjectRetriever;
use vim_rs::mo::{VirtualMachine, VirtualMachineSnapshot};
use vim_rs::types::boxed_types::ValueElements;
use vim_rs::types::enums::{MoTypesEnum, TaskInfoStateEnum};
use vim_rs::types::structs::{
    CustomizationSpec, ManagedObjectReference, MethodFault, VirtualMachineCloneSpec, VirtualMachineConfigSpec, VirtualMachineRelocateSpec,
};
use vim_rs::types::vim_any::VimAny;
use vim_rs::vim_retrievable;

use crate::error::{with_timeout, Error, Result};

/// Limit of one remote call (not of a task).
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// Limit of one task (a clone of a large template takes minutes).
pub const TASK_TIMEOUT: Duration = Duration::from_secs(30 * 60);

vim_retrievable!(
    struct TaskState: Task {
        state = "info.state",
        progress = "info.progress",
    }
);

vim_retrievable!(
    struct Devices: VirtualMachine {
        devices = "config.hardware.device"?,
    }
);

vim_retrievable!(
    struct PowerState: VirtualMachine {
        power = "runtime.power_state",
    }
);

vim_retrievable!(
    struct ExtraConfig: VirtualMachine {
        extra = "config.extra_config"?,
    }
);

/// How a task that was followed ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskEnd {
    /// It succeeded; the id of the object it returned (a new VM, a snapshot), if any.
    Succeeded(Option<String>),
    /// vCenter reported it failed, with its fault.
    Failed(String),
    /// vCenter no longer knows the task (it keeps finished tasks for a while only).
    Forgotten,
}

/// What following a task saw, before it is mapped to a result.
enum Followed {
    Done(Option<VimAny>),
    Failed(String),
    Gone,
}

/// Where a clone goes: the template, the new VM's name, and its placement
/// (all managed object ids but the name).
#[derive(Debug, Clone, Copy)]
pub struct CloneTarget<'a> {
    pub template: &'a str,
    pub folder: &'a str,
    pub name: &'a str,
    pub host: &'a str,
    pub pool: &'a str,
    pub datastore: &'a str,
}

/// One logged-in session.
#[derive(Clone)]
pub struct Vim {
    pub client: Arc<Client>,
}

pub fn moref(kind: MoTypesEnum, id: &str) -> ManagedObjectReference {
    ManagedObjectReference { r#type: kind, value: id.to_string() }
}

fn fault_text(f: &MethodFault) -> String {
    let kind = f.type_.as_ref().map(|t| format!("{t:?}")).unwrap_or_else(|| "fault".into());
    let msgs: Vec<String> = f.fault_message.iter().flatten().filter_map(|m| m.message.clone()).collect();
    let mut s = if msgs.is_empty() { kind } else { format!("{kind}: {}", msgs.join("; ")) };
    if let Some(cause) = &f.fault_cause {
        s.push_str(&format!(" (caused by {})", fault_text(cause)));
    }
    s
}

/// Maps a PropertyCollector / task error.
pub fn vim_error(what: &str, e: vim_rs::core::error::Error) -> Error {
    if let Some(f) = e.task_fault() {
        return Error::Internal(format!("{what}: vCenter reported {}", fault_text(f)));
    }
    if let Some(c) = e.client_error() {
        return call_error(what, c.clone());
    }
    Error::Internal(format!("{what}: {e}"))
}

/// Maps a method-call error.
pub fn call_error(what: &str, e: vim_rs::core::client::Error) -> Error {
    use vim_rs::core::client::Error as V;
    match &e {
        V::MethodFault(f) => {
            let text = fault_text(f);
            if text.contains("NoPermission") {
                Error::Forbidden(format!("{what}: vCenter refused it ({text}); ask for the privilege on this object"))
            } else if text.contains("NotAuthenticated") {
                Error::Auth(format!("{what}: the vCenter session has expired; reconnect"))
            } else {
                Error::Internal(format!("{what}: vCenter reported {text}"))
            }
        }
        V::ReqwestError(r) if r.is_timeout() || r.is_connect() => {
            Error::Unreachable(format!("{what}: vCenter did not answer ({})", crate::connectors::errors::chain(&e)))
        }
        // Sent, but the connection broke before the answer: vCenter went away mid-call.
        V::ReqwestError(r) if r.is_request() || r.is_body() => Error::Unreachable(format!(
            "{what}: the connection to vCenter broke before it answered ({}); the operation may or may not have happened",
            crate::connectors::errors::chain(&e)
        )),
        _ => Error::Internal(format!("{what}: {}", crate::connectors::errors::chain(&e))),
    }
}

/// Builds a vim_rs data object from its JSON form (only the fields we set;
/// the generated structs have dozens of optional fields).
fn from_json<T: miniserde::Deserialize>(what: &str, v: serde_json::Value) -> Result<T> {
    miniserde::json::from_str(&v.to_string()).map_err(|_| Error::Internal(format!("cannot build the vSphere {what}")))
}

impl Vim {
    pub fn new(client: Arc<Client>) -> Vim {
        Vim { client }
    }

    pub async fn close(&self) {
        let _ = self.client.close().await;
    }

    fn vm(&self, id: &str) -> VirtualMachine {
        VirtualMachine::new(self.client.clone(), id)
    }

    /// Makes the call that starts a task, under the call timeout; returns the task.
    async fn start(
        &self,
        what: &str,
        call: impl std::future::Future<Output = std::result::Result<ManagedObjectReference, vim_rs::core::client::Error>>,
    ) -> Result<ManagedObjectReference> {
        with_timeout(what.to_string(), TIMEOUT, async { call.await.map_err(|e| call_error(what, e)) }).await
    }

    /// Waits for a task by reading its state (back-off 100 ms to 1 s),
    /// reporting its percentage while it runs; returns its result.
    ///
    /// Not vim_rs's TaskTracker: it shares the session's PropertyCollector
    /// for WaitForUpdatesEx, and concurrent waits on one collector stall on
    /// vcsim (and are serialised by vCenter). Reading a few task objects is cheap.
    async fn wait_result(
        &self,
        what: &str,
        task: &ManagedObjectReference,
        progress: &(dyn Fn(u8) + Send + Sync),
    ) -> Result<Option<VimAny>> {
        match self.follow(what, task, progress, None).await? {
            Followed::Done(r) => Ok(r),
            Followed::Failed(why) => Err(Error::Internal(format!("{what}: vCenter reported {why}"))),
            Followed::Gone => Err(Error::NotFound(format!("{what}: vCenter no longer knows task {}", task.value))),
        }
    }

    /// Follows a task until it ends, or until `stop` is cancelled: then
    /// [`Error::Cancelled`] naming the task, which keeps running in vCenter
    /// (stopping a wait never cancels the task itself).
    async fn follow(
        &self,
        what: &str,
        task: &ManagedObjectReference,
        progress: &(dyn Fn(u8) + Send + Sync),
        stop: Option<&CancellationToken>,
    ) -> Result<Followed> {
        let retriever = ObjectRetriever::new(self.client.clone()).map_err(|e| vim_error(what, e))?;
        let started = std::time::Instant::now();
        let mut delay = Duration::from_millis(100);
        let stopped =
            || Error::Cancelled(format!("{what}: stopped waiting for vSphere task {}, which is still running in vCenter", task.value));
        loop {
            if stop.is_some_and(|s| s.is_cancelled()) {
                return Err(stopped());
            }
            let read = with_timeout(format!("vSphere task ({what})"), TIMEOUT, async {
                retriever.retrieve_object::<TaskState>(task).await.map_err(|e| vim_error(what, e))
            })
            .await;
            let info = match read {
                Ok(Some(info)) => info,
                Ok(None) => return Ok(Followed::Gone),
                // A task id vCenter has dropped is a fault on the read.
                Err(e) if e.to_string().contains("ManagedObjectNotFound") => return Ok(Followed::Gone),
                Err(e) => return Err(e),
            };
            match info.state {
                TaskInfoStateEnum::Success => {
                    // The result is read once, at the end (the macro-built reader cannot hold an `any`).
                    let t = vim_rs::mo::Task::new(self.client.clone(), &task.value);
                    let full =
                        with_timeout(format!("vSphere task ({what})"), TIMEOUT, async { t.info().await.map_err(|e| call_error(what, e)) })
                            .await?;
                    return Ok(Followed::Done(full.result));
                }
                TaskInfoStateEnum::Error => return Ok(Followed::Failed(self.task_fault(what, task).await)),
                _ => {
                    if let Some(p) = info.progress {
                        progress(p.clamp(0, 100) as u8);
                    }
                }
            }
            if started.elapsed() > TASK_TIMEOUT {
                return Err(Error::Timeout { what: format!("vSphere task ({what})"), secs: TASK_TIMEOUT.as_secs() });
            }
            match stop {
                Some(stop) => tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.cancelled() => return Err(stopped()),
                },
                None => tokio::time::sleep(delay).await,
            }
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    /// Follows task `task` (an id such as `task-123`, started by
    /// [`Vim::start_clone`] and its siblings, or recorded by an earlier run)
    /// until it ends or `stop` is cancelled ([`Error::Cancelled`]; the task
    /// keeps running in vCenter).
    /// Why a failed task failed, in vCenter's words. The whole TaskInfo is read
    /// first (its fault keeps its type and messages); a fault vim_rs cannot
    /// parse (vcsim writes `xsi:type` under another prefix inside
    /// LocalizedMethodFault) falls back to the fault's localized message alone.
    async fn task_fault(&self, what: &str, task: &ManagedObjectReference) -> String {
        let t = vim_rs::mo::Task::new(self.client.clone(), &task.value);
        if let Ok(Ok(full)) = tokio::time::timeout(TIMEOUT, t.info()).await {
            if let Some(f) = full.error.as_ref() {
                return fault_text(f);
            }
        }
        // vim_rs models `info.error` as a MethodFault, so the message is asked for
        // by its wire path and read as an untyped value.
        let message = async {
            use vim_rs::types::boxed_types::ValueElements;
            use vim_rs::types::structs::{ObjectSpec, PropertyFilterSpec, PropertySpec, RetrieveOptions};
            let pc = vim_rs::mo::PropertyCollector::new(self.client.clone(), &self.client.service_content().property_collector.value);
            let spec = PropertyFilterSpec {
                prop_set: vec![PropertySpec {
                    r#type: "Task".into(),
                    all: Some(false),
                    path_set: Some(vec!["info.error.localizedMessage".into()]),
                }],
                object_set: vec![ObjectSpec { obj: task.clone(), skip: Some(false), select_set: None }],
                report_missing_objects_in_results: None,
            };
            let result = pc.retrieve_properties_ex(&[spec], &RetrieveOptions { max_objects: None }).await.ok()??;
            result.objects.into_iter().flat_map(|o| o.prop_set.unwrap_or_default()).find_map(|p| match p.val {
                VimAny::Value(ValueElements::PrimitiveString(m)) => Some(m),
                _ => None,
            })
        };
        match tokio::time::timeout(TIMEOUT, message).await {
            // vcsim's message is its Go type ("*types.InvalidPowerState").
            Ok(Some(m)) if !m.trim().is_empty() => m.trim_start_matches("*types.").to_string(),
            _ => format!("a fault Opsdeck could not read ({what}: see the task in vCenter)"),
        }
    }

    pub async fn follow_task(
        &self,
        what: &str,
        task: &str,
        progress: &(dyn Fn(u8) + Send + Sync),
        stop: &CancellationToken,
    ) -> Result<TaskEnd> {
        Ok(match self.follow(what, &moref(MoTypesEnum::Task, task), progress, Some(stop)).await? {
            Followed::Done(r) => {
                TaskEnd::Succeeded(r.and_then(|r| r.into_any().downcast::<ManagedObjectReference>().ok()).map(|m| m.value))
            }
            Followed::Failed(why) => TaskEnd::Failed(why),
            Followed::Gone => TaskEnd::Forgotten,
        })
    }

    async fn wait(&self, what: &str, task: ManagedObjectReference, progress: &(dyn Fn(u8) + Send + Sync)) -> Result<()> {
        self.wait_result(what, &task, progress).await.map(|_| ())
    }

    /// Waits for a task whose result is a managed object (a new VM, a snapshot); returns its id.
    async fn wait_moref(&self, what: &str, task: ManagedObjectReference, progress: &(dyn Fn(u8) + Send + Sync)) -> Result<String> {
        let result = self
            .wait_result(what, &task, progress)
            .await?
            .ok_or_else(|| Error::Internal(format!("{what}: the task returned no object")))?;
        result
            .into_any()
            .downcast::<ManagedObjectReference>()
            .map(|m| m.value)
            .map_err(|_| Error::Internal(format!("{what}: the task returned something other than an object reference")))
    }

    /// Clones as `target` says (powered off) with the CPU, memory and
    /// annotation of `config` set; returns the new VM id.
    pub async fn clone_vm(
        &self,
        target: &CloneTarget<'_>,
        config: &serde_json::Value,
        progress: &(dyn Fn(u8) + Send + Sync),
    ) -> Result<String> {
        let task = self.start_clone(target, config, None).await?;
        self.wait_moref(&format!("cloning {}", target.name), moref(MoTypesEnum::Task, &task), progress).await
    }

    /// Starts the clone of [`Vim::clone_vm`], with a guest customization
    /// (`CustomizationSpec` as VI/JSON, applied at the first power-on) when
    /// given; returns the task's id (follow it with [`Vim::follow_task`]).
    pub async fn start_clone(
        &self,
        target: &CloneTarget<'_>,
        config: &serde_json::Value,
        customization: Option<&serde_json::Value>,
    ) -> Result<String> {
        let what = format!("cloning {}", target.name);
        let location: VirtualMachineRelocateSpec = from_json(
            "relocate spec",
            serde_json::json!({
                "_typeName": "VirtualMachineRelocateSpec",
                "host": {"_typeName": "ManagedObjectReference", "type": "HostSystem", "value": target.host},
                "pool": {"_typeName": "ManagedObjectReference", "type": "ResourcePool", "value": target.pool},
                "datastore": {"_typeName": "ManagedObjectReference", "type": "Datastore", "value": target.datastore},
            }),
        )?;
        let config: VirtualMachineConfigSpec = from_json("config spec", config.clone())?;
        let customization: Option<CustomizationSpec> = customization.map(|c| from_json("customization spec", c.clone())).transpose()?;
        let spec = VirtualMachineCloneSpec {
            location,
            template: false,
            config: Some(config),
            customization,
            power_on: false,
            snapshot: None,
            memory: None,
            tpm_provision_policy: None,
        };
        let folder = moref(MoTypesEnum::Folder, target.folder);
        Ok(self.start(&what, self.vm(target.template).clone_vm_task(&folder, target.name, &spec)).await?.value)
    }

    /// Applies a config spec (CPU, memory, annotation) given as JSON.
    pub async fn reconfigure(&self, vm: &str, config: &serde_json::Value, progress: &(dyn Fn(u8) + Send + Sync)) -> Result<()> {
        let task = self.start_reconfigure(vm, config).await?;
        self.wait(&format!("reconfiguring {vm}"), moref(MoTypesEnum::Task, &task), progress).await
    }

    /// Starts the reconfiguration of [`Vim::reconfigure`]; returns the task's id.
    pub async fn start_reconfigure(&self, vm: &str, config: &serde_json::Value) -> Result<String> {
        let what = format!("reconfiguring {vm}");
        let spec: VirtualMachineConfigSpec = from_json("config spec", config.clone())?;
        Ok(self.start(&what, self.vm(vm).reconfig_vm_task(&spec)).await?.value)
    }

    pub async fn power_on(&self, vm: &str, progress: &(dyn Fn(u8) + Send + Sync)) -> Result<()> {
        let task = self.start_power_on(vm).await?;
        self.wait(&format!("powering on {vm}"), moref(MoTypesEnum::Task, &task), progress).await
    }

    /// Starts the power-on of [`Vim::power_on`]; returns the task's id.
    pub async fn start_power_on(&self, vm: &str) -> Result<String> {
        let what = format!("powering on {vm}");
        Ok(self.start(&what, self.vm(vm).power_on_vm_task(None)).await?.value)
    }

    /// The string value of extra configuration key `key` of a VM (None: not set).
    pub async fn extra_config(&self, vm: &str, key: &str) -> Result<Option<String>> {
        let retriever = ObjectRetriever::new(self.client.clone()).map_err(|e| vim_error("reading the extra configuration", e))?;
        let r = with_timeout("vSphere (extra configuration)", TIMEOUT, async {
            retriever
                .retrieve_object::<ExtraConfig>(&moref(MoTypesEnum::VirtualMachine, vm))
                .await
                .map_err(|e| vim_error("reading the extra configuration", e))
        })
        .await?;
        Ok(r.and_then(|r| r.extra).unwrap_or_default().iter().find(|o| o.key == key).and_then(|o| match &o.value {
            Some(VimAny::Value(ValueElements::PrimitiveString(s))) => Some(s.clone()),
            _ => None,
        }))
    }

    /// Whether the VM is powered on now.
    pub async fn is_powered_on(&self, vm: &str) -> Result<bool> {
        let retriever = ObjectRetriever::new(self.client.clone()).map_err(|e| vim_error("reading the power state", e))?;
        let r = with_timeout("vSphere (power state)", TIMEOUT, async {
            retriever
                .retrieve_object::<PowerState>(&moref(MoTypesEnum::VirtualMachine, vm))
                .await
                .map_err(|e| vim_error("reading the power state", e))
        })
        .await?;
        Ok(matches!(r, Some(PowerState { power: vim_rs::types::enums::VirtualMachinePowerStateEnum::PoweredOn, .. })))
    }

    /// Powers off if powered on (a power-off of an off VM is a vSphere fault).
    pub async fn ensure_off(&self, vm: &str) -> Result<()> {
        if self.is_powered_on(vm).await? {
            self.power_off(vm).await?;
        }
        Ok(())
    }

    pub async fn power_off(&self, vm: &str) -> Result<()> {
        let what = format!("powering off {vm}");
        let task = self.start(&what, self.vm(vm).power_off_vm_task()).await?;
        self.wait(&what, task, &|_| {}).await
    }

    /// Takes a snapshot (no memory, no quiescing); returns its id.
    pub async fn snapshot(&self, vm: &str, name: &str, description: &str, progress: &(dyn Fn(u8) + Send + Sync)) -> Result<String> {
        let task = self.start_snapshot(vm, name, description).await?;
        self.wait_moref(&format!("snapshot {name} of {vm}"), moref(MoTypesEnum::Task, &task), progress).await
    }

    /// Starts the snapshot of [`Vim::snapshot`]; returns the task's id.
    pub async fn start_snapshot(&self, vm: &str, name: &str, description: &str) -> Result<String> {
        let what = format!("snapshot {name} of {vm}");
        Ok(self.start(&what, self.vm(vm).create_snapshot_task(name, Some(description), false, false)).await?.value)
    }

    pub async fn remove_snapshot(&self, snapshot: &str) -> Result<()> {
        let what = format!("removing snapshot {snapshot}");
        let s = VirtualMachineSnapshot::new(self.client.clone(), snapshot);
        let task = self.start(&what, s.remove_snapshot_task(false, Some(true))).await?;
        self.wait(&what, task, &|_| {}).await
    }

    /// The VM's devices, as JSON (to edit one and send it back in a device change).
    pub async fn devices(&self, vm: &str) -> Result<Vec<DeviceJson>> {
        let retriever = ObjectRetriever::new(self.client.clone()).map_err(|e| vim_error("reading the devices", e))?;
        let r = with_timeout("vSphere (devices)", TIMEOUT, async {
            retriever
                .retrieve_object::<Devices>(&moref(MoTypesEnum::VirtualMachine, vm))
                .await
                .map_err(|e| vim_error("reading the devices", e))
        })
        .await?;
        let devices = r.and_then(|d| d.devices).unwrap_or_default();
        devices
            .iter()
            .map(|d| {
                serde_json::from_str(&miniserde::json::to_string(d.as_vim_object_ref()))
                    .map_err(|e| Error::Internal(format!("reading the devices: {e}")))
            })
            .collect()
    }

    /// Destroys a VM (it must be powered off).
    pub async fn destroy(&self, vm: &str) -> Result<()> {
        let what = format!("destroying {vm}");
        let task = self.start(&what, self.vm(vm).destroy_task()).await?;
        self.wait(&what, task, &|_| {}).await
    }
}

/// A VM's virtual devices as VI/JSON objects (each with its `_typeName`).
pub type DeviceJson = serde_json::Value;

const KB_PER_GB: i64 = 1024 * 1024;

/// Device edits for the request: the first disk grown to `disk_gb` (never
/// shrunk: vSphere cannot), the first network card moved to `network`
/// (a standard port group: `network_id` is its Network id). Returns the
/// `deviceChange` entries and a note of what was left as it was.
pub fn device_changes(devices: &[DeviceJson], disk_gb: u32, network: Option<(&str, &str)>) -> (Vec<serde_json::Value>, Vec<String>) {
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    let type_of = |d: &DeviceJson| d.get("_typeName").and_then(|t| t.as_str()).unwrap_or("").to_string();
    if let Some(disk) = devices.iter().find(|d| type_of(d) == "VirtualDisk") {
        let have = disk.get("capacityInKB").and_then(|c| c.as_i64()).unwrap_or(0);
        let want = disk_gb as i64 * KB_PER_GB;
        if want > have {
            let mut d = disk.clone();
            d["capacityInKB"] = serde_json::json!(want);
            if d.get("capacityInBytes").is_some() {
                d["capacityInBytes"] = serde_json::json!(want * 1024);
            }
            changes.push(serde_json::json!({"_typeName": "VirtualDeviceConfigSpec", "operation": "edit", "device": d}));
        } else if want < have {
            notes.push(format!(
                "the template's disk ({} GB) is larger than the {disk_gb} GB asked; kept (disks cannot shrink)",
                have / KB_PER_GB
            ));
        }
    } else {
        notes.push("the template has no virtual disk to size".into());
    }
    if let Some((name, id)) = network {
        let is_nic = |t: &str| {
            t.starts_with("VirtualVmxnet")
                || t.starts_with("VirtualE1000")
                || t == "VirtualPCNet32"
                || t == "VirtualSriovEthernetCard"
                || t == "VirtualEthernetCard"
        };
        match devices.iter().find(|d| is_nic(&type_of(d))) {
            Some(nic) => {
                let mut d = nic.clone();
                d["backing"] = serde_json::json!({
                    "_typeName": "VirtualEthernetCardNetworkBackingInfo",
                    "deviceName": name,
                    "network": {"_typeName": "ManagedObjectReference", "type": "Network", "value": id},
                });
                changes.push(serde_json::json!({"_typeName": "VirtualDeviceConfigSpec", "operation": "edit", "device": d}));
            }
            None => notes.push(format!("the template has no network card to connect to {name}")),
        }
    }
    (changes, notes)
}

/// The config spec JSON for CPU, memory and annotation.
pub fn config_spec(cpu: u32, memory_gb: u32, annotation: &str) -> serde_json::Value {
    config_spec_with(cpu, memory_gb, annotation, Vec::new())
}

/// The config spec JSON with device changes (disk size, network).
pub fn config_spec_with(cpu: u32, memory_gb: u32, annotation: &str, device_changes: Vec<serde_json::Value>) -> serde_json::Value {
    let mut spec = serde_json::json!({
        "_typeName": "VirtualMachineConfigSpec",
        "numCPUs": cpu,
        "memoryMB": (memory_gb as i64) * 1024,
        "annotation": annotation,
    });
    if !device_changes.is_empty() {
        spec["deviceChange"] = serde_json::Value::Array(device_changes);
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn devices(disk_kb: i64) -> Vec<DeviceJson> {
        vec![
            json!({"_typeName": "VirtualIDEController", "key": 200}),
            json!({"_typeName": "VirtualDisk", "key": 2000, "capacityInKB": disk_kb, "capacityInBytes": disk_kb * 1024, "controllerKey": 200}),
            json!({"_typeName": "VirtualE1000", "key": 4000, "backing": {"_typeName": "VirtualEthernetCardNetworkBackingInfo", "deviceName": "old"}}),
        ]
    }

    #[test]
    fn the_disk_grows_and_the_card_moves() {
        let (changes, notes) = device_changes(&devices(10 * KB_PER_GB), 20, Some(("VM Network", "network-7")));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0]["operation"], "edit");
        assert_eq!(changes[0]["device"]["key"], 2000);
        assert_eq!(changes[0]["device"]["capacityInKB"], 20 * KB_PER_GB);
        assert_eq!(changes[0]["device"]["capacityInBytes"], 20 * KB_PER_GB * 1024);
        assert_eq!(changes[1]["device"]["key"], 4000);
        assert_eq!(changes[1]["device"]["backing"]["deviceName"], "VM Network");
        assert_eq!(changes[1]["device"]["backing"]["network"]["value"], "network-7");
    }

    #[test]
    fn a_disk_is_never_shrunk_and_missing_devices_are_noted() {
        let (changes, notes) = device_changes(&devices(40 * KB_PER_GB), 20, None);
        assert!(changes.is_empty());
        assert!(notes[0].contains("cannot shrink"), "{notes:?}");
        let (changes, notes) = device_changes(&[], 20, Some(("VM Network", "network-7")));
        assert!(changes.is_empty());
        assert_eq!(notes.len(), 2, "{notes:?}");
    }
}
