//! Compliance report over the inventory: guest tools not running, too many
//! snapshots, snapshots too old, VMs powered off too long. Exported as CSV
//! or JSON for auditors.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::inventory::{parse_time, Inventory};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ComplianceRules {
    pub max_snapshots: usize,
    pub max_snapshot_age_days: i64,
    pub max_powered_off_days: i64,
}

impl Default for ComplianceRules {
    fn default() -> Self {
        ComplianceRules { max_snapshots: 5, max_snapshot_age_days: 14, max_powered_off_days: 30 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename = "ComplianceFinding")] // its name in the IPC contract (clusters have Findings too)
pub struct Finding {
    pub vm: String,
    pub vm_id: String,
    /// `tools_not_running`, `too_many_snapshots`, `old_snapshot`,
    /// `powered_off_long`, `idle`, or `idle_unchecked` (vCenter-wide, no VM:
    /// the utilisation samples could not be read, so idle VMs are unknown).
    pub rule: String,
    pub detail: String,
    /// From the VM's Opsdeck annotation, when it has one.
    pub owner: String,
    pub department: String,
}

/// The idle findings, or, when the samples they come from could not be read,
/// one vCenter-wide `idle_unchecked` finding naming why: the report keeps its
/// other rules and says which one it could not check, instead of failing whole.
pub fn idle_or_unchecked(idle: Result<Vec<Finding>>, vcenter: &str) -> Vec<Finding> {
    match idle {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(vcenter, error = %e, "idle VMs not checked");
            vec![Finding {
                vm: String::new(),
                vm_id: String::new(),
                rule: "idle_unchecked".into(),
                detail: format!("idle VMs not checked: {e}"),
                owner: String::new(),
                department: String::new(),
            }]
        }
    }
}

/// Checks every VM (not templates). `powered_off_since` maps VM ids to when
/// Opsdeck first saw them powered off (vCenter keeps no such property).
pub fn report(inv: &Inventory, powered_off_since: &HashMap<String, String>, now: OffsetDateTime, rules: &ComplianceRules) -> Vec<Finding> {
    let mut out = Vec::new();
    for vm in inv.vms.iter().filter(|v| !v.template) {
        let mut add = |rule: &str, detail: String| {
            out.push(Finding {
                vm: vm.name.clone(),
                vm_id: vm.id.clone(),
                rule: rule.into(),
                detail,
                owner: vm.tag("owner").unwrap_or_default().into(),
                department: vm.tag("department").unwrap_or_default().into(),
            })
        };
        if vm.powered_on() && vm.tools != "guestToolsRunning" {
            add("tools_not_running", format!("VMware Tools: {}", if vm.tools.is_empty() { "unknown" } else { &vm.tools }));
        }
        if vm.snapshots.len() > rules.max_snapshots {
            add("too_many_snapshots", format!("{} snapshots (at most {})", vm.snapshots.len(), rules.max_snapshots));
        }
        if let Some(days) = vm.oldest_snapshot_days(now).filter(|d| *d > rules.max_snapshot_age_days) {
            add("old_snapshot", format!("oldest snapshot is {days} days old (at most {})", rules.max_snapshot_age_days));
        }
        if !vm.powered_on() {
            if let Some(days) = powered_off_since
                .get(&vm.id)
                .and_then(|s| parse_time(s))
                .map(|t| (now - t).whole_days())
                .filter(|d| *d > rules.max_powered_off_days)
            {
                add("powered_off_long", format!("powered off for {days} days (at most {})", rules.max_powered_off_days));
            }
        }
    }
    out.sort_by(|a, b| a.vm.cmp(&b.vm).then_with(|| a.rule.cmp(&b.rule)));
    out
}

pub fn to_csv(findings: &[Finding]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for f in findings {
        w.serialize(f).map_err(|e| Error::Internal(format!("writing the compliance CSV: {e}")))?;
    }
    if findings.is_empty() {
        w.write_record(["vm", "vm_id", "rule", "detail", "owner", "department"]).map_err(|e| Error::Internal(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Internal(format!("writing the compliance CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(e.to_string()))
}

pub fn to_json(findings: &[Finding]) -> Result<String> {
    serde_json::to_string_pretty(findings).map_err(|e| Error::Internal(format!("writing the compliance JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vms::inventory::{SnapshotRow, VmRow};
    use time::macros::datetime;

    fn vm(name: &str, power: &str, tools: &str, snaps: &[&str]) -> VmRow {
        VmRow {
            id: format!("vm-{name}"),
            name: name.into(),
            power: power.into(),
            template: false,
            tools: tools.into(),
            cpu: 1,
            memory_mb: 1024,
            committed_bytes: 0,
            host: String::new(),
            datastores: vec![],
            folder: String::new(),
            pool: String::new(),
            annotation: "Managed by Opsdeck\nrequest: r1\nowner: alice\ndepartment: qa".into(),
            snapshots: snaps
                .iter()
                .enumerate()
                .map(|(i, t)| SnapshotRow { id: format!("s{i}"), name: format!("s{i}"), created: t.to_string() })
                .collect(),
            boot_time: None,
        }
    }

    #[test]
    fn each_rule_fires_only_past_its_threshold() {
        let now = datetime!(2026-12-01 12:00 UTC);
        let six = ["2026-11-30T00:00:00Z"; 6];
        let inv = Inventory {
            vms: vec![
                vm("ok", "poweredOn", "guestToolsRunning", &["2026-11-25T00:00:00Z"]),
                vm("notools", "poweredOn", "guestToolsNotRunning", &[]),
                vm("many", "poweredOn", "guestToolsRunning", &six),
                vm("old", "poweredOn", "guestToolsRunning", &["2026-11-01T00:00:00Z"]),
                vm("off", "poweredOff", "", &[]),
                vm("offrecent", "poweredOff", "", &[]),
            ],
            ..Default::default()
        };
        let seen = HashMap::from([
            ("vm-off".to_string(), "2026-10-01T00:00:00Z".to_string()),
            ("vm-offrecent".to_string(), "2026-11-20T00:00:00Z".to_string()),
        ]);
        let f = report(&inv, &seen, now, &ComplianceRules::default());
        let got: Vec<(&str, &str)> = f.iter().map(|x| (x.vm.as_str(), x.rule.as_str())).collect();
        assert_eq!(
            got,
            [("many", "too_many_snapshots"), ("notools", "tools_not_running"), ("off", "powered_off_long"), ("old", "old_snapshot")]
        );
        assert_eq!(f[0].owner, "alice");
        let csv = to_csv(&f).unwrap();
        assert!(csv.starts_with("vm,vm_id,rule,detail,owner,department\n"), "{csv}");
        assert_eq!(csv.lines().count(), 5);
    }

    #[test]
    fn unreadable_samples_are_one_unchecked_finding_not_a_failed_report() {
        let idle = Finding {
            vm: "web-1".into(),
            vm_id: "vm-1".into(),
            rule: "idle".into(),
            detail: "idle over the last 24 h".into(),
            owner: "alice".into(),
            department: "eng".into(),
        };
        assert_eq!(idle_or_unchecked(Ok(vec![idle.clone()]), "vc1").len(), 1);
        assert_eq!(idle_or_unchecked(Ok(vec![]), "vc1").len(), 0);
        let lost = Error::Timeout { what: "PerformanceManager.QueryPerf".into(), secs: 30 };
        let got = idle_or_unchecked(Err(lost), "vc1");
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].vm.as_str(), got[0].rule.as_str()), ("", "idle_unchecked"));
        assert!(got[0].detail.starts_with("idle VMs not checked: ") && got[0].detail.contains("QueryPerf"), "{}", got[0].detail);
    }
}
