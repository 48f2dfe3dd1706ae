//! End to end, the Overview (the home screen) and showback: the app opens on
//! the Overview, painted from the cache a prepared data directory holds (a
//! vCenter with a provisioned VM whose lease ends this week and a request
//! waiting for a decision, a Kubernetes connection checked once), then
//! refreshed live; the Docker and etcd tiles ask for a connection. A tile
//! opens its workspace. Then the request form shows its cost estimate, and
//! the Showback tab charts department spend against quota.

use std::time::Duration;

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::connections::ConnectionSpec;
use opsdeck_core::showback::{DiskTier, PriceList};
use opsdeck_core::vms::model::{Quota, RequestSpec, Stage, State};
use opsdeck_core::vms::provision::ProvisionOptions;
use opsdeck_tests::app::{css, fill, select, shot, wait_until, App, Read};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::service::shared;
use opsdeck_tests::vms::{form, vcsim_with_template};

#[tokio::test]
async fn overview_from_cache_then_live_and_a_request_with_its_cost() {
    let prep = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&prep, &[]).await;
    let api = shared("kube-apiserver");
    let kube =
        prep.add("lab clusters", ConnectionSpec::Kubernetes { kubeconfig: api.get("KUBECONFIG").into(), contexts: vec![] }, None).await;
    prep.backend.cluster_health(&kube.id).await.unwrap();

    let b = &prep.backend;
    let store = b.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    b.set_price_list(
        store,
        &PriceList {
            currency: "CNY".into(),
            vcpu: 45.0,
            memory_gb: 18.5,
            disk_gb: 0.6,
            tiers: vec![DiskTier { name: "local SSD".into(), disk_gb: 1.2, datastores: vec!["LocalDS_*".into()] }],
        },
        None,
    )
    .await
    .unwrap();
    for (dept, vcpu) in [("qa", 16), ("dev", 8)] {
        b.vm_set_quota(store, dept, &Quota { vms: 6, vcpu, memory_gb: 32, disk_gb: 400, ..Default::default() }).await.unwrap();
    }
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::days(2)).date().to_string();
    for (name, dept, lease) in [("qa-web-01", "qa", soon.as_str()), ("dev-build-01", "dev", "2027-06-30")] {
        let r = b.vm_submit(store, &vc.id, RequestSpec { lease_end: lease.into(), disk_gb: 30, ..form(name, dept) }).await.unwrap();
        b.vm_decide(store, Some(&vc.id), &r.id, Stage::Manager, true, "").await.unwrap();
        b.vm_decide(store, Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap();
        let opts = ProvisionOptions { instance: "e2e-overview".into(), ..Default::default() };
        let r = b.vm_provision(store, &vc.id, &r.id, &opts, &|_| {}).await.unwrap();
        assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    }
    // Waiting for a decision: filed by "tester", not the app's user.
    b.vm_submit(store, &vc.id, RequestSpec { cpu: 4, memory_gb: 8, ..form("qa-db-02", "qa") }).await.unwrap();
    b.vm_inventory(&vc.id).await.unwrap();

    let service = prep.backend.keychain().service().to_string();
    let TestBackend { backend, dir } = prep;
    drop(backend);
    let app = App::start_in(dir, &service).await;
    let c = &app.c;

    // The home screen, from the cache, then live.
    css(c, "[data-testid=view-overview]").await;
    css(c, "[data-testid=overview-tile-vms]").await;
    wait_until(c, "[data-testid=view-overview]", Read::Attr("data-ready"), |r| r == "true", Duration::from_secs(60)).await;
    let awaiting =
        wait_until(c, "[data-testid=overview-vms-awaiting] .ov-n", Read::Prop("textContent"), |t| t == "1", Duration::from_secs(10)).await;
    assert_eq!(awaiting, "1");
    wait_until(c, "[data-testid=overview-vms-leases] .ov-n", Read::Prop("textContent"), |t| t == "1", Duration::from_secs(10)).await;
    let vms =
        wait_until(c, "[data-testid=overview-tile-vms]", Read::Prop("textContent"), |t| t.contains("qa-db-02"), Duration::from_secs(10))
            .await;
    assert!(vms.contains("qa-web-01"), "the lease ending this week is listed: {vms}");
    let clusters =
        wait_until(c, "[data-testid=overview-tile-clusters]", Read::Attr("data-source"), |s| s == "live", Duration::from_secs(30)).await;
    assert_eq!(clusters, "live");
    css(c, "[data-testid=overview-connect-images]").await;
    css(c, "[data-testid=overview-connect-config]").await;
    shot(c, "overview").await;

    // A tile opens its workspace; the form shows the cost before filing.
    app.click("[data-testid=overview-open-vms]").await;
    css(c, "[data-testid=view-vms]").await;
    app.click("[data-testid=vms-new-request]").await;
    fill(c, "[data-testid=vm-form-name]", "qa-cache-03").await;
    select(c, "[data-testid=vm-form-template]", "DC0_H0_VM0").await;
    fill(c, "[data-testid=vm-form-cpu]", "4").await;
    fill(c, "[data-testid=vm-form-memory_gb]", "8").await;
    fill(c, "[data-testid=vm-form-disk_gb]", "100").await;
    fill(c, "[data-testid=vm-form-department]", "qa").await;
    fill(c, "[data-testid=vm-form-purpose]", "cache tier for the load tests").await;
    // 4 × 45 + 8 × 18.5 + 100 × 0.6 = 388.00 a month.
    let monthly =
        wait_until(c, "[data-testid=vm-form-estimate]", Read::Attr("data-monthly"), |m| m == "38800", Duration::from_secs(10)).await;
    assert_eq!(monthly, "38800");
    let text =
        wait_until(c, "[data-testid=vm-form-estimate-total]", Read::Prop("textContent"), |t| t.contains("388"), Duration::from_secs(5))
            .await;
    assert!(text.contains("388.00"), "{text}");
    shot(c, "vms-request-cost-estimate").await;
    app.click("[data-testid=vm-request-dialog] [data-testid=modal-close]").await;

    // Showback: spend and pending against the quota's worth, per department.
    app.click("[data-testid=vms-tab-showback]").await;
    css(c, "[data-testid=showback-chart] canvas").await;
    let total = wait_until(
        c,
        "[data-testid=showback-total]",
        Read::Prop("textContent"),
        |t| t.contains('¥') || t.contains("CN"),
        Duration::from_secs(10),
    )
    .await;
    assert!(!total.is_empty());
    shot(c, "vms-showback").await;

    app.close().await;
}
