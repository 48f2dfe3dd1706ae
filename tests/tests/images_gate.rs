//! The scan gate against the real dockerd (`opsdeck scan`): a scan that
//! could not assess the image is "not assessed" (WARN, BLOCK by policy) and
//! `--fail-on` counts it; suppressions from `opsdeck-ignore.yaml` hide a
//! finding until they expire; `--severity` and `--ignore-unfixed` choose
//! what counts. Advisory records are test records (tests/src/osv.rs, all
//! modified 2026-11-01).

use std::path::Path;
use std::process::{Command, Output};

use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::osv::{write_folder, Advisory, Severity as S, CVSS_CRITICAL};
use opsdeck_tests::service::shared;
use opsdeck_tests::workspace;

const COMPLIANT: &str = "HEALTHCHECK CMD [\"/bin/true\"]\nUSER 1000\nLABEL version=1 maintainer=ops description=gate\n";

fn opsdeck_in(cwd: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(workspace::cli_bin())
        .args(args)
        .current_dir(cwd)
        .env("OPSDECK_DATA_DIR", data)
        .env("DOCKER_HOST", shared("dockerd").get("DOCKER_HOST"))
        .output()
        .expect("run opsdeck")
}

fn show(o: &Output) -> String {
    format!("exit {:?}\n{}\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("JSON report: {e}\n{}", show(o)))
}

/// A busybox image without OS or package database, and an Alpine one, both
/// passing the configuration policies.
async fn images() {
    let docker = opsdeck_core::connectors::docker::connect(shared("dockerd").get("DOCKER_HOST"), None).await.unwrap();
    import(&docker, Rootfs::Busybox, "opsdeck-gate/busybox:1").await;
    import(&docker, Rootfs::Alpine, "opsdeck-gate/alpine:3.20").await;
    build(&docker, "opsdeck-gate/bare-app:1", &format!("FROM opsdeck-gate/busybox:1\n{COMPLIANT}"), &[]).await;
    build(&docker, "opsdeck-gate/alpine-app:1", &format!("FROM opsdeck-gate/alpine:3.20\n{COMPLIANT}"), &[]).await;
}

fn import_advisories(dir: &Path, data: &Path, advisories: &[Advisory]) {
    let folder = dir.join("osv");
    write_folder(&folder, advisories);
    let out = opsdeck_in(dir, data, &["advisories", "import", folder.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

fn policy_file(dir: &Path, name: &str, yaml: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn an_image_without_a_package_database_is_not_assessed() {
    images().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_advisories(
        dir.path(),
        &data,
        &[Advisory {
            id: "GATE-DEB-1",
            ecosystem: "Debian:12",
            package: "openssl",
            introduced: None,
            fixed: Some("3.0.15-1~deb12u1"),
            severity: S::Cvss3(CVSS_CRITICAL),
        }],
    );
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "opsdeck-gate/bare-app:1"];
        args.extend_from_slice(extra);
        opsdeck_in(dir.path(), &data, &args)
    };

    let out = scan(&["--format", "json", "--fail-on", "warn"]);
    assert_eq!(out.status.code(), Some(1), "not assessed fails --fail-on warn: {}", show(&out));
    let r = &json(&out)[0];
    assert_eq!((r["decision"].as_str(), r["outcome"].as_str()), (Some("WARN"), Some("not_assessed")), "{r}");
    let why: Vec<&str> = r["not_assessed"].as_array().unwrap().iter().filter_map(|w| w.as_str()).collect();
    assert!(why.iter().any(|w| w.starts_with("no package database found")), "{why:?}");
    assert!(why.iter().any(|w| w.starts_with("unknown OS")), "{why:?}");
    let out = scan(&["--fail-on", "block"]);
    assert_eq!(out.status.code(), Some(0), "WARN passes --fail-on block: {}", show(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("WARN (NOT ASSESSED)"), "{}", show(&out));

    // Every report format carries the outcome.
    let junit = String::from_utf8_lossy(&scan(&["--format", "junit", "--fail-on", "warn"]).stdout).into_owned();
    assert!(junit.contains(r#"type="warn-not-assessed""#) && junit.contains("not assessed: no package database found"), "{junit}");
    opsdeck_tests::junit::assert_valid(&junit);
    let sarif: serde_json::Value = json(&scan(&["--format", "sarif"]));
    let run = &sarif["runs"][0];
    assert_eq!((run["properties"]["outcome"].as_str(), run["properties"]["decision"].as_str()), (Some("not_assessed"), Some("WARN")));
    assert!(run["results"].as_array().unwrap().iter().any(|r| r["ruleId"] == "not-assessed" && r["level"] == "warning"), "{run}");
    let bom = json(&scan(&["--format", "cyclonedx"]));
    let props = bom["metadata"]["properties"].as_array().unwrap();
    assert!(props.iter().any(|p| p["name"] == "opsdeck:outcome" && p["value"] == "not_assessed"), "{props:?}");

    // BLOCK by policy: then --fail-on block fails too.
    let strict = policy_file(dir.path(), "strict.yaml", "block_not_assessed: true\n");
    let out = scan(&["--policy", &strict, "--format", "json", "--fail-on", "block"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(json(&out)[0]["decision"], "BLOCK");
}

#[tokio::test]
async fn no_advisories_for_the_ecosystem_or_stale_ones_is_not_assessed() {
    images().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "opsdeck-gate/alpine-app:1", "--format", "json"];
        args.extend_from_slice(extra);
        let out = opsdeck_in(dir.path(), &data, &args);
        json(&out)[0].clone()
    };
    // Only Debian advisories: the Alpine packages were not checked against anything.
    let debian = Advisory {
        id: "GATE-DEB-2",
        ecosystem: "Debian:12",
        package: "zlib",
        introduced: None,
        fixed: Some("1:1.2.13.dfsg-2"),
        severity: S::Word("Low"),
    };
    import_advisories(dir.path(), &data, &[debian]);
    let r = scan(&[]);
    assert_eq!((r["decision"].as_str(), r["outcome"].as_str()), (Some("WARN"), Some("not_assessed")), "{r}");
    assert!(r["not_assessed"][0].as_str().unwrap().starts_with("no advisories loaded for Alpine:v3.20"), "{r}");

    // Alpine advisories (a LOW one, which alone allows): assessed.
    let alpine = Advisory {
        id: "GATE-ALP-LOW",
        ecosystem: "Alpine:v3.20",
        package: "zlib",
        introduced: None,
        fixed: Some("1.3.1-r2"),
        severity: S::Word("Low"),
    };
    import_advisories(dir.path(), &data, &[alpine]);
    let r = scan(&[]);
    assert_eq!((r["decision"].as_str(), r["outcome"].as_str(), r["counts"]["low"].as_u64()), (Some("ALLOW"), Some("assessed"), Some(1)));

    // The newest record is from 2026-11-01: older than a week, younger than a year.
    let week = policy_file(dir.path(), "week.yaml", "max_advisory_age_days: 7\n");
    let r = scan(&["--policy", &week]);
    assert_eq!((r["decision"].as_str(), r["outcome"].as_str()), (Some("WARN"), Some("not_assessed")), "{r}");
    assert!(r["not_assessed"][0].as_str().unwrap().starts_with("advisory data is stale"), "{r}");
    let year = policy_file(dir.path(), "year.yaml", "max_advisory_age_days: 365\n");
    assert_eq!(scan(&["--policy", &year])["outcome"], "assessed");
}

#[tokio::test]
async fn suppressions_and_severity_flags_decide_what_counts() {
    images().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_advisories(
        dir.path(),
        &data,
        &[
            // libcrypto3 and libssl3 (origin openssl), fixed upstream.
            Advisory {
                id: "GATE-CRIT",
                ecosystem: "Alpine:v3.20",
                package: "openssl",
                introduced: None,
                fixed: Some("3.3.0-r3"),
                severity: S::Cvss3(CVSS_CRITICAL),
            },
            // zlib, no fix yet.
            Advisory {
                id: "GATE-UNFIXED",
                ecosystem: "Alpine:v3.20",
                package: "zlib",
                introduced: None,
                fixed: None,
                severity: S::Cvss3(CVSS_CRITICAL),
            },
        ],
    );
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "opsdeck-gate/alpine-app:1", "--format", "json", "--fail-on", "block"];
        args.extend_from_slice(extra);
        opsdeck_in(dir.path(), &data, &args)
    };
    let decided = |o: &Output| {
        let r = json(o)[0].clone();
        (o.status.code(), r["decision"].as_str().unwrap_or("").to_string(), r["counts"]["critical"].as_u64().unwrap_or(99))
    };

    let out = scan(&[]);
    assert_eq!(decided(&out), (Some(1), "BLOCK".into(), 3), "{}", show(&out));

    // Severity flags.
    let out = scan(&["--severity", "LOW,MEDIUM,HIGH"]);
    assert_eq!(decided(&out), (Some(0), "ALLOW".into(), 0), "{}", show(&out));
    assert_eq!(json(&out)[0]["excluded"].as_array().unwrap().len(), 3);
    let out = scan(&["--ignore-unfixed"]);
    assert_eq!(decided(&out), (Some(1), "BLOCK".into(), 2), "zlib has no fix: {}", show(&out));
    let out = opsdeck_in(dir.path(), &data, &["scan", "opsdeck-gate/alpine-app:1", "--severity", "SEVERE"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));

    // A live suppression hides the openssl findings: with --ignore-unfixed, ALLOW.
    let ignore = |expires: &str, image: &str| {
        format!(
            "suppressions:\n  - id: gate-crit\n    package: openssl\n    image: \"{image}\"\n    reason: TLS is terminated at the proxy\n    author: alice@example.com\n    expires: {expires}\n"
        )
    };
    let live = policy_file(dir.path(), "live.yaml", &ignore("2099-12-31", "opsdeck-gate/alpine-app:*"));
    let out = scan(&["--ignore-file", &live, "--ignore-unfixed"]);
    assert_eq!(decided(&out), (Some(0), "ALLOW".into(), 0), "{}", show(&out));
    let r = json(&out)[0].clone();
    let suppressed = r["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 2, "libcrypto3 and libssl3: {r}");
    assert_eq!(suppressed[0]["suppression"]["reason"], "TLS is terminated at the proxy");
    assert_eq!(suppressed[0]["suppression"]["author"], "alice@example.com");
    // Out of the image glob's scope it hides nothing.
    let other = policy_file(dir.path(), "other.yaml", &ignore("2099-12-31", "registry.example/*"));
    assert_eq!(decided(&scan(&["--ignore-file", &other, "--ignore-unfixed"])).1, "BLOCK");

    // ./opsdeck-ignore.yaml is read when present; the table lists what it hid.
    std::fs::write(dir.path().join("opsdeck-ignore.yaml"), ignore("2099-12-31", "opsdeck-gate/*")).unwrap();
    let out = opsdeck_in(dir.path(), &data, &["scan", "opsdeck-gate/alpine-app:1", "--ignore-unfixed", "--fail-on", "block"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(table.contains("suppressed:") && table.contains("TLS is terminated at the proxy"), "{table}");
    std::fs::remove_file(dir.path().join("opsdeck-ignore.yaml")).unwrap();

    // An expired suppression hides nothing and is listed as expired.
    let expired = policy_file(dir.path(), "expired.yaml", &ignore("2020-01-31", "opsdeck-gate/alpine-app:*"));
    let out = scan(&["--ignore-file", &expired, "--ignore-unfixed"]);
    assert_eq!(decided(&out), (Some(1), "BLOCK".into(), 2), "{}", show(&out));
    let r = json(&out)[0].clone();
    assert_eq!(r["suppressed"].as_array().unwrap().len(), 0);
    assert_eq!(r["expired_suppressions"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["expired_suppressions"][0]["suppression"]["expires"], "2020-01-31");

    // A suppression without a reason is refused, naming the entry's line.
    let no_reason = policy_file(
        dir.path(),
        "no-reason.yaml",
        "suppressions:\n  - id: GATE-CRIT\n    reason: ok\n    author: a\n    expires: 2099-01-01\n  - id: GATE-UNFIXED\n    author: bob\n    expires: 2099-01-01\n",
    );
    let out = scan(&["--ignore-file", &no_reason]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing field `reason`") && err.contains("line 6") && err.contains("no-reason.yaml"), "{err}");

    // OpenVEX: not_affected hides the finding of the subcomponent it names
    // (libssl3, in the image as pkg:oci/alpine-app); "affected" hides nothing.
    let vex = |statements: serde_json::Value| {
        let doc = serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.com/vex/gate-1",
            "author": "Security Team <security@example.com>",
            "timestamp": "2026-12-01T00:00:00Z",
            "version": 1,
            "statements": statements,
        });
        let path = dir.path().join(format!("vex-{}.json", doc.to_string().len()));
        std::fs::write(&path, doc.to_string()).unwrap();
        path.display().to_string()
    };
    let ssl_only = vex(serde_json::json!([
        { "vulnerability": { "name": "GATE-CRIT" }, "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
          "products": [{ "@id": "pkg:oci/alpine-app", "subcomponents": [{ "@id": "pkg:apk/alpine/libssl3@3.3.0-r2" }] }] },
        { "vulnerability": { "name": "GATE-CRIT" }, "status": "affected",
          "products": [{ "@id": "pkg:oci/alpine-app", "subcomponents": [{ "@id": "pkg:apk/alpine/libcrypto3@3.3.0-r2" }] }] }
    ]));
    let out = scan(&["--vex", &ssl_only, "--ignore-unfixed"]);
    assert_eq!(decided(&out), (Some(1), "BLOCK".into(), 1), "libcrypto3 still counts: {}", show(&out));
    let r = json(&out)[0].clone();
    assert_eq!(r["suppressed"][0]["vulnerability"]["package"], "libssl3", "{r}");
    assert_eq!(r["suppressed"][0]["suppression"]["reason"], "OpenVEX not_affected: vulnerable_code_not_in_execute_path");
    assert_eq!(r["suppressed"][0]["suppression"]["author"], "Security Team <security@example.com>");
    let whole = vex(serde_json::json!([
        { "vulnerability": { "name": "GATE-CRIT" }, "status": "fixed", "products": [{ "@id": "opsdeck-gate/alpine-app:1" }] }
    ]));
    assert_eq!(decided(&scan(&["--vex", &whole, "--ignore-unfixed"])), (Some(0), "ALLOW".into(), 0));
    let other = vex(serde_json::json!([
        { "vulnerability": { "name": "GATE-CRIT" }, "status": "not_affected", "products": [{ "@id": "pkg:oci/another-app" }] }
    ]));
    assert_eq!(decided(&scan(&["--vex", &other, "--ignore-unfixed"])).1, "BLOCK", "another product's statement");
}
