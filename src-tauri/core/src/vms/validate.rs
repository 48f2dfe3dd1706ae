//! Request form validation: every field, with a message that names the field
//! and says what is allowed. Checks against the inventory (template exists,
//! name unused) live in [`against_inventory`].

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::inventory::Inventory;
use super::model::{RequestSpec, VmRequest};
use crate::error::{Error, Result};

/// Size limits of one request (per VM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Limits {
    pub max_cpu: u32,
    pub max_memory_gb: u32,
    pub max_disk_gb: u32,
    /// The lease may end at most this many days from today.
    pub max_lease_days: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_cpu: 32, max_memory_gb: 256, max_disk_gb: 4096, max_lease_days: 365 }
    }
}

/// A VM name is also its guest host name: a DNS label (RFC 1123), lowercase.
pub fn name(raw: &str) -> Result<String> {
    let n = raw.trim();
    let bad = |why: &str| Err(Error::invalid(format!("name \"{n}\": {why}")));
    if n.is_empty() {
        return Err(Error::invalid("name: required"));
    }
    if n.len() > 63 {
        return bad("at most 63 characters (it becomes the host name)");
    }
    if !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return bad("use lowercase letters, digits and '-' only");
    }
    if !n.starts_with(|c: char| c.is_ascii_lowercase()) {
        return bad("must start with a letter");
    }
    if n.ends_with('-') {
        return bad("must not end with '-'");
    }
    Ok(n.to_string())
}

/// Department ids are used in etcd key paths and role names.
pub fn department(raw: &str) -> Result<String> {
    let d = raw.trim();
    if d.is_empty() {
        return Err(Error::invalid("department: required"));
    }
    if d.len() > 32 || !d.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') || d.starts_with('-') {
        return Err(Error::invalid(format!("department \"{d}\": 1-32 lowercase letters, digits or '-' (it names etcd keys and roles)")));
    }
    Ok(d.to_string())
}

pub fn parse_date(field: &str, raw: &str) -> Result<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &fmt).map_err(|_| Error::invalid(format!("{field} \"{raw}\": use YYYY-MM-DD")))
}

fn range(field: &str, v: u32, max: u32, unit: &str) -> Result<()> {
    if v == 0 || v > max {
        return Err(Error::invalid(format!("{field}: {v}{unit} is outside 1-{max}{unit}")));
    }
    Ok(())
}

/// Checks and normalises every field of the form. `today` is passed in so
/// the lease rule is testable.
pub fn spec(mut s: RequestSpec, limits: &Limits, today: Date) -> Result<RequestSpec> {
    s.name = name(&s.name)?;
    s.template = s.template.trim().to_string();
    if s.template.is_empty() {
        return Err(Error::invalid("template: required"));
    }
    range("CPU", s.cpu, limits.max_cpu, "")?;
    range("memory", s.memory_gb, limits.max_memory_gb, " GB")?;
    range("disk", s.disk_gb, limits.max_disk_gb, " GB")?;
    s.department = department(&s.department)?;
    s.purpose = s.purpose.trim().to_string();
    if s.purpose.is_empty() {
        return Err(Error::invalid("purpose: required (what the VM is for)"));
    }
    if s.purpose.chars().count() > 500 {
        return Err(Error::invalid("purpose: at most 500 characters"));
    }
    let lease = parse_date("lease end", &s.lease_end)?;
    if lease < today {
        return Err(Error::invalid(format!("lease end {lease}: in the past")));
    }
    let days = (lease - today).whole_days();
    if days > limits.max_lease_days {
        return Err(Error::invalid(format!(
            "lease end {lease}: at most {} days ahead (until {})",
            limits.max_lease_days,
            today + time::Duration::days(limits.max_lease_days)
        )));
    }
    s.lease_end = lease.to_string();
    for (field, v) in [("network", &mut s.network), ("folder", &mut s.folder), ("resource pool", &mut s.resource_pool)] {
        *v = v.trim().to_string();
        if v.len() > 255 {
            return Err(Error::invalid(format!("{field}: at most 255 characters")));
        }
    }
    if s.customization_script.len() > 64 * 1024 {
        return Err(Error::invalid("customization script: at most 64 KiB"));
    }
    Ok(s)
}

/// Today in UTC.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// The parts that need vCenter's inventory and the other requests: the
/// template, network, folder and pool exist; the name is used neither by a
/// VM nor by another live request.
pub fn against_inventory(s: &RequestSpec, inv: &Inventory, requests: &[VmRequest], own_id: Option<&str>) -> Result<()> {
    if !inv.templates().any(|t| t.name == s.template) {
        let names: Vec<&str> = inv.templates().map(|t| t.name.as_str()).take(10).collect();
        return Err(Error::invalid(format!(
            "template \"{}\" does not exist in vCenter (templates: {})",
            s.template,
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        )));
    }
    if !s.network.is_empty() && !inv.networks.iter().any(|n| n.name == s.network) {
        return Err(Error::invalid(format!("network \"{}\" does not exist in vCenter", s.network)));
    }
    if !s.folder.is_empty() && inv.folder(&s.folder).is_none() {
        return Err(Error::invalid(format!("folder \"{}\" does not exist in vCenter", s.folder)));
    }
    if !s.resource_pool.is_empty() && inv.pool(&s.resource_pool).is_none() {
        return Err(Error::invalid(format!("resource pool \"{}\" does not exist in vCenter", s.resource_pool)));
    }
    if inv.vms.iter().any(|v| v.name == s.name) {
        return Err(Error::invalid(format!("name \"{}\": a VM with this name already exists", s.name)));
    }
    if let Some(other) =
        requests.iter().find(|r| r.spec.name == s.name && Some(r.id.as_str()) != own_id && (r.state.is_pending() || r.state.holds_vm()))
    {
        return Err(Error::invalid(format!("name \"{}\": already asked for by request {} ({})", s.name, other.id, other.state.as_str())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vms::model::SnapshotSchedule;
    use time::macros::date;

    fn form() -> RequestSpec {
        RequestSpec {
            name: "build-01".into(),
            template: "debian-12".into(),
            cpu: 2,
            memory_gb: 4,
            disk_gb: 40,
            network: String::new(),
            folder: String::new(),
            resource_pool: String::new(),
            department: "qa".into(),
            purpose: "CI runner".into(),
            lease_end: "2026-12-31".into(),
            snapshot_schedule: SnapshotSchedule::Daily,
            customization_script: String::new(),
        }
    }

    #[test]
    fn names_follow_host_name_rules() {
        assert_eq!(name(" web-1 ").unwrap(), "web-1");
        for bad in ["", "Web1", "1web", "web-", "web_1", "web.1", &"a".repeat(64)] {
            assert!(name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(name("Web1").unwrap_err().to_string().contains("lowercase"));
    }

    #[test]
    fn sizes_and_lease_are_bounded_with_clear_messages() {
        let l = Limits::default();
        let today = date!(2026 - 12 - 01);
        assert!(spec(form(), &l, today).is_ok());
        let e = spec(RequestSpec { cpu: 0, ..form() }, &l, today).unwrap_err();
        assert_eq!(e.to_string(), "CPU: 0 is outside 1-32");
        let e = spec(RequestSpec { memory_gb: 512, ..form() }, &l, today).unwrap_err();
        assert_eq!(e.to_string(), "memory: 512 GB is outside 1-256 GB");
        let e = spec(RequestSpec { lease_end: "2026-11-30".into(), ..form() }, &l, today).unwrap_err();
        assert!(e.to_string().contains("in the past"), "{e}");
        let e = spec(RequestSpec { lease_end: "2028-01-01".into(), ..form() }, &l, today).unwrap_err();
        assert!(e.to_string().contains("at most 365 days"), "{e}");
        let e = spec(RequestSpec { lease_end: "31/12/2026".into(), ..form() }, &l, today).unwrap_err();
        assert!(e.to_string().contains("YYYY-MM-DD"), "{e}");
        let e = spec(RequestSpec { department: "QA team".into(), ..form() }, &l, today).unwrap_err();
        assert!(e.to_string().starts_with("department"), "{e}");
        let e = spec(RequestSpec { purpose: "  ".into(), ..form() }, &l, today).unwrap_err();
        assert!(e.to_string().starts_with("purpose"), "{e}");
    }
}
