//! IPv4 settings per network, kept in the request store: a static pool
//! (CIDR, gateway, DNS, excluded ranges) or DHCP. Provisioning takes one
//! free address of the request's network in the same store transaction that
//! moves the request to `provisioning` ([`super::store::RequestStore::put_run_claiming`]),
//! skipping addresses vCenter reports for running guests, and gives it back
//! when the attempt fails, the request is rejected or its VM is destroyed.
//!
//! A network with no settings here gets no guest customization (the VM keeps
//! the template's identity, as before).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How guests on a network get their IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum IpMode {
    /// A static address from the pool, written into the guest by customization.
    #[default]
    Static,
    /// The guest asks the network's DHCP server.
    Dhcp,
}

/// The IPv4 settings of one vSphere network (port group), by its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct IpPool {
    pub network: String,
    #[serde(default)]
    pub mode: IpMode,
    /// `10.20.0.0/24` (static only).
    #[serde(default)]
    pub cidr: String,
    /// Default gateway (static only), inside the CIDR.
    #[serde(default)]
    pub gateway: String,
    /// DNS servers given to the guest.
    #[serde(default)]
    pub dns: Vec<String>,
    /// DNS domain of the guests (LinuxPrep's domain; search suffix).
    #[serde(default)]
    pub domain: String,
    /// Addresses never handed out: `10.20.0.1` or `10.20.0.1-10.20.0.20`.
    #[serde(default)]
    pub excluded: Vec<String>,
}

/// An address held for a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct IpLease {
    pub network: String,
    pub address: String,
    pub request: String,
}

/// A pool with how much of it is used (for `ip-pool list` and the settings panel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct IpPoolUsage {
    pub pool: IpPool,
    /// Addresses that can be handed out at all (hosts of the CIDR less gateway and exclusions).
    pub size: u32,
    pub leases: Vec<IpLease>,
}

/// What the guest of one request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressing {
    pub network: String,
    pub pool: IpPool,
    /// The static address (None = DHCP).
    pub address: Option<Ipv4Addr>,
    pub prefix: u8,
}

impl Addressing {
    pub fn netmask(&self) -> Ipv4Addr {
        netmask(self.prefix)
    }
}

pub fn netmask(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) })
}

fn ip(what: &str, s: &str) -> Result<Ipv4Addr> {
    s.trim().parse::<Ipv4Addr>().map_err(|_| Error::invalid(format!("{what} \"{}\": not an IPv4 address", s.trim())))
}

/// `a.b.c.d/n` → (network address, prefix).
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8)> {
    let bad = |why: &str| Error::invalid(format!("CIDR \"{s}\": {why} (e.g. 10.20.0.0/24)"));
    let (addr, len) = s.trim().split_once('/').ok_or_else(|| bad("needs a prefix length"))?;
    let addr = addr.parse::<Ipv4Addr>().map_err(|_| bad("not an IPv4 network"))?;
    let len: u8 = len.parse().map_err(|_| bad("the prefix length is not a number"))?;
    if !(8..=30).contains(&len) {
        return Err(bad("the prefix length must be between 8 and 30"));
    }
    let base = u32::from(addr) & u32::from(netmask(len));
    if base != u32::from(addr) {
        return Err(bad(&format!("host bits are set: the network is {}/{len}", Ipv4Addr::from(base))));
    }
    Ok((addr, len))
}

/// `a` or `a-b` → inclusive range.
fn parse_range(s: &str) -> Result<(u32, u32)> {
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (ip("excluded range start", a)?, ip("excluded range end", b)?),
        None => {
            let a = ip("excluded address", s)?;
            (a, a)
        }
    };
    if u32::from(a) > u32::from(b) {
        return Err(Error::invalid(format!("excluded range \"{s}\": the start is after the end")));
    }
    Ok((u32::from(a), u32::from(b)))
}

/// The network name as a store key segment (`/` and `%` escaped).
pub fn key_segment(network: &str) -> String {
    network.replace('%', "%25").replace('/', "%2F")
}

/// Checks and normalises a pool as entered (CLI, settings panel).
pub fn validate(mut p: IpPool) -> Result<IpPool> {
    p.network = p.network.trim().to_string();
    if p.network.is_empty() || p.network.len() > 200 {
        return Err(Error::invalid("network: the vSphere network (port group) name, 1 to 200 characters"));
    }
    p.dns = p.dns.iter().map(|d| ip("DNS server", d).map(|a| a.to_string())).collect::<Result<_>>()?;
    p.domain = p.domain.trim().trim_end_matches('.').to_lowercase();
    if !p.domain.is_empty() && !p.domain.split('.').all(is_dns_label) {
        return Err(Error::invalid(format!("domain \"{}\": DNS labels separated by dots", p.domain)));
    }
    match p.mode {
        IpMode::Dhcp => {
            if !p.cidr.trim().is_empty() || !p.gateway.trim().is_empty() || !p.excluded.is_empty() {
                return Err(Error::invalid("a DHCP network takes no CIDR, gateway or excluded ranges (the DHCP server hands them out)"));
            }
            p.cidr.clear();
            p.gateway.clear();
        }
        IpMode::Static => {
            let (net, prefix) = parse_cidr(&p.cidr)?;
            p.cidr = format!("{net}/{prefix}");
            let gw = ip("gateway", &p.gateway)?;
            if !contains(net, prefix, gw) {
                return Err(Error::invalid(format!("gateway {gw} is outside {}", p.cidr)));
            }
            p.gateway = gw.to_string();
            for r in &p.excluded {
                let (a, b) = parse_range(r.trim())?;
                if !contains(net, prefix, Ipv4Addr::from(a)) || !contains(net, prefix, Ipv4Addr::from(b)) {
                    return Err(Error::invalid(format!("excluded range \"{r}\" is outside {}", p.cidr)));
                }
            }
            p.excluded = p.excluded.iter().map(|r| r.trim().to_string()).collect();
            if size(&p)? == 0 {
                return Err(Error::invalid(format!(
                    "{}: no address is left to hand out once the gateway and exclusions are taken",
                    p.cidr
                )));
            }
        }
    }
    Ok(p)
}

fn contains(net: Ipv4Addr, prefix: u8, a: Ipv4Addr) -> bool {
    u32::from(a) & u32::from(netmask(prefix)) == u32::from(net)
}

/// A DNS label: 1-63 of `a-z0-9-`, not starting or ending with `-`.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Every address the pool may hand out, in order: the CIDR's hosts less
/// the network and broadcast addresses, the gateway and the exclusions.
pub fn candidates(p: &IpPool) -> Result<impl Iterator<Item = Ipv4Addr>> {
    let (net, prefix) = parse_cidr(&p.cidr)?;
    let gw = u32::from(ip("gateway", &p.gateway)?);
    let excluded = p.excluded.iter().map(|r| parse_range(r)).collect::<Result<Vec<_>>>()?;
    let first = u32::from(net) + 1;
    let last = u32::from(net) | !u32::from(netmask(prefix));
    Ok((first..last).filter(move |a| *a != gw && !excluded.iter().any(|(x, y)| (*x..=*y).contains(a))).map(Ipv4Addr::from))
}

pub fn size(p: &IpPool) -> Result<u32> {
    Ok(candidates(p)?.count() as u32)
}

/// The first address of `pool` neither leased (`leased`) nor reported by
/// vCenter for a running guest (`in_use`).
pub fn first_free(pool: &IpPool, leased: &BTreeSet<Ipv4Addr>, in_use: &BTreeSet<Ipv4Addr>) -> Result<Option<Ipv4Addr>> {
    Ok(candidates(pool)?.find(|a| !leased.contains(a) && !in_use.contains(a)))
}

/// The message of an exhausted pool: what is used, what to do.
pub fn exhausted(pool: &IpPool, leased: usize, in_use_elsewhere: usize) -> Error {
    Error::Conflict(format!(
        "IP pool of network \"{}\" ({}) is exhausted: {leased} address(es) held by requests, {in_use_elsewhere} more reported by vCenter for running guests; \
         free addresses by destroying VMs of this network, or widen the pool (`opsdeck vm ip-pool add --network \"{}\" ...`); nothing was cloned",
        pool.network, pool.cidr, pool.network
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(cidr: &str, gw: &str, excluded: &[&str]) -> IpPool {
        IpPool {
            network: "VM Network".into(),
            mode: IpMode::Static,
            cidr: cidr.into(),
            gateway: gw.into(),
            dns: vec!["10.0.0.53".into()],
            domain: "lab.example".into(),
            excluded: excluded.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn candidates_skip_network_broadcast_gateway_and_exclusions() {
        let p = validate(pool("10.0.0.0/29", "10.0.0.1", &["10.0.0.3-10.0.0.4"])).unwrap();
        let all: Vec<String> = candidates(&p).unwrap().map(|a| a.to_string()).collect();
        assert_eq!(all, ["10.0.0.2", "10.0.0.5", "10.0.0.6"]);
        assert_eq!(size(&p).unwrap(), 3);
        let leased: BTreeSet<Ipv4Addr> = ["10.0.0.2".parse().unwrap()].into();
        let in_use: BTreeSet<Ipv4Addr> = ["10.0.0.5".parse().unwrap()].into();
        assert_eq!(first_free(&p, &leased, &in_use).unwrap(), Some("10.0.0.6".parse().unwrap()));
        let in_use: BTreeSet<Ipv4Addr> = ["10.0.0.5".parse().unwrap(), "10.0.0.6".parse().unwrap()].into();
        assert_eq!(first_free(&p, &leased, &in_use).unwrap(), None);
    }

    #[test]
    fn bad_pools_are_refused_with_the_reason() {
        let e = |p: IpPool| validate(p).unwrap_err().to_string();
        assert!(e(pool("10.0.0.1/24", "10.0.0.1", &[])).contains("host bits are set: the network is 10.0.0.0/24"));
        assert!(e(pool("10.0.0.0", "10.0.0.1", &[])).contains("needs a prefix length"));
        assert!(e(pool("10.0.0.0/31", "10.0.0.1", &[])).contains("between 8 and 30"));
        assert!(e(pool("10.0.0.0/24", "10.0.1.1", &[])).contains("gateway 10.0.1.1 is outside 10.0.0.0/24"));
        assert!(e(pool("10.0.0.0/24", "10.0.0.1", &["10.0.0.9-10.0.0.3"])).contains("start is after the end"));
        assert!(e(pool("10.0.0.0/24", "10.0.0.1", &["10.0.1.3"])).contains("outside"));
        assert!(e(pool("10.0.0.0/30", "10.0.0.1", &["10.0.0.2"])).contains("no address is left"));
        let mut p = pool("10.0.0.0/24", "10.0.0.1", &[]);
        p.dns = vec!["dns.example".into()];
        assert!(e(p).contains("DNS server \"dns.example\": not an IPv4 address"));
        let mut p = pool("10.0.0.0/24", "10.0.0.1", &[]);
        p.mode = IpMode::Dhcp;
        assert!(e(p).contains("a DHCP network takes no CIDR"));
    }

    #[test]
    fn netmasks_and_keys() {
        assert_eq!(netmask(24).to_string(), "255.255.255.0");
        assert_eq!(netmask(20).to_string(), "255.255.240.0");
        assert_eq!(key_segment("DC0/DVS 1%"), "DC0%2FDVS 1%25");
        assert!(is_dns_label("web-01") && !is_dns_label("-web") && !is_dns_label("Web") && !is_dns_label(""));
    }
}
