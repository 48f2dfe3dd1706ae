//! `opsdeck vm utilisation` and `opsdeck vm reclaim`: host and cluster CPU /
//! memory usage and idle VMs of a vCenter, and the reclaim of an idle VM
//! through the lease path (the department's manager approves it with
//! `opsdeck vm decide-extension`). See docs/vm-utilisation.md.

use clap::Args;
use opsdeck_core::vms::store::RequestStore;
use opsdeck_core::vms::utilisation::{self, IdleRules};
use opsdeck_core::{Backend, Error};

use crate::exit;
use crate::output::{out, print_json, Format};

#[derive(Debug, Args)]
pub struct UtilisationArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The window looked back over, in hours (default: the saved idle rules, 168).
    #[arg(long)]
    window_hours: Option<u32>,
    /// A VM is idle under this CPU usage, % of its vCPUs (default 5).
    #[arg(long, allow_hyphen_values = true)]
    cpu_pct: Option<f64>,
    /// ... and under this network usage, KB/s (default 10).
    #[arg(long, allow_hyphen_values = true)]
    net_kbps: Option<f64>,
    /// The share of the window's samples a verdict needs, % (default 80); fewer is "not enough data".
    #[arg(long)]
    min_coverage_pct: Option<u32>,
    /// Exit 1 when a VM is idle (for a pipeline or a timer).
    #[arg(long)]
    fail_on_idle: bool,
}

pub async fn utilisation(b: &Backend, vcenter: &str, a: &UtilisationArgs) -> Result<u8, Error> {
    let saved = b.vm_settings().await?.idle;
    let rules = IdleRules {
        window_hours: a.window_hours.unwrap_or(saved.window_hours),
        cpu_pct: a.cpu_pct.unwrap_or(saved.cpu_pct),
        net_kbps: a.net_kbps.unwrap_or(saved.net_kbps),
        min_coverage_pct: a.min_coverage_pct.unwrap_or(saved.min_coverage_pct),
    };
    let report = b.vm_utilisation(vcenter, Some(rules)).await?;
    let code = match a.format {
        Format::Json => print_json(&report),
        Format::Table => {
            out!("{}", utilisation::to_table(&report));
            exit::OK
        }
    };
    if code != exit::OK {
        return Ok(code);
    }
    Ok(if a.fail_on_idle && report.idle().next().is_some() { exit::FAILED } else { exit::OK })
}

#[derive(Debug, Args)]
pub struct ReclaimArgs {
    /// The request whose VM is to be reclaimed (the `request:` line of the VM's annotation).
    id: String,
    /// Why the VM can go, e.g. the idle figures from `opsdeck vm utilisation`.
    #[arg(long)]
    reason: String,
    /// The new last day of the lease, YYYY-MM-DD (default: a week from today); before the current end.
    #[arg(long)]
    lease_end: Option<String>,
}

pub async fn reclaim(b: &Backend, store: &dyn RequestStore, a: &ReclaimArgs) -> Result<u8, Error> {
    let end = match &a.lease_end {
        Some(d) => d.clone(),
        None => (time::OffsetDateTime::now_utc().date() + time::Duration::days(7)).to_string(),
    };
    let r = b.vm_reclaim(store, &a.id, &end, &a.reason).await?;
    let n = r.extensions.iter().map(|e| e.n).max().unwrap_or(0);
    out!(
        "Reclaim of {} (request {}) filed as lease change {n}: the lease would end {end} instead of {}.\n\
         It waits for the manager of {}: opsdeck vm decide-extension {} {n} [--reject --comment …]\n",
        r.spec.name,
        r.id,
        r.spec.lease_end,
        r.spec.department,
        r.id
    );
    Ok(exit::OK)
}
