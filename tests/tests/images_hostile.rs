//! Hostile images (issue 15 item 9), built here on the real dockerd and
//! scanned by the real CLI under `/usr/bin/time`: each is refused with a
//! clear message or assessed as what it is — never a crash, never ALLOW —
//! and the scan's peak memory stays bounded whatever the image's size.
//!
//! - a 256 MiB layer (what a tar bomb expands to) over the byte budget;
//! - 3,000 `status.d` files over the package-file budget;
//! - a symbolic-link loop where `/etc/os-release` should be;
//! - an `rpmdb.sqlite` whose `Packages` is a never-ending recursive view.

use std::process::Command;

use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::service::shared;
use opsdeck_tests::workspace;

/// Peak RSS a scan may reach, KiB: the CLI, its SQLite cache and one
/// layer's package files — not the image.
const PEAK_KIB: u64 = 200 * 1024;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    peak_kib: u64,
}

/// `opsdeck scan ARGS` under /usr/bin/time with `env`.
fn scan(data: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "peak-rss-kib %M"])
        .arg(workspace::cli_bin())
        .arg("scan")
        .args(args)
        .env("OPSDECK_DATA_DIR", data)
        .env("DOCKER_HOST", shared("dockerd").get("DOCKER_HOST"))
        .envs(env.iter().copied())
        .output()
        .expect("run opsdeck under /usr/bin/time (apt install time)");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let peak_kib = stderr.lines().rev().find_map(|l| l.strip_prefix("peak-rss-kib ")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    Run { code: out.status.code(), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr, peak_kib }
}

/// An `rpmdb.sqlite` whose `Packages` is a recursive view that never ends.
fn looping_rpmdb(dir: &std::path::Path) -> Vec<u8> {
    let path = dir.join("rpmdb.sqlite");
    let script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute(\"CREATE VIEW Packages AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT zeroblob(4096) AS blob FROM r\")\nc.commit()\n";
    let out = Command::new("python3").args(["-c", script]).arg(&path).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(&path).unwrap()
}

#[tokio::test]
async fn hostile_images_are_refused_or_assessed_with_bounded_memory() {
    let docker = opsdeck_core::connectors::docker::connect(shared("dockerd").get("DOCKER_HOST"), None).await.unwrap();
    import(&docker, Rootfs::Busybox, "opsdeck-hostile/busybox:1").await;
    import(&docker, Rootfs::Rocky, "opsdeck-hostile/rocky:1").await;
    build(&docker, "opsdeck-hostile/big:1", "FROM opsdeck-hostile/busybox:1\nRUN dd if=/dev/zero of=/big bs=1048576 count=256\n", &[])
        .await;
    build(
        &docker,
        "opsdeck-hostile/statusd:1",
        "FROM opsdeck-hostile/busybox:1\nRUN mkdir -p /var/lib/dpkg/status.d && i=0 && while [ $i -lt 3000 ]; do \
         printf 'Package: p%s\\nVersion: 1.0\\nArchitecture: amd64\\n' $i > /var/lib/dpkg/status.d/p$i; i=$((i+1)); done\n",
        &[],
    )
    .await;
    build(
        &docker,
        "opsdeck-hostile/links:1",
        "FROM opsdeck-hostile/busybox:1\nRUN rm -f /etc/os-release /usr/lib/os-release; mkdir -p /usr/lib && \
         ln -s /usr/lib/os-release /etc/os-release && ln -s /etc/os-release /usr/lib/os-release && ln -s / /loop\n",
        &[],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let rpmdb = looping_rpmdb(dir.path());
    build(
        &docker,
        "opsdeck-hostile/rpmview:1",
        "FROM opsdeck-hostile/rocky:1\nCOPY rpmdb.sqlite /var/lib/rpm/rpmdb.sqlite\n",
        &[("rpmdb.sqlite", &rpmdb)],
    )
    .await;
    let data = tempfile::tempdir().unwrap();

    // The 256 MiB layer read in full with the default budget: streamed, memory bounded.
    let whole = scan(data.path(), &["opsdeck-hostile/big:1", "--format", "json"], &[]);
    assert_eq!(whole.code, Some(0), "{}", whole.stderr);
    let report: serde_json::Value = serde_json::from_str(&whole.stdout).expect("JSON report");
    assert_ne!(report[0]["decision"], "ALLOW", "a busybox image is not assessed");
    assert!(whole.peak_kib > 0 && whole.peak_kib < PEAK_KIB, "peak RSS {} KiB reading a 256 MiB layer", whole.peak_kib);

    // Over the byte budget: refused, exit 2, the limit named.
    let data = tempfile::tempdir().unwrap();
    let big = scan(data.path(), &["opsdeck-hostile/big:1", "--fail-on", "warn"], &[("OPSDECK_SCAN_MAX_BYTES", "67108864")]);
    assert_eq!(big.code, Some(2), "{}", big.stderr);
    assert!(big.stderr.contains("refused:") && big.stderr.contains("OPSDECK_SCAN_MAX_BYTES"), "{}", big.stderr);
    assert!(big.peak_kib < PEAK_KIB, "peak RSS {} KiB", big.peak_kib);

    // 3,000 status.d files over a 1,000-file budget: refused.
    let many = scan(data.path(), &["opsdeck-hostile/statusd:1"], &[("OPSDECK_SCAN_MAX_KEPT_FILES", "1000")]);
    assert_eq!(many.code, Some(2), "{}", many.stderr);
    assert!(many.stderr.contains("refused:") && many.stderr.contains("status.d"), "{}", many.stderr);
    // Within the default budget they are read: 3,000 packages.
    let read = scan(data.path(), &["opsdeck-hostile/statusd:1", "--format", "json"], &[]);
    assert_eq!(read.code, Some(0), "{}", read.stderr);
    let report: serde_json::Value = serde_json::from_str(&read.stdout).unwrap();
    assert_eq!(report[0]["packages"].as_array().map(Vec::len), Some(3000));
    assert!(read.peak_kib < PEAK_KIB, "peak RSS {} KiB", read.peak_kib);

    // A link loop where the OS release should be: not assessed (WARN), not a hang.
    let links = scan(data.path(), &["opsdeck-hostile/links:1", "--format", "json", "--fail-on", "warn"], &[]);
    assert_eq!(links.code, Some(1), "WARN fails --fail-on warn: {}", links.stderr);
    let report: serde_json::Value = serde_json::from_str(&links.stdout).unwrap();
    assert_eq!(report[0]["outcome"], "not_assessed");
    assert!(
        report[0]["notes"].to_string().contains("symbolic links") || report[0]["not_assessed"].to_string().contains("unknown OS"),
        "{report}"
    );

    // The looping rpm view: refused before it runs, so the image is not assessed, within seconds.
    let started = std::time::Instant::now();
    let view = scan(data.path(), &["opsdeck-hostile/rpmview:1", "--format", "json"], &[("OPSDECK_RPMDB_DEADLINE_SECS", "20")]);
    assert_eq!(view.code, Some(0), "{}", view.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "took {:?}", started.elapsed());
    let report: serde_json::Value = serde_json::from_str(&view.stdout).unwrap();
    assert_eq!(report[0]["outcome"], "not_assessed", "{report}");
    assert!(report[0]["not_assessed"].to_string().contains("view named Packages"), "{}", report[0]["not_assessed"]);
    assert_ne!(report[0]["decision"], "ALLOW");
    assert!(view.peak_kib < PEAK_KIB, "peak RSS {} KiB", view.peak_kib);
    // The figures, for BENCHMARKS.md and the issue note.
    eprintln!(
        "peak RSS KiB: 256 MiB layer read {}, refused over the byte budget {}, 3,000 status.d read {}, looping rpm view {}",
        whole.peak_kib, big.peak_kib, read.peak_kib, view.peak_kib
    );
}
