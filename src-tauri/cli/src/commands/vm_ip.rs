//! `opsdeck vm ip-pool add|list|remove`: IPv4 settings per vSphere network
//! (a static pool or DHCP) in the request store, which guest customization
//! takes its addresses from.

use clap::Subcommand;
use opsdeck_core::vms::ipam::{IpMode, IpPool, IpPoolUsage};
use opsdeck_core::vms::store::RequestStore;
use opsdeck_core::Backend;
use opsdeck_core::Error;

use crate::exit;
use crate::output::{outln, print_json, print_table, Format};

#[derive(Debug, Subcommand)]
pub enum IpPoolCommand {
    /// Set a network's IPv4 settings: a static pool (--cidr, --gateway) or --dhcp. Replaces what it had.
    Add {
        /// The vSphere network (port group) name, as in the request form.
        #[arg(long)]
        network: String,
        /// The pool's network, e.g. 10.20.0.0/24 (static).
        #[arg(long, required_unless_present = "dhcp", conflicts_with = "dhcp")]
        cidr: Option<String>,
        /// Default gateway, inside the CIDR (static).
        #[arg(long, required_unless_present = "dhcp", conflicts_with = "dhcp")]
        gateway: Option<String>,
        /// DNS server given to guests (repeat).
        #[arg(long)]
        dns: Vec<String>,
        /// DNS domain of the guests.
        #[arg(long, default_value = "")]
        domain: String,
        /// Addresses never handed out: A or A-B (repeat; static).
        #[arg(long = "exclude", conflicts_with = "dhcp")]
        excluded: Vec<String>,
        /// Guests on this network take their address from its DHCP server.
        #[arg(long)]
        dhcp: bool,
    },
    /// Every network's IP settings, size and the addresses held (by which request).
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Remove a network's IP settings (refused while requests hold addresses of it).
    Remove {
        #[arg(long)]
        network: String,
    },
}

pub async fn run(b: &Backend, s: &dyn RequestStore, cmd: &IpPoolCommand) -> Result<u8, Error> {
    match cmd {
        IpPoolCommand::Add { network, cidr, gateway, dns, domain, excluded, dhcp } => {
            let pool = IpPool {
                network: network.clone(),
                mode: if *dhcp { IpMode::Dhcp } else { IpMode::Static },
                cidr: cidr.clone().unwrap_or_default(),
                gateway: gateway.clone().unwrap_or_default(),
                dns: dns.clone(),
                domain: domain.clone(),
                excluded: excluded.clone(),
            };
            let p = b.vm_set_ip_pool(s, pool).await?;
            match p.mode {
                IpMode::Dhcp => outln!("network {}: DHCP", p.network),
                IpMode::Static => outln!(
                    "network {}: static {} via {} ({} addresses to hand out)",
                    p.network,
                    p.cidr,
                    p.gateway,
                    opsdeck_core::vms::ipam::size(&p).unwrap_or(0)
                ),
            }
            Ok(exit::OK)
        }
        IpPoolCommand::List { format } => {
            let all = b.vm_ip_pools(s).await?;
            Ok(match format {
                Format::Json => print_json(&all),
                Format::Table => {
                    print_table(
                        &["NETWORK", "MODE", "CIDR", "GATEWAY", "DNS", "EXCLUDED", "HELD"],
                        &all.iter().map(row).collect::<Vec<_>>(),
                    );
                    for u in &all {
                        for l in &u.leases {
                            outln!("  {} {} held by {}", u.pool.network, l.address, l.request);
                        }
                    }
                    exit::OK
                }
            })
        }
        IpPoolCommand::Remove { network } => {
            b.vm_remove_ip_pool(s, network).await?;
            outln!("network {network}: IP settings removed");
            Ok(exit::OK)
        }
    }
}

fn row(u: &IpPoolUsage) -> Vec<String> {
    let p = &u.pool;
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    vec![
        p.network.clone(),
        match p.mode {
            IpMode::Static => "static".into(),
            IpMode::Dhcp => "dhcp".into(),
        },
        dash(p.cidr.clone()),
        dash(p.gateway.clone()),
        dash(p.dns.join(",")),
        dash(p.excluded.join(",")),
        match p.mode {
            IpMode::Static => format!("{} / {}", u.leases.len(), u.size),
            IpMode::Dhcp => "-".into(),
        },
    ]
}
