//! Clusters at scale (issue 16, "Benchmarks"): the steps of
//! `scripts/bench/clusters-scale.sh`, which starts the API servers (and KWOK)
//! and calls this binary once per step, so that the live view's process
//! holds nothing but the live view when its memory is sampled.
//!
//!   bench-clusters-scale seed KUBECONFIG CONTEXT NODES PODS kwok|status
//!       NODES nodes and PODS pods bound to them (spec.nodeName, 10 % in
//!       kube-system, the rest in "apps"), 64 requests in flight. `kwok`: the
//!       nodes carry KWOK's annotation and KWOK plays their kubelets (waits
//!       until every node is Ready and every pod Running); `status`: node and
//!       pod status are written through the status subresource (no KWOK).
//!   bench-clusters-scale compare KUBECONFIG RUNS CONTEXT...
//!       `opsdeck health` over CONTEXT... (one process) vs `kubectl get
//!       nodes,pods -A` per context (one process each, one after the other,
//!       default --chunk-size 500 and --chunk-size 0): wall time and peak RSS.
//!   bench-clusters-scale live KUBECONFIG SECONDS CONTEXT...
//!       the backend's live view (opsdeck_core::clusters::live::watch, what
//!       the app runs, without the UI) for SECONDS; this process's RSS every
//!       10 s, verdicts received per interval.
//!   bench-clusters-scale churn KUBECONFIG CONTEXT RATE SECONDS
//!       RATE pod creations and RATE deletions per second (each pod lives
//!       10 s; 1 in 10 in kube-system) on the KWOK nodes of `seed`.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use opsdeck_tests::bench::{median, timed_status};
use opsdeck_tests::workspace;
use serde_json::json;

const IN_FLIGHT: usize = 64;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = |i: usize| args.get(i).cloned().unwrap_or_else(|| panic!("missing argument {i}; see the header of {}", file!()));
    let n = |i: usize| a(i).parse::<usize>().unwrap_or_else(|_| panic!("argument {i} is not a number"));
    match a(0).as_str() {
        "seed" => seed(&a(1), &a(2), n(3), n(4), a(5) == "kwok").await,
        "compare" => compare(&a(1), n(2), &args[3..]),
        "live" => live(&a(1), n(2) as u64, args[3..].to_vec()).await,
        "churn" => churn(&a(1), &a(2), n(3) as u64, n(4) as u64).await,
        other => panic!("unknown step {other}"),
    }
}

async fn client(kubeconfig: &str, context: &str) -> Client {
    let kc = Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    let opts = KubeConfigOptions { context: Some(context.into()), ..Default::default() };
    let mut cfg = Config::from_custom_kubeconfig(kc, &opts).await.expect("context");
    cfg.read_timeout = Some(Duration::from_secs(120));
    Client::try_from(cfg).expect("client")
}

fn node_name(i: usize) -> String {
    format!("node-{i:04}")
}

fn pod(name: &str, node: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "scale"}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "registry.local/app:1",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
    }))
    .expect("pod object")
}

fn namespace_of(i: usize) -> &'static str {
    if i.is_multiple_of(10) {
        "kube-system"
    } else {
        "apps"
    }
}

async fn seed(kubeconfig: &str, context: &str, nodes: usize, pods: usize, kwok: bool) {
    let c = client(kubeconfig, context).await;
    let t = Instant::now();
    let ns = serde_json::from_value(json!({"metadata": {"name": "apps"}})).expect("namespace");
    let _ = Api::<Namespace>::all(c.clone()).create(&PostParams::default(), &ns).await;
    let ready = json!({"status": {
        "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-12-05T00:00:00Z", "lastTransitionTime": "2026-12-05T00:00:00Z"}],
        "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"}, "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"}}});
    stream::iter(0..nodes)
        .for_each_concurrent(IN_FLIGHT, |i| {
            let (api, ready) = (Api::<Node>::all(c.clone()), &ready);
            async move {
                let name = node_name(i);
                let mut meta = json!({"name": name, "labels": {"kubernetes.io/hostname": name, "node-role.kubernetes.io/worker": ""}});
                if kwok {
                    meta["annotations"] = json!({"kwok.x-k8s.io/node": "fake"});
                }
                let node = serde_json::from_value(json!({ "metadata": meta })).expect("node object");
                match api.create(&PostParams::default(), &node).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(e)) if e.code == 409 => {}
                    Err(e) => panic!("create node {name}: {e}"),
                }
                if !kwok {
                    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(ready)).await.expect("node status");
                }
            }
        })
        .await;
    let t_nodes = t.elapsed();
    let running = json!({"status": {"phase": "Running", "podIP": "10.244.0.1", "startTime": "2026-12-05T00:00:00Z",
        "conditions": [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}],
        "containerStatuses": [{"name": "c", "image": "registry.local/app:1", "imageID": "", "ready": true, "restartCount": 0,
            "started": true, "state": {"running": {"startedAt": "2026-12-05T00:00:00Z"}}}]}});
    let done = AtomicU64::new(0);
    stream::iter(0..pods)
        .for_each_concurrent(IN_FLIGHT, |i| {
            let api: Api<Pod> = Api::namespaced(c.clone(), namespace_of(i));
            let (running, done) = (&running, &done);
            async move {
                let name = format!("pod-{i:05}");
                match api.create(&PostParams::default(), &pod(&name, &node_name(i % nodes))).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(e)) if e.code == 409 => {}
                    Err(e) => panic!("create pod {name}: {e}"),
                }
                if !kwok {
                    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(running)).await.expect("pod status");
                }
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d.is_multiple_of(5000) {
                    eprintln!("  {d} pods created ({:.0} s)", t.elapsed().as_secs_f64());
                }
            }
        })
        .await;
    let t_pods = t.elapsed();
    if kwok {
        // KWOK's stages: nodes Ready, then every pod Running.
        wait_for(&c, "nodes not Ready", || async {
            let l = Api::<Node>::all(c.clone()).list(&ListParams::default()).await.map_err(|e| e.to_string())?;
            Ok(l.items.iter().filter(|n| !opsdeck_tests::workloads::node_ready(n).unwrap_or(false)).count())
        })
        .await;
        wait_for(&c, "pods not Running", || async {
            let mut left = 0;
            let mut lp = ListParams::default().fields("status.phase!=Running").limit(500);
            loop {
                let l = Api::<Pod>::all(c.clone()).list_metadata(&lp).await.map_err(|e| e.to_string())?;
                left += l.items.len();
                match l.metadata.continue_ {
                    Some(t) if !t.is_empty() => lp = lp.continue_token(&t),
                    _ => break,
                }
            }
            Ok(left)
        })
        .await;
    }
    eprintln!(
        "seeded {nodes} nodes ({:.1} s) and {pods} pods ({:.1} s){} in {:.1} s",
        t_nodes.as_secs_f64(),
        (t_pods - t_nodes).as_secs_f64(),
        if kwok { ", all Running through KWOK," } else { " with status written through the API" },
        t.elapsed().as_secs_f64()
    );
}

/// Polls `left` every 2 s until it says 0 (at most 15 minutes).
async fn wait_for<F, Fut>(_c: &Client, what: &str, mut left: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, String>>,
{
    let t = Instant::now();
    loop {
        match left().await {
            Ok(0) => return,
            Ok(n) => eprintln!("  {n} {what} ({:.0} s)", t.elapsed().as_secs_f64()),
            Err(e) => eprintln!("  {what}: {e}"),
        }
        assert!(t.elapsed() < Duration::from_secs(900), "{what}: still some after 15 minutes");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Wall time (ms), peak RSS (MiB) and exit code of each run; median / max.
struct Runs {
    ms: Vec<Duration>,
    kb: u64,
    codes: Vec<i32>,
}

impl Runs {
    fn new() -> Self {
        Runs { ms: vec![], kb: 0, codes: vec![] }
    }
    fn add(&mut self, (t, kb, status, err): (Duration, u64, std::process::ExitStatus, String)) {
        let code = status.code().unwrap_or(-1);
        if code != 0 {
            eprintln!("  exit {code}: {}", err.lines().rev().nth(1).unwrap_or(""));
        }
        self.ms.push(t);
        self.kb = self.kb.max(kb);
        self.codes.push(code);
    }
    fn cell(&self) -> String {
        let mut codes = self.codes.clone();
        codes.dedup();
        format!("{:.0} ms / {} MiB (exit {:?})", median(self.ms.clone()), self.kb / 1024, codes)
    }
}

fn compare(kubeconfig: &str, runs: usize, contexts: &[String]) {
    let opsdeck = workspace::target_dir().join("release/opsdeck");
    assert!(opsdeck.exists(), "build it: cargo build --release -p opsdeck-cli --bin opsdeck");
    let mut health = vec!["health".to_string(), "--kubeconfig".into(), kubeconfig.into(), "--format".into(), "json".into()];
    health.extend(["--timeout".into(), "120".into()]);
    for c in contexts {
        health.extend(["--context".into(), c.clone()]);
    }
    // What the verdict says (not timed): the row is meaningless if it is not a verdict.
    let out = Command::new(&opsdeck).args(&health).output().expect("opsdeck");
    let verdicts: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("opsdeck health printed no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    let list = verdicts.as_array().cloned().or_else(|| verdicts["clusters"].as_array().cloned()).unwrap_or_default();
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for v in &list {
        *seen.entry(v["verdict"].as_str().unwrap_or("?").to_string()).or_default() += 1;
    }
    let nodes: u64 = list.iter().map(|v| v["nodes"]["total"].as_u64().unwrap_or(0)).sum();
    eprintln!("opsdeck health: {} contexts, verdicts {seen:?}, {nodes} nodes in total", list.len());

    let (mut ours, mut paged, mut whole) = (Runs::new(), Runs::new(), Runs::new());
    for r in 0..runs {
        ours.add(timed_status(Command::new(&opsdeck).args(&health)));
        // kubectl: one process per context, one after the other (a shell loop).
        for chunk in ["500", "0"] {
            let t = Instant::now();
            let (mut kb, mut codes) = (0, vec![]);
            for c in contexts {
                let (_, k, status, err) = timed_status(Command::new("kubectl").args([
                    "--kubeconfig",
                    kubeconfig,
                    "--context",
                    c,
                    "get",
                    "nodes,pods",
                    "-A",
                    "--chunk-size",
                    chunk,
                    "--request-timeout",
                    "120s",
                ]));
                kb = kb.max(k);
                if !status.success() {
                    eprintln!("  kubectl {c}: {}", err.lines().rev().nth(1).unwrap_or(""));
                }
                codes.push(status);
            }
            let status = codes.into_iter().find(|s| !s.success()).unwrap_or_default();
            let runs = if chunk == "500" { &mut paged } else { &mut whole };
            runs.add((t.elapsed(), kb, status, String::new()));
        }
        eprintln!("  run {} of {runs}", r + 1);
    }
    println!("| {} context(s), median of {runs} | wall time / peak RSS |", contexts.len());
    println!("| --- | --- |");
    println!("| `opsdeck health` (one process, all contexts at once) | {} |", ours.cell());
    println!("| `kubectl get nodes,pods -A` (default --chunk-size 500), one per context in turn | {} |", paged.cell());
    println!("| `kubectl get nodes,pods -A --chunk-size 0` (unpaged), one per context in turn | {} |", whole.cell());
}

/// VmRSS and VmHWM of this process, in KiB.
fn rss() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field =
        |k: &str| s.lines().find(|l| l.starts_with(k)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0);
    (field("VmRSS:"), field("VmHWM:"))
}

async fn live(kubeconfig: &str, seconds: u64, contexts: Vec<String>) {
    let kc = Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    let (before, _) = rss();
    let verdicts = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let t = Instant::now();
    let count = verdicts.clone();
    let _h = opsdeck_core::clusters::live::watch(
        kc,
        contexts.clone(),
        None,
        Arc::new(move |h| {
            count.fetch_add(1, Ordering::Relaxed);
            let _ = tx.send(h);
        }),
    );
    // First verdict of every context.
    let mut first = std::collections::BTreeMap::new();
    while first.len() < contexts.len() {
        let h = rx.recv().await.expect("live view ended");
        first.entry(h.context.clone()).or_insert((t.elapsed(), h.verdict, h.nodes.total));
    }
    let slowest = first.values().map(|(d, _, _)| *d).max().unwrap_or_default();
    let (rss0, _) = rss();
    println!(
        "live view: first verdict of all {} context(s) after {:.0} ms; RSS {} MiB before, {} MiB at the first verdicts; verdicts {:?}",
        contexts.len(),
        slowest.as_secs_f64() * 1000.0,
        before / 1024,
        rss0 / 1024,
        first.values().map(|(_, v, n)| format!("{v:?}/{n} nodes")).collect::<std::collections::BTreeSet<_>>()
    );
    let mut last = None;
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    let (mut peak, mut prev) = (rss0, verdicts.load(Ordering::Relaxed));
    println!("| t (s) | RSS (MiB) | verdicts in the last 10 s |");
    println!("| --- | --- | --- |");
    while t.elapsed() < Duration::from_secs(seconds) {
        tokio::select! {
            _ = tick.tick() => {
                let (now, _) = rss();
                peak = peak.max(now);
                let v = verdicts.load(Ordering::Relaxed);
                println!("| {:.0} | {} | {} |", t.elapsed().as_secs_f64(), now / 1024, v - prev);
                prev = v;
            }
            h = rx.recv() => last = h.map(|h| (h.verdict, h.nodes.total, h.findings.len())).or(last),
        }
    }
    let (end, hwm) = rss();
    println!(
        "live view over {seconds} s: RSS start {} MiB, peak of the 10 s samples {} MiB, end {} MiB, VmHWM {} MiB; {} verdicts; last {last:?}",
        rss0 / 1024,
        peak / 1024,
        end / 1024,
        hwm / 1024,
        verdicts.load(Ordering::Relaxed)
    );
}

async fn churn(kubeconfig: &str, context: &str, rate: u64, seconds: u64) {
    let c = client(kubeconfig, context).await;
    let nodes = Api::<Node>::all(c.clone()).list_metadata(&ListParams::default()).await.expect("nodes").items.len().max(1);
    let lifetime = (rate * 10) as usize;
    let (created, deleted, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let t = Instant::now();
    let mut i = 0usize;
    while t.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        let Ok(permit) = slots.clone().acquire_many_owned(1).await else { break };
        let (c, made, gone, bad) = (c.clone(), created.clone(), deleted.clone(), failed.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let api: Api<Pod> = Api::namespaced(c.clone(), namespace_of(i));
            match api.create(&PostParams::default(), &pod(&format!("churn-{i:06}"), &node_name(i % nodes))).await {
                Ok(_) => made.fetch_add(1, Ordering::Relaxed),
                Err(_) => bad.fetch_add(1, Ordering::Relaxed),
            };
            if let Some(old) = i.checked_sub(lifetime) {
                let api: Api<Pod> = Api::namespaced(c, namespace_of(old));
                match api.delete(&format!("churn-{old:06}"), &DeleteParams::default().grace_period(0)).await {
                    Ok(_) => gone.fetch_add(1, Ordering::Relaxed),
                    Err(_) => bad.fetch_add(1, Ordering::Relaxed),
                };
            }
        });
        i += 1;
        if i.is_multiple_of((rate * 60) as usize) {
            let s = t.elapsed().as_secs_f64();
            eprintln!(
                "churn: {s:.0} s, {} created, {} deleted ({:.1}/s each), {} failed",
                created.load(Ordering::Relaxed),
                deleted.load(Ordering::Relaxed),
                created.load(Ordering::Relaxed) as f64 / s,
                failed.load(Ordering::Relaxed)
            );
        }
    }
    let _ = slots.acquire_many(IN_FLIGHT as u32).await;
    let s = t.elapsed().as_secs_f64();
    println!(
        "churn: {s:.0} s at {rate}/s requested: {} pods created ({:.1}/s), {} deleted ({:.1}/s), {} requests failed",
        created.load(Ordering::Relaxed),
        created.load(Ordering::Relaxed) as f64 / s,
        deleted.load(Ordering::Relaxed),
        deleted.load(Ordering::Relaxed) as f64 / s,
        failed.load(Ordering::Relaxed)
    );
}
