//! End to end, a progressive rollout in the real app over three real clusters
//! that run workloads (opsdeck_tests::fleet): the dialog's plan, the waves'
//! live progress (screenshot while the second wave soaks), Stop, and Roll
//! back, checked on the clusters themselves.

use std::time::Duration;

use opsdeck_tests::app::{css, fill, select, shot, wait_until, App, Read};
use opsdeck_tests::fleet::{deploy_v1, ensure_nodes, web_manifest, web_rolled_out, Fleet};
use serde_json::json;

#[tokio::test]
async fn a_rollout_runs_wave_by_wave_in_the_app_stops_and_rolls_back() {
    let fleet = Fleet::start(&["east", "west", "south"]);
    let clients = fleet.clients().await;
    for c in &clients {
        ensure_nodes(c, "ro", 2).await;
    }
    let ns = "e2e-rollout";
    deploy_v1(&clients, ns).await;

    let app = App::start().await;
    let c = &app.c;
    app.click("[data-testid=nav-connections]").await;
    app.click("[data-testid=add-connection]").await;
    select(c, "[data-testid=conn-kind]", "kubernetes").await;
    fill(c, "[data-testid=conn-name]", "fleet").await;
    fill(c, "[data-testid=conn-kubeconfig]", &fleet.path()).await;
    app.click("[data-testid=conn-save]").await;
    css(c, "[data-testid=conn-row][data-name='fleet']").await;
    app.click("[data-testid=nav-clusters]").await;
    for name in ["east", "west", "south"] {
        let card = format!("[data-testid=cluster-card][data-context='{name}']");
        wait_until(c, &card, Read::Attr("data-verdict"), |v| v == "healthy", Duration::from_secs(60)).await;
    }

    app.click("[data-testid=clusters-rollout-open]").await;
    let area = css(c, "[data-testid=rollout-manifest]").await;
    let manifest = web_manifest(ns, "green", "registry.local/web:2", "ro", true, None);
    app.c
        .execute(
            "const t = arguments[0]; t.value = arguments[1]; t.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![serde_json::to_value(&area).unwrap(), json!(manifest)],
        )
        .await
        .unwrap();
    for name in ["east", "west", "south"] {
        app.click(&format!("[data-testid=rollout-context][data-context='{name}'] input")).await;
    }
    fill(c, "[data-testid=rollout-waves]", "canary=east,33%,rest").await;
    fill(c, "[data-testid=rollout-soak]", "20").await;
    // The plan as typed: three waves.
    wait_until(c, "[data-testid=rollout-wave][data-wave='3']", Read::Prop("textContent"), |t| t.contains("south"), Duration::from_secs(5))
        .await;
    shot(c, "clusters-rollout-plan").await;
    app.click("[data-testid=rollout-start]").await;

    // Live: the canary done, the second wave soaking, the last one pending.
    let row = |name: &str| format!("[data-testid=rollout-cluster][data-context='{name}']");
    wait_until(c, &row("east"), Read::Attr("data-phase"), |p| p == "done", Duration::from_secs(90)).await;
    wait_until(c, &row("west"), Read::Attr("data-phase"), |p| p == "soaking", Duration::from_secs(60)).await;
    let south = wait_until(c, &row("south"), Read::Attr("data-phase"), |_| true, Duration::from_secs(1)).await;
    assert_eq!(south, "pending");
    wait_until(c, &row("east"), Read::Prop("textContent"), |t| t.contains("soaked healthy"), Duration::from_secs(1)).await;
    shot(c, "clusters-rollout-in-progress").await;

    // Stop: west's soak ends, south never starts; then roll both changed clusters back.
    app.click("[data-testid=rollout-stop]").await;
    wait_until(c, "[data-testid=rollout-outcome]", Read::Attr("data-outcome"), |o| o == "stopped", Duration::from_secs(30)).await;
    wait_until(c, &row("south"), Read::Attr("data-phase"), |p| p == "skipped", Duration::from_secs(5)).await;
    shot(c, "clusters-rollout-stopped").await;
    app.click("[data-testid=rollout-rollback]").await;
    wait_until(c, &row("east"), Read::Attr("data-phase"), |p| p == "rolled_back", Duration::from_secs(30)).await;
    wait_until(c, &row("west"), Read::Attr("data-phase"), |p| p == "rolled_back", Duration::from_secs(30)).await;
    wait_until(
        c,
        "[data-testid=rollout-plan]",
        Read::Prop("textContent"),
        |t| t.contains("as before the rollout"),
        Duration::from_secs(10),
    )
    .await;
    shot(c, "clusters-rollout-rolled-back").await;

    for c in &clients {
        web_rolled_out(c, ns, "registry.local/web:1").await;
        let extra = kube::Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(c.clone(), ns).get_opt("web-extra").await.unwrap();
        assert!(extra.is_none(), "the ConfigMap the rollout created is gone");
    }
    app.close().await;
}
