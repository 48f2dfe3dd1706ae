//! Benchmark: the desktop app itself — cold start to first paint with a warm
//! cache, idle memory with four connections open, binary and installer sizes;
//! optionally side by side with a baseline build, with the same app under
//! other environment settings, and with a blank Tauri window (the WebKitGTK
//! floor), all in one run.
//!
//! Run (release app and installers first):
//!   scripts/package.sh                                   # release CLI, app, .deb, .rpm
//!   cargo build --release -p opsdeck-tests --bin bench-app
//!   OPSDECK_APP_BIN=$CARGO_TARGET_DIR/release/opsdeck-desktop scripts/with-session.sh $CARGO_TARGET_DIR/release/bench-app
//!
//! Options (each adds a column; cold starts are interleaved round by round):
//!   --baseline PATH             an earlier build of the app ("before")
//!   --blank PATH                the blank-window example (src-tauri/examples/blank-window)
//!   --variant 'LABEL:K=V,K=V'   the app under extra environment (repeatable)
//!   --blank-variant 'LABEL:K=V' the blank window under extra environment (repeatable)
//!   --runs N                    cold starts per column (default 5)
//!   --idle-runs N               idle-memory runs per column, the median shown (default 1)
//!   --smaps                     also print each process's largest mappings by PSS
//!
//! - Cold start: each column starts once unmeasured first (the first start in
//!   a fresh session also starts the accessibility bus and fills font
//!   caches), then a new app process on a data directory whose caches are warm
//!   (four saved connections; VM, image and cluster inventories fetched once),
//!   from the WebDriver "new session" request (which launches the process) to
//!   the app shell rendered, and to the VM inventory table filled. Includes
//!   WebDriver's own start-up, so both are upper bounds. Median of 5. The blank
//!   window: to its empty body. The page is polled every 10 ms (WebDriver
//!   clients poll every 250 ms by default, which rounded starts up).
//! - Idle memory: after opening the four workspaces (each connects and loads
//!   live data), 10 s idle, then the memory of the app process and of its
//!   WebKit child processes (web content, network) from /proc/PID/smaps_rollup:
//!   PSS per process (anonymous and file-backed), whose sum counts the WebKit
//!   and GTK libraries the processes share once (an RSS sum would count them
//!   three times), and RSS. The blank window: 10 s after its first paint.
//! - Sizes: the release binaries and packages on disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use opsdeck_core::connections::{ConnectionInput, ConnectionSpec};
use opsdeck_core::{Backend, BackendOptions};
use opsdeck_tests::app::{app_binary, css, App};
use opsdeck_tests::bench::median;
use opsdeck_tests::procfs::{app_processes, mem, Mem};
use opsdeck_tests::{workspace, Service};

/// PSS by mapping (file name; anonymous mappings together), largest first.
fn smaps_top(pid: u32, n: usize) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by: HashMap<String, u64> = HashMap::new();
    let mut current = String::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let first = f.next().unwrap_or_default();
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            // address perms offset dev inode [path]
            let path: Vec<&str> = f.skip(4).collect();
            current = match path.join(" ") {
                p if p.is_empty() => "(anonymous)".into(),
                p if p.starts_with('[') => p,
                p => Path::new(&p).file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or(p),
            };
        } else if first == "Pss:" {
            *by.entry(current.clone()).or_default() += f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        }
    }
    let mut v: Vec<_> = by.into_iter().collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.1));
    v.truncate(n);
    v
}

/// Waits for `sel` polling every 10 ms: the timing of a start, not a test
/// step (fantoccini's default period, 250 ms, would round starts up to it).
async fn appears(c: &Client, sel: &str) {
    c.wait()
        .every(Duration::from_millis(10))
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(sel))
        .await
        .unwrap_or_else(|e| panic!("element {sel} not found: {e}"));
}

fn size_mib(p: &Path) -> String {
    std::fs::metadata(p).map(|m| format!("{:.1} MiB", m.len() as f64 / 1048576.0)).unwrap_or_else(|_| "missing".into())
}

/// One column of the comparison.
struct Variant {
    label: String,
    binary: String,
    env: Vec<(String, String)>,
    /// The blank window: no workspaces to open, its body is the first paint.
    blank: bool,
}

/// The processes' memory at idle, by role.
#[derive(Default, Clone)]
struct Idle {
    app: Mem,
    web: Mem,
    network: Mem,
    other: Vec<(String, Mem)>,
    dom_elements: Option<u64>,
    top: Vec<(String, Vec<(String, u64)>)>,
}

impl Idle {
    fn all(&self) -> Vec<Mem> {
        let mut v = vec![self.app, self.web, self.network];
        v.extend(self.other.iter().map(|(_, m)| *m));
        v
    }
    fn pss(&self) -> u64 {
        self.all().iter().map(|m| m.pss).sum()
    }
}

struct Args {
    variants: Vec<Variant>,
    runs: usize,
    idle_runs: usize,
    smaps: bool,
}

fn args() -> Args {
    let mut a = std::env::args().skip(1);
    let (mut baseline, mut blank, mut extra, mut extra_blank, mut runs, mut idle_runs, mut smaps) =
        (None, None, vec![], vec![], 5, 1, false);
    while let Some(arg) = a.next() {
        let mut value = || a.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--baseline" => baseline = Some(value()),
            "--blank" => blank = Some(value()),
            "--variant" => extra.push(value()),
            "--blank-variant" => extra_blank.push(value()),
            "--runs" => runs = value().parse().expect("--runs N"),
            "--idle-runs" => idle_runs = value().parse().expect("--idle-runs N"),
            "--smaps" => smaps = true,
            other => panic!("unknown argument {other} (see the comment at the top of bench-app.rs)"),
        }
    }
    let app = app_binary();
    let mut variants = vec![];
    if let Some(b) = baseline {
        variants.push(Variant { label: "before".into(), binary: b, env: vec![], blank: false });
    }
    let label = if variants.is_empty() { "app" } else { "after" };
    variants.push(Variant { label: label.into(), binary: app.clone(), env: vec![], blank: false });
    let parse = |v: &str| -> (String, Vec<(String, String)>) {
        let (label, env) = v.split_once(':').unwrap_or_else(|| panic!("--variant LABEL:K=V,...: {v}"));
        let env = env
            .split(',')
            .filter(|kv| !kv.is_empty())
            .map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).unwrap_or_else(|| panic!("not K=V: {kv}")))
            .collect();
        (label.to_string(), env)
    };
    for v in extra {
        let (label, env) = parse(&v);
        variants.push(Variant { label, binary: app.clone(), env, blank: false });
    }
    if let Some(b) = blank {
        variants.push(Variant { label: "blank Tauri window".into(), binary: b.clone(), env: vec![], blank: true });
        for v in extra_blank {
            let (label, env) = parse(&v);
            variants.push(Variant { label, binary: b.clone(), env, blank: true });
        }
    }
    for v in &variants {
        assert!(Path::new(&v.binary).exists(), "{}: {} missing", v.label, v.binary);
    }
    Args { variants, runs, idle_runs, smaps }
}

#[tokio::main]
async fn main() {
    let Args { variants, runs, idle_runs, smaps } = args();
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
    let n = variants.len();
    let (mut starts, mut rows) = (vec![vec![]; n], vec![vec![]; n]);
    for v in &variants {
        let app = App::start_with(data, &service, &v.binary, &v.env).await;
        css(&app.c, if v.blank { "[data-testid=blank]" } else { "[data-testid=nav-vms]" }).await;
        data = app.close().await;
    }
    for _ in 0..runs {
        for (i, v) in variants.iter().enumerate() {
            let t = Instant::now();
            let app = App::start_with(data, &service, &v.binary, &v.env).await;
            if v.blank {
                appears(&app.c, "[data-testid=blank]").await;
                starts[i].push(t.elapsed());
            } else {
                appears(&app.c, "[data-testid=nav-vms]").await;
                starts[i].push(t.elapsed());
                app.click("[data-testid=nav-vms]").await;
                app.click("[data-testid=vms-tab-inventory]").await;
                appears(&app.c, "[data-testid=vm-row]").await;
                rows[i].push(t.elapsed());
            }
            data = app.close().await;
        }
    }

    let mut idle: Vec<Idle> = vec![];
    for v in &variants {
        let mut samples = vec![];
        for _ in 0..idle_runs {
            let (sample, d) = idle_memory(v, data, &service, smaps).await;
            data = d;
            samples.push(sample);
        }
        samples.sort_by_key(Idle::pss);
        idle.push(samples[samples.len() / 2].clone());
    }

    let target = workspace::target_dir().join("release");
    let bundle = |dir: &str, ext: &str| -> PathBuf {
        std::fs::read_dir(target.join("bundle").join(dir))
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == ext)))
            .unwrap_or_default()
    };
    let mib = |k: u64| (k as f64 / 1024.0).round() as u64;
    let row = |what: &str, cells: Vec<String>| println!("| {what} | {} |", cells.join(" | "));
    row("measurement", variants.iter().map(|v| v.label.clone()).collect());
    row("---", vec!["---".into(); n]);
    row(
        &format!("cold start to first paint (WebDriver new session -> app shell rendered; blank: its body), median of {runs}"),
        starts
            .iter()
            .map(|s| format!("{:.0} ms (min {:.0} ms)", median(s.clone()), s.iter().min().unwrap().as_secs_f64() * 1000.0))
            .collect(),
    );
    row(
        &format!("cold start to the VM inventory table filled (cache first, then vCenter), median of {runs}"),
        rows.iter().map(|r| if r.is_empty() { "–".into() } else { format!("{:.0} ms", median(r.clone())) }).collect(),
    );
    let cell = |m: &Mem| format!("PSS {} MiB (anon {}, file {}), RSS {} MiB", mib(m.pss), mib(m.pss_anon), mib(m.pss_file), mib(m.rss));
    row("idle memory: the app process (Rust backend, GTK window)", idle.iter().map(|i| cell(&i.app)).collect());
    row("idle memory: WebKit web content process (the UI)", idle.iter().map(|i| cell(&i.web)).collect());
    row("idle memory: WebKit network process", idle.iter().map(|i| cell(&i.network)).collect());
    let others: Vec<String> = {
        let mut o: Vec<String> = idle.iter().flat_map(|i| i.other.iter().map(|(n, _)| n.clone())).collect();
        o.sort();
        o.dedup();
        o
    };
    for name in others {
        row(
            &format!("idle memory: child process {name}"),
            idle.iter().map(|i| i.other.iter().find(|(n, _)| *n == name).map(|(_, m)| cell(m)).unwrap_or_else(|| "–".into())).collect(),
        );
    }
    row(
        "**idle memory, all processes together (PSS sum; shared libraries counted once)**",
        idle.iter()
            .map(|i| {
                let all = i.all();
                format!("**{} MiB** (anon {} MiB)", mib(i.pss()), mib(all.iter().map(|m| m.pss_anon).sum()))
            })
            .collect(),
    );
    row("DOM elements at that moment", idle.iter().map(|i| i.dom_elements.map(|d| d.to_string()).unwrap_or_else(|| "–".into())).collect());
    row("binary size", variants.iter().map(|v| size_mib(Path::new(&v.binary))).collect());
    println!();
    println!("| release build | size |");
    println!("| --- | --- |");
    println!("| release CLI `opsdeck` | {} |", size_mib(&target.join("opsdeck")));
    println!("| release app `opsdeck-desktop` | {} |", size_mib(&target.join("opsdeck-desktop")));
    println!("| .deb | {} |", size_mib(&bundle("deb", "deb")));
    println!("| .rpm | {} |", size_mib(&bundle("rpm", "rpm")));
    for (v, i) in variants.iter().zip(&idle) {
        for (proc_name, top) in &i.top {
            println!();
            println!("{} — {proc_name}: largest mappings by PSS", v.label);
            for (name, kb) in top {
                println!("  {:>8.1} MiB  {name}", *kb as f64 / 1024.0);
            }
        }
    }
}

/// Starts the variant, opens the four workspaces (the blank window has
/// none), waits 10 s and reads the memory of its processes.
async fn idle_memory(v: &Variant, data: tempfile::TempDir, service: &str, smaps: bool) -> (Idle, tempfile::TempDir) {
    let app = App::start_with(data, service, &v.binary, &v.env).await;
    if v.blank {
        css(&app.c, "[data-testid=blank]").await;
    } else {
        for (nav, ready) in [
            ("nav-vms", "[data-testid=vms-tab-requests]"),
            ("nav-images", "[data-testid=images-tab-images]"),
            ("nav-clusters", "[data-testid=cluster-card]"),
            ("nav-config", "[data-testid=config-prefix]"),
        ] {
            app.click(&format!("[data-testid={nav}]")).await;
            css(&app.c, ready).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(10)).await; // measuring idle memory, not waiting for a result
    let (pid, children) = app_processes(&v.binary);
    let pid = pid.unwrap_or_else(|| panic!("{}: the app process", v.label));
    assert!(
        children.iter().any(|(_, n)| n.starts_with("WebKitWebProces")),
        "{}: the app's web content process was not found: {children:?}",
        v.label
    );
    let mut idle = Idle { app: mem(pid), ..Idle::default() };
    if smaps {
        idle.top.push(("app process".into(), smaps_top(pid, 15)));
    }
    for (p, name) in &children {
        let m = mem(*p);
        match name.as_str() {
            n if n.starts_with("WebKitWebProces") => idle.web = m,
            n if n.starts_with("WebKitNetworkPr") => idle.network = m,
            n => idle.other.push((n.to_string(), m)),
        }
        if smaps {
            idle.top.push((name.clone(), smaps_top(*p, 15)));
        }
    }
    idle.dom_elements = app.c.execute("return document.getElementsByTagName('*').length", vec![]).await.ok().and_then(|v| v.as_u64());
    (idle, app.close().await)
}
