//! VMs workspace test support: a vcsim of its own with a template, a saved
//! vSphere connection to it, request forms, and an etcd with role-based auth
//! set up the way an administrator would (users per role).

use opsdeck_core::connections::{Connection, ConnectionSpec};
use opsdeck_core::vms::inventory::Inventory;
use opsdeck_core::vms::model::{RequestSpec, SnapshotSchedule};
use opsdeck_core::vms::store::etcd::{ensure_roles, manager_role, ROLE_ADMIN, ROLE_REQUESTER};
use vim_rs::mo::VirtualMachine;

use crate::backend::TestBackend;
use crate::Service;

/// The vcsim VM turned into the template every test clones.
pub const TEMPLATE: &str = "DC0_H0_VM0";

/// Starts a private vcsim (tests change its inventory) and saves a pinned
/// connection to it in `t`. The VM [`TEMPLATE`] is powered off and marked
/// as a template.
pub async fn vcsim_with_template(t: &TestBackend, extra: &[&str]) -> (Service, Connection) {
    let mut args = vec![];
    if !extra.is_empty() {
        args.push("--");
        args.extend_from_slice(extra);
    }
    let s = Service::start_with_args("vcsim", &args, &[]);
    let c = t
        .add(
            "vcsim",
            ConnectionSpec::Vsphere { url: s.get("VCSIM_SDK_URL").into(), username: s.get("VCSIM_USER").into(), thumbprint: Some(s.get("VCSIM_THUMBPRINT_SHA256").into()) },
            Some(s.get("VCSIM_PASSWORD")),
        )
        .await;
    let vim = t.backend.vim(&c.id).await.expect("log in to vcsim");
    let inv = t.backend.vm_inventory(&c.id).await.expect("inventory");
    let vm = inv.vm_by_name(TEMPLATE).unwrap_or_else(|| panic!("vcsim has no {TEMPLATE}"));
    vim.power_off(&vm.id).await.expect("power off the template VM");
    VirtualMachine::new(vim.client.clone(), &vm.id).mark_as_template().await.expect("mark as template");
    (s, c)
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

/// An etcd with auth on: root, and users `alice` (requester), `bob` and
/// `bert` (managers of `qa`), `carol` (IT admin), `dave` (manager of `dev`).
pub async fn etcd_with_vm_roles(prefix: &str) -> Service {
    let s = Service::start("etcd", &[]);
    let mut c = etcd_client::Client::connect([s.get("ETCD_ENDPOINT")], None).await.expect("connect to etcd");
    ensure_roles(&mut c, prefix, &["qa".to_string(), "dev".to_string()]).await.expect("create roles");
    let users: [(&str, String); 6] = [
        ("root", "root".to_string()),
        ("alice", ROLE_REQUESTER.to_string()),
        ("bob", manager_role("qa")),
        ("bert", manager_role("qa")),
        ("carol", ROLE_ADMIN.to_string()),
        ("dave", manager_role("dev")),
    ];
    for (user, role) in users {
        c.user_add(user, ETCD_PASSWORD, None).await.expect("add user");
        c.user_grant_role(user, role).await.expect("grant role");
    }
    c.auth_enable().await.expect("enable auth");
    s
}

/// Saves an etcd connection for `user` in `t`.
pub async fn etcd_connection(t: &TestBackend, etcd: &Service, user: &str) -> Connection {
    t.add(&format!("etcd as {user}"), ConnectionSpec::Etcd { endpoints: vec![etcd.get("ETCD_ENDPOINT").into()], tls: None, username: Some(user.into()) }, Some(ETCD_PASSWORD)).await
}
