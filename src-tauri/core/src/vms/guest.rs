//! Guest customization: the identity and address a clone gets, and the wait
//! for the guest to report them.
//!
//! - Linux templates get a `CustomizationLinuxPrep` (host name, domain) and
//!   Windows templates a `CustomizationSysprep` (computer name, workgroup),
//!   chosen by the template's guest OS id; each network card an IP setting
//!   (the first: the request's static address or DHCP, the others: DHCP).
//! - The request's customization script reaches the guest as cloud-init
//!   user data (Linux: the `guestinfo.userdata` extra configuration that
//!   cloud-init's VMware datasource reads, with `guestinfo.metadata` naming
//!   the instance and host) or as Sysprep's run-once commands (Windows).
//! - After power-on, [`wait_for_identity`] polls `guest.hostName`,
//!   `guest.ipAddress`, `guest.net` and `guest.customizationInfo` until the
//!   guest reports the host name and the address, the customization is
//!   reported failed, or the deadline passes.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use vim_rs::core::pc_retrieve::ObjectRetriever;
use vim_rs::types::enums::{MoTypesEnum, VirtualMachinePowerStateEnum};
use vim_rs::vim_retrievable;

use super::ipam::Addressing;
use super::vsphere::{moref, vim_error, DeviceJson, Vim, TIMEOUT};
use crate::error::{with_timeout, Error, Result};

/// How long provisioning waits for the guest after power-on unless told
/// (`OPSDECK_GUEST_WAIT_SECS`, `opsdeck vm provision --guest-timeout`).
pub const DEFAULT_GUEST_WAIT: Duration = Duration::from_secs(10 * 60);

/// The guest wait of this process: `OPSDECK_GUEST_WAIT_SECS` or [`DEFAULT_GUEST_WAIT`].
pub fn guest_wait_from_env() -> Duration {
    std::env::var("OPSDECK_GUEST_WAIT_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(DEFAULT_GUEST_WAIT, Duration::from_secs)
}

/// The extra configuration keys cloud-init's VMware datasource reads.
pub const USERDATA_KEY: &str = "guestinfo.userdata";
pub const METADATA_KEY: &str = "guestinfo.metadata";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestOs {
    Linux,
    Windows,
}

impl GuestOs {
    pub fn as_str(self) -> &'static str {
        match self {
            GuestOs::Linux => "Linux",
            GuestOs::Windows => "Windows",
        }
    }
}

/// The family of a vSphere guest OS id (`ubuntu64Guest`, `windows2019srv_64Guest`, ...).
pub fn family(guest_id: &str) -> Option<GuestOs> {
    let g = guest_id.to_ascii_lowercase();
    if g.starts_with("win") {
        return Some(GuestOs::Windows);
    }
    const LINUX: [&str; 22] = [
        "linux",
        "ubuntu",
        "debian",
        "rhel",
        "centos",
        "sles",
        "suse",
        "fedora",
        "oracle",
        "photon",
        "rocky",
        "alma",
        "amazon",
        "coreos",
        "asianux",
        "mandr",
        "turbolinux",
        "redhat",
        "nld",
        "opensuse",
        "vmwarephoton",
        "kylin",
    ];
    LINUX.iter().any(|l| g.contains(l)).then_some(GuestOs::Linux)
}

vim_retrievable!(
    struct TemplateGuest: VirtualMachine {
        guest_id = "config.guest_id"?,
    }
);

vim_retrievable!(
    struct GuestNow: VirtualMachine {
        power = "runtime.power_state",
        host_name = "guest.host_name"?,
        ip = "guest.ip_address"?,
        net = "guest.net"?,
        custom = "guest.customization_info"?,
    }
);

vim_retrievable!(
    struct GuestAddresses: VirtualMachine {
        power = "runtime.power_state",
        ip = "guest.ip_address"?,
        net = "guest.net"?,
    }
);

/// A template's guest OS family and network card count.
pub async fn template_os(vim: &Vim, template: &str) -> Result<(String, Option<GuestOs>)> {
    let retriever = ObjectRetriever::new(vim.client.clone()).map_err(|e| vim_error("reading the template's guest OS", e))?;
    let r = with_timeout("vSphere (template guest OS)", TIMEOUT, async {
        retriever
            .retrieve_object::<TemplateGuest>(&moref(MoTypesEnum::VirtualMachine, template))
            .await
            .map_err(|e| vim_error("reading the template's guest OS", e))
    })
    .await?;
    let id = r.and_then(|t| t.guest_id).unwrap_or_default();
    let fam = family(&id);
    Ok((id, fam))
}

/// The network cards among a VM's devices.
pub fn nic_count(devices: &[DeviceJson]) -> usize {
    devices
        .iter()
        .filter(|d| {
            let t = d.get("_typeName").and_then(|t| t.as_str()).unwrap_or("");
            t.starts_with("VirtualVmxnet")
                || t.starts_with("VirtualE1000")
                || t == "VirtualPCNet32"
                || t == "VirtualSriovEthernetCard"
                || t == "VirtualEthernetCard"
        })
        .count()
}

/// What the clone is customized with.
#[derive(Debug, Clone)]
pub struct Identity {
    pub os: GuestOs,
    pub hostname: String,
    pub addressing: Addressing,
    /// Network cards of the template (each gets an IP setting).
    pub nics: usize,
    /// The request's customization script (empty: none).
    pub script: String,
}

/// Checks what the guest OS allows before anything is cloned.
pub fn check(id: &Identity) -> Result<()> {
    if !super::ipam::is_dns_label(&id.hostname) {
        return Err(Error::invalid(format!("host name \"{}\": not a DNS label (a-z, 0-9, '-', at most 63)", id.hostname)));
    }
    if id.os == GuestOs::Windows && id.hostname.len() > 15 {
        return Err(Error::invalid(format!(
            "host name \"{}\": a Windows computer name has at most 15 characters; file the request with a shorter VM name",
            id.hostname
        )));
    }
    if id.nics == 0 {
        return Err(Error::invalid(format!(
            "the template has no network card: network \"{}\" cannot be customized",
            id.addressing.network
        )));
    }
    Ok(())
}

fn ip_settings(a: Option<&Addressing>) -> Value {
    match a.and_then(|a| a.address.map(|ip| (a, ip))) {
        Some((a, ip)) => json!({
            "_typeName": "CustomizationIPSettings",
            "ip": {"_typeName": "CustomizationFixedIp", "ipAddress": ip.to_string()},
            "subnetMask": a.netmask().to_string(),
            "gateway": [a.pool.gateway],
            "dnsServerList": a.pool.dns,
            "dnsDomain": a.pool.domain,
        }),
        None => {
            let mut s = json!({"_typeName": "CustomizationIPSettings", "ip": {"_typeName": "CustomizationDhcpIpGenerator"}});
            if let Some(a) = a {
                if !a.pool.dns.is_empty() {
                    s["dnsServerList"] = json!(a.pool.dns);
                }
            }
            s
        }
    }
}

/// The vSphere `CustomizationSpec` (as VI/JSON) for the clone.
pub fn customization_spec(id: &Identity) -> Value {
    let fixed = json!({"_typeName": "CustomizationFixedName", "name": id.hostname});
    let pool = &id.addressing.pool;
    let identity = match id.os {
        GuestOs::Linux => json!({
            "_typeName": "CustomizationLinuxPrep",
            "hostName": fixed,
            "domain": if pool.domain.is_empty() { "localdomain" } else { pool.domain.as_str() },
            "hwClockUTC": true,
        }),
        GuestOs::Windows => {
            let mut s = json!({
                "_typeName": "CustomizationSysprep",
                "guiUnattended": {"_typeName": "CustomizationGuiUnattended", "autoLogon": false, "autoLogonCount": 0, "timeZone": 85},
                "userData": {"_typeName": "CustomizationUserData", "fullName": "Opsdeck", "orgName": "Opsdeck", "computerName": fixed, "productId": ""},
                "identification": {"_typeName": "CustomizationIdentification", "joinWorkgroup": "WORKGROUP"},
            });
            let commands = windows_commands(&id.script);
            if !commands.is_empty() {
                s["guiRunOnce"] = json!({"_typeName": "CustomizationGuiRunOnce", "commandList": commands});
            }
            s
        }
    };
    let nics: Vec<Value> = (0..id.nics)
        .map(|i| json!({"_typeName": "CustomizationAdapterMapping", "adapter": ip_settings((i == 0).then_some(&id.addressing))}))
        .collect();
    let mut global = json!({"_typeName": "CustomizationGlobalIPSettings"});
    if !pool.dns.is_empty() {
        global["dnsServerList"] = json!(pool.dns);
    }
    if !pool.domain.is_empty() {
        global["dnsSuffixList"] = json!([pool.domain]);
    }
    let mut spec = json!({"_typeName": "CustomizationSpec", "identity": identity, "globalIPSettings": global, "nicSettingMap": nics});
    if id.os == GuestOs::Windows {
        spec["options"] = json!({"_typeName": "CustomizationWinOptions", "changeSID": true, "deleteAccounts": false});
    }
    spec
}

/// Sysprep's run-once commands: one per non-empty script line.
pub fn windows_commands(script: &str) -> Vec<String> {
    script.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

/// The cloud-init user data for a script: kept as is when it already says
/// what it is (`#!`, `#cloud-config`, ...), else run as a shell script.
pub fn user_data(script: &str) -> String {
    const MARKERS: [&str; 6] = ["#!", "#cloud-config", "#include", "#cloud-boothook", "#part-handler", "Content-Type:"];
    if MARKERS.iter().any(|m| script.starts_with(m)) {
        script.to_string()
    } else {
        format!("#!/bin/sh\n{script}")
    }
}

fn option_value(key: &str, value: &str) -> Value {
    json!({"_typeName": "OptionValue", "key": key, "value": {"_typeName": "string", "_value": value}})
}

/// The `guestinfo.*` extra configuration carrying the script to cloud-init
/// on a Linux guest (none without a script, or on Windows).
pub fn cloud_init_extra_config(id: &Identity, request: &str) -> Vec<Value> {
    if id.os != GuestOs::Linux || id.script.trim().is_empty() {
        return vec![];
    }
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    // No network here: LinuxPrep configures it, cloud-init leaves it alone.
    let metadata = format!("instance-id: {request}\nlocal-hostname: {}\n", id.hostname);
    vec![
        option_value(METADATA_KEY, &b64(&metadata)),
        option_value("guestinfo.metadata.encoding", "base64"),
        option_value(USERDATA_KEY, &b64(&user_data(&id.script))),
        option_value("guestinfo.userdata.encoding", "base64"),
    ]
}

/// Decodes `guestinfo.userdata` as read back from a VM.
pub fn decode_user_data(b64: &str) -> Option<String> {
    base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok().and_then(|b| String::from_utf8(b).ok())
}

/// What the guest reported last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub hostname: Option<String>,
    pub addresses: Vec<String>,
    /// `TOOLSDEPLOYPKG_*` when vCenter reports the customization's state.
    pub status: Option<String>,
    pub error: Option<String>,
    pub powered_on: bool,
}

impl Seen {
    fn describe(&self) -> String {
        let host = self.hostname.as_deref().map_or("no host name".to_string(), |h| format!("host name \"{h}\""));
        let addrs = if self.addresses.is_empty() { "no address".to_string() } else { format!("addresses {}", self.addresses.join(", ")) };
        let status = self.status.as_deref().map_or(String::new(), |s| format!(", customization {s}"));
        format!("{host}, {addrs}{status}")
    }

    fn host_matches(&self, want: &str) -> bool {
        self.hostname.as_deref().and_then(|h| h.split('.').next()).is_some_and(|h| h.eq_ignore_ascii_case(want))
    }

    /// The IPv4 address that satisfies `want` (the static one, or any usable for DHCP).
    fn address(&self, want: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        let v4 = self.addresses.iter().filter_map(|a| a.parse::<Ipv4Addr>().ok());
        match want {
            Some(w) => v4.into_iter().find(|a| *a == w),
            None => v4.into_iter().find(|a| !a.is_link_local() && !a.is_loopback() && !a.is_unspecified()),
        }
    }
}

/// Reads what the guest of `vm` reports now.
pub async fn read(vim: &Vim, vm: &str) -> Result<Seen> {
    let retriever = ObjectRetriever::new(vim.client.clone()).map_err(|e| vim_error("reading the guest", e))?;
    let r = with_timeout("vSphere (guest information)", TIMEOUT, async {
        retriever.retrieve_object::<GuestNow>(&moref(MoTypesEnum::VirtualMachine, vm)).await.map_err(|e| vim_error("reading the guest", e))
    })
    .await?
    .ok_or_else(|| Error::NotFound(format!("VM {vm} no longer exists")))?;
    let mut addresses: Vec<String> = r.ip.into_iter().collect();
    for nic in r.net.unwrap_or_default() {
        for a in nic.ip_address.unwrap_or_default() {
            if !addresses.contains(&a) {
                addresses.push(a);
            }
        }
    }
    Ok(Seen {
        hostname: r.host_name.filter(|h| !h.is_empty()),
        addresses,
        status: r.custom.as_ref().map(|c| c.customization_status.clone()).filter(|s| !s.is_empty()),
        error: r.custom.and_then(|c| c.error_msg).filter(|s| !s.is_empty()),
        powered_on: matches!(r.power, VirtualMachinePowerStateEnum::PoweredOn),
    })
}

/// What the guest reported once it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub hostname: String,
    pub address: Ipv4Addr,
}

fn advice(id: &Identity) -> String {
    let tools = "VMware Tools (open-vm-tools) installed and starting at boot in the template";
    match id.os {
        GuestOs::Linux => format!(
            "check: {tools}, perl and the template's network configuration usable by guest customization; network \"{}\" reachable{}",
            id.addressing.network,
            if id.addressing.address.is_none() { " and a DHCP server answering on it" } else { "" }
        ),
        GuestOs::Windows => format!(
            "check: {tools}, Sysprep available in the template, network \"{}\"{}",
            id.addressing.network,
            if id.addressing.address.is_none() { " with a DHCP server answering on it" } else { "" }
        ),
    }
}

/// Waits until the guest of `vm` reports `id.hostname` and the address
/// (the static one; for DHCP any usable IPv4 address), at most `limit`.
/// A customization vCenter reports failed ends the wait at once.
pub async fn wait_for_identity(vim: &Vim, vm: &str, id: &Identity, limit: Duration, stop: &CancellationToken) -> Result<Reported> {
    let start = Instant::now();
    let want = id.addressing.address;
    let expected = match want {
        Some(a) => format!("host name \"{}\" and address {a}", id.hostname),
        None => format!("host name \"{}\" and a DHCP address", id.hostname),
    };
    let mut delay = Duration::from_millis(250);
    let mut last = Seen::default();
    loop {
        if stop.is_cancelled() {
            return Err(Error::Cancelled(format!("stopped waiting for the guest of {vm} to report {expected}")));
        }
        match read(vim, vm).await {
            Ok(seen) => last = seen,
            Err(e @ Error::NotFound(_)) => return Err(e),
            // One failed read is not the guest's fault: tried again until the deadline.
            Err(e) => tracing::warn!(vm, "reading the guest: {e}"),
        }
        if let (true, Some(address)) = (last.host_matches(&id.hostname), last.address(want)) {
            return Ok(Reported { hostname: id.hostname.clone(), address });
        }
        if last.status.as_deref() == Some("TOOLSDEPLOYPKG_FAILED") {
            return Err(Error::Internal(format!(
                "guest customization of {vm} failed in the guest ({}); it reports {}; expected {expected}; {}",
                last.error.as_deref().unwrap_or("no reason given"),
                last.describe(),
                advice(id)
            )));
        }
        if start.elapsed() >= limit {
            return Err(Error::Internal(format!(
                "the guest of {vm} did not report {expected} within {} s (it reports {}{}); {}",
                limit.as_secs(),
                last.describe(),
                if last.powered_on { "" } else { ", powered off" },
                advice(id)
            )));
        }
        let left = limit.saturating_sub(start.elapsed());
        tokio::select! {
            _ = tokio::time::sleep(delay.min(left)) => {}
            _ = stop.cancelled() => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// The IPv4 addresses vCenter reports for running guests (one retrieval).
pub async fn addresses_in_use(vim: &Vim) -> Result<BTreeSet<Ipv4Addr>> {
    let retriever = ObjectRetriever::new(vim.client.clone()).map_err(|e| vim_error("reading guest addresses", e))?;
    let root = vim.client.service_content().root_folder.clone();
    let vms = with_timeout("vSphere (guest addresses)", TIMEOUT, async {
        retriever.retrieve_objects_from_container::<GuestAddresses>(&root).await.map_err(|e| vim_error("reading guest addresses", e))
    })
    .await?;
    let mut out = BTreeSet::new();
    for vm in vms.into_iter().filter(|v| matches!(v.power, VirtualMachinePowerStateEnum::PoweredOn)) {
        let net = vm.net.unwrap_or_default().into_iter().flat_map(|n| n.ip_address.unwrap_or_default());
        out.extend(vm.ip.into_iter().chain(net).filter_map(|a| a.parse::<Ipv4Addr>().ok()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vms::ipam::{IpMode, IpPool};

    fn identity(os: GuestOs, address: Option<&str>, script: &str) -> Identity {
        Identity {
            os,
            hostname: "web-01".into(),
            addressing: Addressing {
                network: "VM Network".into(),
                pool: IpPool {
                    network: "VM Network".into(),
                    mode: if address.is_some() { IpMode::Static } else { IpMode::Dhcp },
                    cidr: "10.0.0.0/24".into(),
                    gateway: "10.0.0.1".into(),
                    dns: vec!["10.0.0.53".into()],
                    domain: "lab.example".into(),
                    excluded: vec![],
                },
                address: address.map(|a| a.parse().unwrap()),
                prefix: 24,
            },
            nics: 2,
            script: script.into(),
        }
    }

    #[test]
    fn families_by_guest_id() {
        assert_eq!(family("ubuntu64Guest"), Some(GuestOs::Linux));
        assert_eq!(family("rhel9_64Guest"), Some(GuestOs::Linux));
        assert_eq!(family("other5xLinux64Guest"), Some(GuestOs::Linux));
        assert_eq!(family("windows2019srv_64Guest"), Some(GuestOs::Windows));
        assert_eq!(family("otherGuest"), None);
        assert_eq!(family(""), None);
    }

    #[test]
    fn linux_spec_fixes_the_first_card_and_leaves_the_others_to_dhcp() {
        let s = customization_spec(&identity(GuestOs::Linux, Some("10.0.0.7"), ""));
        assert_eq!(s["identity"]["_typeName"], "CustomizationLinuxPrep");
        assert_eq!(s["identity"]["hostName"]["name"], "web-01");
        assert_eq!(s["identity"]["domain"], "lab.example");
        let nics = s["nicSettingMap"].as_array().unwrap();
        assert_eq!(nics.len(), 2);
        assert_eq!(nics[0]["adapter"]["ip"]["ipAddress"], "10.0.0.7");
        assert_eq!(nics[0]["adapter"]["subnetMask"], "255.255.255.0");
        assert_eq!(nics[0]["adapter"]["gateway"][0], "10.0.0.1");
        assert_eq!(nics[1]["adapter"]["ip"]["_typeName"], "CustomizationDhcpIpGenerator");
        // Parses as the vSphere type.
        let _: vim_rs::types::structs::CustomizationSpec = miniserde::json::from_str(&s.to_string()).expect("a CustomizationSpec");
    }

    #[test]
    fn windows_spec_runs_the_script_lines_once() {
        let s = customization_spec(&identity(GuestOs::Windows, None, "echo one\n\n  echo two  \n"));
        assert_eq!(s["identity"]["_typeName"], "CustomizationSysprep");
        assert_eq!(s["identity"]["userData"]["computerName"]["name"], "web-01");
        assert_eq!(s["identity"]["guiRunOnce"]["commandList"], json!(["echo one", "echo two"]));
        assert_eq!(s["nicSettingMap"][0]["adapter"]["ip"]["_typeName"], "CustomizationDhcpIpGenerator");
        let _: vim_rs::types::structs::CustomizationSpec = miniserde::json::from_str(&s.to_string()).expect("a CustomizationSpec");
    }

    #[test]
    fn the_script_becomes_cloud_init_user_data() {
        assert!(cloud_init_extra_config(&identity(GuestOs::Linux, None, ""), "r1").is_empty());
        assert!(cloud_init_extra_config(&identity(GuestOs::Windows, None, "echo"), "r1").is_empty());
        let ec = cloud_init_extra_config(&identity(GuestOs::Linux, None, "touch /tmp/x"), "r1");
        let get = |k: &str| ec.iter().find(|o| o["key"] == k).map(|o| o["value"]["_value"].as_str().unwrap().to_string());
        assert_eq!(decode_user_data(&get(USERDATA_KEY).unwrap()).unwrap(), "#!/bin/sh\ntouch /tmp/x");
        assert_eq!(decode_user_data(&get(METADATA_KEY).unwrap()).unwrap(), "instance-id: r1\nlocal-hostname: web-01\n");
        assert_eq!(get("guestinfo.userdata.encoding").unwrap(), "base64");
        assert_eq!(user_data("#cloud-config\nruncmd: [ls]"), "#cloud-config\nruncmd: [ls]");
    }

    #[test]
    fn what_counts_as_reported() {
        let seen = Seen {
            hostname: Some("WEB-01.lab.example".into()),
            addresses: vec!["fe80::1".into(), "10.0.0.7".into()],
            ..Default::default()
        };
        assert!(seen.host_matches("web-01"));
        assert_eq!(seen.address(Some("10.0.0.7".parse().unwrap())), Some("10.0.0.7".parse().unwrap()));
        assert_eq!(seen.address(Some("10.0.0.8".parse().unwrap())), None);
        assert_eq!(seen.address(None), Some("10.0.0.7".parse().unwrap()));
        let link_local = Seen { addresses: vec!["169.254.3.4".into()], ..Default::default() };
        assert_eq!(link_local.address(None), None);
        assert!(check(&Identity { hostname: "a-very-long-windows-name".into(), ..identity(GuestOs::Windows, None, "") })
            .unwrap_err()
            .to_string()
            .contains("at most 15 characters"));
        assert!(check(&Identity { nics: 0, ..identity(GuestOs::Linux, None, "") }).unwrap_err().to_string().contains("no network card"));
    }
}
