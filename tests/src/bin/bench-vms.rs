//! Benchmark: vCenter inventory load against a vcsim with 1,000+ VMs.
//!
//! Run (release, under a keychain session for the saved connection):
//!   cargo build --release -p opsdeck-cli -p opsdeck-tests --bin opsdeck --bin bench-vms
//!   scripts/with-session.sh $CARGO_TARGET_DIR/release/bench-vms [VMS_PER_POOL]
//!
//! Measures, side by side on the same simulator:
//! - Opsdeck's inventory load in-process (VMs with power, tools, CPU, memory,
//!   host, datastores, snapshots, folder, annotation; hosts; datastores;
//!   networks; folders; pools; clusters; datacenters) — median of 5;
//! - `opsdeck vm inventory --format json` as a process (wall time, peak RSS);
//! - `govc find / -type m` (VM paths only) and
//!   `govc object.collect -type m / name runtime.powerState summary.config.numCpu ...`
//!   (the same VM properties in one retrieval), wall time and peak RSS.

use std::process::Command;
use std::time::Instant;

use opsdeck_core::connections::{ConnectionInput, ConnectionSpec};
use opsdeck_core::connectors::vsphere;
use opsdeck_core::vms::inventory;
use opsdeck_core::{Backend, BackendOptions};
use opsdeck_tests::bench::{median, timed};
use opsdeck_tests::{workspace, Service};

#[tokio::main]
async fn main() {
    let per_pool: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(65);
    let per_pool_s = per_pool.to_string();
    let t = Instant::now();
    let vcsim = Service::start_with_args("vcsim", &["--", "-cluster", "4", "-host", "4", "-pool", "4", "-vm", &per_pool_s], &[]);
    eprintln!("vcsim up in {:?}", t.elapsed());
    opsdeck_core::connectors::tls::install_crypto_provider();
    let (url, user, pass, tp) =
        (vcsim.get("VCSIM_SDK_URL"), vcsim.get("VCSIM_USER"), vcsim.get("VCSIM_PASSWORD"), vcsim.get("VCSIM_THUMBPRINT_SHA256"));
    let secret = opsdeck_core::secrets::Secret::new(pass.to_string());
    let pinned = opsdeck_core::connections::validate::normalize_thumbprint(tp).expect("thumbprint");
    let client = vsphere::connect(url, user, Some(&secret), Some(&pinned)).await.expect("log in");

    let mut ours = vec![];
    let mut counts = (0, 0, 0);
    for _ in 0..5 {
        let t = Instant::now();
        let inv = inventory::load(&client).await.expect("inventory");
        ours.push(t.elapsed());
        counts = (inv.vms.len(), inv.hosts.len(), inv.datastores.len());
    }
    let _ = client.close().await;
    eprintln!("inventory: {} VMs, {} hosts, {} datastores", counts.0, counts.1, counts.2);

    // The CLI as a process: a saved connection in a throw-away data dir and keychain service.
    let data = tempfile::tempdir().unwrap();
    let service = format!("opsdeck-bench-{}", std::process::id());
    let backend = Backend::open(BackendOptions { data_dir: data.path().into(), keychain_service: service.clone(), actor: "bench".into() })
        .await
        .unwrap();
    let conn = backend
        .save_connection(ConnectionInput {
            id: None,
            name: "bench-vc".into(),
            spec: ConnectionSpec::Vsphere { url: url.into(), username: user.into(), thumbprint: Some(tp.into()) },
            secret: Some(pass.into()),
            clear_secret: false,
        })
        .await
        .expect("save the connection (needs a keychain session: scripts/with-session.sh)");
    let opsdeck = workspace::target_dir().join("release/opsdeck");
    assert!(opsdeck.exists(), "build it: cargo build --release -p opsdeck-cli");
    let govc = std::env::var("GOVC_BIN").unwrap_or_else(|_| format!("{}/.cache/opsdeck/bin/govc-v0.56.0", std::env::var("HOME").unwrap()));
    let host = vcsim.get("VCSIM_HOST");
    let govc_env = [("GOVC_URL", format!("https://{user}:{pass}@{host}/sdk")), ("GOVC_TLS_CA_CERTS", vcsim.get("VCSIM_CA").to_string())];
    let props = [
        "name",
        "runtime.powerState",
        "runtime.host",
        "summary.config.numCpu",
        "summary.config.memorySizeMB",
        "summary.config.annotation",
        "guest.toolsRunningStatus",
        "datastore",
        "snapshot",
        "parent",
        "resourcePool",
    ];

    let (mut cli, mut cli_kb) = (vec![], 0);
    let (mut find, mut find_kb) = (vec![], 0);
    let (mut collect, mut collect_kb) = (vec![], 0);
    for _ in 0..5 {
        let (d, kb) = timed(
            Command::new(&opsdeck)
                .args(["vm", "inventory", "--vcenter", "bench-vc", "--format", "json"])
                .env("OPSDECK_DATA_DIR", data.path())
                .env("OPSDECK_KEYCHAIN_SERVICE", &service),
        );
        cli.push(d);
        cli_kb = cli_kb.max(kb);
        let (d, kb) = timed(Command::new(&govc).args(["find", "/", "-type", "m"]).envs(govc_env.iter().cloned()));
        find.push(d);
        find_kb = find_kb.max(kb);
        let (d, kb) =
            timed(Command::new(&govc).args(["object.collect", "-s", "-type", "m", "/"]).args(props).envs(govc_env.iter().cloned()));
        collect.push(d);
        collect_kb = collect_kb.max(kb);
    }
    let _ = backend.delete_connection(&conn.id).await;

    println!("| measurement ({} VMs, {} hosts, {} datastores on vcsim) | result |", counts.0, counts.1, counts.2);
    println!("| --- | --- |");
    println!("| Opsdeck inventory load in-process, all object types (median of 5) | {:.0} ms |", median(ours));
    println!(
        "| `opsdeck vm inventory --format json`, process wall / peak RSS (median of 5) | {:.0} ms / {} MiB |",
        median(cli),
        cli_kb / 1024
    );
    println!("| `govc find / -type m` (VM paths only), wall / peak RSS | {:.0} ms / {} MiB |", median(find), find_kb / 1024);
    println!(
        "| `govc object.collect -type m` with the same {} VM properties, wall / peak RSS | {:.0} ms / {} MiB |",
        props.len(),
        median(collect),
        collect_kb / 1024
    );
}
