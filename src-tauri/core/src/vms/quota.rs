//! Department quotas: what a department uses is its VMs that exist (requests
//! provisioned and not reclaimed, plus VMs in vCenter tagged with the
//! department but not made through a request here) and its pending requests.

use std::collections::HashSet;

use super::inventory::Inventory;
use super::model::{Quota, QuotaCheck, RequestSpec, Usage, VmRequest};

/// Current use of `department`, not counting the request `except` (the one being checked).
pub fn usage(department: &str, requests: &[VmRequest], inventory: Option<&Inventory>, except: Option<&str>) -> Usage {
    let mut u = Usage::default();
    let mut counted_vms = HashSet::new();
    for r in requests.iter().filter(|r| r.spec.department == department && Some(r.id.as_str()) != except) {
        if r.state.is_pending() || r.state.holds_vm() {
            u.add(&r.spec);
            if let Some(a) = &r.asset {
                counted_vms.insert(a.vm_id.clone());
            }
            counted_vms.insert(format!("request:{}", r.id));
        }
    }
    if let Some(inv) = inventory {
        for vm in inv.vms.iter().filter(|v| !v.template && v.tag("department") == Some(department)) {
            let via_request = vm.tag("request").map(|id| counted_vms.contains(&format!("request:{id}"))).unwrap_or(false);
            if !via_request && !counted_vms.contains(&vm.id) {
                u.vms += 1;
                u.vcpu += vm.cpu;
                u.memory_gb += vm.memory_mb.div_ceil(1024);
                u.disk_gb += (vm.committed_bytes / (1 << 30)) as u32;
            }
        }
    }
    u
}

/// Checks `spec` against `quota` given the current `used`. Zero limits are unlimited.
pub fn check(spec: &RequestSpec, quota: Option<&Quota>, used: Usage) -> QuotaCheck {
    let Some(q) = quota else {
        return QuotaCheck { ok: true, lines: vec![format!("department \"{}\" has no quota set", spec.department)] };
    };
    let rows = [
        ("VMs", used.vms, 1, q.vms, ""),
        ("vCPU", used.vcpu, spec.cpu, q.vcpu, ""),
        ("memory", used.memory_gb, spec.memory_gb, q.memory_gb, " GB"),
        ("disk", used.disk_gb, spec.disk_gb, q.disk_gb, " GB"),
    ];
    let mut ok = true;
    let mut lines = Vec::new();
    for (what, used, this, limit, unit) in rows {
        if limit == 0 {
            continue;
        }
        let after = used + this;
        let fits = after <= limit;
        ok &= fits;
        lines.push(format!(
            "{what} {after}{unit} of {limit}{unit} (in use or pending {used}{unit}, this request {this}{unit}){}",
            if fits { "" } else { ": over quota" }
        ));
    }
    QuotaCheck { ok, lines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vms::model::{SnapshotSchedule, State};

    fn spec(dept: &str, cpu: u32) -> RequestSpec {
        RequestSpec {
            name: "a".into(),
            template: "t".into(),
            cpu,
            memory_gb: 4,
            disk_gb: 50,
            network: String::new(),
            folder: String::new(),
            resource_pool: String::new(),
            department: dept.into(),
            purpose: "p".into(),
            lease_end: "2027-01-01".into(),
            snapshot_schedule: SnapshotSchedule::None,
            customization_script: String::new(),
        }
    }

    fn req(id: &str, dept: &str, cpu: u32, state: State) -> VmRequest {
        VmRequest::for_test(id, spec(dept, cpu), "u", state)
    }

    #[test]
    fn pending_and_provisioned_count_rejected_and_reclaimed_do_not() {
        let rs = vec![
            req("1", "qa", 4, State::PendingManager),
            req("2", "qa", 2, State::Provisioned),
            req("3", "qa", 8, State::Rejected),
            req("4", "qa", 8, State::Reclaimed),
            req("5", "dev", 8, State::Approved),
        ];
        let u = usage("qa", &rs, None, None);
        assert_eq!(u, Usage { vms: 2, vcpu: 6, memory_gb: 8, disk_gb: 100 });
        assert_eq!(usage("qa", &rs, None, Some("1")).vcpu, 2, "the request being checked is not counted twice");
    }

    #[test]
    fn check_names_each_resource_and_refuses_over_quota() {
        let q = Quota { vms: 3, vcpu: 8, memory_gb: 0, disk_gb: 200, max_lease_days: 0 };
        let used = Usage { vms: 2, vcpu: 6, memory_gb: 8, disk_gb: 100 };
        let c = check(&spec("qa", 2), Some(&q), used);
        assert!(c.ok, "{c:?}");
        assert_eq!(c.lines.len(), 3, "memory is unlimited: {c:?}");
        let c = check(&spec("qa", 4), Some(&q), used);
        assert!(!c.ok);
        assert_eq!(c.lines[1], "vCPU 10 of 8 (in use or pending 6, this request 4): over quota");
        assert!(check(&spec("qa", 64), None, used).ok, "no quota set = no limit");
    }
}
