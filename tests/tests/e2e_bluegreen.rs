//! End to end, blue/green and failover in the real app over two real
//! clusters that run workloads (opsdeck_tests::fleet): the blue/green panel
//! deploys green beside blue, waits, switches the Service (checked on the
//! cluster), then switches back after a confirmation; the failover panel
//! previews the plan for a source whose nodes went NotReady (target, capacity,
//! why, hook) and runs it — the copy checked available on the target.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::api::{Api, PostParams};
use kube::Client;
use opsdeck_tests::app::{css, fill, select, shot, wait_until, App, Read};
use opsdeck_tests::fleet::Fleet;
use opsdeck_tests::workloads::{fake_nodes, label_node, poll, NOT_READY_LABEL, POOL_LABEL};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(90);

fn colour(colour: &str) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("web-{colour}"), "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web", "version": colour}},
            "template": {
                "metadata": {"labels": {"app": "web", "version": colour}},
                "spec": {"nodeSelector": {POOL_LABEL: "bg"}, "containers": [{"name": "c", "image": format!("registry.local/web:{colour}")}]}
            }
        }
    })
}

async fn live_colour(c: &Client) -> String {
    let s = Api::<Service>::namespaced(c.clone(), "default").get("web").await.unwrap();
    s.spec.and_then(|s| s.selector).unwrap_or_default().get("version").cloned().unwrap_or_default()
}

async fn available(c: &Client, ns: &str, name: &str, want: i32) {
    let api: Api<Deployment> = Api::namespaced(c.clone(), ns);
    poll(&format!("{ns}/{name} has {want} available"), LIMIT, || async {
        let d = api.get(name).await.map_err(|e| e.to_string())?;
        let n = d.status.and_then(|s| s.available_replicas).unwrap_or(0);
        if n == want {
            Ok(())
        } else {
            Err(format!("{n} available"))
        }
    })
    .await;
}

async fn set_value(app: &App, sel: &str, text: &str) {
    let el = css(&app.c, sel).await;
    app.c
        .execute(
            "const t = arguments[0]; t.value = arguments[1]; t.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![serde_json::to_value(&el).unwrap(), json!(text)],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn blue_green_switches_and_back_and_a_failover_is_previewed_then_run_in_the_app() {
    let fleet = Fleet::start(&["src", "roomy"]);
    let clients = fleet.clients().await;
    let (src, roomy) = (&clients[0], &clients[1]);
    let src_nodes = fake_nodes(src, "fo-src", 2).await;
    fake_nodes(roomy, "bg", 2).await;
    // roomy: Service web selecting blue, blue rolled out.
    let blue: Deployment = serde_json::from_value(colour("blue")).unwrap();
    Api::<Deployment>::namespaced(roomy.clone(), "default").create(&PostParams::default(), &blue).await.unwrap();
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web", "version": "blue"}, "ports": [{"port": 80, "targetPort": 8080}]}
    }))
    .unwrap();
    Api::<Service>::namespaced(roomy.clone(), "default").create(&PostParams::default(), &svc).await.unwrap();
    // src: shop/api marked for failover.
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "shop"}})).unwrap();
    Api::<Namespace>::all(src.clone()).create(&PostParams::default(), &ns).await.unwrap();
    let api: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "api", "namespace": "shop", "labels": {"app": "api", "opsdeck.dev/failover": "true"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": {"app": "api"}},
                         "spec": {"containers": [{"name": "c", "image": "registry.local/api:1",
                                                  "resources": {"requests": {"cpu": "600", "memory": "1Gi"}}}]}}
        }
    }))
    .unwrap();
    Api::<Deployment>::namespaced(src.clone(), "shop").create(&PostParams::default(), &api).await.unwrap();
    available(roomy, "default", "web-blue", 2).await;
    available(src, "shop", "api", 2).await;

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
    for name in ["src", "roomy"] {
        let card = format!("[data-testid=cluster-card][data-context='{name}']");
        wait_until(c, &card, Read::Attr("data-verdict"), |v| v == "healthy", Duration::from_secs(60)).await;
    }

    // Blue/green: status, deploy green, switch; then switch back (confirmed).
    app.click("[data-testid=clusters-bluegreen-open]").await;
    select(c, "[data-testid=bg-context]", "roomy").await;
    fill(c, "[data-testid=bg-service]", "web").await;
    app.click("[data-testid=bg-load]").await;
    wait_until(c, "[data-testid=bg-status]", Read::Attr("data-live"), |v| v == "blue", Duration::from_secs(20)).await;
    set_value(&app, "[data-testid=bg-manifest]", &serde_json::to_string(&colour("green")).unwrap()).await;
    app.click("[data-testid=bg-deploy]").await;
    wait_until(c, "[data-testid=bg-step][data-step=switch]", Read::Attr("data-state"), |s| s == "done", LIMIT).await;
    wait_until(c, "[data-testid=bg-status]", Read::Attr("data-live"), |v| v == "green", Duration::from_secs(20)).await;
    assert_eq!(live_colour(roomy).await, "green");
    for step in ["deploy", "ready"] {
        let s =
            wait_until(c, &format!("[data-testid=bg-step][data-step={step}]"), Read::Attr("data-state"), |_| true, Duration::from_secs(1))
                .await;
        assert_eq!(s, "done", "{step}");
    }
    let smoke = wait_until(c, "[data-testid=bg-step][data-step=smoke]", Read::Attr("data-state"), |_| true, Duration::from_secs(1)).await;
    assert_eq!(smoke, "skipped");
    wait_until(
        c,
        "[data-testid=bg-colour][data-colour=blue]",
        Read::Prop("textContent"),
        |t| t.contains("Previous"),
        Duration::from_secs(5),
    )
    .await;
    shot(c, "clusters-bluegreen").await;
    app.click("[data-testid=bg-switch-back]").await;
    wait_until(c, "[data-testid=bg-confirm]", Read::Prop("textContent"), |t| t.contains("from green back to blue"), Duration::from_secs(5))
        .await;
    assert_eq!(live_colour(roomy).await, "green", "nothing switched before the confirmation");
    app.click("[data-testid=bg-confirm-yes]").await;
    wait_until(c, "[data-testid=bg-status]", Read::Attr("data-live"), |v| v == "blue", Duration::from_secs(20)).await;
    assert_eq!(live_colour(roomy).await, "blue");
    app.click("[data-testid=bg-close]").await;

    // Failover: src's nodes go NotReady; preview, then run with a hook.
    for n in &src_nodes {
        label_node(src, n, NOT_READY_LABEL, Some("true")).await;
    }
    wait_until(c, "[data-testid=cluster-card][data-context='src']", Read::Attr("data-verdict"), |v| v == "degraded", LIMIT).await;
    app.click("[data-testid=clusters-failover-open]").await;
    select(c, "[data-testid=fo-source]", "src").await;
    select(c, "[data-testid=fo-hook-kind]", "command").await;
    fill(c, "[data-testid=fo-hook-value]", "echo traffic switched to $OPSDECK_FAILOVER_TARGETS").await;
    app.click("[data-testid=fo-preview]").await;
    wait_until(c, "[data-testid=fo-plan]", Read::Attr("data-needed"), |v| v == "true", Duration::from_secs(30)).await;
    let target =
        wait_until(c, "[data-testid=fo-placement][data-workload='shop/api']", Read::Attr("data-target"), |_| true, Duration::from_secs(1))
            .await;
    assert_eq!(target, "roomy");
    let plan = wait_until(c, "[data-testid=fo-plan]", Read::Prop("textContent"), |_| true, Duration::from_secs(1)).await;
    assert!(plan.contains("needs 1200 CPU") && plan.contains("NotReady") && plan.contains("Hook that will run"), "{plan}");
    shot(c, "clusters-failover-preview").await;
    app.click("[data-testid=fo-run]").await;
    wait_until(c, "[data-testid=fo-report]", Read::Attr("data-ok"), |v| v == "true", LIMIT).await;
    let hook = wait_until(c, "[data-testid=fo-hook-result]", Read::Prop("textContent"), |_| true, Duration::from_secs(1)).await;
    assert!(hook.contains("traffic switched to roomy"), "{hook}");
    available(roomy, "shop", "api", 2).await;
    let why = wait_until(c, "[data-testid=fo-failback]", Read::Attr("title"), |_| true, Duration::from_secs(1)).await;
    assert!(why.contains("Fail back once src is healthy"), "{why}");
    shot(c, "clusters-failover-run").await;
    app.close().await;
}
