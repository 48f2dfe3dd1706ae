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
use opsdeck_tests::workloads::PROGRESS;
use opsdeck_tests::workloads::{label_node, node_ready, poll, NOT_READY_LABEL};
use serde_json::{json, Value};

const CLUSTERS: [&str; 3] = ["east", "west", "south"];

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
    poll("every cluster Healthy", PROGRESS, || {
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
    run.wait_line("wave 1 east: soaking", PROGRESS);
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
    poll("spare-0 Ready again", PROGRESS, || async {
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

    // The rollback put the fields back as Opsdeck's own (a forced apply, not a replace under another
    // manager): the next rollout of these objects is reviewed clean instead of refused as a conflict.
    let fixed = write(dir.path(), "web3.yaml", &web_manifest(ns, "green", "registry.local/web:3", "ro", false, None));
    let run = Running::start(
        dir.path(),
        &[&fixed, "--kubeconfig", &kubeconfig, "--contexts", "east", "--waves", "east", "--soak", "1s", "--timeout", "2m"],
    );
    let (code, out, lines) = run.finish();
    assert_eq!(code, 0, "stdout:\n{out}\nprogress:\n{}", lines.join("\n"));
    rolled_out(&clients[0], ns, "registry.local/web:3").await;
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
    run.wait_line("wave 1 east: soaking", PROGRESS);
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

/// Base64 as the API server stores a Secret's data (k8s-openapi's ByteString).
fn b64(s: &str) -> String {
    serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec())).unwrap().as_str().unwrap().to_string()
}

/// Every file under `dir` (the data directory: rollback records, SQLite and
/// its WAL, anything else) that holds one of `needles`, with the needle.
fn files_holding(dir: &Path, needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().map(Result::unwrap) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap_or_default();
            for n in needles {
                if bytes.windows(n.len()).any(|w| w == n.as_bytes()) {
                    found.push(format!("{} holds {n}", p.display()));
                }
            }
        }
    }
    found
}

fn secret_password(s: &Value) -> String {
    let v: k8s_openapi::ByteString = serde_json::from_value(s["data"]["password"].clone()).unwrap();
    String::from_utf8(v.0).unwrap()
}

/// Namespace `ns` with version 1 of the web manifest on every cluster and, on
/// east, Secret web-secret holding `old` as an earlier apply left it (data, and
/// kubectl's last-applied annotation holding the value too); writes the
/// manifest of version 2 with the Secret holding `new` into `dir`. Returns the
/// file and the Secret as it is.
async fn secret_fixture(clients: &[Client], ns: &str, old: &str, new: &str, dir: &Path) -> (String, Value) {
    deploy_v1(clients, ns).await;
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(clients[0].clone(), ns);
    let last_applied = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-secret", "namespace": ns},
                              "stringData": {"password": old}})
    .to_string();
    let v1 = json!({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": "web-secret", "namespace": ns,
                                 "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
                    "data": {"password": b64(old)}});
    secrets.patch("web-secret", &PatchParams::apply("opsdeck"), &Patch::Apply(&v1)).await.unwrap();
    let before = serde_json::to_value(secrets.get("web-secret").await.unwrap()).unwrap();
    let secret_doc = serde_norway::to_string(&json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "web-secret", "namespace": ns}, "data": {"password": b64(new)}}))
    .unwrap();
    let manifest = format!("{}---\n{secret_doc}", web_manifest(ns, "green", "registry.local/web:2", "ro", true, None));
    (write(dir, &format!("{ns}.yaml"), &manifest), before)
}

#[tokio::test]
async fn a_secrets_saved_data_lives_only_in_the_keychain_and_is_rolled_back_from_there_until_pruned() {
    let _turn = TURN.lock().await;
    let (kubeconfig, clients) = ready_fleet().await;
    let ns = "ro-secret";
    let east = &clients[0];
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(east.clone(), ns);
    let (old, new) = ("before-S3cr3t-9f1c", "after-S3cr3t-77ab");
    let data = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let (file, before) = secret_fixture(&clients, ns, old, new, src.path()).await;
    let rollout = |data: &Path, file: &str| {
        opsdeck_tests::workspace::cli(data, "opsdeck-test-rollout")
            .env("OPSDECK_LOG", "debug")
            .args(["rollout", file, "--kubeconfig", &kubeconfig, "--contexts", "east", "--soak", "0"])
            .output()
            .unwrap()
    };
    let out = rollout(data.path(), &file);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(secret_password(&serde_json::to_value(secrets.get("web-secret").await.unwrap()).unwrap()), new);
    let id = stdout.lines().find_map(|l| l.strip_prefix("rollout ")?.split(':').next()).unwrap().to_string();

    // Neither value, plain or base64, in the record, SQLite (audit) or the debug log.
    let needles: Vec<String> = vec![old.into(), b64(old), new.into(), b64(new)];
    assert_eq!(files_holding(data.path(), &needles), Vec::<String>::new());
    for n in &needles {
        assert!(!stdout.contains(n.as_str()) && !stderr.contains(n.as_str()), "{n} in the CLI's output:\n{stdout}\n{stderr}");
    }
    // The record keeps the Secret without its data, naming the keychain entry that has it.
    let record: Value = serde_json::from_slice(&std::fs::read(data.path().join(format!("rollouts/{id}.json"))).unwrap()).unwrap();
    let saved = record["saved"]["east"].as_array().unwrap();
    let s = saved.iter().find(|o| o["kind"] == "Secret").unwrap();
    assert!(
        s["before"].get("data").is_none()
            && s["before"]["metadata"]["annotations"].get("kubectl.kubernetes.io/last-applied-configuration").is_none(),
        "{s}"
    );
    let account = s["secret_account"].as_str().unwrap().to_string();
    let keychain = opsdeck_core::secrets::Keychain::new("opsdeck-test-rollout");
    assert!(keychain.get(&account).await.unwrap().unwrap().expose().contains(&b64(old)));

    // Rolled back from the keychain: the Secret byte for byte, the Deployment waited for.
    let rb = opsdeck_tests::workspace::cli(data.path(), "opsdeck-test-rollout").args(["rollout", "--rollback", &id]).output().unwrap();
    let (rb_out, rb_err) = (String::from_utf8_lossy(&rb.stdout), String::from_utf8_lossy(&rb.stderr));
    assert_eq!(rb.status.code(), Some(0), "{rb_out}\n{rb_err}");
    assert!(rb_out.lines().any(|l| l.contains("Secret ro-secret/web-secret") && l.contains("restored")), "{rb_out}");
    assert!(rb_err.contains("waiting for deployment ro-secret/web to roll out"), "{rb_err}");
    let after = serde_json::to_value(secrets.get("web-secret").await.unwrap()).unwrap();
    assert_eq!(owned(&after), owned(&before));
    rolled_out(east, ns, "registry.local/web:1").await;
    // Every cluster rolled back: the record cannot be used again, its Secret data is gone from the keychain.
    assert!(keychain.get(&account).await.unwrap().is_none());
    assert_eq!(files_holding(data.path(), &needles), Vec::<String>::new());

    // A second rollout (in another namespace) whose Secret data is taken from the keychain: the rollback
    // leaves that Secret alone, saying so.
    let ns = "ro-secret-2";
    let (file, _) = secret_fixture(&clients, ns, old, new, src.path()).await;
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(east.clone(), ns);
    let out = rollout(data.path(), &file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let id2 = stdout.lines().find_map(|l| l.strip_prefix("rollout ")?.split(':').next()).unwrap().to_string();
    let list =
        opsdeck_tests::workspace::cli(data.path(), "opsdeck-test-rollout").args(["rollout", "list", "--format", "json"]).output().unwrap();
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let listed: Vec<(&str, u64, u64, usize)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["objects"].as_u64().unwrap(),
                r["secrets"].as_u64().unwrap(),
                r["rolled_back"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(listed, vec![(id.as_str(), 4, 1, 1), (id2.as_str(), 4, 1, 0)]);
    let record: Value = serde_json::from_slice(&std::fs::read(data.path().join(format!("rollouts/{id2}.json"))).unwrap()).unwrap();
    let account2 = record["saved"]["east"].as_array().unwrap().iter().find_map(|o| o["secret_account"].as_str()).unwrap().to_string();
    keychain.delete(&account2).await.unwrap();
    let rb = opsdeck_tests::workspace::cli(data.path(), "opsdeck-test-rollout").args(["rollout", "--rollback", &id2]).output().unwrap();
    let rb_out = String::from_utf8_lossy(&rb.stdout);
    assert_eq!(rb.status.code(), Some(1), "{rb_out}");
    assert!(
        rb_out
            .lines()
            .any(|l| l.contains("Secret ro-secret-2/web-secret") && l.contains("not restored: its data is no longer in the keychain")),
        "{rb_out}"
    );
    assert!(rb_out.lines().any(|l| l.contains("Deployment ro-secret-2/web") && l.contains("restored")), "{rb_out}");
    assert_eq!(
        secret_password(&serde_json::to_value(secrets.get("web-secret").await.unwrap()).unwrap()),
        new,
        "left as it is, not emptied"
    );

    // Pruning: nothing is younger than a day's age; `0` deletes both records.
    let prune = |age: &str| {
        let out = opsdeck_tests::workspace::cli(data.path(), "opsdeck-test-rollout")
            .args(["rollout", "prune", "--older-than", age, "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().len()
    };
    assert_eq!(prune("1d"), 0);
    assert_eq!(prune("0"), 2);
    assert_eq!(std::fs::read_dir(data.path().join("rollouts")).unwrap().count(), 0);
    let bad = opsdeck_tests::workspace::cli(data.path(), "opsdeck-test-rollout")
        .args(["rollout", "prune", "--older-than", "soon"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(audit(data.path()).iter().any(|(t, a, r)| t == "rollouts" && a == "cluster.rollout.prune" && r == "ok"));
}
