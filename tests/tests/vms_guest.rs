//! Guest customization against vcsim (which applies a clone's
//! CustomizationSpec at its first power-on and reports the host name and
//! fixed addresses as guest information): static addresses from a network's
//! IP pool, DHCP, an exhausted pool, a guest that never reports what it was
//! given, two executors at once, and the customization script as cloud-init
//! user data.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::team::DEFAULT_ROOT as DEFAULT_PREFIX;
use opsdeck_core::vms::guest::{self, USERDATA_KEY};
use opsdeck_core::vms::ipam::{IpMode, IpPool};
use opsdeck_core::vms::model::{RequestSpec, Stage, State, VmRequest};
use opsdeck_core::vms::provision::{ProvisionOptions, StepHook, STEPS};
use opsdeck_core::vms::store::RequestStore;
use opsdeck_core::vms::vsphere::Vim;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{count_named, etcd_connection, etcd_with_vm_roles, form, guest_reports, vcsim_connection, vcsim_with_template_of};

const NET: &str = "VM Network";

fn pool(cidr: &str, gateway: &str, excluded: &[&str]) -> IpPool {
    IpPool {
        network: NET.into(),
        mode: IpMode::Static,
        cidr: cidr.into(),
        gateway: gateway.into(),
        dns: vec!["10.50.0.53".into()],
        domain: "lab.example".into(),
        excluded: excluded.iter().map(|s| s.to_string()).collect(),
    }
}

fn opts(guest_secs: u64) -> ProvisionOptions {
    ProvisionOptions { instance: "guest-test".into(), guest_timeout: Duration::from_secs(guest_secs), ..Default::default() }
}

/// A vcsim whose template is a Linux one; its session.
async fn linux_vcsim(t: &TestBackend) -> (opsdeck_tests::Service, opsdeck_core::connections::Connection, Vim) {
    let (s, vc) = vcsim_with_template_of(t, &[], Some("ubuntu64Guest")).await;
    let vim = t.backend.vim(&vc.id).await.unwrap();
    (s, vc, vim)
}

/// Files and approves `spec` in the personal store.
async fn approved(t: &TestBackend, store: &dyn RequestStore, vc: &str, spec: RequestSpec) -> VmRequest {
    let r = t.backend.vm_submit(store, vc, spec).await.unwrap();
    t.backend.vm_decide(store, Some(vc), &r.id, Stage::Manager, true, "").await.unwrap();
    t.backend.vm_decide(store, Some(vc), &r.id, Stage::Admin, true, "").await.unwrap();
    r
}

fn on_net(name: &str) -> RequestSpec {
    RequestSpec { network: NET.into(), ..form(name, "qa") }
}

#[tokio::test]
async fn static_address_from_a_pool_end_to_end_and_the_script_reaches_cloud_init() {
    let t = TestBackend::new().await;
    let (_vcsim, vc, vim) = linux_vcsim(&t).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    // .1 gateway, .2 excluded, .3 reported by a running guest: .4 is the first free.
    t.backend.vm_set_ip_pool(store, pool("10.50.0.0/28", "10.50.0.1", &["10.50.0.2"])).await.unwrap();
    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    let running = inv.vms.iter().find(|v| v.powered_on() && !v.template).expect("a running vcsim VM");
    guest_reports(&vim, &running.id, "guest.ipAddress", "10.50.0.3").await;

    let script = "echo configured-by-opsdeck > /etc/motd";
    let r = approved(&t, store, &vc.id, RequestSpec { customization_script: script.into(), ..on_net("web-01") }).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &opts(60), &move |p| log.lock().unwrap().push((p.step, p.percent))).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    let steps: Vec<&str> = seen.lock().unwrap().iter().filter(|(_, p)| *p == 100).map(|(s, _)| *s).collect();
    assert_eq!(steps, STEPS);
    let asset = r.asset.clone().unwrap();
    assert_eq!(asset.hostname.as_deref(), Some("web-01"));
    assert_eq!(asset.ip_address.as_deref(), Some("10.50.0.4"), "not the gateway, the excluded one or the one a guest uses");
    assert_eq!(asset.guest_os.as_deref(), Some("Linux"));
    assert!(r.history.iter().any(|h| h.to == State::Provisioning && h.comment.contains("address 10.50.0.4")), "{:?}", r.history);

    // What vCenter reports for the guest, read independently.
    let g = guest::read(&vim, &asset.vm_id).await.unwrap();
    assert_eq!(g.hostname.as_deref(), Some("web-01"));
    assert!(g.addresses.contains(&"10.50.0.4".to_string()), "{g:?}");
    assert_eq!(g.status.as_deref(), Some("TOOLSDEPLOYPKG_SUCCEEDED"), "{g:?}");
    // The script is the VM's cloud-init user data.
    let data = vim.extra_config(&asset.vm_id, USERDATA_KEY).await.unwrap().expect("guestinfo.userdata set");
    assert_eq!(guest::decode_user_data(&data).as_deref(), Some(format!("#!/bin/sh\n{script}").as_str()));
    assert_eq!(vim.extra_config(&asset.vm_id, "guestinfo.userdata.encoding").await.unwrap().as_deref(), Some("base64"));

    let pools = t.backend.vm_ip_pools(store).await.unwrap();
    assert_eq!(pools[0].size, 12);
    let held: Vec<(&str, &str)> = pools[0].leases.iter().map(|l| (l.address.as_str(), l.request.as_str())).collect();
    assert_eq!(held, [("10.50.0.4", r.id.as_str())]);
    // A pool with an address held cannot be removed.
    let e = t.backend.vm_remove_ip_pool(store, NET).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");

    // The VM destroyed at the end of its lease gives its address back.
    let lease = opsdeck_core::vms::validate::parse_date("lease", &r.spec.lease_end).unwrap();
    let at = |d: time::Date| d.with_hms(12, 0, 0).unwrap().assume_utc();
    t.backend.vm_lifecycle(store, &vc.id, at(lease + time::Duration::days(1))).await.unwrap();
    let gone = t.backend.vm_lifecycle(store, &vc.id, at(lease + time::Duration::days(8))).await.unwrap();
    assert!(gone.iter().any(|a| a.action == "reclaim" && a.ok), "{gone:?}");
    assert!(gone.iter().any(|a| a.action == "ip_release" && a.ok && a.detail.contains("10.50.0.4")), "{gone:?}");
    assert!(store.ip_leases(None).await.unwrap().is_empty());
    t.backend.vm_remove_ip_pool(store, NET).await.unwrap();

    let audit = t.backend.audit_log(&AuditFilter { platform: Some("vsphere".into()), limit: 200, ..Default::default() }).await.unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    for a in ["vm.ip_pool.set", "vm.ip_pool.remove", "vm.provision", "vm.lifecycle.ip_release"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    t.cleanup().await;
}

#[tokio::test]
async fn dhcp_network_waits_for_the_address_the_guest_reports() {
    let t = TestBackend::new().await;
    let (_vcsim, vc, vim) = linux_vcsim(&t).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    // A script with no customization to carry it is refused before anything is made, not dropped.
    let r = approved(&t, store, &vc.id, RequestSpec { customization_script: "echo hi".into(), ..form("script-01", "qa") }).await;
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &opts(60), &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Failed);
    let why = r.failure.unwrap_or_default();
    assert!(
        why.contains("has a customization script") && why.contains("has no IP settings") && why.contains("nothing was cloned"),
        "{why}"
    );
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "script-01"), 0);

    let dhcp = IpPool { mode: IpMode::Dhcp, cidr: String::new(), gateway: String::new(), excluded: vec![], ..pool("", "", &[]) };
    t.backend.vm_set_ip_pool(store, dhcp).await.unwrap();
    let r = approved(&t, store, &vc.id, on_net("dhcp-01")).await;
    // vcsim has no DHCP server: the guest's lease is reported as its Tools would, once it is up.
    let hook_vim = vim.clone();
    let hook = StepHook(Arc::new(move |vm: String| {
        let vim = hook_vim.clone();
        Box::pin(async move { guest_reports(&vim, &vm, "guest.ipAddress", "192.168.77.10").await })
    }));
    let r =
        t.backend.vm_provision(store, &vc.id, &r.id, &ProvisionOptions { after_power_on: Some(hook), ..opts(60) }, &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    let asset = r.asset.unwrap();
    assert_eq!((asset.hostname.as_deref(), asset.ip_address.as_deref()), (Some("dhcp-01"), Some("192.168.77.10")));
    assert!(store.ip_leases(None).await.unwrap().is_empty(), "DHCP holds no pool address");

    // No DHCP answer at all: the wait ends at its deadline and the VM is removed.
    let r = approved(&t, store, &vc.id, on_net("dhcp-02")).await;
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &opts(2), &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Failed);
    let why = r.failure.unwrap();
    assert!(why.contains("did not report host name \"dhcp-02\" and a DHCP address within 2 s"), "{why}");
    assert!(why.contains("a DHCP server answering on it") && why.contains("destroyed the half-made VM"), "{why}");
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "dhcp-02"), 0);
    t.cleanup().await;
}

#[tokio::test]
async fn exhausted_pool_fails_before_any_clone_and_a_silent_guest_is_cleaned_up() {
    let t = TestBackend::new().await;
    let (_vcsim, vc, vim) = linux_vcsim(&t).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    // One address to hand out: 10.60.0.2.
    t.backend.vm_set_ip_pool(store, pool("10.60.0.0/29", "10.60.0.1", &["10.60.0.3-10.60.0.6"])).await.unwrap();

    // A guest that never reports what it was given (the template's identity
    // stays, no address): failure at the deadline, VM destroyed, address back.
    let silent = approved(&t, store, &vc.id, on_net("silent-01")).await;
    let hook_vim = vim.clone();
    let hook = StepHook(Arc::new(move |vm: String| {
        let vim = hook_vim.clone();
        Box::pin(async move {
            guest_reports(&vim, &vm, "guest.hostName", "localhost").await;
            guest_reports(&vim, &vm, "guest.ipAddress", "").await;
        })
    }));
    let started = std::time::Instant::now();
    let r = t
        .backend
        .vm_provision(store, &vc.id, &silent.id, &ProvisionOptions { after_power_on: Some(hook), ..opts(3) }, &|_| {})
        .await
        .unwrap();
    assert_eq!(r.state, State::Failed);
    assert!(started.elapsed() < Duration::from_secs(30), "bounded by the guest timeout: {:?}", started.elapsed());
    let why = r.failure.clone().unwrap();
    assert!(why.contains("did not report host name \"silent-01\" and address 10.60.0.2 within 3 s"), "{why}");
    assert!(why.contains("it reports host name \"localhost\""), "{why}");
    assert!(why.contains("VMware Tools"), "says what to check: {why}");
    assert!(why.contains("destroyed the half-made VM") && why.contains("released IP 10.60.0.2"), "{why}");
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "silent-01"), 0);
    assert!(store.ip_leases(None).await.unwrap().is_empty(), "the address is free again");

    // The one address goes to the first request; the second fails before anything is cloned.
    let first = approved(&t, store, &vc.id, on_net("pool-01")).await;
    let first = t.backend.vm_provision(store, &vc.id, &first.id, &opts(60), &|_| {}).await.unwrap();
    assert_eq!(first.state, State::Provisioned, "{:?}", first.failure);
    assert_eq!(first.asset.unwrap().ip_address.as_deref(), Some("10.60.0.2"), "the released address is handed out again");
    let second = approved(&t, store, &vc.id, on_net("pool-02")).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let r = t.backend.vm_provision(store, &vc.id, &second.id, &opts(60), &move |p| log.lock().unwrap().push(p.step)).await.unwrap();
    assert_eq!(r.state, State::Failed);
    let why = r.failure.clone().unwrap();
    assert!(why.contains("IP pool of network \"VM Network\" (10.60.0.0/29) is exhausted: 1 address(es) held by requests"), "{why}");
    assert!(why.contains("nothing was cloned"), "{why}");
    assert!(!seen.lock().unwrap().contains(&"clone"), "no step after the lock: {:?}", seen.lock().unwrap());
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "pool-02"), 0);
    assert_eq!(r.history.last().map(|h| (h.from, h.to)), Some((Some(State::Approved), State::Failed)));
    let held: Vec<String> = store.ip_leases(None).await.unwrap().into_iter().map(|l| l.request).collect();
    assert_eq!(held, std::slice::from_ref(&first.id));
    t.cleanup().await;
}

#[tokio::test]
async fn two_executors_at_once_never_share_an_address_in_etcd() {
    let etcd = etcd_with_vm_roles(DEFAULT_PREFIX).await;
    let t = TestBackend::new().await;
    let other = TestBackend::new().await;
    let (vcsim, vc, _vim) = linux_vcsim(&t).await;
    let alice = etcd_connection(&t, &etcd, "alice").await;
    let bob = etcd_connection(&t, &etcd, "bob").await;
    let carol = etcd_connection(&t, &etcd, "carol").await;
    let store = |id: &str| StoreChoice::Etcd { connection_id: id.into(), prefix: DEFAULT_PREFIX.into(), allow_no_auth: false };
    let requester = t.backend.vm_store(&store(&alice.id)).await.unwrap();
    let manager = t.backend.vm_store(&store(&bob.id)).await.unwrap();
    let admin = t.backend.vm_store(&store(&carol.id)).await.unwrap();
    // A requester may not define pools (the IT admins' keys).
    let e = t.backend.vm_set_ip_pool(requester.as_ref(), pool("10.70.0.0/29", "10.70.0.1", &[])).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    // Six addresses (.2-.7) for six requests, provisioned by two instances at once.
    t.backend.vm_set_ip_pool(admin.as_ref(), pool("10.70.0.0/28", "10.70.0.1", &["10.70.0.8-10.70.0.14"])).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        let r = t.backend.vm_submit(requester.as_ref(), &vc.id, on_net(&format!("pair-{i}"))).await.unwrap();
        t.backend.vm_decide(manager.as_ref(), Some(&vc.id), &r.id, Stage::Manager, true, "").await.unwrap();
        t.backend.vm_decide(admin.as_ref(), Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap();
        ids.push(r.id);
    }
    let carol2 = etcd_connection(&other, &etcd, "carol").await;
    let vc2 = vcsim_connection(&other, &vcsim).await;
    let admin2 = other.backend.vm_store(&store(&carol2.id)).await.unwrap();
    let one = ProvisionOptions { instance: "instance-1".into(), ..opts(60) };
    let two = ProvisionOptions { instance: "instance-2".into(), ..opts(60) };
    // Both take the same first free address at the same moment: one transaction fails and picks again.
    let (a, b) = tokio::join!(
        t.backend.vm_provision_approved(admin.as_ref(), &vc.id, &one, &|_| {}),
        other.backend.vm_provision_approved(admin2.as_ref(), &vc2.id, &two, &|_| {}),
    );
    for (_, r) in a.unwrap().iter().chain(b.unwrap().iter()) {
        if let Err(e) = r {
            assert_eq!(e.code(), ErrorCode::Conflict, "the only refusals are the lock or the state: {e}");
        }
    }
    let all = t.backend.vm_requests(admin.as_ref()).await.unwrap();
    let addresses: Vec<String> = all.iter().filter_map(|r| r.asset.as_ref().and_then(|a| a.ip_address.clone())).collect();
    assert!(
        all.iter().all(|r| r.state == State::Provisioned),
        "{:?}",
        all.iter().map(|r| (&r.spec.name, r.state, &r.failure)).collect::<Vec<_>>()
    );
    assert_eq!(addresses.len(), 6, "{addresses:?}");
    assert_eq!(addresses.iter().collect::<HashSet<_>>().len(), 6, "no address given twice: {addresses:?}");
    let leases = admin.ip_leases(Some(NET)).await.unwrap();
    assert_eq!(leases.len(), 6);
    for r in &all {
        let held = leases.iter().find(|l| l.request == r.id).map(|l| l.address.clone());
        assert_eq!(held, r.asset.as_ref().and_then(|a| a.ip_address.clone()), "{}", r.id);
    }
    // A seventh finds the pool exhausted.
    let r = t.backend.vm_submit(requester.as_ref(), &vc.id, on_net("pair-6")).await.unwrap();
    t.backend.vm_decide(manager.as_ref(), Some(&vc.id), &r.id, Stage::Manager, true, "").await.unwrap();
    t.backend.vm_decide(admin.as_ref(), Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap();
    let r = t.backend.vm_provision(admin.as_ref(), &vc.id, &r.id, &opts(60), &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Failed);
    assert!(r.failure.as_deref().unwrap_or("").contains("is exhausted: 6 address(es) held"), "{:?}", r.failure);
    t.cleanup().await;
    other.cleanup().await;
}

#[test]
fn ip_pools_from_the_cli_with_bad_input_refused() {
    let data = tempfile::tempdir().unwrap();
    let keychain = format!("opsdeck-ip-pool-cli-{}", std::process::id());
    let run =
        |args: &[&str]| opsdeck_tests::workspace::cli(data.path(), &keychain).args(["vm", "--store", "local"]).args(args).output().unwrap();
    let text = |o: &std::process::Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    for (args, says) in [
        (&["--cidr", "10.80.0.1/24", "--gateway", "10.80.0.1"][..], "host bits are set: the network is 10.80.0.0/24"),
        (&["--cidr", "10.80.0.0/24", "--gateway", "10.81.0.1"][..], "gateway 10.81.0.1 is outside 10.80.0.0/24"),
        (&["--cidr", "10.80.0.0/24", "--gateway", "10.80.0.1", "--exclude", "10.80.0.9-10.80.0.2"][..], "the start is after the end"),
        (&["--cidr", "10.80.0.0/24", "--gateway", "10.80.0.1", "--dns", "ns1"][..], "DNS server \"ns1\": not an IPv4 address"),
        (&["--dhcp", "--cidr", "10.80.0.0/24"][..], "cannot be used with"),
        (&[][..], "--cidr"),
    ] {
        let o = run(&[&["ip-pool", "add", "--network", NET][..], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{args:?}: {}", text(&o));
    }
    let empty = run(&["ip-pool", "list", "--format", "json"]);
    assert_eq!(String::from_utf8_lossy(&empty.stdout).trim(), "[]", "nothing saved by the refused ones: {}", text(&empty));

    let o =
        run(&["ip-pool", "add", "--network", NET, "--cidr", "10.80.0.0/24", "--gateway", "10.80.0.1", "--exclude", "10.80.0.2-10.80.0.9"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("static 10.80.0.0/24 via 10.80.0.1 (245 addresses to hand out)"), "{}", text(&o));
    let o = run(&["ip-pool", "add", "--network", "Lab DHCP", "--dhcp", "--dns", "10.80.0.53"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let list: serde_json::Value = serde_json::from_slice(&run(&["ip-pool", "list", "--format", "json"]).stdout).unwrap();
    let nets: Vec<(&str, &str, u64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["pool"]["network"].as_str().unwrap(), u["pool"]["mode"].as_str().unwrap(), u["size"].as_u64().unwrap()))
        .collect();
    assert_eq!(nets, [("Lab DHCP", "dhcp", 0), (NET, "static", 245)]);
    let table = text(&run(&["ip-pool", "list"]));
    assert!(table.contains("0 / 245"), "{table}");

    let o = run(&["ip-pool", "remove", "--network", "No Such Network"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("network \"No Such Network\" has no IP settings"), "{}", text(&o));
    let o = run(&["ip-pool", "remove", "--network", "Lab DHCP"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
