//! Benchmark: the Overview's time to first paint from the cache, with all
//! four platforms connected and the cache filled with realistic volumes.
//!
//! Run (release; the app part needs tauri-driver, see BENCHMARKS.md):
//!   cargo build --release -p opsdeck-tests --bin bench-overview
//!   scripts/with-session.sh $CARGO_TARGET_DIR/release/bench-overview [--runs 50] [--app-runs 5]
//!   (with OPSDECK_APP_BIN and TAURI_DRIVER_BIN set, the app's cold start
//!   to the Overview painted from the cache is measured too)
//!
//! The data directory holds one connection of each kind (vSphere,
//! Kubernetes, Docker, etcd) and what their workspaces would have cached:
//! a vCenter inventory of 1,000 VMs, 24 clusters' health (3 kubeconfigs ×
//! 8 contexts, some degraded or unreachable), 2 engines' inventories (400
//! images, 250 containers), 1,600 scans of 400 images (8 KiB reports), 300 VM
//! requests in the local store, 5,000 audit entries, and the config tile as
//! last read live (20 change requests). The connections point nowhere: the
//! cached path never contacts them, and the app's live refresh after first
//! paint fails in the background without changing what is measured.
//!
//! Measured: `Backend::overview_cached` in-process (the one call the app
//! makes before its first paint of the Overview), the first call after
//! opening the backend and the median of the next runs; then, optionally,
//! the app from WebDriver "new session" (which launches it) to every tile
//! rendered from the cache, on a fresh copy of the data directory each run.

use std::time::{Duration, Instant};

use opsdeck_core::cache::audit::{self, NewAuditEntry};
use opsdeck_core::cache::snapshots;
use opsdeck_core::clusters::model::{ClusterHealth, Finding, NodeSummary, Severity, Verdict};
use opsdeck_core::connections::{ConnectionInput, ConnectionSpec};
use opsdeck_core::overview::{ChangeItem, ConfigTile, TileStatus};
use opsdeck_core::scanner::engine::{ContainerRow, EngineInventory, ImageRow};
use opsdeck_core::team::changes::ChangeState;
use opsdeck_core::vms::inventory::{DatastoreRow, Inventory, VmRow};
use opsdeck_core::vms::model::{QuotaCheck, RequestSpec, SnapshotSchedule};
use opsdeck_core::vms::store::local::LocalStore;
use opsdeck_core::vms::store::{RequestRecord, RequestStore};
use opsdeck_core::{Backend, BackendOptions};
use opsdeck_tests::bench::median;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn vm(i: usize) -> VmRow {
    let dept = ["qa", "dev", "ops", "data", "web"][i % 5];
    VmRow {
        id: format!("vm-{}", 1000 + i),
        name: format!("{dept}-app-{i:04}"),
        power: if i.is_multiple_of(7) { "poweredOff".into() } else { "poweredOn".into() },
        template: i.is_multiple_of(100),
        tools: "toolsOk".into(),
        cpu: 1 + (i % 8) as u32,
        memory_mb: 1024 * (1 + (i % 16) as u32),
        committed_bytes: (20 + (i % 200) as u64) << 30,
        host: format!("host-{}", i % 16),
        datastores: vec![format!("LocalDS_{}", i % 8)],
        folder: "vm".into(),
        pool: format!("resgroup-{}", i % 4),
        annotation: format!("Managed by Opsdeck\nrequest: r{i}\nowner: user{}\ndepartment: {dept}\nlease: 2027-03-31", i % 40),
        snapshots: vec![],
        boot_time: None,
    }
}

fn health(ctx: usize) -> ClusterHealth {
    let verdict = match ctx % 8 {
        0 => Verdict::Unreachable,
        1 | 2 => Verdict::Degraded,
        _ => Verdict::Healthy,
    };
    let findings = (0..if verdict == Verdict::Healthy { 0 } else { 6 })
        .map(|n| Finding {
            severity: Severity::Warning,
            kind: "pod".into(),
            object: format!("kube-system/pod/p{n}"),
            message: format!("pod kube-system/p{n} is CrashLoopBackOff"),
        })
        .collect();
    ClusterHealth {
        context: format!("ctx-{ctx}"),
        verdict,
        version: Some("v1.37.2".into()),
        latency_ms: Some(12),
        nodes: NodeSummary { total: 12, ready: 12, cordoned: 0, pressure: 0 },
        findings,
        checked_at: "2026-12-05T02:00:00Z".into(),
        insecure_tls: false,
        error_code: None,
    }
}

async fn fill(b: &Backend, dir: &std::path::Path) {
    let save = |name: &str, spec: ConnectionSpec| ConnectionInput { id: None, name: name.into(), spec, secret: None, clear_secret: false };
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\nusers:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    let vc = b
        .save_connection(save(
            "prod vcenter",
            ConnectionSpec::Vsphere { url: "https://127.0.0.1:1/sdk".into(), username: "ops".into(), thumbprint: None },
        ))
        .await
        .unwrap();
    let mut kubes = Vec::new();
    for k in 0..3 {
        kubes.push(
            b.save_connection(save(
                &format!("fleet {k}"),
                ConnectionSpec::Kubernetes { kubeconfig: kubeconfig.display().to_string(), contexts: vec![] },
            ))
            .await
            .unwrap(),
        );
    }
    let mut engines = Vec::new();
    for e in 0..2 {
        engines.push(
            b.save_connection(save(
                &format!("engine {e}"),
                ConnectionSpec::Docker { host: "tcp://127.0.0.1:1".into(), tls: None, allow_plaintext: false },
            ))
            .await
            .unwrap(),
        );
    }
    let etcd = b
        .save_connection(save(
            "team etcd",
            ConnectionSpec::Etcd {
                endpoints: vec!["http://127.0.0.1:1".into()],
                tls: None,
                username: Some("ops".into()),
                allow_plaintext: false,
            },
        ))
        .await
        .unwrap();
    let db = b.db();

    let inv = Inventory {
        vms: (0..1000).map(vm).collect(),
        datastores: (0..8)
            .map(|d| DatastoreRow {
                id: format!("datastore-{d}"),
                name: format!("LocalDS_{d}"),
                capacity_bytes: 4 << 40,
                free_bytes: 1 << 40,
                accessible: true,
            })
            .collect(),
        ..Default::default()
    };
    snapshots::put(db, &vc.id, "vm-inventory", &inv).await.unwrap();
    for (k, c) in kubes.iter().enumerate() {
        let list: Vec<ClusterHealth> = (0..8).map(|i| health(k * 8 + i)).collect();
        snapshots::put(db, &c.id, "cluster-health", &list).await.unwrap();
    }
    for (e, c) in engines.iter().enumerate() {
        let images = (0..200)
            .map(|i| ImageRow {
                id: format!("sha256:{e}{i:063}"),
                tags: vec![format!("registry.local/team/app{i}:1.{e}")],
                digests: vec![],
                size: 120 << 20,
                created: 1_760_000_000,
                containers: 1,
            })
            .collect();
        let containers = (0..125)
            .map(|i| ContainerRow {
                id: format!("{e}{i:063}"),
                name: format!("app{i}"),
                image: format!("registry.local/team/app{i}:1.{e}"),
                image_id: format!("sha256:{e}{i:063}"),
                state: if i % 5 == 0 { "exited".into() } else { "running".into() },
                status: "Up 3 hours".into(),
            })
            .collect();
        snapshots::put(db, &c.id, "image-inventory", &EngineInventory { images, containers }).await.unwrap();
    }
    let report = format!("{{\"padding\":\"{}\"}}", "x".repeat(8 << 10));
    let mut tx = db.pool().begin().await.unwrap();
    for n in 0..1600 {
        let i = n % 400;
        let decision = ["BLOCK", "WARN", "ALLOW", "ALLOW"][i % 4];
        sqlx::query(
            "INSERT INTO image_scans (connection_id, image, image_id, scanned_at, decision, risk_score, report_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&engines[i % 2].id)
        .bind(format!("registry.local/team/app{i}:1.0"))
        .bind(format!("sha256:{i:064}"))
        .bind(format!("2026-12-0{}T0{}:00:00Z", 1 + n / 400, n % 10))
        .bind(decision)
        .bind((i % 50) as i64 * 5)
        .bind(&report)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let store = LocalStore::new(db.clone());
    for i in 0..300 {
        let dept = ["qa", "dev", "ops", "data", "web"][i % 5];
        let record = RequestRecord {
            id: format!("r20261201-{i:08x}"),
            spec: RequestSpec {
                name: format!("{dept}-req-{i:03}"),
                template: "debian-12".into(),
                cpu: 2,
                memory_gb: 4,
                disk_gb: 40,
                network: String::new(),
                folder: String::new(),
                resource_pool: String::new(),
                department: dept.into(),
                purpose: "load test".into(),
                lease_end: "2027-03-31".into(),
                snapshot_schedule: SnapshotSchedule::None,
                customization_script: String::new(),
            },
            requester: format!("user{}", i % 40),
            created_at: format!("2026-12-01T00:{:02}:{:02}Z", i / 60, i % 60),
            quota: QuotaCheck { ok: true, lines: vec![] },
            withdrawn: None,
            edited_at: None,
            estimate: None,
            auto_approval: None,
        };
        store.create(&record).await.unwrap();
    }
    for i in 0..5000 {
        let detail = format!("entry {i}: request r{i} moved by the bench");
        audit::append(
            db,
            NewAuditEntry { actor: "bench", platform: "vsphere", target: "r1", action: "vm.request", ok: i % 13 != 0, detail: &detail },
        )
        .await
        .unwrap();
    }
    let mut status = TileStatus::new(1, "live");
    status.seen("2026-12-05T02:00:00Z");
    let config = ConfigTile {
        status,
        connection_id: Some(etcd.id.clone()),
        root: "/opsdeck/".into(),
        waiting: 12,
        mine_waiting: 3,
        approved: 5,
        items: (0..5)
            .map(|i| ChangeItem {
                id: format!("c{i}"),
                author: format!("user{i}"),
                comment: "raise the pool".into(),
                keys: 2,
                created_at: "2026-12-05T01:00:00Z".into(),
                state: ChangeState::Pending,
            })
            .collect(),
    };
    snapshots::put(db, &etcd.id, "overview-config", &config).await.unwrap();
}

#[tokio::main]
async fn main() {
    let runs = arg("--runs", 50);
    let app_runs = arg("--app-runs", 5);
    opsdeck_core::connectors::tls::install_crypto_provider();
    let data = tempfile::tempdir().unwrap();
    let service = format!("opsdeck-bench-overview-{}", std::process::id());
    let opts = BackendOptions { data_dir: data.path().into(), keychain_service: service.clone(), actor: "bench".into() };
    {
        let b = Backend::open(opts.clone()).await.unwrap();
        let t = Instant::now();
        fill(&b, data.path()).await;
        eprintln!("cache filled in {:?}", t.elapsed());
        b.db().checkpoint().await.unwrap();
        b.db().close().await;
    }

    // A fresh process's first call (the app's), then warm calls.
    let t = Instant::now();
    let b = Backend::open(opts).await.unwrap();
    let opened = t.elapsed();
    let t = Instant::now();
    let o = b.overview_cached().await.unwrap();
    let first = t.elapsed();
    assert_eq!(
        (o.vms.vms, o.clusters.healthy + o.clusters.degraded + o.clusters.unreachable, o.images.images, o.config.waiting),
        (990, 24, 400, 12),
        "the tiles hold the cached volumes"
    );
    let mut warm = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        b.overview_cached().await.unwrap();
        warm.push(t.elapsed());
    }
    let json = serde_json::to_vec(&o).unwrap().len();
    println!(
        "overview_cached: backend open {:.1} ms, first call {:.1} ms, then median {:.1} ms of {runs} ({} KiB of JSON to the UI)",
        opened.as_secs_f64() * 1000.0,
        first.as_secs_f64() * 1000.0,
        median(warm),
        json / 1024
    );
    b.db().close().await;

    if std::env::var_os("OPSDECK_APP_BIN").is_none() {
        eprintln!("OPSDECK_APP_BIN not set: the app's first paint is not measured");
        return;
    }
    let mut paints = Vec::new();
    for _ in 0..app_runs {
        // A fresh copy each run: the app's live refresh rewrites some of the cache.
        let copy = tempfile::tempdir().unwrap();
        for f in std::fs::read_dir(data.path()).unwrap() {
            let f = f.unwrap();
            if f.file_type().unwrap().is_file() {
                std::fs::copy(f.path(), copy.path().join(f.file_name())).unwrap();
            }
        }
        let t = Instant::now();
        let app = opsdeck_tests::app::App::start_in(copy, &service).await;
        opsdeck_tests::app::css(&app.c, "[data-testid=overview-tile-activity] .ov-items li").await;
        opsdeck_tests::app::css(&app.c, "[data-testid=overview-vms-awaiting]").await;
        paints.push(t.elapsed());
        app.close().await;
    }
    let min = paints.iter().min().copied().unwrap_or(Duration::ZERO);
    println!(
        "app: cold start to the Overview painted from the cache: median {:.0} ms (min {:.0} ms) of {app_runs}",
        median(paints),
        min.as_secs_f64() * 1000.0
    );
}
