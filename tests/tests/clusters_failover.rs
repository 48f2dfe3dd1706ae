//! `opsdeck failover` across three control planes that run workloads
//! (kube-apiserver, controller-manager, scheduler, KWOK): `src` holds a
//! Deployment marked for failover; `full` is healthy but its nodes are taken
//! by another workload's requests; `roomy` is healthy with room. The source
//! degrades (its nodes made NotReady by KWOK's stage rule), then becomes
//! unreachable (its API server stopped with SIGSTOP): each time the marked
//! workload is re-created on `roomy` (not `full`), becomes available there,
//! the hook runs (its effect checked), and failback removes the copy once the
//! source serves the workload again, not before.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::api::{Api, PostParams};
use kube::Client;
use opsdeck_tests::service::Service;
use opsdeck_tests::workloads::PROGRESS;
use opsdeck_tests::workloads::{control_plane, fake_nodes, label_node, node_ready, poll, NOT_READY_LABEL};
use serde_json::{json, Value};

fn cluster(name: &str, s: &Service) -> String {
    format!("- name: {name}\n  cluster:\n    server: {}\n    certificate-authority: {}\n", s.get("KUBE_SERVER"), s.get("KUBE_CA"))
}

fn user(name: &str, s: &Service) -> String {
    format!("- name: {name}\n  user:\n    token: {}\n", s.get("KUBE_ADMIN_TOKEN"))
}

fn deployment(ns: &str, name: &str, replicas: i32, cpu: &str, marked: bool) -> Deployment {
    let labels = if marked { json!({"app": name, "opsdeck.dev/failover": "true"}) } else { json!({"app": name}) };
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "c", "image": format!("registry.local/{name}:1"),
                                                  "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]}}
        }
    }))
    .unwrap()
}

async fn available(c: &Client, ns: &str, name: &str, want: i32) -> Deployment {
    let api: Api<Deployment> = Api::namespaced(c.clone(), ns);
    poll(&format!("{ns}/{name} has {want} available"), PROGRESS, || async {
        let d = api.get(name).await.map_err(|e| e.to_string())?;
        let st = d.status.clone().unwrap_or_default();
        if st.available_replicas.unwrap_or(0) == want && st.ready_replicas.unwrap_or(0) == want {
            Ok(d)
        } else {
            Err(format!("{st:?}"))
        }
    })
    .await
}

async fn gone(c: &Client, ns: &str, name: &str) {
    let api: Api<Deployment> = Api::namespaced(c.clone(), ns);
    poll(&format!("{ns}/{name} removed"), PROGRESS, || async {
        match api.get_opt(name).await.map_err(|e| e.to_string())? {
            None => Ok(()),
            Some(_) => Err("still there".into()),
        }
    })
    .await;
}

struct Fixture {
    _dir: tempfile::TempDir,
    kubeconfig: String,
    data: std::path::PathBuf,
    hook_log: std::path::PathBuf,
    hook_json: std::path::PathBuf,
}

impl Fixture {
    async fn opsdeck(&self, args: &[&str]) -> (i32, String, String) {
        let out = tokio::process::Command::new(opsdeck_tests::workspace::cli_bin())
            .env("OPSDECK_DATA_DIR", &self.data)
            .env("OPSDECK_KEYCHAIN_SERVICE", "opsdeck-test-failover")
            .args(args)
            .output()
            .await
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
    }

    async fn failover(&self, cmd: &str, extra: &[&str]) -> (i32, String, String) {
        let hook = format!(
            "printf '%s %s %s\\n' \"$OPSDECK_FAILOVER_ACTION\" \"$OPSDECK_FAILOVER_SOURCE\" \"$OPSDECK_FAILOVER_TARGETS\" >> '{}'; cat > '{}'",
            self.hook_log.display(),
            self.hook_json.display()
        );
        let mut args = vec!["failover", cmd, "--kubeconfig", &self.kubeconfig, "--source", "src", "--timeout", "4", "--format", "json"];
        if cmd != "plan" {
            args.extend(["--hook-cmd", &hook, "--ready-timeout", "90"]);
        }
        args.extend(extra);
        self.opsdeck(&args).await
    }

    async fn plan(&self) -> Value {
        let (code, out, err) = self.failover("plan", &[]).await;
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    }

    fn hook_lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.hook_log).unwrap_or_default().lines().map(String::from).collect()
    }

    /// (action, result, target) of the failover audit entries, oldest first.
    async fn audit(&self) -> Vec<(String, String, String)> {
        let (code, out, err) = self.opsdeck(&["audit", "--format", "json", "--limit", "200"]).await;
        assert_eq!(code, 0, "{err}");
        let page: Value = serde_json::from_str(&out).unwrap();
        let mut v: Vec<(String, String, String)> = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("failover.")))
            .map(|e| (e["action"].as_str().unwrap().into(), e["result"].as_str().unwrap().into(), e["target"].as_str().unwrap().into()))
            .collect();
        v.reverse();
        v
    }
}

/// SIGCONT for a stopped API server, also when the test fails midway.
struct Thaw(u32);
impl Drop for Thaw {
    fn drop(&mut self) {
        unsafe { libc::kill(self.0 as i32, libc::SIGCONT) };
    }
}

#[tokio::test]
async fn marked_workloads_fail_over_to_the_healthy_cluster_with_room_and_back() {
    let full_svc = control_plane();
    let src_svc = Service::start_with_args("kube-apiserver", &["--workloads"], &[]);
    let roomy_svc = Service::start_with_args("kube-apiserver", &["--workloads"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("three.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{}{}{}users:\n{}{}{}contexts:\n- name: src\n  context: {{cluster: src, user: src}}\n- name: full\n  context: {{cluster: full, user: full}}\n- name: roomy\n  context: {{cluster: roomy, user: roomy}}\ncurrent-context: src\n",
            cluster("src", &src_svc),
            cluster("full", full_svc),
            cluster("roomy", &roomy_svc),
            user("src", &src_svc),
            user("full", full_svc),
            user("roomy", &roomy_svc),
        ),
    )
    .unwrap();
    let path = kubeconfig.display().to_string();
    let f = Fixture {
        kubeconfig: path.clone(),
        data: dir.path().join("data"),
        hook_log: dir.path().join("hook.log"),
        hook_json: dir.path().join("hook.json"),
        _dir: dir,
    };
    let (src, full, roomy) = (
        opsdeck_tests::clusters::client(&path, "src").await,
        opsdeck_tests::clusters::client(&path, "full").await,
        opsdeck_tests::clusters::client(&path, "roomy").await,
    );
    let src_nodes = fake_nodes(&src, "fo-src", 2).await;
    fake_nodes(&full, "fo-full", 2).await;
    fake_nodes(&roomy, "fo-roomy", 2).await;
    // KWOK nodes have 1000 CPUs each: full's two nodes hold 800 requested by
    // another workload each (400 left in all, 200 per node); roomy has 2000 free.
    Api::<Deployment>::namespaced(full.clone(), "default")
        .create(&PostParams::default(), &deployment("default", "filler", 2, "800", false))
        .await
        .unwrap();
    available(&full, "default", "filler", 2).await;
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "shop"}})).unwrap();
    Api::<Namespace>::all(src.clone()).create(&PostParams::default(), &ns).await.unwrap();
    let src_deploys: Api<Deployment> = Api::namespaced(src.clone(), "shop");
    src_deploys.create(&PostParams::default(), &deployment("shop", "api", 2, "600", true)).await.unwrap();
    src_deploys.create(&PostParams::default(), &deployment("shop", "batch", 1, "1", false)).await.unwrap();
    available(&src, "shop", "api", 2).await;
    available(&src, "shop", "batch", 1).await;

    // Healthy source: the preview says where and why, and a run refuses.
    let plan = poll("the source is healthy in the plan", PROGRESS, || async {
        let p = f.plan().await;
        if p["source_verdict"] == "healthy" {
            Ok(p)
        } else {
            Err(p.to_string())
        }
    })
    .await;
    assert_eq!((plan["needed"].as_bool(), plan["specs_from"].as_str()), (Some(false), Some("live")), "{plan}");
    let placements = plan["placements"].as_array().unwrap();
    assert_eq!(placements.len(), 1, "only the marked workload: {plan}");
    assert_eq!((placements[0]["name"].as_str(), placements[0]["target"].as_str()), (Some("api"), Some("roomy")), "{plan}");
    let why = placements[0]["why"].as_str().unwrap();
    assert!(why.contains("needs 1200 CPU") && why.contains("roomy is healthy with 2000 CPU") && why.contains("full has 400 CPU"), "{why}");
    let (code, _, err) = f.failover("run", &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("source src is healthy: nothing to fail over"), "{err}");

    // 1. The source's nodes go NotReady: Degraded, marked workloads read live.
    for n in &src_nodes {
        label_node(&src, n, NOT_READY_LABEL, Some("true")).await;
    }
    let plan = poll("the source is degraded", PROGRESS, || async {
        let p = f.plan().await;
        if p["source_verdict"] == "degraded" {
            Ok(p)
        } else {
            Err(p["source_verdict"].to_string())
        }
    })
    .await;
    assert!(plan["source_reasons"].to_string().contains("NotReady"), "{plan}");
    let (code, out, err) = f.failover("run", &[]).await;
    assert_eq!(code, 0, "run: {err}\n{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["copies"][0]["target"], "roomy", "{report}");
    assert_eq!(report["hook"]["ok"], true, "{report}");
    let copy = available(&roomy, "shop", "api", 2).await;
    let labels = copy.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("opsdeck.dev/failover-copy").map(String::as_str), Some("true"));
    assert!(!labels.contains_key("opsdeck.dev/failover"), "a copy is not marked itself");
    assert_eq!(copy.metadata.annotations.clone().unwrap_or_default().get("opsdeck.dev/failover-source").map(String::as_str), Some("src"));
    assert!(Api::<Deployment>::namespaced(full.clone(), "shop").get_opt("api").await.unwrap().is_none(), "nothing on full");
    assert!(Api::<Deployment>::namespaced(roomy.clone(), "shop").get_opt("batch").await.unwrap().is_none(), "unmarked stays");
    // The hook's effect: it was told what moved where.
    assert_eq!(f.hook_lines(), vec!["failover src roomy".to_string()]);
    let told: Value = serde_json::from_str(&std::fs::read_to_string(&f.hook_json).unwrap()).unwrap();
    assert_eq!(told["workloads"], json!([{"namespace": "shop", "name": "api", "target": "roomy"}]), "{told}");

    // Failback while the source is still degraded: refused, the copy kept.
    let (code, _, err) = f.failover("failback", &[]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("source src is still degraded") && err.contains("copies kept"), "{err}");
    assert!(Api::<Deployment>::namespaced(roomy.clone(), "shop").get_opt("api").await.unwrap().is_some());
    assert_eq!(f.hook_lines().len(), 1, "no failback hook before the source serves");

    // The source recovers: failback runs the hook, then removes the copy.
    for n in &src_nodes {
        label_node(&src, n, NOT_READY_LABEL, None).await;
    }
    let nodes: Api<Node> = Api::all(src.clone());
    for n in &src_nodes {
        poll("source node Ready", PROGRESS, || async {
            let node = nodes.get(n).await.map_err(|e| e.to_string())?;
            if node_ready(&node) == Some(true) {
                Ok(())
            } else {
                Err("not ready".into())
            }
        })
        .await;
    }
    poll("the source is healthy again", PROGRESS, || async {
        let p = f.plan().await;
        if p["source_verdict"] == "healthy" {
            Ok(())
        } else {
            Err(p["source_reasons"].to_string())
        }
    })
    .await;
    let (code, out, err) = f.failover("failback", &[]).await;
    assert_eq!(code, 0, "failback: {err}\n{out}");
    gone(&roomy, "shop", "api").await;
    assert_eq!(f.hook_lines(), vec!["failover src roomy".to_string(), "failback src roomy".to_string()]);
    available(&src, "shop", "api", 2).await;

    // 2. The source's API server stops answering: the workloads come from the cache.
    let plan = f.plan().await;
    assert_eq!(plan["specs_from"], "live");
    let pid: u32 = src_svc.get("KUBE_APISERVER_PID").parse().unwrap();
    let thaw = Thaw(pid);
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGSTOP) }, 0);
    let (code, out, err) = f.failover("run", &[]).await;
    assert_eq!(code, 0, "run on an unreachable source: {err}\n{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((report["plan"]["source_verdict"].as_str(), report["plan"]["specs_from"].as_str()), (Some("unreachable"), Some("cache")));
    assert_eq!(report["copies"][0]["target"], "roomy", "{report}");
    available(&roomy, "shop", "api", 2).await;
    assert_eq!(f.hook_lines().last().map(String::as_str), Some("failover src roomy"));
    // Still stopped: failback refuses and keeps the copy.
    let (code, _, err) = f.failover("failback", &[]).await;
    assert_ne!(code, 0);
    assert!(err.contains("still unreachable") && err.contains("copies kept"), "{err}");
    drop(thaw); // SIGCONT: the source answers again
    let (code, _, err) = f.failover("failback", &[]).await;
    assert_eq!(code, 0, "failback after the API server is back: {err}");
    gone(&roomy, "shop", "api").await;
    assert_eq!(f.hook_lines().len(), 4, "{:?}", f.hook_lines());

    let actions: Vec<(String, String, String)> = f.audit().await;
    let short: Vec<(&str, &str, &str)> = actions.iter().map(|(a, r, t)| (a.as_str(), r.as_str(), t.as_str())).collect();
    assert_eq!(
        short,
        vec![
            ("failover.run", "error", "src"),
            ("failover.copy", "ok", "roomy"),
            ("failover.hook", "ok", "src"),
            ("failover.run", "ok", "src"),
            ("failover.failback", "error", "src"),
            ("failover.hook", "ok", "src"),
            ("failover.failback", "ok", "src"),
            ("failover.copy", "ok", "roomy"),
            ("failover.hook", "ok", "src"),
            ("failover.run", "ok", "src"),
            ("failover.failback", "error", "src"),
            ("failover.hook", "ok", "src"),
            ("failover.failback", "ok", "src"),
        ]
    );
}
