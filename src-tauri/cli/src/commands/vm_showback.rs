//! `opsdeck vm showback` and `opsdeck vm price-list show|set`: what the VMs
//! cost a month by VM, department and owner, from the price list kept with
//! the request store (the team's etcd, or this machine). See docs/showback.md.

use clap::{Subcommand, ValueEnum};
use opsdeck_core::showback::{self, money, DiskTier, PriceList, Showback, StoredPriceList};
use opsdeck_core::vms::store::RequestStore;
use opsdeck_core::{Backend, Error};

use crate::exit;
use crate::output::{out, outln, print_json, print_table, Format};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowbackFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum PriceListCommand {
    /// The price list in force and where it is kept.
    Show {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Change prices (what is not given stays). Refused: a negative, non-numeric or absurd price.
    Set {
        /// ISO 4217 code, e.g. CNY.
        #[arg(long)]
        currency: Option<String>,
        /// Per vCPU a month.
        #[arg(long, allow_hyphen_values = true)]
        vcpu: Option<f64>,
        /// Per GB of memory a month.
        #[arg(long, allow_hyphen_values = true)]
        memory_gb: Option<f64>,
        /// Per GB of disk a month (datastores of no tier).
        #[arg(long, allow_hyphen_values = true)]
        disk_gb: Option<f64>,
        /// A datastore tier NAME=PRICE:DATASTORE[,DATASTORE…] (a name or a prefix ending in '*'); repeat. Replaces the tiers.
        #[arg(long = "tier", allow_hyphen_values = true)]
        tiers: Vec<String>,
        /// Remove every tier.
        #[arg(long, conflicts_with = "tiers")]
        no_tiers: bool,
        /// The whole price list from a JSON file (as `show --format json` prints its `list`).
        #[arg(long, conflicts_with_all = ["currency", "vcpu", "memory_gb", "disk_gb", "tiers", "no_tiers"])]
        file: Option<std::path::PathBuf>,
    },
}

/// `NAME=PRICE:DS[,DS…]`.
fn parse_tier(s: &str) -> Result<DiskTier, Error> {
    let bad = || Error::invalid(format!("--tier \"{s}\": write NAME=PRICE:DATASTORE[,DATASTORE…], e.g. ssd=1.5:ssd-*,LocalDS_9"));
    let (name, rest) = s.split_once('=').ok_or_else(bad)?;
    let (price, stores) = rest.split_once(':').ok_or_else(bad)?;
    let disk_gb: f64 = price.trim().parse().map_err(|_| Error::invalid(format!("--tier \"{s}\": price \"{price}\" is not a number")))?;
    Ok(DiskTier { name: name.trim().into(), disk_gb, datastores: stores.split(',').map(|d| d.trim().to_string()).collect() })
}

fn print_price_list(p: &StoredPriceList) {
    let l = &p.list;
    outln!(
        "price list ({}{}{})",
        if p.source == "team" { "team store" } else { "this machine" },
        p.updated_by.as_ref().map(|u| format!(", set by {u}")).unwrap_or_default(),
        p.updated_at.as_ref().map(|t| format!(" at {t}")).unwrap_or_else(|| ", never set: every price is 0".into()),
    );
    let mut rows = vec![
        vec!["vCPU".into(), format!("{} {}", l.vcpu, l.currency), String::new()],
        vec!["memory (GB)".into(), format!("{} {}", l.memory_gb, l.currency), String::new()],
        vec!["disk (GB)".into(), format!("{} {}", l.disk_gb, l.currency), "default tier".into()],
    ];
    for t in &l.tiers {
        rows.push(vec![format!("disk (GB), tier {}", t.name), format!("{} {}", t.disk_gb, l.currency), t.datastores.join(", ")]);
    }
    print_table(&["RESOURCE", "A MONTH", "DATASTORES"], &rows);
}

pub async fn price_list(b: &Backend, s: &dyn RequestStore, cmd: &PriceListCommand) -> Result<u8, Error> {
    match cmd {
        PriceListCommand::Show { format } => {
            let p = b.price_list(s).await?;
            Ok(match format {
                Format::Json => print_json(&p),
                Format::Table => {
                    print_price_list(&p);
                    exit::OK
                }
            })
        }
        PriceListCommand::Set { currency, vcpu, memory_gb, disk_gb, tiers, no_tiers, file } => {
            let current = b.price_list(s).await?;
            let list = match file {
                Some(path) => {
                    let text = std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("reading {}: {e}", path.display())))?;
                    serde_json::from_str::<PriceList>(&text)
                        .map_err(|e| Error::invalid(format!("{}: not a price list ({e})", path.display())))?
                }
                None => PriceList {
                    currency: currency.clone().unwrap_or_else(|| current.list.currency.clone()),
                    vcpu: vcpu.unwrap_or(current.list.vcpu),
                    memory_gb: memory_gb.unwrap_or(current.list.memory_gb),
                    disk_gb: disk_gb.unwrap_or(current.list.disk_gb),
                    tiers: if *no_tiers {
                        Vec::new()
                    } else if tiers.is_empty() {
                        current.list.tiers.clone()
                    } else {
                        tiers.iter().map(|t| parse_tier(t)).collect::<Result<_, _>>()?
                    },
                },
            };
            // Guarded by what was read: a change made meanwhile is a conflict, not overwritten.
            let saved = b.set_price_list(s, &list, Some(current.revision)).await?;
            print_price_list(&saved);
            Ok(exit::OK)
        }
    }
}

fn table(r: &Showback) {
    let c = &r.currency;
    outln!("VMs ({}), a month in {c}:", r.vms.len());
    print_table(
        &["VM", "DEPT", "OWNER", "SIZE", "DATASTORE", "TIER", "MONTHLY"],
        &r.vms
            .iter()
            .map(|v| {
                vec![
                    v.vm.clone(),
                    v.department.clone(),
                    v.owner.clone(),
                    format!("{}c/{:.0}G/{:.0}G", v.cpu, v.memory_gb, v.disk_gb),
                    v.datastore.clone(),
                    v.cost.tier.clone().unwrap_or_else(|| "-".into()),
                    money(v.cost.monthly),
                ]
            })
            .collect::<Vec<_>>(),
    );
    outln!();
    outln!("Departments:");
    print_table(
        &["DEPT", "VMS", "MONTHLY", "PENDING", "PENDING MONTHLY", "QUOTA WORTH"],
        &r.departments
            .iter()
            .map(|d| {
                vec![
                    d.department.clone(),
                    d.vms.to_string(),
                    money(d.monthly),
                    d.pending.to_string(),
                    money(d.pending_monthly),
                    d.quota_monthly.map_or_else(|| "-".into(), money),
                ]
            })
            .collect::<Vec<_>>(),
    );
    outln!();
    outln!("Owners:");
    print_table(
        &["OWNER", "VMS", "MONTHLY"],
        &r.owners.iter().map(|o| vec![o.owner.clone(), o.vms.to_string(), money(o.monthly)]).collect::<Vec<_>>(),
    );
    outln!();
    outln!(
        "Total: {} {c} a month{}",
        money(r.monthly),
        r.inventory_at.as_ref().map(|t| format!(" (inventory of {t})")).unwrap_or_default()
    );
}

/// `opsdeck vm showback`: `vcenter` None prices the requests alone.
pub async fn showback(
    b: &Backend,
    s: &dyn RequestStore,
    vcenter: Option<&str>,
    cached: bool,
    department: Option<&str>,
    format: ShowbackFormat,
) -> Result<u8, Error> {
    let r = b.vm_showback(s, vcenter, !cached, department).await?;
    if let Some(d) = department {
        if r.departments.is_empty() {
            return Err(Error::NotFound(format!("department \"{d}\" has no VM, request or quota")));
        }
    }
    Ok(match format {
        ShowbackFormat::Json => print_json(&r),
        ShowbackFormat::Csv => {
            out!("{}", showback::to_csv(&r));
            exit::OK
        }
        ShowbackFormat::Table => {
            table(&r);
            exit::OK
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_parse_or_say_how_to_write_them() {
        let t = parse_tier("ssd=1.5:ssd-*, LocalDS_9").unwrap();
        assert_eq!((t.name.as_str(), t.disk_gb, t.datastores.len()), ("ssd", 1.5, 2));
        assert!(parse_tier("ssd:1.5").unwrap_err().to_string().contains("NAME=PRICE:DATASTORE"));
        assert!(parse_tier("ssd=cheap:x").unwrap_err().to_string().contains("not a number"));
    }
}
