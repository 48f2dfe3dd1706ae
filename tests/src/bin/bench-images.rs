//! Images benchmark on the real dockerd, side by side with syft.
//!
//!   cargo build --release -p opsdeck-cli -p opsdeck-tests --bin bench-images
//!   $CARGO_TARGET_DIR/release/bench-images [RECORDS]          # default 100000
//!
//! Imports the debootstrapped Debian 12 image (scripts/images/debian-rootfs.sh),
//! then measures, 5 runs each, with /usr/bin/time (wall time, peak RSS):
//! - cold scan: `opsdeck scan IMAGE --format json` with an empty data dir
//!   (the whole image is streamed from Docker and its layers parsed);
//! - warm scan: the same with the layer cache filled (no export at all);
//! - `syft IMAGE` (package cataloguing only) when ~/.cache/opsdeck/bin/syft
//!   exists (scripts/setup/build-syft.sh), reading the same engine;
//! - importing RECORDS synthetic OSV records (a zip: Debian 12 records for the
//!   ~10,000 source packages, the image's own among them, a few records each as
//!   in the real feed; plus Alpine, Rocky and npm records) and matching the
//!   image's packages against them (in-process, median of 20), as packages/s.

use std::process::Command;
use std::time::Instant;

use opsdeck_core::cache::db::Db;
use opsdeck_core::scanner::advisories::{ecosystem_of, import_path, match_packages};
use opsdeck_core::scanner::packages::Package;
use opsdeck_tests::bench::{median, timed};
use opsdeck_tests::images::{import, osv_zip, Rootfs};
use opsdeck_tests::service::Service;
use opsdeck_tests::workspace;

const IMAGE: &str = "opsdeck-bench/debian:12";

#[tokio::main]
async fn main() {
    let records: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dockerd = Service::start("dockerd", &[]);
    let host = dockerd.get("DOCKER_HOST").to_string();
    let docker = opsdeck_core::connectors::docker::connect(&host, None).await.unwrap();
    import(&docker, Rootfs::Debian, IMAGE).await;
    let size = docker.inspect_image(IMAGE).await.unwrap().size.unwrap_or(0);
    eprintln!("image {IMAGE}: {} MB", size / 1_000_000);

    let opsdeck = workspace::target_dir().join("release/opsdeck");
    assert!(opsdeck.exists(), "build it: cargo build --release -p opsdeck-cli");
    let scan = |data: &std::path::Path| {
        let mut c = Command::new(&opsdeck);
        c.args(["scan", IMAGE, "--format", "json"]).env("OPSDECK_DATA_DIR", data).env("DOCKER_HOST", &host);
        c
    };
    let (mut cold, mut cold_kb, mut warm, mut warm_kb) = (vec![], 0, vec![], 0);
    for _ in 0..5 {
        let data = tempfile::tempdir().unwrap();
        let (t, kb) = timed(&mut scan(data.path()));
        cold.push(t);
        cold_kb = cold_kb.max(kb);
        let (t, kb) = timed(&mut scan(data.path()));
        warm.push(t);
        warm_kb = warm_kb.max(kb);
    }
    println!("cold scan (export + parse + match): median {:.0} ms, peak RSS {} MiB", median(cold), cold_kb / 1024);
    println!("warm scan (all layers cached):      median {:.0} ms, peak RSS {} MiB", median(warm), warm_kb / 1024);

    let syft = dirs_syft();
    if syft.exists() {
        let (mut runs, mut kb_max) = (vec![], 0);
        for _ in 0..5 {
            let (t, kb) = timed(
                Command::new(&syft)
                    .args(["scan", &format!("docker:{IMAGE}"), "-o", "json", "-q"])
                    .env("DOCKER_HOST", &host)
                    .env("SYFT_CHECK_FOR_APP_UPDATE", "false"),
            );
            runs.push(t);
            kb_max = kb_max.max(kb);
        }
        println!("syft scan docker:IMAGE -o json:      median {:.0} ms, peak RSS {} MiB", median(runs), kb_max / 1024);
    } else {
        println!("syft: not built ({} missing; scripts/setup/build-syft.sh)", syft.display());
    }

    // Advisory import and matching throughput.
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("bench.db")).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(&opsdeck)
        .args(["scan", IMAGE, "--format", "json"])
        .env("OPSDECK_DATA_DIR", data.path())
        .env("DOCKER_HOST", &host)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages: Vec<Package> = serde_json::from_value(report[0]["packages"].clone()).unwrap();
    let os = serde_json::from_value(report[0]["os"].clone()).unwrap();
    let zip = dir.path().join("osv.zip");
    osv_zip(&zip, records, &packages);
    let t = Instant::now();
    let imported = import_path(&db, &zip).await.unwrap();
    let took = t.elapsed();
    println!(
        "import {records} OSV records (zip): {:.1} s ({:.0} records/s; {} kept, {} other ecosystems)",
        took.as_secs_f64(),
        records as f64 / took.as_secs_f64(),
        imported.records,
        imported.skipped_ecosystems
    );
    let eco = ecosystem_of(&os).unwrap();
    let mut runs = vec![];
    let mut found = 0;
    for _ in 0..20 {
        let t = Instant::now();
        found = match_packages(&db, &eco, &packages).await.unwrap().len();
        runs.push(t.elapsed());
    }
    let ms = median(runs);
    println!(
        "match {} packages against {} records: median {ms:.1} ms ({:.0} packages/s), {found} findings",
        packages.len(),
        imported.records,
        packages.len() as f64 / (ms / 1000.0)
    );
}

fn dirs_syft() -> std::path::PathBuf {
    let cache = std::env::var("OPSDECK_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/opsdeck"));
    cache.join("bin/syft")
}
