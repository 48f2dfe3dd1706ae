//! `opsdeck rollout` across three real clusters: three control planes that
//! run workloads (each its own etcd, kube-apiserver, controller-manager,
//! scheduler and KWOK; opsdeck_tests::workloads), one kubeconfig with a
//! context per cluster (east, west, south). Nothing sets a status by hand:
//! the Deployment controller rolls out, KWOK plays the kubelets, and its stage
//! rules make a node NotReady. The tests share the three clusters and take
//! turns (each needs every cluster healthy at its start, and a degraded
//! cluster would fail another's soak); each works in its own namespace.

use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use opsdeck_core::clusters::Verdict;
use opsdeck_tests::fleet::{deploy_v1, ensure_nodes, web_manifest, web_rolled_out as rolled_out, Fleet};
use opsdeck_tests::workloads::{label_node, node_ready, poll, NOT_READY_LABEL};
use serde_json::{json, Value};

const CLUSTERS: [&str; 3] = ["east", "west", "south"];
const LIMIT: Duration = Duration::from_secs(90);

fn fleet() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| Fleet::start(&CLUSTERS))
}

/// One test at a time on the fleet.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Every cluster with its fake nodes (pool "ro", two nodes; east also a
/// spare node no workload selects, the one a test makes NotReady), waited
/// until all three are Healthy. Returns the admin clients, in CLUSTERS order.
async fn ready_fleet() -> (String, Vec<Client>) {
    let f = fleet();
    let path = f.path();
    let clients = f.clients().await;
    for (i, c) in clients.iter().enumerate() {
        ensure_nodes(c, "ro", 2).await;
        if i == 0 {
            ensure_nodes(c, "spare", 1).await;
        }
    }
    let contexts: Vec<String> = CLUSTERS.iter().map(|s| s.to_string()).collect();
    poll("every cluster Healthy", LIMIT, || {
        let (path, contexts) = (path.clone(), contexts.clone());
        async move {
            let h = opsdeck_core::clusters::health::check_all(&path, &contexts, None, Duration::from_secs(10))
                .await
                .map_err(|e| e.to_string())?;
            if h.iter().all(|h| h.verdict == Verdict::Healthy) {
                Ok(())
            } else {
                Err(format!("{:?}", h.iter().map(|h| (&h.context, h.verdict, &h.findings)).collect::<Vec<_>>()))
            }
        }
    })
    .await;
    (path, clients)
}

/// What the user owns of an object, compared byte for byte: everything but
/// status and the server's bookkeeping (resourceVersion, generation,
/// managedFields) and the revision number the Deployment controller writes.
fn owned(v: &Value) -> Vec<u8> {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("status");
    let meta = v["metadata"].as_object_mut().unwrap();
    for k in ["resourceVersion", "generation", "managedFields"] {
        meta.remove(k);
    }
    if let Some(a) = meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
        a.remove("deployment.kubernetes.io/revision");
        if a.is_empty() {
            meta.remove("annotations");
        }
    }
    serde_json::to_vec(&v).unwrap()
}

/// Deployment web and ConfigMaps web-config, web-extra of `ns` on one cluster, as JSON (None: absent).
async fn objects(c: &Client, ns: &str) -> (Option<Value>, Option<Value>, Option<Value>) {
    let d = Api::<Deployment>::namespaced(c.clone(), ns).get_opt("web").await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), ns);
    let (cfg, extra) = (cms.get_opt("web-config").await.unwrap(), cms.get_opt("web-extra").await.unwrap());
    (
        d.map(|d| serde_json::to_value(d).unwrap()),
        cfg.map(|c| serde_json::to_value(c).unwrap()),
        extra.map(|c| serde_json::to_value(c).unwrap()),
    )
}

fn image_of(d: &Value) -> &str {
    d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap()
}

/// `opsdeck rollout` running: its progress lines (standard error) arrive on
/// the returned channel as they are printed.
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(data: &Path, args: &[&str]) -> Running {
        let mut child = opsdeck_tests::workspace::cli(data, "opsdeck-test-rollout")
            .arg("rollout")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start opsdeck rollout");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Running { child, lines, seen: vec![] }
    }

    /// Blocks until a progress line contains `needle` (at most `limit`); returns it.
    fn wait_line(&mut self, needle: &str, limit: Duration) -> String {
        let until = std::time::Instant::now() + limit;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => panic!("no progress line with {needle:?} within {limit:?}; seen:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Waits for the exit: (code, stdout, every progress line).
    fn finish(mut self) -> (i32, String, Vec<String>) {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut self.child.stdout.take().unwrap(), &mut out).unwrap();
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        self.seen.extend(self.lines.iter());
        (code, out, self.seen)
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn audit(data: &Path) -> Vec<(String, String, String)> {
    let out = opsdeck_tests::workspace::cli(data, "opsdeck-test-rollout")
        .args(["audit", "--format", "json", "--limit", "1000"])
        .output()
        .unwrap();
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().unwrap_or_default().starts_with("cluster.rollout"))
        .map(|e| (e["target"].as_str().unwrap().into(), e["action"].as_str().unwrap().into(), e["result"].as_str().unwrap().into()))
        .collect()
}

#[tokio::test]
async fn three_clusters_roll_out_wave_by_wave_and_the_junit_report_validates() {
    let _turn = TURN.lock().await;
    let (kubeconfig, clients) = ready_fleet().await;
    let ns = "ro-complete";
    deploy_v1(&clients, ns).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "web.yaml", &web_manifest(ns, "green", "registry.local/web:2", "ro", true, None));
    let junit = dir.path().join("rollout.xml");
    let run = Running::start(
        dir.path(),
        &[&file, "--kubeconfig", &kubeconfig, "--contexts", "east,west,south", "--waves", "canary=east,33%,rest", "--soak", "3s"]
            .into_iter()
            .chain(["--junit", junit.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let (code, out, lines) = run.finish();
    let log = lines.join("\n");
    assert_eq!(code, 0, "stdout:\n{out}\nprogress:\n{log}");

    // Waves in order: each starts after the previous one soaked healthy.
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?}:\n{log}"));
    assert!(at("wave 1 east: soaking") < at("wave 1 east: done"), "{log}");
    assert!(at("wave 1 east: done") < at("wave 2 (33%): west"), "{log}");
    assert!(at("wave 2 west: done") < at("wave 3 (rest): south"), "{log}");
    assert!(at("wave 3 south: done") < at("completed on 3 cluster(s)"), "{log}");
    for name in CLUSTERS {
        assert!(out.lines().any(|l| l.contains(name) && l.contains("DONE") && l.contains("ro-complete/web 2/2")), "{name}:\n{out}");
    }
    assert!(out.contains(": completed in"), "{out}");

    for c in &clients {
        let d = rolled_out(c, ns, "registry.local/web:2").await;
        assert_eq!(d.status.unwrap().available_replicas, Some(2));
        let (_, cfg, extra) = objects(c, ns).await;
        assert_eq!(cfg.unwrap()["data"]["mode"], "green");
        assert_eq!(extra.unwrap()["data"]["added"], "yes");
    }

    let xml = std::fs::read_to_string(&junit).unwrap();
    opsdeck_tests::junit::assert_valid(&xml);
    assert_eq!(xml.matches("<testsuite ").count(), 3, "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert!(!xml.contains("<failure") && !xml.contains("<skipped"), "{xml}");
    assert!(xml.contains(r#"name="wave-1 canary""#) && xml.contains(r#"classname="opsdeck.rollout.wave-3""#), "{xml}");

    // Every step audited on its context.
    let entries = audit(dir.path());
    for name in CLUSTERS {
        for action in ["cluster.rollout", "cluster.rollout.apply", "cluster.rollout.verify"] {
            assert!(entries.iter().any(|(t, a, r)| t == name && a == action && r == "ok"), "{name} {action}: {entries:?}");
        }
    }
}

#[tokio::test]
async fn a_cluster_degrading_during_its_soak_stops_the_rollout_and_auto_rollback_restores_the_saved_objects() {
    let _turn = TURN.lock().await;
    let (kubeconfig, clients) = ready_fleet().await;
    let ns = "ro-degrade";
    deploy_v1(&clients, ns).await;
    let mut before = Vec::new();
    for c in &clients {
        before.push(objects(c, ns).await);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "web.yaml", &web_manifest(ns, "green", "registry.local/web:2", "ro", true, None));
    let junit = dir.path().join("rollout.xml");
    let mut run = Running::start(
        dir.path(),
        &[&file, "--kubeconfig", &kubeconfig, "--contexts", "east,west,south", "--waves", "east,rest", "--soak", "60s", "--auto-rollback"]
            .into_iter()
            .chain(["--junit", junit.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    run.wait_line("wave 1 east: soaking", LIMIT);
    // The canary cluster loses a node while it soaks.
    label_node(&clients[0], "spare-0", NOT_READY_LABEL, Some("true")).await;
    let (code, out, lines) = run.finish();
    label_node(&clients[0], "spare-0", NOT_READY_LABEL, None).await;
    let log = lines.join("\n");
    assert_eq!(code, 1, "stdout:\n{out}\nprogress:\n{log}");
    assert!(log.contains("wave 1 east: failed: cluster \"east\" turned degraded during the soak: node spare-0 is NotReady"), "{log}");
    assert!(log.contains("east: rolled_back:"), "{log}");
    assert!(!log.contains("wave 2 west: applying"), "the second wave never started:\n{log}");
    assert!(out.lines().any(|l| l.contains("east") && l.contains("FAILED → ROLLED_BACK")), "{out}");
    assert!(
        out.lines().any(|l| l.contains("west") && l.contains("SKIPPED")) && out.contains("rolled back: every changed cluster"),
        "{out}"
    );

    // East has exactly the saved objects again, the created one deleted; west and south were never touched.
    let (d, cfg, extra) = objects(&clients[0], ns).await;
    let (d0, cfg0, _) = &before[0];
    assert_eq!(owned(&d.clone().unwrap()), owned(d0.as_ref().unwrap()), "deployment restored byte for byte");
    assert_eq!(owned(&cfg.clone().unwrap()), owned(cfg0.as_ref().unwrap()), "configmap restored byte for byte");
    assert_eq!(image_of(&d.unwrap()), "registry.local/web:1");
    assert_eq!(cfg.unwrap()["data"]["mode"], "blue");
    assert!(extra.is_none(), "the object the rollout created is deleted");
    for (i, c) in clients.iter().enumerate().skip(1) {
        let now = objects(c, ns).await;
        assert_eq!(now.0.as_ref().unwrap()["metadata"]["resourceVersion"], before[i].0.as_ref().unwrap()["metadata"]["resourceVersion"]);
        assert_eq!(now.1.as_ref().unwrap()["metadata"]["resourceVersion"], before[i].1.as_ref().unwrap()["metadata"]["resourceVersion"]);
        assert!(now.2.is_none());
    }
    // The restored Deployment rolls back to version 1 by itself.
    rolled_out(&clients[0], ns, "registry.local/web:1").await;

    let xml = std::fs::read_to_string(&junit).unwrap();
    opsdeck_tests::junit::assert_valid(&xml);
    assert_eq!((xml.matches("<failure").count(), xml.matches("<skipped").count()), (1, 2), "{xml}");
    assert!(xml.contains("node spare-0 is NotReady") && xml.contains("rollback ConfigMap ro-degrade/web-extra: deleted"), "{xml}");
    let entries = audit(dir.path());
    assert!(entries.iter().any(|(t, a, r)| t == "east" && a == "cluster.rollout.verify" && r != "ok"), "{entries:?}");
    assert!(entries.iter().any(|(t, a, r)| t == "east" && a == "cluster.rollout.rollback" && r == "ok"), "{entries:?}");
    assert!(!entries.iter().any(|(t, a, _)| t != "east" && a == "cluster.rollout.apply"), "{entries:?}");

    let nodes: Api<Node> = Api::all(clients[0].clone());
    poll("spare-0 Ready again", LIMIT, || async {
        let n = nodes.get("spare-0").await.map_err(|e| e.to_string())?;
        let taints = n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
        if node_ready(&n) == Some(true) && taints.is_empty() {
            Ok(())
        } else {
            Err(format!("{taints:?}"))
        }
    })
    .await;
}

#[tokio::test]
async fn a_missed_progress_deadline_fails_the_wave_and_the_offered_rollback_restores_it_later() {
    let _turn = TURN.lock().await;
    let (kubeconfig, clients) = ready_fleet().await;
    let ns = "ro-deadline";
    deploy_v1(&clients, ns).await;
    let before = objects(&clients[0], ns).await;
    let dir = tempfile::tempdir().unwrap();
    // Version 2 asks for nodes nobody has: its pods stay Pending, the controller gives up after 5 s.
    let file = write(dir.path(), "web.yaml", &web_manifest(ns, "green", "registry.local/web:2", "nowhere", true, Some(5)));
    let run = Running::start(
        dir.path(),
        &[&file, "--kubeconfig", &kubeconfig, "--contexts", "east,west,south", "--waves", "east,rest", "--soak", "2s", "--timeout", "2m"],
    );
    let (code, out, lines) = run.finish();
    let log = lines.join("\n");
    assert_eq!(code, 1, "stdout:\n{out}\nprogress:\n{log}");
    assert!(
        log.contains(
            "wave 1 east: failed: rollout failed on cluster \"east\": deployment ro-deadline/web: progress deadline exceeded (5 s)"
        ),
        "{log}"
    );
    let id = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("to roll the changed clusters back: opsdeck rollout --rollback "))
        .unwrap_or_else(|| panic!("no rollback offered:\n{out}"))
        .to_string();
    // Not rolled back yet: east runs the new template (stuck), the others the old one.
    let (d, _, extra) = objects(&clients[0], ns).await;
    assert_eq!(image_of(&d.unwrap()), "registry.local/web:2");
    assert!(extra.is_some());
    assert_eq!(image_of(&objects(&clients[1], ns).await.0.unwrap()), "registry.local/web:1");

    let rb = opsdeck_tests::workspace::cli(dir.path(), "opsdeck-test-rollout").args(["rollout", "--rollback", &id]).output().unwrap();
    let rb_out = String::from_utf8_lossy(&rb.stdout);
    assert_eq!(rb.status.code(), Some(0), "{rb_out}\n{}", String::from_utf8_lossy(&rb.stderr));
    assert!(
        rb_out.lines().any(|l| l.contains("east") && l.contains("ConfigMap ro-deadline/web-extra") && l.contains("deleted")),
        "{rb_out}"
    );
    assert!(rb_out.lines().any(|l| l.contains("Deployment ro-deadline/web") && l.contains("restored")), "{rb_out}");
    let (d, cfg, extra) = objects(&clients[0], ns).await;
    assert_eq!(owned(&d.unwrap()), owned(before.0.as_ref().unwrap()));
    assert_eq!(owned(&cfg.unwrap()), owned(before.1.as_ref().unwrap()));
    assert!(extra.is_none());
    rolled_out(&clients[0], ns, "registry.local/web:1").await;
    // A second rollback has nothing left to do.
    let again = opsdeck_tests::workspace::cli(dir.path(), "opsdeck-test-rollout").args(["rollout", "--rollback", &id]).output().unwrap();
    assert_eq!(again.status.code(), Some(1), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already rolled back"));
}

#[tokio::test]
async fn a_refused_review_or_an_unhealthy_cluster_writes_nothing_anywhere() {
    let _turn = TURN.lock().await;
    let (kubeconfig, clients) = ready_fleet().await;
    let ns = "ro-refused";
    deploy_v1(&clients, ns).await;
    let dir = tempfile::tempdir().unwrap();
    // A field another manager owns with another value: a conflict in the review of every cluster.
    for c in &clients {
        let patch = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config"}, "data": {"mode": "red"}});
        Api::<ConfigMap>::namespaced(c.clone(), ns)
            .patch("web-config", &PatchParams::apply("someone-else").force(), &Patch::Apply(&patch))
            .await
            .unwrap();
    }
    let before: Vec<_> = futures::future::join_all(clients.iter().map(|c| objects(c, ns))).await;
    let file = write(dir.path(), "web.yaml", &web_manifest(ns, "green", "registry.local/web:2", "ro", true, None));
    let run = Running::start(
        dir.path(),
        &[&file, "--kubeconfig", &kubeconfig, "--contexts", "east,west,south", "--waves", "east,rest", "--soak", "1s"],
    );
    let (code, out, lines) = run.finish();
    let log = lines.join("\n");
    assert_eq!(code, 1, "{out}\n{log}");
    assert!(log.contains("not applied on any cluster (nothing was written)") && log.contains("owned by someone-else"), "{log}");
    let after: Vec<_> = futures::future::join_all(clients.iter().map(|c| objects(c, ns))).await;
    assert_eq!(before, after, "nothing written");
    assert!(!dir.path().join("rollouts").exists() || std::fs::read_dir(dir.path().join("rollouts")).unwrap().next().is_none());
}

#[tokio::test]
async fn sigint_during_a_soak_stops_the_rollout_and_auto_rollback_puts_the_canary_back() {
    let _turn = TURN.lock().await;
    let (kubeconfig, clients) = ready_fleet().await;
    let ns = "ro-sigint";
    deploy_v1(&clients, ns).await;
    let before = objects(&clients[0], ns).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "web.yaml", &web_manifest(ns, "green", "registry.local/web:2", "ro", true, None));
    let mut run = Running::start(
        dir.path(),
        &[&file, "--kubeconfig", &kubeconfig, "--contexts", "east,west,south", "--waves", "east,rest", "--soak", "5m", "--auto-rollback"],
    );
    run.wait_line("wave 1 east: soaking", LIMIT);
    // SAFETY: kill(2) on the child's own pid.
    assert_eq!(unsafe { libc::kill(run.child.id() as i32, libc::SIGINT) }, 0);
    let (code, out, lines) = run.finish();
    let log = lines.join("\n");
    assert_eq!(code, 130, "stdout:\n{out}\nprogress:\n{log}");
    assert!(log.contains("stopping: the rollout stops at a safe point, then the changed clusters are rolled back"), "{log}");
    assert!(log.contains("wave 1 east: failed: stopped during the soak of cluster \"east\""), "{log}");
    assert!(out.contains(": STOPPED in") && out.contains("rolled back: every changed cluster"), "{out}");
    let (d, cfg, extra) = objects(&clients[0], ns).await;
    assert_eq!(owned(&d.unwrap()), owned(before.0.as_ref().unwrap()));
    assert_eq!(owned(&cfg.unwrap()), owned(before.1.as_ref().unwrap()));
    assert!(extra.is_none());
    assert_eq!(image_of(&objects(&clients[1], ns).await.0.unwrap()), "registry.local/web:1");
    rolled_out(&clients[0], ns, "registry.local/web:1").await;
}
