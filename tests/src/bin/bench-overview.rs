//! Benchmark: the Overview (the app's home screen) painted from the cache,
//! then live, with all four platforms connected to the real services the
//! tests use, side by side with the standard tools getting the same counts.
//!
//! Run (release; see BENCHMARKS.md, "Overview"):
//!   (cd ui && npm run build)
//!   cargo build --release -p opsdeck-desktop --features custom-protocol
//!   cargo build --release -p opsdeck-tests --bin bench-overview
//!   eval "$(scripts/setup/tauri-driver.sh)"; export TAURI_DRIVER_BIN
//!   OPSDECK_APP_BIN=$CARGO_TARGET_DIR/release/opsdeck-desktop \
//!     scripts/with-session.sh $CARGO_TARGET_DIR/release/bench-overview \
//!     [--vms-per-pool 65] [--runs 20] [--app-runs 5] [--tool-runs 5]
//!   (without OPSDECK_APP_BIN only the backend and the tools are measured)
//!
//! The services: vcsim (4 clusters × 4 hosts × 4 pools × N VMs: 1,105 VMs
//! with the default, one of them a template), kube-apiserver (context
//! `admin`), dockerd (40 images built locally), etcd with the team's users
//! and roles (20 config change requests waiting for the reviewer `rita`, the
//! user the etcd connection signs in as). The local cache also holds what
//! the app keeps of its own: 300 VM requests, 5,000 audit entries and 1,600
//! image scans. Every cache entry of a platform comes from a real read.
//!
//! Measured:
//! - `Backend::overview_cached` in-process (the one call before the first
//!   paint): the first call of a freshly opened backend, then the median;
//! - the five live tile reads in parallel (`overview_tile`, what the app runs
//!   right after the first paint), median: the time to live;
//! - the app (WebDriver "new session" launches it, on a fresh copy of the
//!   data directory each run): launch to the tiles painted from the cache and
//!   to every tile live, read back from the UI's own performance marks
//!   (`opsdeck:overview-cached` / `opsdeck:overview-live`, set after the frame
//!   is painted), and the same after navigating away and back;
//! - govc, kubectl, docker and etcdctl getting the same counts (wall time and
//!   peak RSS of each process, one after the other as a person types them).
//!
//! The counts each side found are compared before any figure is printed.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::future::join_all;
use opsdeck_core::cache::audit::{self, NewAuditEntry};
use opsdeck_core::connections::ConnectionSpec;
use opsdeck_core::connectors::docker;
use opsdeck_core::overview::{CancellationToken, TileName, TileUpdate};
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::vms::store::local::LocalStore;
use opsdeck_core::vms::store::{RequestRecord, RequestStore};
use opsdeck_tests::app::{css, App};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::bench::median;
use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::service::Service;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, form, vcsim_with_template, ETCD_PASSWORD};
use serde_json::json;

const TILES: [TileName; 5] = [TileName::Vms, TileName::Clusters, TileName::Images, TileName::Config, TileName::Activity];
const CHANGES: usize = 20;
const IMAGES: usize = 40;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `cmd` under /usr/bin/time; wall time, peak RSS (KiB) and the
/// non-empty lines of its output (what the person reads the count off).
fn counted(cmd: &mut Command) -> (Duration, u64, Vec<String>) {
    let (took, kb, out) = opsdeck_tests::bench::timed_output(cmd, Stdio::piped());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?} {:?} failed: {err}", cmd.get_program(), cmd.get_args().collect::<Vec<_>>());
    let lines = String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()).map(String::from).collect();
    (took, kb, lines)
}

/// A VM request as the local store keeps it (from JSON, so the fields the
/// store adds over time keep their defaults).
fn request(i: usize) -> RequestRecord {
    let dept = ["qa", "dev", "ops", "data", "web"][i % 5];
    serde_json::from_value(json!({
        "id": format!("r20261201-{i:08x}"),
        "spec": form(&format!("{dept}-req-{i:03}"), dept),
        "requester": format!("user{}", i % 40),
        "created_at": format!("2026-12-01T00:{:02}:{:02}Z", i / 60, i % 60),
        "quota": { "ok": true, "lines": [] },
    }))
    .expect("a request record")
}

/// The app's own marks: (performance.timeOrigin, cached paints, live paints), ms.
async fn marks(c: &fantoccini::Client) -> (f64, Vec<f64>, Vec<f64>) {
    let v = c
        .execute(
            "const m = (n) => performance.getEntriesByName(n, 'mark').map((e) => e.startTime);
             return [performance.timeOrigin, m('opsdeck:overview-cached'), m('opsdeck:overview-live')];",
            vec![],
        )
        .await
        .expect("read the performance marks");
    let list = |x: &serde_json::Value| x.as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
    (v[0].as_f64().unwrap_or(0.0), list(&v[1]), list(&v[2]))
}

/// Polls the marks until `done` holds (60 s at most).
async fn marks_until(c: &fantoccini::Client, what: &str, done: impl Fn(&[f64], &[f64]) -> bool) -> (f64, Vec<f64>, Vec<f64>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let m = marks(c).await;
        if done(&m.1, &m.2) {
            return m;
        }
        assert!(Instant::now() < deadline, "{what}: not within 60 s (marks {m:?})");
        tokio::time::sleep(Duration::from_millis(20)).await; // polling the page; the figures come from the marks
    }
}

fn epoch_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

#[tokio::main]
async fn main() {
    let per_pool = arg("--vms-per-pool", 65);
    let runs = arg("--runs", 20).max(1);
    let app_runs = arg("--app-runs", 5);
    let tool_runs = arg("--tool-runs", 5).max(1);
    opsdeck_core::connectors::tls::install_crypto_provider();
    let load = |when: &str| {
        let up = Command::new("uptime").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
        eprintln!("{when}: {up}");
        up
    };

    // ---- the services and a data directory with all four connected -------
    let t = Instant::now();
    let prep = TestBackend::new().await;
    let per_pool_s = per_pool.to_string();
    let (vcsim, _vc) = vcsim_with_template(&prep, &["-cluster", "4", "-host", "4", "-pool", "4", "-vm", &per_pool_s]).await;
    let api = Service::start("kube-apiserver", &[]);
    let dockerd = Service::start("dockerd", &[]);
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let _kube = prep
        .add("lab cluster", ConnectionSpec::Kubernetes { kubeconfig: api.get("KUBECONFIG").into(), contexts: vec!["admin".into()] }, None)
        .await;
    let engine = prep
        .add("lab docker", ConnectionSpec::Docker { host: dockerd.get("DOCKER_HOST").into(), tls: None, allow_plaintext: false }, None)
        .await;
    etcd_connection(&prep, &etcd, "rita").await;

    // dockerd: images built locally (no registry is reachable).
    let docker = docker::connect(dockerd.get("DOCKER_HOST"), None).await.expect("connect to dockerd");
    import(&docker, Rootfs::Busybox, "bench/base:1").await;
    for i in 0..IMAGES {
        let content = format!("app {i}\n");
        build(&docker, &format!("bench/app{i}:1.0"), "FROM bench/base:1\nCOPY app.txt /app.txt\n", &[("app.txt", content.as_bytes())])
            .await;
    }

    // etcd: change requests filed by alice on a protected prefix, for rita.
    let team = TestBackend::new().await;
    let root = team.backend.etcd_session(&etcd_connection(&team, &etcd, "root").await.id).await.expect("root session");
    team.backend.config_protect(&root, DEFAULT_ROOT, "/app/prod/").await.expect("protect /app/prod/");
    let alice = team.backend.etcd_session(&etcd_connection(&team, &etcd, "alice").await.id).await.expect("alice session");
    for i in 0..CHANGES {
        let key = format!("/app/prod/svc{i:02}/pool");
        team.backend
            .change_propose(&alice, DEFAULT_ROOT, &[(key, Some(format!("{{\"pool\": {}}}", 10 + i)))], "raise the pool")
            .await
            .expect("propose");
    }
    team.cleanup().await;

    // What the app keeps of its own.
    let b = &prep.backend;
    let store = LocalStore::new(b.db().clone());
    for i in 0..300 {
        store.create(&request(i)).await.expect("a request");
    }
    for i in 0..5000 {
        let detail = format!("entry {i}: request r{i} moved by the bench");
        let entry =
            NewAuditEntry { actor: "bench", platform: "vsphere", target: "r1", action: "vm.request", ok: i % 13 != 0, detail: &detail };
        audit::append(b.db(), entry).await.expect("audit");
    }
    let report = format!("{{\"padding\":\"{}\"}}", "x".repeat(8 << 10));
    for n in 0..1600 {
        let i = n % 400;
        sqlx::query(
            "INSERT INTO image_scans (connection_id, image, image_id, scanned_at, decision, risk_score, report_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&engine.id)
        .bind(format!("registry.local/team/app{i}:1.0"))
        .bind(format!("sha256:{i:064}"))
        .bind(format!("2026-12-0{}T0{}:00:00Z", 1 + n / 400, n % 10))
        .bind(["BLOCK", "WARN", "ALLOW", "ALLOW"][i % 4])
        .bind((i % 50) as i64 * 5)
        .bind(&report)
        .execute(b.db().pool())
        .await
        .expect("a scan");
    }
    // The platforms' caches, from real reads (what the app's last session left).
    let first_live = live_once(b).await;
    eprintln!("services up and cache filled in {:.1} s (first live read {:.0} ms)", t.elapsed().as_secs_f64(), ms(first_live));
    b.db().checkpoint().await.expect("checkpoint");

    // ---- Opsdeck in-process ---------------------------------------------
    let service = b.keychain().service().to_string();
    let TestBackend { backend, dir: data } = prep;
    backend.db().close().await;
    drop(backend);
    let options = opsdeck_core::BackendOptions { data_dir: data.path().into(), keychain_service: service.clone(), actor: "tester".into() };
    let up_before = load("before");
    let t = Instant::now();
    let b = opsdeck_core::Backend::open(options).await.expect("open the backend");
    let opened = t.elapsed();
    let t = Instant::now();
    let o = b.overview_cached().await.expect("overview from the cache");
    let first = t.elapsed();
    let mut warm = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        b.overview_cached().await.expect("overview from the cache");
        warm.push(t.elapsed());
    }
    let json_kib = serde_json::to_vec(&o).map(|v| v.len()).unwrap_or(0) / 1024;
    let mut live = Vec::new();
    for _ in 0..runs {
        live.push(live_once(&b).await);
    }
    let tiles = (o.vms.vms, o.clusters.healthy + o.clusters.degraded + o.clusters.unreachable, o.images.images, o.config.waiting);
    let sources: Vec<String> =
        [&o.vms.status, &o.clusters.status, &o.images.status, &o.config.status].iter().map(|s| s.source.clone()).collect();
    assert!(sources.iter().all(|s| s == "cache" || s == "live"), "every platform tile painted from the cache: {sources:?}");
    b.db().close().await;
    drop(b);

    // ---- the standard tools ----------------------------------------------
    let govc = std::env::var("GOVC_BIN")
        .unwrap_or_else(|_| format!("{}/.cache/opsdeck/bin/govc-v0.56.0", std::env::var("HOME").unwrap_or_default()));
    let host = vcsim.get("VCSIM_SDK_URL").trim_start_matches("https://").trim_end_matches("/sdk").to_string();
    let govc_env = [
        ("GOVC_URL", format!("https://{}:{}@{host}/sdk", vcsim.get("VCSIM_USER"), vcsim.get("VCSIM_PASSWORD"))),
        ("GOVC_TLS_CA_CERTS", vcsim.get("VCSIM_CA").to_string()),
    ];
    let kubeconfig = api.get("KUBECONFIG").to_string();
    let docker_host = dockerd.get("DOCKER_HOST").to_string();
    let endpoint = etcd.get("ETCD_ENDPOINT").to_string();
    let rita = format!("rita:{ETCD_PASSWORD}");
    let changes = format!("{DEFAULT_ROOT}config/changes/");
    type Tool = (&'static str, String, Box<dyn Fn() -> Command>);
    let tools: Vec<Tool> = vec![
        (
            "govc",
            "`govc find / -type m -config.template false`".into(),
            Box::new(move || {
                let mut c = Command::new(&govc);
                c.args(["find", "/", "-type", "m", "-config.template", "false"]).envs(govc_env.iter().cloned());
                c
            }),
        ),
        (
            "kubectl",
            "`kubectl --context admin get nodes,pods -A`".into(),
            Box::new(move || {
                let mut c = Command::new("kubectl");
                c.args(["--kubeconfig", &kubeconfig, "--context", "admin", "get", "nodes,pods", "-A", "--no-headers"]);
                c
            }),
        ),
        (
            "docker",
            "`docker images -q --no-trunc`".into(),
            Box::new({
                let h = docker_host.clone();
                move || {
                    let mut c = Command::new("docker");
                    c.args(["--host", &h, "images", "-q", "--no-trunc"]);
                    c
                }
            }),
        ),
        (
            "docker ps",
            "`docker ps -q`".into(),
            Box::new(move || {
                let mut c = Command::new("docker");
                c.args(["--host", &docker_host, "ps", "-q"]);
                c
            }),
        ),
        (
            "etcdctl",
            format!("`etcdctl --user rita get --prefix --keys-only {changes}`"),
            Box::new(move || {
                let mut c = Command::new("etcdctl");
                c.env("ETCDCTL_API", "3").args(["--endpoints", &endpoint, "--user", &rita, "get", "--prefix", "--keys-only", &changes]);
                c
            }),
        ),
    ];
    let mut tool_walls: Vec<Vec<Duration>> = vec![vec![]; tools.len()];
    let mut tool_kb = vec![0u64; tools.len()];
    let mut tool_counts = vec![0usize; tools.len()];
    let mut all_tools = Vec::new();
    for _ in 0..tool_runs {
        let t = Instant::now();
        for (i, (_, _, cmd)) in tools.iter().enumerate() {
            let (d, kb, lines) = counted(&mut cmd());
            tool_walls[i].push(d);
            tool_kb[i] = tool_kb[i].max(kb);
            let mut unique = lines.clone();
            unique.sort();
            unique.dedup();
            tool_counts[i] = unique.len();
        }
        all_tools.push(t.elapsed());
    }
    assert_eq!(tool_counts[0], tiles.0 as usize, "govc and the VMs tile count the same VMs");
    assert_eq!(tool_counts[2], tiles.2 as usize, "docker and the Images tile count the same images");
    assert_eq!(tool_counts[4], CHANGES, "etcdctl lists every change request");
    assert_eq!(tiles.3 as usize, CHANGES, "the Config tile counts every waiting change");

    // ---- the app ------------------------------------------------------------
    let mut launch_cached = Vec::new();
    let mut launch_live = Vec::new();
    let mut nav_cached = Vec::new();
    let mut nav_live = Vec::new();
    let mut settled_cached = Vec::new();
    let mut settled_live = Vec::new();
    let mut origin_cached = Vec::new();
    if std::env::var_os("OPSDECK_APP_BIN").is_none() {
        eprintln!("OPSDECK_APP_BIN not set: the app is not measured");
    }
    for _ in 0..if std::env::var_os("OPSDECK_APP_BIN").is_some() { app_runs } else { 0 } {
        // A fresh copy each run: the live refresh rewrites the cache.
        let copy = tempfile::tempdir().expect("temp dir");
        for f in std::fs::read_dir(data.path()).expect("data dir").flatten() {
            if f.file_type().is_ok_and(|t| t.is_file()) {
                std::fs::copy(f.path(), copy.path().join(f.file_name())).expect("copy the data dir");
            }
        }
        let launched = epoch_ms();
        let app = App::start_in(copy, &service).await;
        let c = &app.c;
        let (origin, cached, live) = marks_until(c, "the Overview live after launch", |_, l| !l.is_empty()).await;
        launch_cached.push(origin + cached[0] - launched);
        launch_live.push(origin + live[0] - launched);
        origin_cached.push(cached[0]);
        // The painted figures are the cache's and, once live, the tools'.
        let vms = css(c, "[data-testid=overview-tile-vms] .ov-figure .ov-n").await.text().await.unwrap_or_default();
        assert_eq!(vms, tiles.0.to_string(), "the VMs tile shows the VMs");
        for tile in ["vms", "clusters", "images", "config"] {
            let source = css(c, &format!("[data-testid=overview-tile-{tile}]")).await.attr("data-source").await.ok().flatten();
            assert_eq!(source.as_deref(), Some("live"), "{tile} tile live");
        }
        // Away and back: the Overview again from the cache, then live —
        // once at once (the VMs view still loading its 300 requests and 1,104 VMs), once
        // after the VMs view has painted them (a person who looked at it).
        let back = || async {
            c.execute("const t = performance.now(); document.querySelector('[data-testid=nav-overview]').click(); return t;", vec![])
                .await
                .expect("navigate to the Overview")
                .as_f64()
                .unwrap_or(0.0)
        };
        for (visit, (shown, cached_ms, live_ms)) in
            [("view-vms", &mut nav_cached, &mut nav_live), ("vm-request-row", &mut settled_cached, &mut settled_live)]
                .into_iter()
                .enumerate()
        {
            app.click("[data-testid=nav-vms]").await;
            css(c, &format!("[data-testid={shown}]")).await;
            let clicked = back().await;
            let n = visit + 2; // the launch painted mark 0
            let (_, cached, live) = marks_until(c, "the Overview live after navigating back", |c, l| c.len() >= n && l.len() >= n).await;
            cached_ms.push(cached[n - 1] - clicked);
            live_ms.push(live[n - 1] - clicked);
        }
        app.close().await;
    }
    let up_after = load("after");

    // ---- the report ---------------------------------------------------------
    let med = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!("load: {up_before} | {up_after}");
    println!(
        "cache: {} VMs, {} clusters, {} images, {} config changes waiting ({} KiB of JSON to the UI)",
        tiles.0, tiles.1, tiles.2, tiles.3, json_kib
    );
    println!("| measurement | Opsdeck | standard tools |");
    println!("| --- | --- | --- |");
    println!(
        "| Overview from the cache, in-process (`overview_cached`): backend open / first call / median of {runs} | {:.1} / {:.1} / {:.1} ms | – |",
        ms(opened),
        ms(first),
        median(warm)
    );
    println!(
        "| every tile live, in-process (5 `overview_tile` reads in parallel), median of {runs} | {:.0} ms | all five commands one after the other: {:.0} ms (median of {tool_runs}) |",
        median(live),
        median(all_tools.clone())
    );
    for (i, (name, label, _)) in tools.iter().enumerate() {
        println!(
            "| – | – | {name}: {label} → {} lines, {:.0} ms / {} MiB |",
            tool_counts[i],
            median(tool_walls[i].clone()),
            tool_kb[i] / 1024
        );
    }
    if !launch_cached.is_empty() {
        let n = launch_cached.len();
        println!(
            "| app: launch → tiles painted from the cache, median (min) of {n} | {:.0} ms ({:.0}); of which after the page's navigation start: {:.0} ms | – |",
            med(&launch_cached),
            min(&launch_cached),
            med(&origin_cached)
        );
        println!("| app: launch → every tile live, median (min) of {n} | {:.0} ms ({:.0}) | – |", med(&launch_live), min(&launch_live));
        println!(
            "| app: back to the Overview from another view → painted from the cache / live, median of {n} | {:.0} ms / {:.0} ms | – |",
            med(&nav_cached),
            med(&nav_live)
        );
        println!(
            "| app: the same once the VMs view has painted its rows → painted from the cache / live, median of {n} | {:.0} ms / {:.0} ms | – |",
            med(&settled_cached),
            med(&settled_live)
        );
    }
}

/// The five live tile reads in parallel, as the app runs them; their wall time.
async fn live_once(b: &opsdeck_core::Backend) -> Duration {
    let cancel = CancellationToken::new();
    let t = Instant::now();
    let got = join_all(TILES.iter().map(|tile| b.overview_tile(*tile, &cancel))).await;
    let took = t.elapsed();
    for (tile, r) in TILES.iter().zip(got) {
        let u = r.unwrap_or_else(|e| panic!("{} tile live: {e}", tile.as_str()));
        if let TileUpdate::Clusters(c) = &u {
            assert!(c.status.problems.is_empty(), "clusters tile: {:?}", c.status.problems);
        }
    }
    took
}
