//! End to end, the team audit trail: a member's app on the team's etcd (with
//! auth) shows every member's changes attributed to their etcd user; after a
//! member rewrites their own entry with raw etcd access, the view flags the
//! broken chain and the entries where it breaks.

use std::time::Duration;

use opsdeck_core::backend::{StoreChoice, VmSettings};
use opsdeck_core::team::trail::TrailFilter;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::vms::model::Quota;
use opsdeck_tests::app::{css, shot, wait_until, App, Read};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, raw_etcd};

async fn member(etcd: &opsdeck_tests::Service, user: &str) -> TestBackend {
    let t = TestBackend::new().await;
    let c = etcd_connection(&t, etcd, user).await;
    let settings = VmSettings {
        store: StoreChoice::Etcd { connection_id: c.id.clone(), prefix: DEFAULT_ROOT.into(), allow_no_auth: false },
        ..Default::default()
    };
    t.backend.set_vm_settings(&settings).await.expect("choose the team store");
    t
}

#[tokio::test]
async fn the_team_trail_shows_who_changed_what_and_flags_a_broken_chain() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let carol = member(&etcd, "carol").await;
    let alice = member(&etcd, "alice").await;
    let (cs, als) = (carol.backend.vm_default_store().await.unwrap(), alice.backend.vm_default_store().await.unwrap());
    carol.backend.vm_set_quota(cs.as_ref(), "qa", &Quota { vms: 5, vcpu: 20, ..Default::default() }).await.unwrap();
    let _ = alice.backend.vm_set_quota(als.as_ref(), "qa", &Quota { vms: 500, ..Default::default() }).await;
    carol.backend.vm_set_quota(cs.as_ref(), "dev", &Quota { vms: 3, ..Default::default() }).await.unwrap();

    // alice rewrites her refused attempt into a harmless line, with her own etcd credentials.
    let report = carol.backend.team_trail(None, &TrailFilter::default()).await.unwrap();
    let own = report.entries.iter().find(|e| e.entry.user == "alice" && e.entry.action == "vm.quota").expect("alice's entry").clone();
    let mut forged = own.entry.clone();
    forged.result = "ok".into();
    forged.detail = "looked at the quotas".into();
    forged.hash = forged.compute_hash();
    raw_etcd(&etcd, "alice").await.put(own.key.as_str(), serde_json::to_vec(&forged).unwrap(), None).await.unwrap();

    // carol opens her app on the same data directory and keychain.
    let service = carol.backend.keychain().service().to_string();
    let TestBackend { backend, dir } = carol;
    drop(backend);
    let app = App::start_in(dir, &service).await;
    let c = &app.c;
    app.click("[data-testid=nav-audit]").await;
    app.click("[data-testid=audit-tab-team]").await;
    let banner = wait_until(
        c,
        "[data-testid=team-audit-broken]",
        Read::Prop("textContent"),
        |t| t.contains(&format!("#{}", own.entry.seq)),
        Duration::from_secs(15),
    )
    .await;
    assert!(banner.contains("rewritten after it was appended"), "{banner}");
    css(c, &format!("[data-testid=team-audit-row][data-seq='{}'][data-broken=true]", own.entry.seq)).await;
    css(c, &format!("[data-testid=team-audit-row][data-seq='{}'][data-broken=true]", own.entry.seq + 1)).await;
    let users = wait_until(
        c,
        "[data-testid=team-audit-table]",
        Read::Prop("textContent"),
        |t| t.contains("carol") && t.contains("alice"),
        Duration::from_secs(10),
    )
    .await;
    assert!(users.contains("vm.quota"), "{users}");
    shot(c, "audit-team-broken-chain").await;
    app.close().await;
    alice.cleanup().await;
}
