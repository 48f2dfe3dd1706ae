//! Benchmark: the desktop app itself — cold start to first paint with a warm
//! cache, idle memory with four connections open, binary and installer sizes.
//!
//! Run (release app and installers first):
//!   scripts/package.sh                                   # release CLI, app, .deb, .rpm
//!   cargo build --release -p opsdeck-tests --bin bench-app
//!   OPSDECK_APP_BIN=$CARGO_TARGET_DIR/release/opsdeck-desktop scripts/with-session.sh $CARGO_TARGET_DIR/release/bench-app
//!
//! - Cold start: a new app process on a data directory whose caches are warm
//!   (four saved connections; VM, image and cluster inventories fetched once),
//!   from the WebDriver "new session" request (which launches the process) to
//!   the app shell rendered, and to the VM inventory table filled. Includes
//!   WebDriver's own start-up, so both are upper bounds. Median of 5.
//! - Idle memory: after opening the four workspaces (each connects and loads
//!   live data), 10 s idle, then the memory of the app process and of its
//!   WebKit child processes (web content, network) from /proc/PID/smaps_rollup:
//!   RSS per process, and PSS, whose sum counts the WebKit and GTK libraries
//!   the processes share once (an RSS sum would count them three times).
//! - Sizes: the release binaries and packages on disk.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use opsdeck_core::connections::{ConnectionInput, ConnectionSpec};
use opsdeck_core::{Backend, BackendOptions};
use opsdeck_tests::app::{css, App};
use opsdeck_tests::bench::median;
use opsdeck_tests::procfs::{comm, pids, stat};
use opsdeck_tests::{workspace, Service};

/// Resident memory of a process from /proc/PID/smaps_rollup, in KiB.
#[derive(Debug, Default, Clone, Copy)]
struct Mem {
    /// Resident set: counts shared library pages in full for every process.
    rss: u64,
    /// Proportional set: shared pages split among the processes mapping them,
    /// so the sum over processes is the memory they take together.
    pss: u64,
    /// Anonymous memory: heaps (Rust, JavaScript), render buffers.
    anon: u64,
}

fn mem(pid: u32) -> Mem {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        text.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    Mem { rss: field("Rss:"), pss: field("Pss:"), anon: field("Anonymous:") }
}

fn descends(mut p: u32, ancestor: u32) -> bool {
    for _ in 0..32 {
        match stat(p).map(|s| s.parent) {
            Some(q) if q == ancestor => return true,
            Some(q) if q > 1 => p = q,
            _ => return false,
        }
    }
    false
}

/// The running app started for this benchmark (comm is truncated to 15
/// characters; an app of an earlier round may still be exiting, so: ours,
/// alive, newest) and its descendants (WebKit's processes).
fn app_processes() -> (Option<u32>, Vec<(u32, String)>) {
    let pids = pids();
    let me = std::process::id();
    let app = pids
        .iter()
        .copied()
        .filter(|p| comm(*p).starts_with("opsdeck-desktop") && descends(*p, me))
        .filter_map(|p| stat(p).filter(|s| s.alive()).map(|s| (s.start_time, p)))
        .max()
        .map(|(_, p)| p);
    let children = match app {
        Some(a) => pids
            .iter()
            .copied()
            .filter(|p| *p != a && descends(*p, a) && stat(*p).is_some_and(|s| s.alive()))
            .map(|p| (p, comm(p)))
            .collect(),
        None => vec![],
    };
    (app, children)
}

fn size_mib(p: &Path) -> String {
    std::fs::metadata(p).map(|m| format!("{:.1} MiB", m.len() as f64 / 1048576.0)).unwrap_or_else(|_| "missing".into())
}

#[tokio::main]
async fn main() {
    let etcd = Service::start("etcd", &[]);
    let dockerd = Service::start("dockerd", &[]);
    let api = Service::start("kube-apiserver", &[]);
    let vcsim = Service::start("vcsim", &[]);

    // A data directory with four connections and warm caches.
    let data = tempfile::tempdir().unwrap();
    let service = format!("opsdeck-bench-app-{}", std::process::id());
    let backend = Backend::open(BackendOptions { data_dir: data.path().into(), keychain_service: service.clone(), actor: "bench".into() })
        .await
        .unwrap();
    let add = |name: &str, spec: ConnectionSpec, secret: Option<&str>| {
        let b = backend.clone();
        let input = ConnectionInput { id: None, name: name.into(), spec, secret: secret.map(Into::into), clear_secret: false };
        async move { b.save_connection(input).await.expect("save (needs a keychain session: scripts/with-session.sh)") }
    };
    let vc = add(
        "lab vcenter",
        ConnectionSpec::Vsphere {
            url: vcsim.get("VCSIM_SDK_URL").into(),
            username: vcsim.get("VCSIM_USER").into(),
            thumbprint: Some(vcsim.get("VCSIM_THUMBPRINT_SHA256").into()),
        },
        Some(vcsim.get("VCSIM_PASSWORD")),
    )
    .await;
    let dk =
        add("local docker", ConnectionSpec::Docker { host: dockerd.get("DOCKER_HOST").into(), tls: None, allow_plaintext: false }, None)
            .await;
    let k8 =
        add("lab cluster", ConnectionSpec::Kubernetes { kubeconfig: api.get("KUBECONFIG").into(), contexts: vec!["admin".into()] }, None)
            .await;
    add(
        "lab etcd",
        ConnectionSpec::Etcd { endpoints: vec![etcd.get("ETCD_ENDPOINT").into()], tls: None, username: None, allow_plaintext: false },
        None,
    )
    .await;
    backend.vm_inventory(&vc.id).await.unwrap();
    backend.image_inventory(&dk.id).await.unwrap();
    backend.cluster_health(&k8.id).await.unwrap();
    drop(backend);

    let mut data = data;
    let (mut starts, mut rows) = (vec![], vec![]);
    for _ in 0..5 {
        let t = Instant::now();
        let app = App::start_in(data, &service).await;
        css(&app.c, "[data-testid=nav-vms]").await;
        starts.push(t.elapsed());
        app.click("[data-testid=nav-vms]").await;
        app.click("[data-testid=vms-tab-inventory]").await;
        css(&app.c, "[data-testid=vm-row]").await;
        rows.push(t.elapsed());
        data = app.close().await;
    }

    let app = App::start_in(data, &service).await;
    for (nav, ready) in [
        ("nav-vms", "[data-testid=vms-tab-requests]"),
        ("nav-images", "[data-testid=images-tab-images]"),
        ("nav-clusters", "[data-testid=cluster-card]"),
        ("nav-config", "[data-testid=config-prefix]"),
    ] {
        app.click(&format!("[data-testid={nav}]")).await;
        css(&app.c, ready).await;
    }
    tokio::time::sleep(Duration::from_secs(10)).await; // measuring idle memory, not waiting for a result
    let (pid, children) = app_processes();
    let pid = pid.expect("the app process");
    assert!(children.iter().any(|(_, n)| n.starts_with("WebKitWebProces")), "the app's web content process was not found: {children:?}");
    let mut procs = vec![("the app process (Rust backend, GTK window)".to_string(), mem(pid))];
    for (p, name) in &children {
        let what = match name.as_str() {
            n if n.starts_with("WebKitWebProces") => "WebKit web content process (the UI)".to_string(),
            n if n.starts_with("WebKitNetworkPr") => "WebKit network process".to_string(),
            n => format!("child process {n}"),
        };
        procs.push((what, mem(*p)));
    }
    app.close().await;

    let target = workspace::target_dir().join("release");
    let bundle = |dir: &str, ext: &str| -> PathBuf {
        std::fs::read_dir(target.join("bundle").join(dir))
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == ext)))
            .unwrap_or_default()
    };
    println!("| measurement | result |");
    println!("| --- | --- |");
    println!(
        "| cold start to first paint (WebDriver new session -> app shell rendered), median of 5 | {:.0} ms (min {:.0} ms) |",
        median(starts.clone()),
        starts.iter().min().unwrap().as_secs_f64() * 1000.0
    );
    println!("| cold start to the VM inventory table filled (cache first, then vCenter), median of 5 | {:.0} ms |", median(rows));
    let mib = |k: u64| k / 1024;
    for (what, m) in &procs {
        println!(
            "| idle memory with 4 connections open: {what} | RSS {} MiB, PSS {} MiB, anonymous {} MiB |",
            mib(m.rss),
            mib(m.pss),
            mib(m.anon)
        );
    }
    let pss: u64 = procs.iter().map(|(_, m)| m.pss).sum();
    let anon: u64 = procs.iter().map(|(_, m)| m.anon).sum();
    println!(
        "| idle memory, all {} processes together (PSS sum; shared libraries counted once) | {} MiB (anonymous {} MiB) |",
        procs.len(),
        mib(pss),
        mib(anon)
    );
    println!("| release CLI `opsdeck` | {} |", size_mib(&target.join("opsdeck")));
    println!("| release app `opsdeck-desktop` | {} |", size_mib(&target.join("opsdeck-desktop")));
    println!("| .deb | {} |", size_mib(&bundle("deb", "deb")));
    println!("| .rpm | {} |", size_mib(&bundle("rpm", "rpm")));
}
