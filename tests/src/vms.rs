//! VMs workspace test support: a vcsim of its own with a template, a saved
//! vSphere connection to it, request forms, and an etcd with role-based auth
//! set up the way an administrator would (users per role).

use opsdeck_core::connections::{Connection, ConnectionSpec};
use opsdeck_core::team::roles::{self, Member};
use opsdeck_core::vms::inventory::Inventory;
use opsdeck_core::vms::model::{RequestSpec, SnapshotSchedule};
use vim_rs::mo::VirtualMachine;

use crate::backend::TestBackend;
use crate::Service;

/// The vcsim VM turned into the template every test clones.
pub const TEMPLATE: &str = "DC0_H0_VM0";

/// Starts a private vcsim (tests change its inventory) and saves a pinned
/// connection to it in `t`. The VM [`TEMPLATE`] is powered off and marked
/// as a template.
pub async fn vcsim_with_template(t: &TestBackend, extra: &[&str]) -> (Service, Connection) {
    vcsim_with_template_of(t, extra, None).await
}

/// [`vcsim_with_template`] whose template has guest OS id `guest_id`
/// (vcsim's VMs are `otherGuest`, which guest customization refuses):
/// `ubuntu64Guest`, `windows2019srv_64Guest`, ...
pub async fn vcsim_with_template_of(t: &TestBackend, extra: &[&str], guest_id: Option<&str>) -> (Service, Connection) {
    let mut args = vec![];
    if !extra.is_empty() {
        args.push("--");
        args.extend_from_slice(extra);
    }
    let s = Service::start_with_args("vcsim", &args, &[]);
    let c = vcsim_connection(t, &s).await;
    let vim = t.backend.vim(&c.id).await.expect("log in to vcsim");
    let inv = t.backend.vm_inventory(&c.id).await.expect("inventory");
    let vm = inv.vm_by_name(TEMPLATE).unwrap_or_else(|| panic!("vcsim has no {TEMPLATE}"));
    vim.power_off(&vm.id).await.expect("power off the template VM");
    if let Some(g) = guest_id {
        let spec = serde_json::json!({"_typeName": "VirtualMachineConfigSpec", "guestId": g});
        vim.reconfigure(&vm.id, &spec, &|_| {}).await.expect("set the guest OS id");
    }
    VirtualMachine::new(vim.client.clone(), &vm.id).mark_as_template().await.expect("mark as template");
    (s, c)
}

/// Saves a pinned connection to `vcsim` in `t` (a second app instance's
/// view of the same vCenter).
pub async fn vcsim_connection(t: &TestBackend, vcsim: &Service) -> Connection {
    t.add(
        "vcsim",
        ConnectionSpec::Vsphere {
            url: vcsim.get("VCSIM_SDK_URL").into(),
            username: vcsim.get("VCSIM_USER").into(),
            thumbprint: Some(vcsim.get("VCSIM_THUMBPRINT_SHA256").into()),
        },
        Some(vcsim.get("VCSIM_PASSWORD")),
    )
    .await
}

/// A valid form for `name` in `department`.
pub fn form(name: &str, department: &str) -> RequestSpec {
    let lease = time::OffsetDateTime::now_utc().date() + time::Duration::days(30);
    RequestSpec {
        name: name.into(),
        template: TEMPLATE.into(),
        cpu: 2,
        // vcsim's hosts have 4 GB of memory.
        memory_gb: 1,
        disk_gb: 20,
        network: String::new(),
        folder: String::new(),
        resource_pool: String::new(),
        department: department.into(),
        purpose: "integration test".into(),
        lease_end: lease.to_string(),
        snapshot_schedule: SnapshotSchedule::Daily,
        customization_script: String::new(),
    }
}

/// VMs (not templates) with this name.
pub fn count_named(inv: &Inventory, name: &str) -> usize {
    inv.vms.iter().filter(|v| v.name == name && !v.template).count()
}

/// Password of every etcd user made by [`etcd_with_vm_roles`].
pub const ETCD_PASSWORD: &str = "pw-for-tests";

/// The team every shared-store test plays, as `USER=DUTIES` (see
/// [`Member::parse`]): two requesters, two managers of `qa` (bob also files
/// requests), an admin who is also the executor, a manager of `qa` who is
/// also an admin (to try approving twice), a manager of `dev`, a reviewer
/// and a publisher of config changes.
pub const TEAM: [&str; 9] = [
    "alice=requester",
    "amy=requester",
    "bob=requester,manager:qa",
    "bert=manager:qa",
    "carol=admin,executor",
    "mia=manager:qa,admin",
    "dave=manager:dev",
    "rita=reviewer",
    "paul=publisher",
];

/// An etcd with auth on: root, and the users of [`TEAM`] with their roles
/// under `root_prefix`, made the way an administrator would (`opsdeck vm roles`).
pub async fn etcd_with_vm_roles(root_prefix: &str) -> Service {
    let s = Service::start("etcd", &[]);
    let mut c = etcd_client::Client::connect([s.get("ETCD_ENDPOINT")], None).await.expect("connect to etcd");
    c.user_add("root", ETCD_PASSWORD, None).await.expect("add root");
    c.user_grant_role("root", "root").await.expect("grant root");
    let members: Vec<Member> = TEAM.iter().map(|m| Member::parse(m).expect("member")).collect();
    for m in &members {
        c.user_add(m.user.as_str(), ETCD_PASSWORD, None).await.expect("add user");
    }
    roles::apply(&mut c, root_prefix, &members).await.expect("team roles");
    c.auth_enable().await.expect("enable auth");
    s
}

/// A raw etcd client logged in as `user`: what a team member can do with
/// etcdctl, around Opsdeck.
pub async fn raw_etcd(etcd: &Service, user: &str) -> etcd_client::Client {
    etcd_client::Client::connect([etcd.get("ETCD_ENDPOINT")], Some(etcd_client::ConnectOptions::new().with_user(user, ETCD_PASSWORD)))
        .await
        .expect("raw etcd client")
}

/// Saves an etcd connection for `user` in `t`.
pub async fn etcd_connection(t: &TestBackend, etcd: &Service, user: &str) -> Connection {
    t.add(
        &format!("etcd as {user}"),
        ConnectionSpec::Etcd {
            endpoints: vec![etcd.get("ETCD_ENDPOINT").into()],
            tls: None,
            username: Some(user.into()),
            allow_plaintext: false,
        },
        Some(ETCD_PASSWORD),
    )
    .await
}

/// `opsdeck connections add vsphere …` for `vcsim`, pinned to its thumbprint,
/// the password read from the environment variable `secret_env`.
pub fn cli_add_vcsim<'a>(vcsim: &'a Service, name: &'a str, secret_env: &'a str) -> [&'a str; 13] {
    [
        "connections",
        "add",
        "vsphere",
        "--name",
        name,
        "--url",
        vcsim.get("VCSIM_SDK_URL"),
        "--user",
        vcsim.get("VCSIM_USER"),
        "--thumbprint",
        vcsim.get("VCSIM_THUMBPRINT_SHA256"),
        "--secret-env",
        secret_env,
    ]
}

/// Makes vcsim's guest of `vm` report `value` as `property` (`guest.ipAddress`,
/// `guest.hostName`): vcsim's `SET.<property>` extra configuration, what a
/// guest's VMware Tools would report.
pub async fn guest_reports(vim: &opsdeck_core::vms::vsphere::Vim, vm: &str, property: &str, value: &str) {
    let spec = serde_json::json!({"_typeName": "VirtualMachineConfigSpec", "extraConfig": [
        {"_typeName": "OptionValue", "key": format!("SET.{property}"), "value": {"_typeName": "string", "_value": value}}
    ]});
    vim.reconfigure(vm, &spec, &|_| {}).await.expect("set what the guest reports");
}
