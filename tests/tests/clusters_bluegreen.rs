//! `opsdeck bluegreen` on a control plane that runs workloads (kube-apiserver,
//! controller-manager, scheduler, KWOK): the new colour's Deployment really
//! rolls out, the EndpointSlice controller really moves the Service's
//! endpoints to the colour switched to. KWOK pods have no network, so the
//! smoke endpoint is served by the test itself (it plays the application's
//! health URL), which also lets it change the Service between the check and
//! the switch, as another operator would.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use opsdeck_tests::workloads::{admin, control_plane, fake_nodes, poll, POOL_LABEL, PROGRESS};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn colour_deployment(app: &str, colour: &str, pool: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("{app}-{colour}"), "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": app, "version": colour}},
            "template": {
                "metadata": {"labels": {"app": app, "version": colour}},
                "spec": {"nodeSelector": {POOL_LABEL: pool}, "containers": [{"name": "c", "image": image}]}
            }
        }
    })
}

/// A Service `app` selecting the blue colour, with blue deployed and rolled out; returns the blue pod IPs.
async fn blue_live(c: &Client, app: &str, pool: &str) -> BTreeSet<String> {
    fake_nodes(c, pool, 2).await;
    let deploys: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let blue: Deployment = serde_json::from_value(colour_deployment(app, "blue", pool, "registry.local/web:1")).unwrap();
    deploys.create(&PostParams::default(), &blue).await.unwrap();
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": app},
        "spec": {"selector": {"app": app, "version": "blue"}, "ports": [{"port": 80, "targetPort": 8080}]}
    }))
    .unwrap();
    Api::<Service>::namespaced(c.clone(), "default").create(&PostParams::default(), &svc).await.unwrap();
    let ips = pod_ips(c, app, "blue").await;
    endpoints_are(c, app, &ips).await;
    ips
}

/// The IPs of the ready pods of a colour, once both replicas are ready.
async fn pod_ips(c: &Client, app: &str, colour: &str) -> BTreeSet<String> {
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    poll(&format!("{app} {colour} pods ready"), PROGRESS, || async {
        let items =
            pods.list(&ListParams::default().labels(&format!("app={app},version={colour}"))).await.map_err(|e| e.to_string())?.items;
        // Counted by pod, not by distinct IP: KWOK hands out the node's IP
        // when its node cache lags, so two ready pods may share one.
        let ready: Vec<(String, String)> = items
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .into_iter()
                    .flatten()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            })
            .filter_map(|p| Some((p.metadata.name.clone()?, p.status.as_ref()?.pod_ip.clone()?)))
            .collect();
        if ready.len() == 2 {
            Ok(ready.into_iter().map(|(_, ip)| ip).collect())
        } else {
            Err(format!("{} pods, ready with an IP: {ready:?}", items.len()))
        }
    })
    .await
}

/// Waits until the Service's EndpointSlices hold exactly `ips` (ready): the
/// endpoint controller follows the selector, so this is where the switch routes.
async fn endpoints_are(c: &Client, svc: &str, ips: &BTreeSet<String>) {
    let slices: Api<EndpointSlice> = Api::namespaced(c.clone(), "default");
    poll(&format!("endpoints of {svc} are {ips:?}"), PROGRESS, || async {
        let items =
            slices.list(&ListParams::default().labels(&format!("kubernetes.io/service-name={svc}"))).await.map_err(|e| e.to_string())?;
        let now: BTreeSet<String> = items
            .items
            .iter()
            .flat_map(|s| s.endpoints.iter())
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
            .flat_map(|e| e.addresses.iter().cloned())
            .collect();
        if &now == ips {
            Ok(())
        } else {
            Err(format!("{now:?}"))
        }
    })
    .await;
}

async fn selector(c: &Client, svc: &str) -> (String, std::collections::BTreeMap<String, String>) {
    let s = Api::<Service>::namespaced(c.clone(), "default").get(svc).await.unwrap();
    (
        s.spec.and_then(|s| s.selector).unwrap_or_default().get("version").cloned().unwrap_or_default(),
        s.metadata.annotations.unwrap_or_default(),
    )
}

/// The application's smoke endpoint, played by the test: answers each GET
/// with what `answer` returns for its path (after running it: it may act on
/// the cluster first), and records the paths asked.
struct SmokeEndpoint {
    url: String,
    asked: Arc<Mutex<Vec<String>>>,
}

impl SmokeEndpoint {
    async fn start<F, Fut>(answer: F) -> SmokeEndpoint
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = u16> + Send,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked: Arc<Mutex<Vec<String>>> = Arc::default();
        let (answer, log) = (Arc::new(answer), asked.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (answer, log) = (answer.clone(), log.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 2048];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let path = String::from_utf8_lossy(&buf).split_whitespace().nth(1).unwrap_or_default().to_string();
                    log.lock().unwrap().push(path.clone());
                    let code = answer(path).await;
                    let reply = format!("HTTP/1.1 {code} X\r\ncontent-length: 5\r\nconnection: close\r\n\r\nsmoke");
                    let _ = sock.write_all(reply.as_bytes()).await;
                });
            }
        });
        SmokeEndpoint { url, asked }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

/// `opsdeck ARGS` on the control plane's kubeconfig and a data directory: (exit code, stdout, stderr).
async fn opsdeck(data: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(opsdeck_tests::workspace::cli_bin())
        .env("OPSDECK_DATA_DIR", data)
        .env("OPSDECK_KEYCHAIN_SERVICE", "opsdeck-test-bluegreen")
        .args(args)
        .output()
        .await
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn bg<'a>(cmd: &'a str, kubeconfig: &'a str, svc: &'a str) -> Vec<&'a str> {
    vec!["bluegreen", cmd, "--kubeconfig", kubeconfig, "--context", "admin", "--service", svc]
}

fn manifest(dir: &std::path::Path, app: &str, pool: &str) -> String {
    let path = dir.join(format!("{app}-green.yaml"));
    std::fs::write(&path, serde_json::to_string(&colour_deployment(app, "green", pool, "registry.local/web:2")).unwrap()).unwrap();
    path.display().to_string()
}

/// (action, result, detail) of the audit entries about blue/green.
async fn audit(data: &std::path::Path) -> Vec<(String, String, String)> {
    let (code, out, err) = opsdeck(data, &["audit", "--format", "json", "--limit", "200"]).await;
    assert_eq!(code, 0, "{err}");
    let page: Value = serde_json::from_str(&out).unwrap();
    let mut entries: Vec<(String, String, String)> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("bluegreen.")))
        .map(|e| (e["action"].as_str().unwrap().into(), e["result"].as_str().unwrap().into(), e["detail"].as_str().unwrap().into()))
        .collect();
    entries.reverse(); // oldest first
    entries
}

#[tokio::test]
async fn deploy_green_smoke_test_switch_switch_back_and_clean_up() {
    let cp = control_plane();
    let c = admin(cp).await;
    let kubeconfig = cp.get("KUBECONFIG");
    let blue_ips = blue_live(&c, "shop", "bg-full").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let smoke = SmokeEndpoint::start(|_| async { 200 }).await;
    // An `opsdeck check` file as a second smoke check: the cluster's API answers.
    let checks = dir.path().join("smoke.yaml");
    std::fs::write(
        &checks,
        format!(
            "targets:\n  k8s: {{ spec: {{ kind: kubernetes, kubeconfig: \"{kubeconfig}\", contexts: [admin] }} }}\nchecks:\n  - {{ name: api answers, target: k8s, kind: list }}\n"
        ),
    )
    .unwrap();
    let file = manifest(dir.path(), "shop", "bg-full");
    let url = format!("{}/healthz?colour={{colour}}", smoke.url);
    let mut args = bg("deploy", kubeconfig, "shop");
    args.extend(["-f", &file, "--smoke-url", &url, "--smoke-checks", checks.to_str().unwrap(), "--keep", "1h", "--format", "json"]);
    let (code, out, err) = opsdeck(&data, &args).await;
    assert_eq!(code, 0, "deploy: {err}\n{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["colour"], "green");
    assert_eq!(report["from"], "blue");
    assert_eq!(report["rollout"]["available"], 2, "{report}");
    assert_eq!(report["smoke"].as_array().unwrap().len(), 2, "{report}");
    assert!(report["smoke"].as_array().unwrap().iter().all(|s| s["ok"] == true), "{report}");
    assert_eq!(report["switched"]["to"], "green");
    assert_eq!(smoke.asked(), vec!["/healthz?colour=green".to_string()], "the smoke URL was called for the new colour, once");
    // Stderr shows each step.
    for step in ["live colour blue, deploying green", "ready: 2/2 available", "smoke PASS", "smoke PASS: check api answers"] {
        assert!(err.contains(step), "{step}: {err}");
    }

    let (live, ann) = selector(&c, "shop").await;
    assert_eq!(live, "green");
    assert_eq!(ann.get("opsdeck.dev/bluegreen-previous").map(String::as_str), Some("blue"));
    let green_ips = pod_ips(&c, "shop", "green").await;
    assert!(green_ips.is_disjoint(&blue_ips));
    endpoints_are(&c, "shop", &green_ips).await;

    // Status: both colours, green live, blue kept.
    let mut args = bg("status", kubeconfig, "shop");
    args.extend(["--format", "json"]);
    let (code, out, err) = opsdeck(&data, &args).await;
    assert_eq!(code, 0, "{err}");
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((st["live"].as_str(), st["previous"].as_str()), (Some("green"), Some("blue")));
    let colours: Vec<(String, bool, bool)> = st["colours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["colour"].as_str().unwrap().to_string(), c["live"].as_bool().unwrap(), c["ready"].as_bool().unwrap()))
        .collect();
    assert_eq!(colours, vec![("green".into(), true, true), ("blue".into(), false, true)]);

    // Cleanup before the keep time is refused; blue stays.
    let (code, _, err) = opsdeck(&data, &bg("cleanup", kubeconfig, "shop")).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("colour blue is kept until"), "{err}");
    let deploys: Api<Deployment> = Api::namespaced(c.clone(), "default");
    assert!(deploys.get_opt("shop-blue").await.unwrap().is_some());

    // Switch back in one action: blue live again, its endpoints back.
    let (code, out, err) = opsdeck(&data, &bg("rollback", kubeconfig, "shop")).await;
    assert_eq!(code, 0, "rollback: {err}");
    assert!(out.contains("green") && out.contains("blue"), "{out}");
    let (live, ann) = selector(&c, "shop").await;
    assert_eq!(live, "blue");
    assert_eq!(ann.get("opsdeck.dev/bluegreen-previous").map(String::as_str), Some("green"), "the colour left is the way back now");
    endpoints_are(&c, "shop", &blue_ips).await;

    // Clean up the colour switched away from, now (explicitly early): green goes, blue serves.
    let mut args = bg("cleanup", kubeconfig, "shop");
    args.push("--now");
    let (code, out, err) = opsdeck(&data, &args).await;
    assert_eq!(code, 0, "cleanup: {err}");
    assert!(out.contains("deleted deployment shop-green"), "{out}");
    poll("shop-green deleted", PROGRESS, || async {
        match deploys.get_opt("shop-green").await.map_err(|e| e.to_string())? {
            None => Ok(()),
            Some(_) => Err("still there".into()),
        }
    })
    .await;
    let (_, ann) = selector(&c, "shop").await;
    assert!(!ann.contains_key("opsdeck.dev/bluegreen-previous"), "no way back to a deleted colour: {ann:?}");

    let entries = audit(&data).await;
    let actions: Vec<(&str, &str)> = entries.iter().map(|(a, r, _)| (a.as_str(), r.as_str())).collect();
    assert_eq!(
        actions,
        vec![
            ("bluegreen.deploy", "ok"),
            ("bluegreen.ready", "ok"),
            ("bluegreen.smoke", "ok"),
            ("bluegreen.switch", "ok"),
            ("bluegreen.cleanup", "error"),
            ("bluegreen.rollback", "ok"),
            ("bluegreen.cleanup", "ok"),
        ]
    );
    assert!(entries[3].2.contains("service default/shop on cluster \"admin\": blue -> green"), "{:?}", entries[3]);
    assert!(entries[6].2.contains("before its keep time"), "{:?}", entries[6]);
}

#[tokio::test]
async fn a_service_changed_between_the_check_and_the_switch_is_not_switched() {
    let cp = control_plane();
    let c = admin(cp).await;
    let kubeconfig = cp.get("KUBECONFIG");
    let blue_ips = blue_live(&c, "cart", "bg-race").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // While the smoke check runs (after Opsdeck read the Service), someone
    // else changes the Service with a raw API write.
    let writer = c.clone();
    let smoke = SmokeEndpoint::start(move |_| {
        let writer = writer.clone();
        async move {
            let patch = json!({"metadata": {"annotations": {"team": "changed-by-hand"}}});
            Api::<Service>::namespaced(writer, "default").patch("cart", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
            200
        }
    })
    .await;
    let file = manifest(dir.path(), "cart", "bg-race");
    let url = format!("{}/healthz", smoke.url);
    let mut args = bg("deploy", kubeconfig, "cart");
    args.extend(["-f", &file, "--smoke-url", &url]);
    let (code, out, err) = opsdeck(&data, &args).await;
    assert_eq!(code, 1, "a conflict exits 1: {err}\n{out}");
    assert!(err.contains("changed since it was checked") && err.contains("nothing switched"), "{err}");
    assert_eq!(smoke.asked().len(), 1);

    let (live, ann) = selector(&c, "cart").await;
    assert_eq!(live, "blue", "nothing switched");
    assert_eq!(ann.get("team").map(String::as_str), Some("changed-by-hand"), "the other write stands");
    assert!(!ann.contains_key("opsdeck.dev/bluegreen-previous"), "{ann:?}");
    endpoints_are(&c, "cart", &blue_ips).await;
    let entries = audit(&data).await;
    let last = entries.last().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str()), ("bluegreen.switch", "error"), "{entries:?}");
}

#[tokio::test]
async fn a_failing_smoke_check_stops_before_the_switch() {
    let cp = control_plane();
    let c = admin(cp).await;
    let kubeconfig = cp.get("KUBECONFIG");
    blue_live(&c, "pay", "bg-smoke").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let smoke = SmokeEndpoint::start(|path| async move {
        if path.starts_with("/ok") {
            200
        } else {
            503
        }
    })
    .await;
    let file = manifest(dir.path(), "pay", "bg-smoke");
    let (ok, bad) = (format!("{}/ok", smoke.url), format!("{}/broken", smoke.url));
    let mut args = bg("deploy", kubeconfig, "pay");
    args.extend(["-f", &file, "--smoke-url", &ok, "--smoke-url", &bad]);
    let (code, _, err) = opsdeck(&data, &args).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("smoke checks of colour green failed") && err.contains("/broken: HTTP 503"), "{err}");
    assert_eq!(selector(&c, "pay").await.0, "blue", "nothing switched");
    // The new colour is left running for inspection, and a later switch to it is still possible.
    pod_ips(&c, "pay", "green").await;
    let entries = audit(&data).await;
    let actions: Vec<(&str, &str)> = entries.iter().map(|(a, r, _)| (a.as_str(), r.as_str())).collect();
    assert_eq!(actions, vec![("bluegreen.deploy", "ok"), ("bluegreen.ready", "ok"), ("bluegreen.smoke", "error")]);

    // Deploying the live colour again is refused before anything is written.
    let live_file = dir.path().join("blue.yaml");
    std::fs::write(&live_file, serde_json::to_string(&colour_deployment("pay", "blue", "bg-smoke", "registry.local/web:3")).unwrap())
        .unwrap();
    let mut args = bg("deploy", kubeconfig, "pay");
    args.extend(["-f", live_file.to_str().unwrap()]);
    let (code, _, err) = opsdeck(&data, &args).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("colour blue is the live one"), "{err}");
}
