//! Where a new VM goes: the host by the seed score
//! `0.4 x free CPU + 0.4 x free memory + 0.2 x (1 - VMs / max VMs)` among
//! hosts that are connected, not in maintenance and can fit the VM, then
//! the datastore of that host with the most free space that fits the disk.

use serde::Serialize;

use super::inventory::{DatastoreRow, HostRow, Inventory};
use super::model::RequestSpec;
use crate::error::{Error, Result};

/// VMs per host at which the VM-count term reaches zero.
pub const DEFAULT_MAX_VMS_PER_HOST: u32 = 100;
/// Datastore space kept free beyond the new disk (fraction of capacity).
pub const DATASTORE_HEADROOM: f64 = 0.10;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Placement {
    pub host: String,
    pub host_name: String,
    pub score: f64,
    pub datastore: String,
    pub datastore_name: String,
    /// Why each other host was skipped or ranked lower, for the request's history.
    pub notes: Vec<String>,
}

fn fraction_free(used: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    (1.0 - used as f64 / total as f64).clamp(0.0, 1.0)
}

/// The seed score of one host.
pub fn score(h: &HostRow, max_vms: u32) -> f64 {
    let cpu = fraction_free(h.cpu_usage_mhz, h.cpu_total_mhz);
    let mem = fraction_free(h.memory_usage_mb, h.memory_total_mb);
    let vms = (1.0 - h.vm_count as f64 / max_vms.max(1) as f64).clamp(0.0, 1.0);
    0.4 * cpu + 0.4 * mem + 0.2 * vms
}

/// Why `h` cannot take the VM, if it cannot.
fn unfit(h: &HostRow, spec: &RequestSpec) -> Option<String> {
    if !h.connected {
        return Some("not connected".into());
    }
    if h.maintenance {
        return Some("in maintenance mode".into());
    }
    if h.cpu_threads > 0 && spec.cpu > h.cpu_threads {
        return Some(format!("{} CPU threads < {} vCPU asked", h.cpu_threads, spec.cpu));
    }
    let free_mb = h.memory_total_mb.saturating_sub(h.memory_usage_mb);
    if h.memory_total_mb > 0 && free_mb < spec.memory_gb as u64 * 1024 {
        return Some(format!("{free_mb} MB memory free < {} GB asked", spec.memory_gb));
    }
    None
}

fn fits(d: &DatastoreRow, disk_gb: u32) -> bool {
    let need = disk_gb as u64 * (1 << 30) + (d.capacity_bytes as f64 * DATASTORE_HEADROOM) as u64;
    d.accessible && d.free_bytes >= need
}

/// Picks the host and datastore, or says why none fits.
pub fn place(inv: &Inventory, spec: &RequestSpec, max_vms: u32) -> Result<Placement> {
    let mut notes = Vec::new();
    let mut ranked: Vec<(&HostRow, f64)> = Vec::new();
    for h in &inv.hosts {
        match unfit(h, spec) {
            Some(why) => notes.push(format!("host {}: {why}", h.name)),
            None => ranked.push((h, score(h, max_vms))),
        }
    }
    // Highest score first; ties broken by name so placement is deterministic.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.name.cmp(&b.0.name)));
    for (h, s) in &ranked {
        let best = h
            .datastores
            .iter()
            .filter_map(|id| inv.datastore(id))
            .filter(|d| fits(d, spec.disk_gb))
            .max_by(|a, b| a.free_bytes.cmp(&b.free_bytes).then_with(|| b.name.cmp(&a.name)));
        match best {
            Some(d) => {
                return Ok(Placement {
                    host: h.id.clone(),
                    host_name: h.name.clone(),
                    score: *s,
                    datastore: d.id.clone(),
                    datastore_name: d.name.clone(),
                    notes,
                });
            }
            None => notes.push(format!(
                "host {} (score {s:.3}): no datastore with {} GB free plus {:.0}% headroom",
                h.name,
                spec.disk_gb,
                DATASTORE_HEADROOM * 100.0
            )),
        }
    }
    Err(Error::invalid(format!(
        "no host can take {} ({} vCPU, {} GB memory, {} GB disk): {}",
        spec.name,
        spec.cpu,
        spec.memory_gb,
        spec.disk_gb,
        if notes.is_empty() { "the inventory has no hosts".to_string() } else { notes.join("; ") }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vms::model::SnapshotSchedule;

    fn host(name: &str, cpu_used: u64, mem_used: u64, vms: u32, ds: &[&str]) -> HostRow {
        HostRow {
            id: format!("host-{name}"),
            name: name.into(),
            compute: "c".into(),
            connected: true,
            maintenance: false,
            cpu_usage_mhz: cpu_used,
            cpu_total_mhz: 10_000,
            cpu_threads: 16,
            memory_usage_mb: mem_used,
            memory_total_mb: 65_536,
            vm_count: vms,
            datastores: ds.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ds(id: &str, free_gb: u64) -> DatastoreRow {
        DatastoreRow { id: id.into(), name: id.into(), capacity_bytes: 1000 << 30, free_bytes: free_gb << 30, accessible: true }
    }

    fn spec(disk_gb: u32, memory_gb: u32) -> RequestSpec {
        RequestSpec {
            name: "vm".into(),
            template: "t".into(),
            cpu: 2,
            memory_gb,
            disk_gb,
            network: String::new(),
            folder: String::new(),
            resource_pool: String::new(),
            department: "d".into(),
            purpose: "p".into(),
            lease_end: "2027-01-01".into(),
            snapshot_schedule: SnapshotSchedule::None,
            customization_script: String::new(),
        }
    }

    #[test]
    fn score_weights_follow_the_seed_formula() {
        // 50% CPU free, 25% memory free, 10 of 100 VMs.
        let h = HostRow { memory_usage_mb: 49_152, ..host("a", 5_000, 0, 10, &[]) };
        let s = score(&h, 100);
        assert!((s - (0.4 * 0.5 + 0.4 * 0.25 + 0.2 * 0.9)).abs() < 1e-9, "{s}");
    }

    #[test]
    fn the_least_loaded_host_with_room_wins() {
        let inv = Inventory {
            hosts: vec![
                host("busy", 9_000, 60_000, 40, &["ds1"]),
                host("idle", 1_000, 8_000, 2, &["ds2"]),
                host("mid", 5_000, 30_000, 10, &["ds1"]),
            ],
            datastores: vec![ds("ds1", 500), ds("ds2", 500)],
            ..Default::default()
        };
        let p = place(&inv, &spec(100, 8), 100).unwrap();
        assert_eq!((p.host_name.as_str(), p.datastore.as_str()), ("idle", "ds2"));

        // The idle host's only datastore is too small: the next host is used.
        let inv = Inventory { datastores: vec![ds("ds1", 500), ds("ds2", 150)], ..inv };
        let p = place(&inv, &spec(100, 8), 100).unwrap();
        assert_eq!(p.host_name, "mid");
        assert!(p.notes.iter().any(|n| n.contains("idle") && n.contains("no datastore")), "{:?}", p.notes);
    }

    #[test]
    fn nothing_fits_says_why_for_each_host() {
        let mut down = host("down", 0, 0, 0, &["ds1"]);
        down.connected = false;
        let inv =
            Inventory { hosts: vec![down, host("full", 0, 64_000, 0, &["ds1"])], datastores: vec![ds("ds1", 10)], ..Default::default() };
        let e = place(&inv, &spec(100, 8), 100).unwrap_err().to_string();
        assert!(e.contains("host down: not connected") && e.contains("host full: 1536 MB memory free < 8 GB asked"), "{e}");
    }
}
