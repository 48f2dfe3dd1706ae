//! End to end, Clusters workspace: the dashboard in the real app over the real
//! kube-apiserver — one degraded and one healthy cluster, a live change, the
//! drill-down, and a server-side apply.

use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use opsdeck_tests::app::{css, fill, select, shot, wait_until, App, Read};
use opsdeck_tests::service::shared;
use serde_json::json;

async fn node(c: &Client, name: &str, ready: &str) {
    let nodes: Api<Node> = Api::all(c.clone());
    let _ = nodes.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()).await;
    let status = json!({"status": {"conditions": [{"type": "Ready", "status": ready, "lastHeartbeatTime": "2026-11-24T00:00:00Z", "lastTransitionTime": "2026-11-24T00:00:00Z"}]}});
    nodes.patch_status(name, &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
}

#[tokio::test]
async fn dashboard_live_drilldown_and_apply() {
    let api = shared("kube-apiserver");
    let kubeconfig = api.get("KUBECONFIG").to_string();
    let kc = Kubeconfig::read_from(&kubeconfig).unwrap();
    let opts = KubeConfigOptions { context: Some("admin".into()), ..Default::default() };
    let admin = Client::try_from(Config::from_custom_kubeconfig(kc, &opts).await.unwrap()).unwrap();
    node(&admin, "e2e-ok", "True").await;
    node(&admin, "e2e-bad", "False").await;

    let app = App::start().await;
    let c = &app.c;
    app.click("[data-testid=nav-connections]").await;
    app.click("[data-testid=add-connection]").await;
    select(c, "[data-testid=conn-kind]", "kubernetes").await;
    fill(c, "[data-testid=conn-name]", "lab").await;
    fill(c, "[data-testid=conn-kubeconfig]", &kubeconfig).await;
    app.click("[data-testid=conn-save]").await;
    css(c, "[data-testid=conn-row][data-name='lab']").await;

    app.click("[data-testid=nav-clusters]").await;
    let admin_card = "[data-testid=cluster-card][data-context='admin']";
    wait_until(c, admin_card, Read::Attr("data-verdict"), |v| v == "degraded", Duration::from_secs(20)).await;
    wait_until(
        c,
        &format!("{admin_card} [data-testid=cluster-reasons]"),
        Read::Prop("textContent"),
        |t| t.contains("e2e-bad"),
        Duration::from_secs(5),
    )
    .await;
    // The restricted user's cluster: it may not list nodes or system pods, so
    // its verdict is not healthy, and the card says why.
    wait_until(
        c,
        "[data-testid=cluster-card][data-context='restricted']",
        Read::Attr("data-verdict"),
        |v| v == "degraded",
        Duration::from_secs(20),
    )
    .await;
    wait_until(
        c,
        "[data-testid=cluster-card][data-context='restricted'] [data-testid=cluster-reasons]",
        Read::Prop("textContent"),
        |t| t.contains("forbidden: list nodes"),
        Duration::from_secs(5),
    )
    .await;
    shot(c, "clusters-degraded-and-healthy").await;

    // A node recovers: the card turns healthy live (watches, no refresh).
    node(&admin, "e2e-bad", "True").await;
    wait_until(c, admin_card, Read::Attr("data-verdict"), |v| v == "healthy", Duration::from_secs(3)).await;
    shot(c, "clusters-recovered").await;

    // Drill-down: nodes of the admin cluster. The cards and the detail re-render
    // live as watch events arrive, so clicks go through the DOM (no layout race).
    app.click(admin_card).await;
    css(c, "[data-testid=cluster-detail]").await;
    app.click("[data-testid=cluster-tab-nodes]").await;
    css(c, "[data-testid=cluster-node-row][data-name='e2e-ok']").await;
    shot(c, "clusters-detail-nodes").await;
    app.click("[data-testid=cluster-detail] [data-testid=modal-close]").await;

    // Apply a manifest to the admin cluster.
    app.click("[data-testid=clusters-apply-open]").await;
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e2e-applied\n  namespace: default\ndata:\n  k: v\n";
    let area = css(c, "[data-testid=clusters-apply-text]").await;
    let arg = serde_json::to_value(&area).unwrap();
    app.c
        .execute(
            "const t = arguments[0]; t.value = arguments[1]; t.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![arg, json!(manifest)],
        )
        .await
        .unwrap();
    app.click("[data-testid=clusters-apply-context][data-context='admin'] input").await;
    // The review first (permissions, dry-run diff, conflicts), then the apply it allows.
    app.click("[data-testid=clusters-review-run]").await;
    wait_until(
        c,
        "[data-testid=clusters-review-cluster][data-context='admin']",
        Read::Attr("data-verdict"),
        |v| v == "clean",
        Duration::from_secs(20),
    )
    .await;
    shot(c, "clusters-apply-review").await;
    app.click("[data-testid=clusters-apply-run]").await;
    wait_until(
        c,
        "[data-testid=clusters-apply-result][data-context='admin']",
        Read::Attr("data-ok"),
        |v| v == "true",
        Duration::from_secs(20),
    )
    .await;
    shot(c, "clusters-apply-result").await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(admin.clone(), "default");
    assert!(cms.get_opt("e2e-applied").await.unwrap().is_some(), "applied on the real server");
    app.close().await;
}
