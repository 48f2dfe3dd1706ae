//! `opsdeck scan` and `opsdeck advisories import` against the real dockerd:
//! report formats, CI gates (exit codes), and re-matching after an import
//! without Docker; imports and policy changes are audited.

use std::process::{Command, Output};

use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::scanner::policy::{Decision, Policy};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::osv::{write_folder, Advisory, Severity as S, CVSS_CRITICAL};
use opsdeck_tests::service::shared;
use opsdeck_tests::workspace;

fn opsdeck(data: &std::path::Path, args: &[&str]) -> Output {
    let bin = workspace::cli_bin();
    Command::new(bin)
        .args(args)
        .env("OPSDECK_DATA_DIR", data)
        .env("DOCKER_HOST", shared("dockerd").get("DOCKER_HOST"))
        .output()
        .expect("run opsdeck")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn images() {
    let docker = opsdeck_core::connectors::docker::connect(shared("dockerd").get("DOCKER_HOST"), None).await.unwrap();
    import(&docker, Rootfs::Alpine, "opsdeck-cli/alpine:3.20").await;
    build(
        &docker,
        "opsdeck-cli/app:1",
        "FROM opsdeck-cli/alpine:3.20\nHEALTHCHECK CMD [\"/bin/true\"]\nUSER 1000\nLABEL version=1 maintainer=ops description=app\n",
        &[],
    )
    .await;
}

fn advisories(dir: &std::path::Path) -> std::path::PathBuf {
    let folder = dir.join("osv");
    write_folder(
        &folder,
        &[Advisory {
            id: "ALPINE-CLI-1",
            ecosystem: "Alpine:v3.20",
            package: "openssl",
            introduced: None,
            fixed: Some("3.3.0-r3"),
            severity: S::Cvss3(CVSS_CRITICAL),
        }],
    );
    folder
}

#[tokio::test]
async fn formats_and_gates() {
    images().await;
    let data = tempfile::tempdir().unwrap();

    // No advisories yet: the compliant image is not assessed (WARN, so --fail-on block
    // passes), the bare one blocked by policy.
    let out = opsdeck(data.path(), &["scan", "opsdeck-cli/app:1", "opsdeck-cli/alpine:3.20", "--fail-on", "block"]);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let table = stdout(&out);
    assert!(table.contains("opsdeck-cli/app:1") && table.contains("WARN (NOT ASSESSED)"), "{table}");
    assert!(table.contains("BLOCK") && table.contains("require-healthcheck"), "{table}");
    assert_eq!(opsdeck(data.path(), &["scan", "opsdeck-cli/app:1", "--fail-on", "block"]).status.code(), Some(0));

    // With an advisory for openssl (origin of libcrypto3/libssl3): CRITICAL → BLOCK.
    let folder = advisories(data.path());
    let out = opsdeck(
        data.path(),
        &["scan", "opsdeck-cli/app:1", "--advisories", folder.to_str().unwrap(), "--format", "json", "--fail-on", "block"],
    );
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(json[0]["decision"], "BLOCK");
    assert_eq!(json[0]["counts"]["critical"], 2, "libcrypto3 and libssl3");
    assert_eq!(json[0]["vulnerabilities"][0]["ids"][0], "ALPINE-CLI-1");

    let sarif: serde_json::Value =
        serde_json::from_slice(&opsdeck(data.path(), &["scan", "opsdeck-cli/app:1", "--format", "sarif"]).stdout).expect("SARIF");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "ALPINE-CLI-1" && r["level"] == "error"), "{results:?}");
    assert!(results.iter().any(|r| r["ruleId"] == "no-critical-vulnerabilities"));

    let bom: serde_json::Value =
        serde_json::from_slice(&opsdeck(data.path(), &["scan", "opsdeck-cli/app:1", "--format", "cyclonedx"]).stdout).expect("CycloneDX");
    assert_eq!((bom["bomFormat"].as_str(), bom["specVersion"].as_str()), (Some("CycloneDX"), Some("1.5")));
    let purls: Vec<&str> = bom["components"].as_array().unwrap().iter().filter_map(|c| c["purl"].as_str()).collect();
    assert!(purls.contains(&"pkg:apk/alpine/libcrypto3@3.3.0-r2?arch=x86_64&distro=alpine-3.20.3&upstream=openssl"), "{purls:?}");
    assert_eq!(bom["vulnerabilities"].as_array().unwrap().len(), 2);
    let two = opsdeck(data.path(), &["scan", "a:1", "b:1", "--format", "cyclonedx"]);
    assert_eq!(two.status.code(), Some(2), "cyclonedx describes one image");

    // SPDX 2.3 JSON, valid against the official schema (tests/data/spdx/README.md).
    let spdx: serde_json::Value =
        serde_json::from_slice(&opsdeck(data.path(), &["scan", "opsdeck-cli/app:1", "--format", "spdx-json"]).stdout).expect("SPDX");
    let schema: serde_json::Value = serde_json::from_str(include_str!("../data/spdx/spdx-schema-2.3.json")).unwrap();
    let errors: Vec<String> =
        jsonschema::validator_for(&schema).unwrap().iter_errors(&spdx).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert_eq!(errors, Vec::<String>::new(), "the SPDX document is valid SPDX 2.3");
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    let packages = spdx["packages"].as_array().unwrap();
    let libssl = packages.iter().find(|p| p["name"] == "libssl3").expect("libssl3 in the SPDX packages");
    let refs = libssl["externalRefs"].as_array().unwrap();
    assert!(
        refs.iter().any(|r| r["referenceType"] == "purl" && r["referenceLocator"].as_str().unwrap().starts_with("pkg:apk/alpine/libssl3@")),
        "{refs:?}"
    );
    assert!(
        refs.iter().any(|r| r["referenceCategory"] == "SECURITY" && r["referenceLocator"] == "https://osv.dev/vulnerability/ALPINE-CLI-1"),
        "{refs:?}"
    );
    let two = opsdeck(data.path(), &["scan", "a:1", "b:1", "--format", "spdx-json"]);
    assert_eq!(two.status.code(), Some(2), "spdx-json describes one image");

    let junit = stdout(&opsdeck(data.path(), &["scan", "opsdeck-cli/app:1", "opsdeck-cli/alpine:3.20", "--format", "junit"]));
    assert!(
        junit.contains("<testsuite name=\"image-scan\" package=\"opsdeck.scan\"")
            && junit.contains("tests=\"2\"")
            && junit.contains("failures=\"2\""),
        "{junit}"
    );
    opsdeck_tests::junit::assert_valid(&junit);

    let missing = opsdeck(data.path(), &["scan", "opsdeck-cli/not-there:1"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("is not on Docker"));
}

#[tokio::test]
async fn a_new_advisory_database_rematches_cached_images_without_docker() {
    images().await;
    let t = TestBackend::new().await;
    let docker_host = shared("dockerd").get("DOCKER_HOST");
    let engine = opsdeck_core::backend::Engine {
        docker: opsdeck_core::connectors::docker::connect(docker_host, None).await.unwrap(),
        host: docker_host.into(),
        connection_id: None,
    };
    let (_, before) = t.backend.scan(&engine, "opsdeck-cli/app:1", &|_| {}).await.unwrap();
    assert_eq!(before.assessment.verdict.decision, Decision::Warn, "no advisories loaded: not assessed");
    assert_eq!(before.assessment.verdict.outcome, opsdeck_core::scanner::policy::Outcome::NotAssessed);
    drop(engine); // from here on, nothing talks to Docker

    let update = t.backend.import_advisories(&advisories(t.dir.path())).await.unwrap();
    assert_eq!(update.import.records, 1);
    assert_eq!(update.rematched.images, 1);
    assert_eq!(update.rematched.changed, ["opsdeck-cli/app:1: WARN → BLOCK"]);
    let history = t.backend.scan_history(None, 10).await.unwrap();
    assert_eq!(history.len(), 2);
    let latest = t.backend.scan_report(history[0].id).await.unwrap();
    assert_eq!(latest.assessment.counts.critical, 2);
    assert!(latest.layers.iter().all(|l| l.from_cache));

    // A policy change re-assesses too, and both changes are in the audit log.
    let lenient = Policy {
        no_critical: false,
        thresholds: opsdeck_core::scanner::policy::Thresholds { critical: 100, high: 50, medium: 10 },
        ..Policy::default()
    };
    let again = t.backend.set_image_policy(lenient.clone()).await.unwrap();
    assert_eq!(again.changed, ["opsdeck-cli/app:1: BLOCK → ALLOW"]);
    assert_eq!(t.backend.image_policy().await.unwrap(), lenient);
    let audit = t.backend.audit_log(&AuditFilter { platform: Some("images".into()), limit: 50, ..Default::default() }).await.unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["policy.update", "advisories.import"]);
    let bad = Policy { thresholds: opsdeck_core::scanner::policy::Thresholds { critical: 1, high: 5, medium: 10 }, ..Policy::default() };
    assert!(t.backend.set_image_policy(bad).await.is_err());
}
