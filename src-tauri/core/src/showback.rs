//! Showback: what the VMs cost a month, by VM, department and owner, from
//! a price list the team sets (per vCPU, per GB of memory, per GB of disk,
//! the disk price by datastore tier). Pure functions: the backend keeps the
//! price list (team store or local settings) and feeds the inventory and the
//! requests in.
//!
//! - A VM in vCenter is priced from what vCenter reports (vCPU, memory,
//!   committed disk on its first datastore's tier); its department and owner
//!   come from Opsdeck's annotation or, failing that, from the request that
//!   made it.
//! - A provisioned request whose VM the inventory does not show (no
//!   inventory yet, or offline) is priced from its approved size.
//! - A pending request is priced as the form's estimate (default disk tier:
//!   the datastore is chosen at provisioning) and counted apart, as
//!   "pending", next to the department's spend.
//! - A department's quota is priced too when it limits vCPU, memory and
//!   disk, so the app can chart spend against it.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::vms::inventory::{Inventory, VmRow};
use crate::vms::model::{Quota, RequestSpec, VmRequest};

/// The highest price accepted for one unit a month: a price above it is a
/// typo (a missing decimal point), not a price.
pub const MAX_UNIT_PRICE: f64 = 100_000.0;
pub const MAX_TIERS: usize = 32;
pub const MAX_PATTERNS: usize = 64;
/// The department of a VM that carries none.
pub const UNASSIGNED: &str = "(unassigned)";

/// Monthly prices per unit. The disk price is the default tier's; a tier
/// names the datastores it applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PriceList {
    /// ISO 4217 code, e.g. `CNY`, `EUR` (shown beside every figure).
    pub currency: String,
    /// Per vCPU a month.
    pub vcpu: f64,
    /// Per GB of memory a month.
    pub memory_gb: f64,
    /// Per GB of disk a month on a datastore of no tier.
    pub disk_gb: f64,
    /// Datastore tiers (first match wins).
    #[serde(default)]
    pub tiers: Vec<DiskTier>,
}

impl Default for PriceList {
    /// Zero prices: showback works (everything costs 0) until a price list is set.
    fn default() -> Self {
        PriceList { currency: "CNY".into(), vcpu: 0.0, memory_gb: 0.0, disk_gb: 0.0, tiers: Vec::new() }
    }
}

/// A datastore tier and its disk price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DiskTier {
    pub name: String,
    /// Per GB of disk a month.
    pub disk_gb: f64,
    /// Datastore names: exact, or a prefix ending in `*` (`ssd-*`).
    pub datastores: Vec<String>,
}

/// The price list as stored: who set it when, and where it lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StoredPriceList {
    pub list: PriceList,
    /// `team` (the team's etcd) or `local` (this machine's settings).
    pub source: String,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub updated_by: Option<String>,
    /// etcd mod revision of the key (0 = local, or never set).
    #[serde(default)]
    pub revision: i64,
}

fn check_price(what: &str, p: f64) -> Result<()> {
    if !p.is_finite() {
        return Err(Error::invalid(format!("price list: {what} is not a number")));
    }
    if p < 0.0 {
        return Err(Error::invalid(format!("price list: {what} is negative ({p}); a price is 0 or more")));
    }
    if p > MAX_UNIT_PRICE {
        return Err(Error::invalid(format!(
            "price list: {what} is {p} a month, more than {MAX_UNIT_PRICE}: check the decimal point (prices are per unit per month)"
        )));
    }
    Ok(())
}

/// Checks a price list; every refusal names the field and why.
pub fn validate(list: &PriceList) -> Result<PriceList> {
    let currency = list.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(Error::invalid(format!("price list: currency \"{}\" must be a 3-letter ISO code such as CNY or EUR", list.currency)));
    }
    check_price("the vCPU price", list.vcpu)?;
    check_price("the memory price (per GB)", list.memory_gb)?;
    check_price("the disk price (per GB)", list.disk_gb)?;
    if list.tiers.len() > MAX_TIERS {
        return Err(Error::invalid(format!("price list: at most {MAX_TIERS} datastore tiers ({} given)", list.tiers.len())));
    }
    let mut names = HashSet::new();
    let mut tiers = Vec::with_capacity(list.tiers.len());
    for t in &list.tiers {
        let name = t.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(Error::invalid("price list: a tier needs a name of 1 to 64 printable characters"));
        }
        if !names.insert(name.to_lowercase()) {
            return Err(Error::invalid(format!("price list: tier \"{name}\" is named twice")));
        }
        check_price(&format!("tier \"{name}\" disk price (per GB)"), t.disk_gb)?;
        let patterns: Vec<String> = t.datastores.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
        if patterns.is_empty() {
            return Err(Error::invalid(format!("price list: tier \"{name}\" names no datastore (a name, or a prefix ending in '*')")));
        }
        if patterns.len() > MAX_PATTERNS {
            return Err(Error::invalid(format!("price list: tier \"{name}\": at most {MAX_PATTERNS} datastore patterns")));
        }
        if let Some(p) = patterns.iter().find(|p| p.trim_end_matches('*').contains('*') || p.len() > 200) {
            return Err(Error::invalid(format!(
                "price list: tier \"{name}\": datastore pattern \"{p}\": '*' only at the end, at most 200 characters"
            )));
        }
        tiers.push(DiskTier { name, disk_gb: t.disk_gb, datastores: patterns });
    }
    Ok(PriceList { currency, vcpu: list.vcpu, memory_gb: list.memory_gb, disk_gb: list.disk_gb, tiers })
}

fn matches(pattern: &str, datastore: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => datastore.starts_with(prefix),
        None => pattern == datastore,
    }
}

impl PriceList {
    /// The tier of `datastore` (None: the default disk price).
    pub fn tier_of(&self, datastore: &str) -> Option<&DiskTier> {
        self.tiers.iter().find(|t| t.datastores.iter().any(|p| matches(p, datastore)))
    }

    /// What `cpu` vCPU, `memory_gb` and `disk_gb` on `datastore` cost a month.
    pub fn price(&self, cpu: f64, memory_gb: f64, disk_gb: f64, datastore: Option<&str>) -> Cost {
        let tier = datastore.and_then(|d| self.tier_of(d));
        let disk_price = tier.map_or(self.disk_gb, |t| t.disk_gb);
        let vcpu = cents(cpu * self.vcpu);
        let memory = cents(memory_gb * self.memory_gb);
        let disk = cents(disk_gb * disk_price);
        Cost { vcpu, memory, disk, monthly: vcpu + memory + disk, tier: tier.map(|t| t.name.clone()) }
    }
}

/// In cents (hundredths of the currency), rounded; prices are bounded, so it fits.
fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// A monthly cost, split by resource, in cents of the price list's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct Cost {
    pub vcpu: i64,
    pub memory: i64,
    pub disk: i64,
    pub monthly: i64,
    /// The datastore tier the disk was priced at (None: the default price).
    #[serde(default)]
    pub tier: Option<String>,
}

/// The estimate shown on the request form and kept on the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct CostEstimate {
    pub currency: String,
    pub cost: Cost,
    /// When it was priced (the price list may change later).
    pub priced_at: String,
    /// Why the figure may differ from the bill, e.g. the disk tier is known only at provisioning.
    #[serde(default)]
    pub note: String,
}

/// The estimate of a request's size: disk at the default price (the
/// datastore is chosen when it is provisioned).
pub fn estimate(list: &PriceList, spec: &RequestSpec, priced_at: &str) -> CostEstimate {
    let cost = list.price(f64::from(spec.cpu), f64::from(spec.memory_gb), f64::from(spec.disk_gb), None);
    let note = if list.tiers.is_empty() {
        String::new()
    } else {
        "disk at the default price: the datastore (and its tier) is chosen at provisioning".to_string()
    };
    CostEstimate { currency: list.currency.clone(), cost, priced_at: priced_at.to_string(), note }
}

/// One VM's monthly cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct VmCost {
    pub vm: String,
    /// Managed object id (empty when priced from a request without inventory).
    pub vm_id: String,
    pub department: String,
    pub owner: String,
    #[serde(default)]
    pub request: Option<String>,
    pub cpu: u32,
    pub memory_gb: f64,
    pub disk_gb: f64,
    pub datastore: String,
    pub power: String,
    pub cost: Cost,
    /// `inventory` (as vCenter reports it) or `request` (its approved size).
    pub basis: String,
}

/// A department's spend, next to its pending requests and its quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DepartmentSpend {
    pub department: String,
    pub vms: u32,
    /// Cents a month.
    pub monthly: i64,
    /// Requests waiting or approved, priced as estimates.
    pub pending: u32,
    pub pending_monthly: i64,
    /// The quota's worth a month (None: the quota leaves vCPU, memory or disk unlimited, or there is none).
    #[serde(default)]
    pub quota_monthly: Option<i64>,
    #[serde(default)]
    pub quota: Option<Quota>,
}

/// An owner's spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct OwnerSpend {
    pub owner: String,
    pub vms: u32,
    pub monthly: i64,
}

/// The showback report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Showback {
    pub currency: String,
    pub generated_at: String,
    /// When the inventory it priced was read (None: no inventory, requests only).
    #[serde(default)]
    pub inventory_at: Option<String>,
    pub price_list: StoredPriceList,
    pub vms: Vec<VmCost>,
    pub departments: Vec<DepartmentSpend>,
    pub owners: Vec<OwnerSpend>,
    /// Cents a month, all VMs.
    pub monthly: i64,
}

const GIB: f64 = (1u64 << 30) as f64;

/// Prices the estate: the inventory's VMs (not templates), the provisioned
/// requests it does not show, and the pending requests apart.
pub fn report(
    price_list: &StoredPriceList,
    inventory: Option<(&Inventory, &str)>,
    requests: &[VmRequest],
    quotas: &[(String, Quota)],
    generated_at: &str,
) -> Showback {
    let list = &price_list.list;
    let by_id: BTreeMap<&str, &VmRequest> = requests.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut vms = Vec::new();
    let mut seen_requests = HashSet::new();
    if let Some((inv, _)) = inventory {
        // The inventory names a VM's datastores by id; tiers and people use names.
        let names: HashMap<&str, &str> = inv.datastores.iter().map(|d| (d.id.as_str(), d.name.as_str())).collect();
        for v in inv.vms.iter().filter(|v| !v.template) {
            let req = v
                .tag("request")
                .and_then(|id| by_id.get(id).copied())
                .or_else(|| requests.iter().find(|r| r.state.holds_vm() && r.asset.as_ref().is_some_and(|a| a.vm_id == v.id)));
            if let Some(r) = req {
                seen_requests.insert(r.id.as_str());
            }
            vms.push(vm_from_inventory(list, v, req, &names));
        }
    }
    for r in requests.iter().filter(|r| r.state.holds_vm() && !seen_requests.contains(r.id.as_str())) {
        let a = r.asset.clone().unwrap_or_default();
        let ds = (!a.datastore.is_empty()).then_some(a.datastore.as_str());
        let cost = list.price(f64::from(r.spec.cpu), f64::from(r.spec.memory_gb), f64::from(r.spec.disk_gb), ds);
        vms.push(VmCost {
            vm: if a.name.is_empty() { r.spec.name.clone() } else { a.name.clone() },
            vm_id: a.vm_id.clone(),
            department: r.spec.department.clone(),
            owner: r.requester.clone(),
            request: Some(r.id.clone()),
            cpu: r.spec.cpu,
            memory_gb: f64::from(r.spec.memory_gb),
            disk_gb: f64::from(r.spec.disk_gb),
            datastore: a.datastore,
            power: if r.state == crate::vms::State::Expired { "poweredOff".into() } else { "unknown".into() },
            cost,
            basis: "request".into(),
        });
    }
    vms.sort_by(|a, b| b.cost.monthly.cmp(&a.cost.monthly).then_with(|| a.vm.cmp(&b.vm)));

    let mut depts: BTreeMap<String, DepartmentSpend> = BTreeMap::new();
    for v in &vms {
        let d = spend_of(&mut depts, &v.department);
        d.vms += 1;
        d.monthly += v.cost.monthly;
    }
    for r in requests.iter().filter(|r| r.state.is_pending()) {
        let d = spend_of(&mut depts, &r.spec.department);
        d.pending += 1;
        d.pending_monthly += estimate(list, &r.spec, generated_at).cost.monthly;
    }
    for (name, q) in quotas {
        let d = spend_of(&mut depts, name);
        d.quota = Some(*q);
        d.quota_monthly = (q.vcpu > 0 && q.memory_gb > 0 && q.disk_gb > 0)
            .then(|| list.price(f64::from(q.vcpu), f64::from(q.memory_gb), f64::from(q.disk_gb), None).monthly);
    }

    let mut owners: BTreeMap<&str, OwnerSpend> = BTreeMap::new();
    for v in &vms {
        let o = owners.entry(v.owner.as_str()).or_insert_with(|| OwnerSpend { owner: v.owner.clone(), vms: 0, monthly: 0 });
        o.vms += 1;
        o.monthly += v.cost.monthly;
    }
    let mut owners: Vec<OwnerSpend> = owners.into_values().collect();
    owners.sort_by(|a, b| b.monthly.cmp(&a.monthly).then_with(|| a.owner.cmp(&b.owner)));
    let monthly = vms.iter().map(|v| v.cost.monthly).sum();
    Showback {
        currency: list.currency.clone(),
        generated_at: generated_at.to_string(),
        inventory_at: inventory.map(|(_, at)| at.to_string()),
        price_list: price_list.clone(),
        vms,
        departments: depts.into_values().collect(),
        owners,
        monthly,
    }
}

fn spend_of<'a>(depts: &'a mut BTreeMap<String, DepartmentSpend>, d: &str) -> &'a mut DepartmentSpend {
    depts.entry(d.to_string()).or_insert_with(|| DepartmentSpend {
        department: d.to_string(),
        vms: 0,
        monthly: 0,
        pending: 0,
        pending_monthly: 0,
        quota_monthly: None,
        quota: None,
    })
}

fn vm_from_inventory(list: &PriceList, v: &VmRow, req: Option<&VmRequest>, names: &HashMap<&str, &str>) -> VmCost {
    let memory_gb = f64::from(v.memory_mb) / 1024.0;
    // vCenter's committed storage; a VM it reports none for (a simulator, a
    // VM not yet written to) is priced at the size its request asked.
    let committed = (v.committed_bytes as f64 / GIB * 10.0).round() / 10.0;
    let disk_gb = match req {
        Some(r) if committed == 0.0 => f64::from(r.spec.disk_gb),
        _ => committed,
    };
    let datastore = v.datastores.first().map(|d| names.get(d.as_str()).map_or_else(|| d.clone(), |n| (*n).to_string())).unwrap_or_default();
    let cost = list.price(f64::from(v.cpu), memory_gb, disk_gb, (!datastore.is_empty()).then_some(datastore.as_str()));
    let department = v
        .tag("department")
        .map(str::to_string)
        .or_else(|| req.map(|r| r.spec.department.clone()))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| UNASSIGNED.to_string());
    let owner = v
        .tag("owner")
        .map(str::to_string)
        .or_else(|| req.map(|r| r.requester.clone()))
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| UNASSIGNED.to_string());
    VmCost {
        vm: v.name.clone(),
        vm_id: v.id.clone(),
        department,
        owner,
        request: req.map(|r| r.id.clone()).or_else(|| v.tag("request").map(str::to_string)),
        cpu: v.cpu,
        memory_gb,
        disk_gb,
        datastore,
        power: v.power.clone(),
        cost,
        basis: "inventory".into(),
    }
}

impl Showback {
    /// The report of one department (its VMs, its owners, its row).
    pub fn only_department(mut self, department: &str) -> Showback {
        self.vms.retain(|v| v.department == department);
        self.departments.retain(|d| d.department == department);
        let mut owners: BTreeMap<String, OwnerSpend> = BTreeMap::new();
        for v in &self.vms {
            let o = owners.entry(v.owner.clone()).or_insert_with(|| OwnerSpend { owner: v.owner.clone(), vms: 0, monthly: 0 });
            o.vms += 1;
            o.monthly += v.cost.monthly;
        }
        self.owners = owners.into_values().collect();
        self.owners.sort_by(|a, b| b.monthly.cmp(&a.monthly).then_with(|| a.owner.cmp(&b.owner)));
        self.monthly = self.vms.iter().map(|v| v.cost.monthly).sum();
        self
    }
}

/// A CSV field: quoted when it holds a separator, a quote or a line break;
/// a text starting like a spreadsheet formula (`=`, `+`, `-`, `@`) is
/// prefixed with `'` so opening the file never runs it.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Cents as `12.34` (negative amounts never occur: prices are not negative).
pub fn money(c: i64) -> String {
    format!("{}{}.{:02}", if c < 0 { "-" } else { "" }, c.abs() / 100, c.abs() % 100)
}

/// One line per VM (RFC 4180, header first), the figures a month in the list's currency.
pub fn to_csv(s: &Showback) -> String {
    let mut out = String::from(
        "vm,vm_id,department,owner,request,vcpu,memory_gb,disk_gb,datastore,tier,power,basis,vcpu_cost,memory_cost,disk_cost,monthly,currency\r\n",
    );
    for v in &s.vms {
        let fields = [
            csv_field(&v.vm),
            csv_field(&v.vm_id),
            csv_field(&v.department),
            csv_field(&v.owner),
            csv_field(v.request.as_deref().unwrap_or("")),
            v.cpu.to_string(),
            format!("{:.1}", v.memory_gb),
            format!("{:.1}", v.disk_gb),
            csv_field(&v.datastore),
            csv_field(v.cost.tier.as_deref().unwrap_or("")),
            csv_field(&v.power),
            v.basis.clone(),
            money(v.cost.vcpu),
            money(v.cost.memory),
            money(v.cost.disk),
            money(v.cost.monthly),
            csv_field(&s.currency),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vms::model::{Asset, SnapshotSchedule, State};

    fn list() -> PriceList {
        PriceList {
            currency: "cny".into(),
            vcpu: 50.0,
            memory_gb: 20.0,
            disk_gb: 0.5,
            tiers: vec![DiskTier { name: "ssd".into(), disk_gb: 1.5, datastores: vec!["ssd-*".into(), "LocalDS_9".into()] }],
        }
    }

    fn stored(l: PriceList) -> StoredPriceList {
        StoredPriceList { list: validate(&l).unwrap(), source: "local".into(), updated_at: None, updated_by: None, revision: 0 }
    }

    fn spec(dept: &str, cpu: u32, mem: u32, disk: u32) -> RequestSpec {
        RequestSpec {
            name: format!("{dept}-vm"),
            template: "t".into(),
            cpu,
            memory_gb: mem,
            disk_gb: disk,
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

    fn req(id: &str, spec: RequestSpec, state: State, asset: Option<Asset>) -> VmRequest {
        VmRequest { asset, ..VmRequest::for_test(id, spec, "alice", state) }
    }

    fn vm(id: &str, name: &str, annotation: &str, ds: &str) -> VmRow {
        VmRow {
            id: id.into(),
            name: name.into(),
            power: "poweredOn".into(),
            template: false,
            tools: String::new(),
            cpu: 2,
            memory_mb: 4096,
            committed_bytes: 40 << 30,
            host: "h".into(),
            datastores: vec![format!("datastore-{ds}")],
            folder: String::new(),
            pool: String::new(),
            annotation: annotation.into(),
            snapshots: vec![],
            boot_time: None,
        }
    }

    fn ds(name: &str) -> crate::vms::inventory::DatastoreRow {
        crate::vms::inventory::DatastoreRow {
            id: format!("datastore-{name}"),
            name: name.into(),
            capacity_bytes: 1 << 40,
            free_bytes: 1 << 39,
            accessible: true,
        }
    }

    #[test]
    fn refuses_negative_nan_absurd_prices_and_bad_tiers() {
        let mut l = list();
        l.vcpu = -1.0;
        assert!(validate(&l).unwrap_err().to_string().contains("vCPU price is negative"));
        l.vcpu = f64::NAN;
        assert!(validate(&l).unwrap_err().to_string().contains("not a number"));
        l.vcpu = f64::INFINITY;
        assert!(validate(&l).unwrap_err().to_string().contains("not a number"));
        l.vcpu = 5_000_000.0;
        assert!(validate(&l).unwrap_err().to_string().contains("decimal point"));
        let mut l = list();
        l.tiers[0].disk_gb = -0.01;
        assert!(validate(&l).unwrap_err().to_string().contains("tier \"ssd\" disk price"));
        let mut l = list();
        l.tiers.push(l.tiers[0].clone());
        assert!(validate(&l).unwrap_err().to_string().contains("named twice"));
        let mut l = list();
        l.tiers[0].datastores = vec!["  ".into()];
        assert!(validate(&l).unwrap_err().to_string().contains("names no datastore"));
        let mut l = list();
        l.tiers[0].datastores = vec!["a*b".into()];
        assert!(validate(&l).unwrap_err().to_string().contains("'*' only at the end"));
        let mut l = list();
        l.currency = "yuan".into();
        assert!(validate(&l).unwrap_err().to_string().contains("3-letter"));
        assert_eq!(validate(&list()).unwrap().currency, "CNY", "the code is normalised");
    }

    #[test]
    fn prices_by_tier_and_rounds_to_the_cent() {
        let l = validate(&list()).unwrap();
        let c = l.price(2.0, 4.0, 40.0, Some("ssd-01"));
        assert_eq!((c.vcpu, c.memory, c.disk, c.monthly), (10000, 8000, 6000, 24000));
        assert_eq!(c.tier.as_deref(), Some("ssd"));
        let c = l.price(2.0, 4.0, 40.0, Some("LocalDS_0"));
        assert_eq!((c.disk, c.monthly, c.tier), (2000, 20000, None), "no tier: the default disk price");
        assert_eq!(l.price(1.0, 0.333, 0.0, None).memory, 666);
    }

    #[test]
    fn estimate_uses_the_default_disk_price_and_says_so() {
        let e = estimate(&validate(&list()).unwrap(), &spec("qa", 4, 8, 100), "t");
        assert_eq!(e.cost.monthly, (4 * 50 + 8 * 20 + 50) * 100);
        assert!(e.note.contains("chosen at provisioning"), "{e:?}");
        assert_eq!(e.currency, "CNY");
    }

    #[test]
    fn report_prices_inventory_requests_and_pending_by_department_and_owner() {
        let inv = Inventory {
            vms: vec![
                vm("vm-1", "qa-web", "Managed by Opsdeck\nrequest: r1\nowner: bob\ndepartment: qa", "ssd-01"),
                vm("vm-2", "stray", "", "LocalDS_0"),
                VmRow { template: true, ..vm("vm-3", "tmpl", "", "LocalDS_0") },
            ],
            datastores: ["ssd-01", "LocalDS_0"].iter().map(|n| ds(n)).collect(),
            ..Default::default()
        };
        let requests = vec![
            req("r1", spec("qa", 2, 4, 40), State::Provisioned, None),
            // provisioned, but not in this inventory: priced from the request
            req(
                "r2",
                spec("dev", 1, 2, 10),
                State::Provisioned,
                Some(Asset { vm_id: "vm-9".into(), name: "dev-1".into(), datastore: "ssd-02".into(), ..Default::default() }),
            ),
            req("r3", spec("qa", 4, 8, 100), State::PendingManager, None),
            req("r4", spec("qa", 4, 8, 100), State::Rejected, None),
        ];
        let quotas = vec![("qa".to_string(), Quota { vms: 10, vcpu: 20, memory_gb: 40, disk_gb: 1000, max_lease_days: 0 })];
        let s = report(&stored(list()), Some((&inv, "t0")), &requests, &quotas, "t1");
        assert_eq!(s.vms.len(), 3, "two VMs of the inventory (no template) and r2: {:?}", s.vms);
        let web = s.vms.iter().find(|v| v.vm == "qa-web").unwrap();
        assert_eq!((web.department.as_str(), web.owner.as_str(), web.cost.monthly), ("qa", "bob", 24000));
        let stray = s.vms.iter().find(|v| v.vm == "stray").unwrap();
        assert_eq!((stray.department.as_str(), stray.cost.monthly), (UNASSIGNED, 20000));
        let dev = s.vms.iter().find(|v| v.vm == "dev-1").unwrap();
        assert_eq!((dev.basis.as_str(), dev.cost.monthly, dev.cost.tier.as_deref()), ("request", 10500, Some("ssd")));
        let qa = s.departments.iter().find(|d| d.department == "qa").unwrap();
        assert_eq!((qa.vms, qa.monthly, qa.pending, qa.pending_monthly), (1, 24000, 1, 41000));
        assert_eq!(qa.quota_monthly, Some((20 * 50 + 40 * 20 + 500) * 100));
        assert_eq!(s.monthly, 24000 + 20000 + 10500);
        assert_eq!(s.owners[0].owner, "bob");
        let only = s.clone().only_department("qa");
        assert_eq!((only.vms.len(), only.departments.len(), only.monthly), (1, 1, 24000));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let inv = Inventory {
            vms: vec![vm("vm-1", "=HYPERLINK(\"x\")", "Managed by Opsdeck\nowner: a,b\ndepartment: qa", "LocalDS_0")],
            datastores: vec![ds("LocalDS_0")],
            ..Default::default()
        };
        let csv = to_csv(&report(&stored(list()), Some((&inv, "t0")), &[], &[], "t1"));
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().starts_with("vm,vm_id,department,owner"));
        let row = lines.next().unwrap();
        assert!(row.starts_with("\"'=HYPERLINK(\"\"x\"\")\",vm-1,qa,\"a,b\","), "{row}");
        assert!(row.ends_with(",200.00,CNY"), "{row}");
    }
}
