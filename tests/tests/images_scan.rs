//! Image scans on the real dockerd, with images made locally: a
//! debootstrapped Debian 12, an Alpine-style rootfs with an apk database, a
//! Rocky-style rootfs with an rpm database written by rpm, busybox, and
//! images built from them with HEALTHCHECK / USER / LABEL; OSV advisories
//! written for the packages they contain.

use std::sync::Mutex;

use bollard::Docker;
use opsdeck_core::cache::db::Db;
use opsdeck_core::connectors::docker;
use opsdeck_core::scanner::advisories::{self, Severity};
use opsdeck_core::scanner::layer_cache;
use opsdeck_core::scanner::policy::{Decision, Policy};
use opsdeck_core::scanner::scan::{scan_image, Progress, ScanReport};
use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::osv::{write_folder, Advisory, Severity as S, CVSS_CRITICAL, CVSS_HIGH};
use opsdeck_tests::service::shared;
use tempfile::TempDir;

const COMPLIANT: &str =
    "HEALTHCHECK CMD [\"/bin/true\"]\nUSER 1000:1000\nLABEL version=\"1.0\" maintainer=\"ops@example.com\" description=\"test image\"\n";

struct Env {
    docker: Docker,
    host: String,
    db: Db,
    dir: TempDir,
}

async fn env() -> Env {
    let host = shared("dockerd").get("DOCKER_HOST").to_string();
    let docker = docker::connect(&host, None).await.expect("dockerd");
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("opsdeck.db")).await.unwrap();
    Env { docker, host, db, dir }
}

impl Env {
    async fn advisories(&self, name: &str, list: &[Advisory<'_>]) {
        let folder = self.dir.path().join(name);
        write_folder(&folder, list);
        let report = advisories::import_path(&self.db, &folder).await.expect("import advisories");
        assert_eq!(report.records, list.len() as u64, "{report:?}");
    }

    async fn scan(&self, image: &str) -> (ScanReport, Vec<Progress>) {
        let seen = Mutex::new(Vec::new());
        let report = scan_image(&self.docker, &self.host, &self.db, image, &Policy::default(), &|p| seen.lock().unwrap().push(p))
            .await
            .unwrap_or_else(|e| panic!("scan {image}: {e}"));
        (report, seen.into_inner().unwrap())
    }
}

fn found(r: &ScanReport) -> Vec<(String, String, Option<String>, Severity)> {
    let mut v: Vec<_> =
        r.assessment.vulnerabilities.iter().map(|v| (v.ids[0].clone(), v.package.clone(), v.fixed.clone(), v.severity)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn violations(r: &ScanReport) -> Vec<&str> {
    r.assessment.verdict.violations.iter().map(|v| v.policy.as_str()).collect()
}

#[tokio::test]
async fn debian_image_findings_decision_and_layer_cache() {
    let e = env().await;
    import(&e.docker, Rootfs::Debian, "opsdeck-test/debian:12").await;
    build(&e.docker, "opsdeck-test/debian-app:1", &format!("FROM opsdeck-test/debian:12\n{COMPLIANT}"), &[]).await;
    // The debootstrapped image holds glibc 2.36-9+deb12u14, systemd 252.39-1~deb12u2,
    // gnutls28 3.7.9-2+deb12u7, xz-utils 5.4.1-1+deb12u1, diffutils 1:3.8-4.
    e.advisories(
        "debian",
        &[
            Advisory {
                id: "DSA-9001-1",
                ecosystem: "Debian:12",
                package: "glibc",
                introduced: None,
                fixed: Some("2.36-9+deb12u99"),
                severity: S::Cvss3(CVSS_CRITICAL),
            },
            Advisory {
                id: "DSA-9002-1",
                ecosystem: "Debian:12",
                package: "systemd",
                introduced: None,
                fixed: Some("252.39-1~deb12u3"),
                severity: S::Cvss3(CVSS_HIGH),
            },
            // Fixed in exactly the installed version: not affected.
            Advisory {
                id: "DSA-9003-1",
                ecosystem: "Debian:12",
                package: "gnutls28",
                introduced: None,
                fixed: Some("3.7.9-2+deb12u7"),
                severity: S::Cvss3(CVSS_CRITICAL),
            },
            // ~deb12u1 sorts before the installed ~deb12u2: not affected.
            Advisory {
                id: "DSA-9004-1",
                ecosystem: "Debian:12",
                package: "systemd",
                introduced: None,
                fixed: Some("252.39-1~deb12u1"),
                severity: S::Cvss3(CVSS_CRITICAL),
            },
            // Introduced after the installed version: not affected.
            Advisory {
                id: "DSA-9005-1",
                ecosystem: "Debian:12",
                package: "xz-utils",
                introduced: Some("5.4.1-1+deb12u2"),
                fixed: Some("5.4.1-1+deb12u3"),
                severity: S::Cvss3(CVSS_CRITICAL),
            },
            // Epoch 1 beats any epoch-0 version: not affected.
            Advisory {
                id: "DSA-9006-1",
                ecosystem: "Debian:12",
                package: "diffutils",
                introduced: None,
                fixed: Some("3.9-1"),
                severity: S::Cvss3(CVSS_CRITICAL),
            },
            // Another release: not matched.
            Advisory {
                id: "DSA-9007-1",
                ecosystem: "Debian:11",
                package: "glibc",
                introduced: None,
                fixed: Some("2.99-1"),
                severity: S::Cvss3(CVSS_CRITICAL),
            },
        ],
    )
    .await;

    let (app, progress) = e.scan("opsdeck-test/debian-app:1").await;
    assert_eq!(app.os.as_ref().map(|o| (o.id.as_str(), o.version_id.as_deref())), Some(("debian", Some("12"))));
    assert_eq!(app.assessment.ecosystem.as_deref(), Some("Debian:12"));
    assert!(app.packages.len() > 80, "debootstrap minbase has ~90 packages: {}", app.packages.len());
    let libc6 = app.packages.iter().find(|p| p.name == "libc6").expect("libc6 listed");
    assert_eq!(libc6.source_name.as_deref(), Some("glibc"));
    let f = found(&app);
    let ids: Vec<&str> = f.iter().map(|x| x.0.as_str()).collect();
    // One row per installed binary package of the affected source package.
    let rows = |id: &str| f.iter().filter(|x| x.0 == id).map(|x| x.1.as_str()).collect::<Vec<_>>();
    assert_eq!(rows("DSA-9001-1"), ["libc-bin", "libc6"], "{f:?}");
    assert_eq!(rows("DSA-9002-1"), ["libsystemd0", "libudev1"], "{f:?}");
    for not in ["DSA-9003-1", "DSA-9004-1", "DSA-9005-1", "DSA-9006-1", "DSA-9007-1"] {
        assert!(!ids.contains(&not), "{not} must not match: {f:?}");
    }
    let glibc = f.iter().find(|x| x.0 == "DSA-9001-1").unwrap();
    assert_eq!((glibc.2.as_deref(), glibc.3), (Some("2.36-9+deb12u99"), Severity::Critical));
    // Compliant configuration, but a CRITICAL vulnerability: BLOCK.
    assert_eq!(violations(&app), ["no-critical-vulnerabilities"]);
    assert_eq!(app.assessment.verdict.decision, Decision::Block);
    assert_eq!(app.assessment.verdict.risk_score, 2 * 10 + 2 * 5);
    assert!(app.layers.iter().all(|l| !l.from_cache), "first scan reads every layer");
    assert!(progress.iter().any(|p| matches!(p, Progress::Reading { .. })), "progress while reading: {progress:?}");

    // The base image shares its only layer: nothing is read from Docker again.
    let (base, progress) = e.scan("opsdeck-test/debian:12").await;
    assert!(base.layers.iter().all(|l| l.from_cache), "{:?}", base.layers);
    assert!(!progress.iter().any(|p| matches!(p, Progress::Reading { .. })), "no export: {progress:?}");
    assert_eq!(base.packages, app.packages);
    assert_eq!(violations(&base), ["no-critical-vulnerabilities", "require-healthcheck", "no-root-user", "require-labels"]);
    assert_eq!(layer_cache::count(&e.db).await.unwrap(), 1);
}

#[tokio::test]
async fn alpine_and_rocky_orderings_on_real_images() {
    let e = env().await;
    import(&e.docker, Rootfs::Alpine, "opsdeck-test/alpine:3.20").await;
    import(&e.docker, Rootfs::Rocky, "opsdeck-test/rocky:9").await;
    e.advisories(
        "apk-rpm",
        &[
            // apk: installed busybox 1.36.1-r29, libcrypto3/libssl3 3.3.0-r2 (origin openssl), musl 1.2.5-r0, zlib 1.3.1-r1
            Advisory {
                id: "ALPINE-9101",
                ecosystem: "Alpine:v3.20",
                package: "busybox",
                introduced: None,
                fixed: Some("1.36.1-r30"),
                severity: S::Word("High"),
            },
            Advisory {
                id: "ALPINE-9102",
                ecosystem: "Alpine:v3.20",
                package: "openssl",
                introduced: None,
                fixed: Some("3.3.0-r3"),
                severity: S::Cvss3(CVSS_CRITICAL),
            },
            // 1.2.5_rc1 sorts before 1.2.5: not affected.
            Advisory {
                id: "ALPINE-9103",
                ecosystem: "Alpine:v3.20",
                package: "musl",
                introduced: None,
                fixed: Some("1.2.5_rc1-r0"),
                severity: S::Cvss3(CVSS_CRITICAL),
            },
            // 1.3.1_p1 sorts after 1.3.1: affected.
            Advisory {
                id: "ALPINE-9104",
                ecosystem: "Alpine:v3.20",
                package: "zlib",
                introduced: None,
                fixed: Some("1.3.1_p1-r0"),
                severity: S::Word("Medium"),
            },
            Advisory {
                id: "ALPINE-9105",
                ecosystem: "Alpine:v3.19",
                package: "zlib",
                introduced: None,
                fixed: Some("9.9-r0"),
                severity: S::Word("Medium"),
            },
            // rpm: openssl-libs 1:3.0.7-24.el9 (source openssl), bash 5.1.8-6.el9, glibc 2.34-100.el9
            Advisory {
                id: "RLSA-2026:9201",
                ecosystem: "Rocky Linux:9",
                package: "openssl",
                introduced: None,
                fixed: Some("1:3.0.7-25.el9"),
                severity: S::Word("Important"),
            },
            // Without the epoch 3.0.8 would look newer; with it, 1:3.0.7 > 0:3.0.8: not affected.
            Advisory {
                id: "RLSA-2026:9202",
                ecosystem: "Rocky Linux:9",
                package: "openssl",
                introduced: None,
                fixed: Some("3.0.8-1.el9"),
                severity: S::Word("Critical"),
            },
            Advisory {
                id: "RLSA-2026:9203",
                ecosystem: "Rocky Linux:9",
                package: "bash",
                introduced: None,
                fixed: Some("5.1.8-6.el9"),
                severity: S::Word("Critical"),
            },
            // el9_4.2 is a later release than el9: affected.
            Advisory {
                id: "RLSA-2026:9204",
                ecosystem: "Rocky Linux:9",
                package: "glibc",
                introduced: None,
                fixed: Some("2.34-100.el9_4.2"),
                severity: S::Word("Moderate"),
            },
        ],
    )
    .await;

    let (alpine, _) = e.scan("opsdeck-test/alpine:3.20").await;
    assert_eq!(alpine.assessment.ecosystem.as_deref(), Some("Alpine:v3.20"));
    let names: Vec<&str> = alpine.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["apk-tools", "busybox", "libcrypto3", "libssl3", "musl", "zlib"]);
    let f = found(&alpine);
    let ids: Vec<&str> = f.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(ids, ["ALPINE-9101", "ALPINE-9102", "ALPINE-9102", "ALPINE-9104"], "{f:?}");
    assert!(f.iter().any(|x| x.1 == "libcrypto3") && f.iter().any(|x| x.1 == "libssl3"), "matched through the origin: {f:?}");
    assert_eq!(f[0].3, Severity::High);
    assert_eq!(f[3].3, Severity::Medium);

    let (rocky, _) = e.scan("opsdeck-test/rocky:9").await;
    assert_eq!(rocky.assessment.ecosystem.as_deref(), Some("Rocky Linux:9"));
    let names: Vec<&str> = rocky.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["bash", "glibc", "openssl", "openssl-libs"]);
    assert_eq!(rocky.packages.iter().find(|p| p.name == "openssl-libs").unwrap().version, "1:3.0.7-24.el9");
    let f = found(&rocky);
    let ids: Vec<(&str, &str)> = f.iter().map(|x| (x.0.as_str(), x.1.as_str())).collect();
    assert_eq!(ids, [("RLSA-2026:9201", "openssl"), ("RLSA-2026:9201", "openssl-libs"), ("RLSA-2026:9204", "glibc")], "{f:?}");
    assert_eq!(f[0].3, Severity::High, "Red Hat's Important is HIGH");
}

/// A two-layer image loaded from a `docker save` archive made here: the
/// second layer hides the apk database folder (opaque) and writes a smaller one.
fn layered_archive(base: &[u8], reference: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut upper = tar::Builder::new(Vec::new());
    for (path, data) in [
        ("lib/apk/db/.wh..wh..opq", &b""[..]),
        ("lib/apk/db/installed", b"P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\nP:zlib\nV:1.3.1-r1\nA:x86_64\no:zlib\n\n"),
        ("etc/motd", b"hi\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        upper.append_data(&mut h, path, data).unwrap();
    }
    let upper = upper.into_inner().unwrap();
    let digest = |b: &[u8]| format!("sha256:{}", hex(&Sha256::digest(b)));
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": { "type": "layers", "diff_ids": [digest(base), digest(&upper)] },
        "history": [{ "created_by": "base" }, { "created_by": "upper" }]
    }))
    .unwrap();
    let config_name = format!("{}.json", digest(&config).trim_start_matches("sha256:"));
    let manifest = serde_json::to_vec(
        &serde_json::json!([{ "Config": config_name, "RepoTags": [reference], "Layers": ["base/layer.tar", "upper/layer.tar"] }]),
    )
    .unwrap();
    let mut out = tar::Builder::new(Vec::new());
    for (path, data) in
        [("base/layer.tar", base), ("upper/layer.tar", &upper[..]), (config_name.as_str(), &config[..]), ("manifest.json", &manifest[..])]
    {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        out.append_data(&mut h, path, data).unwrap();
    }
    out.into_inner().unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn whiteouts_and_opaque_folders_through_the_engine() {
    use futures::StreamExt;
    let e = env().await;
    let base = std::fs::read(opsdeck_tests::images::rootfs(Rootfs::Alpine)).unwrap();
    let archive = layered_archive(&base, "opsdeck-test/layered:1");
    let mut load =
        e.docker.import_image(bollard::query_parameters::ImportImageOptions::default(), bollard::body_full(archive.into()), None);
    while let Some(step) = load.next().await {
        step.expect("docker load");
    }
    let (r, _) = e.scan("opsdeck-test/layered:1").await;
    assert_eq!(r.layers.len(), 2);
    let names: Vec<&str> = r.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["musl", "zlib"], "the upper layer's opaque folder hides the base's database");
    assert_eq!(r.os.as_ref().map(|o| o.id.as_str()), Some("alpine"));
}

#[tokio::test]
async fn policies_read_the_real_image_configuration() {
    let e = env().await;
    import(&e.docker, Rootfs::Busybox, "opsdeck-test/busybox:1").await;
    build(&e.docker, "opsdeck-test/busybox-ok:1", &format!("FROM opsdeck-test/busybox:1\n{COMPLIANT}"), &[]).await;
    build(&e.docker, "opsdeck-test/busybox-root:1", "FROM opsdeck-test/busybox-ok:1\nUSER root\n", &[]).await;
    build(&e.docker, "opsdeck-test/busybox-nohc:1", "FROM opsdeck-test/busybox-ok:1\nHEALTHCHECK NONE\nLABEL version=\"\"\n", &[]).await;

    let (bare, _) = e.scan("opsdeck-test/busybox:1").await;
    assert_eq!(bare.os, None, "busybox has no os-release");
    assert!(bare.packages.is_empty() && bare.assessment.vulnerabilities.is_empty());
    assert_eq!(violations(&bare), ["require-healthcheck", "no-root-user", "require-labels"]);
    assert_eq!(bare.assessment.verdict.decision, Decision::Block);

    let (ok, _) = e.scan("opsdeck-test/busybox-ok:1").await;
    assert!(violations(&ok).is_empty(), "{:?}", ok.assessment.verdict);
    // No package database: compliant, but the scan could not assess it.
    assert_eq!(ok.assessment.verdict.decision, Decision::Warn);
    assert_eq!(ok.assessment.verdict.outcome, opsdeck_core::scanner::policy::Outcome::NotAssessed);

    let (root, _) = e.scan("opsdeck-test/busybox-root:1").await;
    assert_eq!(violations(&root), ["no-root-user"]);
    let (nohc, _) = e.scan("opsdeck-test/busybox-nohc:1").await;
    assert_eq!(violations(&nohc), ["require-healthcheck"], "an empty label value still counts as present");
}

#[tokio::test]
async fn a_missing_image_and_a_dead_engine_are_clear_errors() {
    let e = env().await;
    let err = scan_image(&e.docker, &e.host, &e.db, "opsdeck-test/nope:0", &Policy::default(), &|_| {}).await.unwrap_err();
    assert!(err.to_string().contains("opsdeck-test/nope:0 is not on Docker"), "{err}");
    let err = docker::connect("unix:///nonexistent/docker.sock", None).await.unwrap_err();
    assert!(err.to_string().contains("no Docker socket"), "{err}");
}
