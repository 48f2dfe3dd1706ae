//! Utilisation (case 3: 主机利用率, 僵尸VM): how much of each host's and
//! cluster's CPU and memory is used, and which powered-on VMs sit idle.
//!
//! - Hosts: `summary.quickStats` against `summary.hardware` (CPU MHz used of
//!   cores × MHz, memory MB used of the host's bytes), one PropertyCollector
//!   retrieval; clusters are the sum of their hosts — the same figures as
//!   `govc cluster.usage`. The PerformanceManager adds each host's average and
//!   peak over the window (`cpu.usage.average`, `mem.usage.average`).
//! - Idle VMs: powered-on VMs whose CPU (`cpu.usage.average`, %) and network
//!   (`net.usage.average`, KB/s) stay under the thresholds for 95 % of the
//!   window's samples. A window needs enough samples: those before the VM's
//!   last boot do not count (the VM was off), and a VM with fewer than
//!   `min_coverage_pct` of the samples the window should hold is "not enough
//!   data", never idle.
//!
//! Every call has a timeout; the samples are asked for in batches of
//! [`BATCH`] entities, at most [`CONCURRENCY`] batches at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::inventory::HostProps;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vim_rs::core::client::Client;
use vim_rs::core::pc_retrieve::ObjectRetriever;
use vim_rs::mo::{PerformanceManager, ServiceInstance};
use vim_rs::types::enums::{HostSystemConnectionStateEnum, MoTypesEnum, PerfSummaryTypeEnum};
use vim_rs::types::structs::{PerfEntityMetric, PerfMetricId, PerfMetricIntSeries, PerfQuerySpec};
use vim_rs::vim_retrievable;

use super::inventory::{parse_time, Inventory};
use super::vsphere::{call_error, moref, vim_error, TIMEOUT};
use crate::error::{with_timeout, Error, Result};

/// Entities per QueryPerf call.
pub const BATCH: usize = 50;
/// QueryPerf calls in flight at once.
pub const CONCURRENCY: usize = 4;
/// Limit of one QueryPerf call (a week of samples for 50 VMs is small; a
/// vCenter that stalls longer is reported, not waited for).
pub const PERF_TIMEOUT: Duration = Duration::from_secs(60);

/// When a powered-on VM counts as idle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct IdleRules {
    /// The window looked back over, in hours (1 hour to 365 days).
    pub window_hours: u32,
    /// CPU usage (% of the VM's vCPUs) the VM stays under.
    pub cpu_pct: f64,
    /// Network usage (KB/s, all cards) the VM stays under.
    pub net_kbps: f64,
    /// The share of the window's samples that must be there (after the VM's
    /// last boot) for a verdict; fewer is "not enough data".
    pub min_coverage_pct: u32,
}

impl Default for IdleRules {
    fn default() -> Self {
        IdleRules { window_hours: 24 * 7, cpu_pct: 5.0, net_kbps: 10.0, min_coverage_pct: 80 }
    }
}

impl IdleRules {
    /// Refuses rules that cannot mean anything, naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.window_hours == 0 || self.window_hours > 24 * 365 {
            return Err(Error::invalid(format!("window: {} hours; give 1 hour to 365 days (8760 hours)", self.window_hours)));
        }
        if !self.cpu_pct.is_finite() || self.cpu_pct <= 0.0 || self.cpu_pct > 100.0 {
            return Err(Error::invalid(format!("CPU threshold: {} %; give more than 0 and at most 100", self.cpu_pct)));
        }
        if !self.net_kbps.is_finite() || self.net_kbps <= 0.0 || self.net_kbps > 10_000_000.0 {
            return Err(Error::invalid(format!("network threshold: {} KB/s; give more than 0 and at most 10,000,000", self.net_kbps)));
        }
        if self.min_coverage_pct == 0 || self.min_coverage_pct > 100 {
            return Err(Error::invalid(format!("minimum coverage: {} %; give 1 to 100", self.min_coverage_pct)));
        }
        Ok(())
    }
}

/// Averages and peaks of one entity over the window (percent, KB/s).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct WindowStats {
    /// Samples that counted (in the window, after the last boot, not missing).
    pub samples: u32,
    /// Samples the window holds at its sampling interval.
    pub expected: u32,
    pub cpu_avg_pct: Option<f64>,
    pub cpu_p95_pct: Option<f64>,
    pub cpu_max_pct: Option<f64>,
    /// Hosts: memory usage (% of the host's memory); VMs: none.
    pub mem_avg_pct: Option<f64>,
    pub mem_max_pct: Option<f64>,
    /// VMs: network usage (KB/s); hosts: none.
    pub net_avg_kbps: Option<f64>,
    pub net_p95_kbps: Option<f64>,
    pub net_max_kbps: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct HostUtilisation {
    pub id: String,
    pub name: String,
    /// The cluster's name, or empty for a standalone host.
    pub cluster: String,
    pub connected: bool,
    pub maintenance: bool,
    /// quickStats.overallCpuUsage (MHz) of cores × MHz.
    pub cpu_used_mhz: u64,
    pub cpu_capacity_mhz: u64,
    /// quickStats.overallMemoryUsage (MB, as bytes) of hardware.memorySize.
    pub memory_used_bytes: u64,
    pub memory_capacity_bytes: u64,
    pub vms: u32,
    /// The PerformanceManager's view of the window.
    pub window: WindowStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ClusterUtilisation {
    pub id: String,
    pub name: String,
    pub hosts: u32,
    pub cpu_used_mhz: u64,
    pub cpu_capacity_mhz: u64,
    pub memory_used_bytes: u64,
    pub memory_capacity_bytes: u64,
    pub vms: u32,
}

/// Where a powered-on VM stands against the idle rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum IdleVerdict {
    Idle,
    Busy,
    NotEnoughData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct VmActivity {
    pub vm_id: String,
    pub name: String,
    pub host: String,
    pub cpu: u32,
    pub memory_mb: u32,
    /// From the VM's Opsdeck annotation, when it has one.
    pub request: String,
    pub owner: String,
    pub department: String,
    pub verdict: IdleVerdict,
    /// Why, with the figures ("CPU 95th percentile 1.2 % < 5 %, …", "12 of 336 samples").
    pub detail: String,
    pub window: WindowStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct UtilisationReport {
    /// vCenter's clock when the window ended (RFC 3339).
    pub at: String,
    pub rules: IdleRules,
    /// The sampling interval the window was read at (20 s realtime, or a historical interval).
    pub interval_secs: u32,
    pub hosts: Vec<HostUtilisation>,
    pub clusters: Vec<ClusterUtilisation>,
    /// Powered-on VMs (templates and powered-off VMs are not here: the
    /// compliance report's powered-off rule covers those).
    pub vms: Vec<VmActivity>,
}

impl UtilisationReport {
    pub fn idle(&self) -> impl Iterator<Item = &VmActivity> {
        self.vms.iter().filter(|v| v.verdict == IdleVerdict::Idle)
    }
}

// vcsim keeps the last power-on in `summary.runtime.bootTime` only (vCenter
// in both), so it is read from there.
vim_retrievable!(
    struct VmBoot: VirtualMachine {
        // A property every VM has: an object with none returned is an error to vim_rs.
        name = "name",
        boot = "summary.runtime.boot_time"?,
    }
);

vim_retrievable!(
    struct ClusterName: ClusterComputeResource {
        name = "name",
    }
);

fn nonneg(v: Option<i64>) -> u64 {
    v.unwrap_or(0).max(0) as u64
}

/// Hosts (from one retrieval) and clusters as the sum of their hosts.
fn usage_rows(hosts: Vec<HostProps>, clusters: &[ClusterName]) -> (Vec<HostUtilisation>, Vec<ClusterUtilisation>) {
    let names: HashMap<&str, &str> = clusters.iter().map(|c| (c.id.value.as_str(), c.name.as_str())).collect();
    let mut out: Vec<HostUtilisation> = hosts
        .into_iter()
        .map(|h| {
            let parent = h.parent.as_ref().map(|p| p.value.clone()).unwrap_or_default();
            HostUtilisation {
                id: h.id.value.clone(),
                name: h.name.clone(),
                cluster: names.get(parent.as_str()).map(|n| n.to_string()).unwrap_or_default(),
                connected: !matches!(
                    h.connection,
                    Some(HostSystemConnectionStateEnum::Disconnected) | Some(HostSystemConnectionStateEnum::NotResponding)
                ),
                maintenance: h.maintenance.unwrap_or(false),
                cpu_used_mhz: nonneg(h.cpu_usage.map(i64::from)),
                cpu_capacity_mhz: nonneg(h.cores.map(i64::from)) * nonneg(h.cpu_mhz.map(i64::from)),
                memory_used_bytes: nonneg(h.memory_usage.map(i64::from)) << 20,
                memory_capacity_bytes: nonneg(h.memory_size),
                vms: h.vms.as_ref().map_or(0, |v| v.len()) as u32,
                window: WindowStats::default(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let mut cl: Vec<ClusterUtilisation> = Vec::new();
    for c in clusters {
        let mut row = ClusterUtilisation {
            id: c.id.value.clone(),
            name: c.name.clone(),
            hosts: 0,
            cpu_used_mhz: 0,
            cpu_capacity_mhz: 0,
            memory_used_bytes: 0,
            memory_capacity_bytes: 0,
            vms: 0,
        };
        for h in out.iter().filter(|h| h.cluster == c.name) {
            row.hosts += 1;
            row.cpu_used_mhz += h.cpu_used_mhz;
            row.cpu_capacity_mhz += h.cpu_capacity_mhz;
            row.memory_used_bytes += h.memory_used_bytes;
            row.memory_capacity_bytes += h.memory_capacity_bytes;
            row.vms += h.vms;
        }
        cl.push(row);
    }
    cl.sort_by(|a, b| a.name.cmp(&b.name));
    (out, cl)
}

/// The sampling interval for a window: realtime (20 s, kept an hour) for a
/// window of an hour, else the shortest historical interval vCenter keeps
/// long enough (`(sampling period, length)` in seconds).
pub fn pick_interval(window_secs: i64, historical: &[(i32, i32)]) -> i32 {
    if window_secs <= 3600 {
        return 20;
    }
    let mut h: Vec<(i32, i32)> = historical.iter().copied().filter(|(p, _)| *p > 0).collect();
    h.sort();
    h.iter().find(|(_, len)| i64::from(*len) >= window_secs).or(h.last()).map_or(86_400, |(p, _)| *p)
}

/// One entity's samples of one counter: (time, value); vCenter's -1 (no value) left out.
type Series = Vec<(OffsetDateTime, i64)>;

/// Reduces one entity's samples to [`WindowStats`]: samples before `since`
/// (the VM's last boot) or outside `[start, end]` do not count. Values in
/// vCenter's units: percent in hundredths, KB/s.
pub fn stats(
    series: &HashMap<&'static str, Series>,
    start: OffsetDateTime,
    end: OffsetDateTime,
    since: Option<OffsetDateTime>,
    expected: u32,
) -> WindowStats {
    let from = since.map_or(start, |s| s.max(start));
    let take = |name: &str| -> Vec<f64> {
        series
            .get(name)
            .map_or_else(Vec::new, |s| s.iter().filter(|(t, v)| *t > from && *t <= end && *v >= 0).map(|(_, v)| *v as f64).collect())
    };
    let (cpu, mem, net) = (take(CPU), take(MEM), take(NET));
    let pct = |v: Option<f64>| v.map(|x| x / 100.0);
    let samples = [cpu.len(), net.len(), mem.len()].into_iter().filter(|n| *n > 0).min().unwrap_or(0) as u32;
    WindowStats {
        samples,
        expected,
        cpu_avg_pct: pct(avg(&cpu)),
        cpu_p95_pct: pct(percentile(&cpu, 95)),
        cpu_max_pct: pct(percentile(&cpu, 100)),
        mem_avg_pct: pct(avg(&mem)),
        mem_max_pct: pct(percentile(&mem, 100)),
        net_avg_kbps: avg(&net),
        net_p95_kbps: percentile(&net, 95),
        net_max_kbps: percentile(&net, 100),
    }
}

fn avg(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Nearest-rank percentile.
fn percentile(v: &[f64], p: usize) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = (p * s.len()).div_ceil(100).max(1);
    s.get(rank - 1).copied()
}

/// The verdict on a VM's window, with the figures that made it.
pub fn verdict(w: &WindowStats, rules: &IdleRules) -> (IdleVerdict, String) {
    let need = (u64::from(w.expected) * u64::from(rules.min_coverage_pct)).div_ceil(100).max(1);
    if u64::from(w.samples) < need {
        return (
            IdleVerdict::NotEnoughData,
            format!(
                "not enough data: {} of {} samples over the window (at least {need} needed; samples before the last power-on do not count)",
                w.samples, w.expected
            ),
        );
    }
    let (Some(cpu), Some(net)) = (w.cpu_p95_pct, w.net_p95_kbps) else {
        return (IdleVerdict::NotEnoughData, "not enough data: vCenter returned no CPU or network samples".into());
    };
    let figures = format!(
        "CPU 95th percentile {cpu:.2} % (threshold {} %), network 95th percentile {net:.1} KB/s (threshold {} KB/s), {} of {} samples",
        rules.cpu_pct, rules.net_kbps, w.samples, w.expected
    );
    if cpu < rules.cpu_pct && net < rules.net_kbps {
        (IdleVerdict::Idle, format!("idle: {figures}"))
    } else {
        (IdleVerdict::Busy, format!("busy: {figures}"))
    }
}

const CPU: &str = "cpu.usage.average";
const MEM: &str = "mem.usage.average";
const NET: &str = "net.usage.average";

/// What a pass reads from vCenter before the samples.
struct PerfSetup {
    pm: PerformanceManager,
    counters: HashMap<&'static str, i32>,
    interval: i32,
    start: OffsetDateTime,
    end: OffsetDateTime,
}

async fn perf_setup(client: &Arc<Client>, window_secs: i64) -> Result<PerfSetup> {
    let pm_ref = client
        .service_content()
        .perf_manager
        .clone()
        .ok_or_else(|| Error::Unsupported("this vCenter has no PerformanceManager: utilisation samples cannot be read".into()))?;
    let pm = PerformanceManager::new(client.clone(), &pm_ref.value);
    let si = ServiceInstance::new(client.clone(), "ServiceInstance");
    let what = "vSphere PerformanceManager";
    let (now, counters, intervals) = tokio::try_join!(
        with_timeout("vCenter clock", TIMEOUT, async { si.current_time().await.map_err(|e| call_error("reading vCenter's clock", e)) }),
        with_timeout("vSphere (performance counters)", TIMEOUT, async {
            pm.perf_counter().await.map_err(|e| call_error("reading the performance counters", e))
        }),
        with_timeout("vSphere (statistics intervals)", TIMEOUT, async {
            pm.historical_interval().await.map_err(|e| call_error("reading the statistics intervals", e))
        }),
    )?;
    let end = parse_time(&now).ok_or_else(|| Error::Internal(format!("{what}: vCenter's clock reads {now:?}")))?;
    let mut ids = HashMap::new();
    for c in counters.unwrap_or_default() {
        if !matches!(c.rollup_type, PerfSummaryTypeEnum::Average) {
            continue;
        }
        let name = format!("{}.{}.average", c.group_info.key, c.name_info.key);
        for wanted in [CPU, MEM, NET] {
            if name == wanted {
                ids.entry(wanted).or_insert(c.key);
            }
        }
    }
    for wanted in [CPU, NET] {
        if !ids.contains_key(wanted) {
            return Err(Error::Unsupported(format!("{what}: vCenter has no counter {wanted}; utilisation cannot be read")));
        }
    }
    let historical: Vec<(i32, i32)> =
        intervals.unwrap_or_default().iter().filter(|i| i.enabled).map(|i| (i.sampling_period, i.length)).collect();
    let interval = pick_interval(window_secs, &historical);
    Ok(PerfSetup { pm, counters: ids, interval, start: end - time::Duration::seconds(window_secs), end })
}

/// Samples of `entities` (of one type) for `counters`, batched and bounded.
async fn samples(
    setup: &PerfSetup,
    kind: MoTypesEnum,
    entities: &[String],
    counters: &[&'static str],
) -> Result<HashMap<String, HashMap<&'static str, Series>>> {
    let fmt = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let counter_ids: Vec<i32> = counters.iter().filter_map(|c| setup.counters.get(c)).copied().collect();
    let metric_ids = || counter_ids.iter().map(|id| PerfMetricId { counter_id: *id, instance: String::new() }).collect::<Vec<_>>();
    let names: HashMap<i32, &'static str> = counters.iter().filter_map(|c| setup.counters.get(c).map(|id| (*id, *c))).collect();
    let batches: Vec<Vec<PerfQuerySpec>> = entities
        .chunks(BATCH)
        .map(|chunk| {
            chunk
                .iter()
                .map(|e| PerfQuerySpec {
                    entity: moref(kind.clone(), e),
                    start_time: Some(fmt(setup.start)),
                    end_time: Some(fmt(setup.end)),
                    max_sample: None,
                    metric_id: Some(metric_ids()),
                    interval_id: Some(setup.interval),
                    format: Some("normal".into()),
                })
                .collect()
        })
        .collect();
    let results: Vec<Vec<(String, HashMap<&'static str, Series>)>> = futures::stream::iter(batches)
        .map(|specs| {
            let names = &names;
            async move {
                let answer = with_timeout("vSphere (performance samples)", PERF_TIMEOUT, async {
                    setup.pm.query_perf(&specs).await.map_err(|e| call_error("reading performance samples", e))
                })
                .await?;
                Ok::<_, Error>(answer.unwrap_or_default().iter().filter_map(|m| entity_series(m.as_ref().as_any_ref(), names)).collect())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await?;
    Ok(results.into_iter().flatten().collect())
}

fn entity_series(m: &dyn std::any::Any, names: &HashMap<i32, &'static str>) -> Option<(String, HashMap<&'static str, Series>)> {
    let m = m.downcast_ref::<PerfEntityMetric>()?;
    let times: Vec<Option<OffsetDateTime>> = m.sample_info.iter().flatten().map(|s| parse_time(&s.timestamp)).collect();
    let mut out = HashMap::new();
    for s in m.value.iter().flatten() {
        let Some(series) = s.as_ref().as_any_ref().downcast_ref::<PerfMetricIntSeries>() else { continue };
        let Some(name) = names.get(&series.id.counter_id) else { continue };
        let points: Series =
            times.iter().zip(series.value.iter().flatten()).filter_map(|(t, v)| t.map(|t| (t, *v))).filter(|(_, v)| *v >= 0).collect();
        out.insert(*name, points);
    }
    Some((m.entity.value.clone(), out))
}

/// The whole report: host and cluster usage, host windows, and the verdict
/// on every powered-on VM of `inv` (read just before).
pub async fn report(client: &Arc<Client>, inv: &Inventory, rules: &IdleRules) -> Result<UtilisationReport> {
    rules.validate()?;
    let retriever = ObjectRetriever::new(client.clone()).map_err(|e| vim_error("vSphere utilisation", e))?;
    let root = client.service_content().root_folder.clone();
    let window_secs = i64::from(rules.window_hours) * 3600;
    let (hosts, clusters, boots, setup) = tokio::try_join!(
        with_timeout("vSphere (host usage)", TIMEOUT, async {
            retriever.retrieve_objects_from_container::<HostProps>(&root).await.map_err(|e| vim_error("reading host usage", e))
        }),
        with_timeout("vSphere (clusters)", TIMEOUT, async {
            retriever.retrieve_objects_from_container::<ClusterName>(&root).await.map_err(|e| vim_error("listing clusters", e))
        }),
        with_timeout("vSphere (VM boot times)", TIMEOUT, async {
            retriever.retrieve_objects_from_container::<VmBoot>(&root).await.map_err(|e| vim_error("reading VM boot times", e))
        }),
        perf_setup(client, window_secs),
    )?;
    let (mut hosts, clusters) = usage_rows(hosts, &clusters);
    let boots: HashMap<&str, Option<OffsetDateTime>> =
        boots.iter().map(|b| (b.id.value.as_str(), b.boot.as_deref().and_then(parse_time))).collect();
    let expected = (window_secs / i64::from(setup.interval)).max(1) as u32;
    let vms: Vec<&super::inventory::VmRow> = inv.vms.iter().filter(|v| !v.template && v.powered_on()).collect();
    let host_ids: Vec<String> = hosts.iter().filter(|h| h.connected).map(|h| h.id.clone()).collect();
    let vm_ids: Vec<String> = vms.iter().map(|v| v.id.clone()).collect();
    let (host_samples, vm_samples) = tokio::try_join!(
        samples(&setup, MoTypesEnum::HostSystem, &host_ids, &[CPU, MEM]),
        samples(&setup, MoTypesEnum::VirtualMachine, &vm_ids, &[CPU, NET]),
    )?;
    let none = HashMap::new();
    for h in &mut hosts {
        h.window = stats(host_samples.get(&h.id).unwrap_or(&none), setup.start, setup.end, None, expected);
    }
    let host_names: HashMap<&str, &str> = inv.hosts.iter().map(|h| (h.id.as_str(), h.name.as_str())).collect();
    let mut activity: Vec<VmActivity> = vms
        .iter()
        .map(|v| {
            // The later of the two boot times vCenter may report.
            let since = v.boot_time.as_deref().and_then(parse_time).max(boots.get(v.id.as_str()).copied().flatten());
            let window = stats(vm_samples.get(&v.id).unwrap_or(&none), setup.start, setup.end, since, expected);
            let (verdict, detail) = verdict(&window, rules);
            VmActivity {
                vm_id: v.id.clone(),
                name: v.name.clone(),
                host: host_names.get(v.host.as_str()).map_or_else(|| v.host.clone(), |n| n.to_string()),
                cpu: v.cpu,
                memory_mb: v.memory_mb,
                request: v.tag("request").unwrap_or_default().into(),
                owner: v.tag("owner").unwrap_or_default().into(),
                department: v.tag("department").unwrap_or_default().into(),
                verdict,
                detail,
                window,
            }
        })
        .collect();
    activity.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(UtilisationReport {
        at: setup.end.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        rules: *rules,
        interval_secs: setup.interval as u32,
        hosts,
        clusters,
        vms: activity,
    })
}

/// A plain table for the CLI.
pub fn to_table(r: &UtilisationReport) -> String {
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let pct = |u: u64, c: u64| if c == 0 { "-".to_string() } else { format!("{:.1}%", 100.0 * u as f64 / c as f64) };
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}%"));
    let mut s = String::new();
    s.push_str(&format!(
        "{:<24} {:>6} {:>22} {:>7} {:>22} {:>7} {:>4}\n",
        "CLUSTER", "HOSTS", "CPU USED/CAPACITY", "CPU", "MEMORY USED/CAPACITY", "MEM", "VMS"
    ));
    for c in &r.clusters {
        s.push_str(&format!(
            "{:<24} {:>6} {:>22} {:>7} {:>22} {:>7} {:>4}\n",
            c.name,
            c.hosts,
            format!("{}/{} MHz", c.cpu_used_mhz, c.cpu_capacity_mhz),
            pct(c.cpu_used_mhz, c.cpu_capacity_mhz),
            format!("{:.1}/{:.1} GiB", gib(c.memory_used_bytes), gib(c.memory_capacity_bytes)),
            pct(c.memory_used_bytes, c.memory_capacity_bytes),
            c.vms
        ));
    }
    s.push('\n');
    s.push_str(&format!(
        "{:<24} {:<16} {:>22} {:>7} {:>22} {:>7} {:>9} {:>9}\n",
        "HOST", "CLUSTER", "CPU USED/CAPACITY", "CPU", "MEMORY USED/CAPACITY", "MEM", "CPU AVG", "MEM AVG"
    ));
    for h in &r.hosts {
        s.push_str(&format!(
            "{:<24} {:<16} {:>22} {:>7} {:>22} {:>7} {:>9} {:>9}\n",
            h.name,
            if h.cluster.is_empty() { "-" } else { &h.cluster },
            format!("{}/{} MHz", h.cpu_used_mhz, h.cpu_capacity_mhz),
            pct(h.cpu_used_mhz, h.cpu_capacity_mhz),
            format!("{:.1}/{:.1} GiB", gib(h.memory_used_bytes), gib(h.memory_capacity_bytes)),
            pct(h.memory_used_bytes, h.memory_capacity_bytes),
            opt(h.window.cpu_avg_pct),
            opt(h.window.mem_avg_pct),
        ));
    }
    s.push('\n');
    s.push_str(&format!(
        "Powered-on VMs over the last {} h (samples every {} s; idle: CPU < {} % and network < {} KB/s for 95 % of the samples)\n",
        r.rules.window_hours, r.interval_secs, r.rules.cpu_pct, r.rules.net_kbps
    ));
    s.push_str(&format!(
        "{:<28} {:<16} {:<12} {:>9} {:>10} {:>9}  {}\n",
        "VM", "VERDICT", "OWNER", "CPU P95", "NET P95", "SAMPLES", "DEPARTMENT"
    ));
    for v in &r.vms {
        s.push_str(&format!(
            "{:<28} {:<16} {:<12} {:>9} {:>10} {:>9}  {}\n",
            v.name,
            match v.verdict {
                IdleVerdict::Idle => "idle",
                IdleVerdict::Busy => "busy",
                IdleVerdict::NotEnoughData => "not enough data",
            },
            if v.owner.is_empty() { "-" } else { &v.owner },
            opt(v.window.cpu_p95_pct),
            v.window.net_p95_kbps.map_or("-".into(), |x| format!("{x:.1} KB/s")),
            format!("{}/{}", v.window.samples, v.window.expected),
            if v.department.is_empty() { "-" } else { &v.department },
        ));
    }
    if r.vms.is_empty() {
        s.push_str("(no powered-on VMs)\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn series(start: OffsetDateTime, step: i64, cpu: &[i64], net: &[i64]) -> HashMap<&'static str, Series> {
        let at = |i: usize| start + time::Duration::seconds(step * (i as i64 + 1));
        HashMap::from([
            (CPU, cpu.iter().enumerate().map(|(i, v)| (at(i), *v)).collect()),
            (NET, net.iter().enumerate().map(|(i, v)| (at(i), *v)).collect()),
        ])
    }

    #[test]
    fn the_interval_follows_the_window() {
        let vc = [(300, 86_400), (1800, 604_800), (7200, 2_592_000), (86_400, 31_536_000)];
        assert_eq!(pick_interval(3600, &vc), 20);
        assert_eq!(pick_interval(3601, &vc), 300);
        assert_eq!(pick_interval(86_400, &vc), 300);
        assert_eq!(pick_interval(7 * 86_400, &vc), 1800);
        assert_eq!(pick_interval(30 * 86_400, &vc), 7200);
        assert_eq!(pick_interval(400 * 86_400, &vc), 86_400);
        assert_eq!(pick_interval(7 * 86_400, &[]), 86_400);
    }

    #[test]
    fn idle_busy_and_not_enough_data() {
        let start = datetime!(2026-12-01 00:00 UTC);
        let end = start + time::Duration::seconds(10 * 20);
        let rules = IdleRules { window_hours: 1, cpu_pct: 5.0, net_kbps: 10.0, min_coverage_pct: 80 };
        // 10 samples: CPU 1-3 % (hundredths), network under 10 KB/s but one spike (the 95th percentile is the 10th of 10).
        let quiet = series(start, 20, &[100, 120, 300, 150, 100, 110, 90, 100, 100, 100], &[1, 2, 3, 2, 1, 0, 0, 1, 2, 3]);
        let w = stats(&quiet, start, end, None, 10);
        assert_eq!(w.samples, 10);
        assert_eq!(w.cpu_max_pct, Some(3.0));
        assert_eq!(verdict(&w, &rules).0, IdleVerdict::Idle, "{}", verdict(&w, &rules).1);
        let spiky = series(start, 20, &[100; 10], &[1, 1, 1, 1, 1, 1, 1, 1, 1, 900]);
        let (v, why) = verdict(&stats(&spiky, start, end, None, 10), &rules);
        assert_eq!(v, IdleVerdict::Busy, "{why}");
        assert!(why.contains("network 95th percentile 900.0 KB/s"), "{why}");
        // Booted after the 5th sample: 5 of 10 count, 8 are needed.
        let (v, why) = verdict(&stats(&quiet, start, end, Some(start + time::Duration::seconds(100)), 10), &rules);
        assert_eq!(v, IdleVerdict::NotEnoughData);
        assert!(why.contains("5 of 10 samples") && why.contains("at least 8"), "{why}");
        // vCenter's -1 (no value) is not a sample.
        let gaps = series(start, 20, &[-1, -1, -1, 100, 100, 100, 100, 100, 100, 100], &[1; 10]);
        assert_eq!(stats(&gaps, start, end, None, 10).samples, 7);
        assert_eq!(verdict(&WindowStats { expected: 10, ..Default::default() }, &rules).0, IdleVerdict::NotEnoughData);
    }

    #[test]
    fn rules_are_checked() {
        assert!(IdleRules::default().validate().is_ok());
        for bad in [
            IdleRules { window_hours: 0, ..Default::default() },
            IdleRules { window_hours: 9000, ..Default::default() },
            IdleRules { cpu_pct: -1.0, ..Default::default() },
            IdleRules { cpu_pct: f64::NAN, ..Default::default() },
            IdleRules { net_kbps: 0.0, ..Default::default() },
            IdleRules { min_coverage_pct: 101, ..Default::default() },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn clusters_sum_their_hosts() {
        let host = |id: &str, parent: &str, cpu: i32, mem: i32| HostProps {
            id: moref(MoTypesEnum::HostSystem, id),
            name: id.into(),
            parent: Some(moref(MoTypesEnum::ClusterComputeResource, parent)),
            connection: None,
            maintenance: None,
            cpu_usage: Some(cpu),
            memory_usage: Some(mem),
            cpu_mhz: Some(2294),
            cores: Some(2),
            threads: None,
            memory_size: Some(4_294_430_720),
            vms: None,
            datastores: None,
        };
        let clusters = [ClusterName { id: moref(MoTypesEnum::ClusterComputeResource, "c1"), name: "C1".into() }];
        let (hosts, cl) = usage_rows(vec![host("h1", "c1", 67, 1404), host("h2", "c1", 10, 10), host("h3", "cr9", 5, 5)], &clusters);
        assert_eq!(hosts.len(), 3);
        assert_eq!(hosts[2].cluster, "");
        assert_eq!(cl[0].hosts, 2);
        assert_eq!(cl[0].cpu_used_mhz, 77);
        assert_eq!(cl[0].cpu_capacity_mhz, 2 * 2 * 2294);
        assert_eq!(cl[0].memory_used_bytes, (1414u64) << 20);
        assert_eq!(cl[0].memory_capacity_bytes, 2 * 4_294_430_720);
    }
}
