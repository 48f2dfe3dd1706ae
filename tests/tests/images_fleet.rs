//! The fleet and what an advisory update changes (issue 15 item 7): three
//! images built on the real dockerd are scanned two at a time; an advisory
//! update (imported by `opsdeck advisories import`) re-matches them from the
//! layer cache — no layer is read again, Docker is not asked — and leaves a
//! note, printed by the CLI and kept for the app, naming what changed: one
//! decision (ALLOW → BLOCK), a new finding, a finding the corrected record
//! now says is fixed; the unchanged image is not in the note.
//!
//! Records transcribed from real advisories (ranges as Alpine's secdb for
//! v3.20 main gives them): CVE-2024-5535 (openssl SSL_select_next_proto
//! buffer overread, fixed in 3.3.1-r1; NVD CVSS 3.1 9.1) and CVE-2023-45853
//! (zlib MiniZip integer overflow). The zlib record is first imported with a
//! fixed version above the installed 1.3.1-r1, then corrected to 1.3.1-r0 —
//! the kind of correction an OSV feed publishes; its severity word is set by
//! the test (Medium) so that the compliant image starts at ALLOW.

use std::sync::Arc;

use opsdeck_core::backend::Engine;
use opsdeck_core::scanner::layer_cache;
use opsdeck_core::scanner::policy::Decision;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::osv::{record, Advisory, Severity as S};
use opsdeck_tests::service::shared;
use opsdeck_tests::workspace;
use serde_json::json;

/// CVSS 3.1 of CVE-2024-5535 as NVD scores it (9.1, CRITICAL).
const CVE_2024_5535_CVSS: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H";

/// Writes OSV records with their real ids and aliases into `dir`.
fn write(dir: &std::path::Path, records: &[(Advisory, &str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (a, cve, modified) in records {
        let mut r = record(a);
        r["aliases"] = json!([cve]);
        r["modified"] = json!(modified);
        std::fs::write(dir.join(format!("{}.json", a.id)), serde_json::to_vec_pretty(&r).unwrap()).unwrap();
    }
}

fn zlib(fixed: &str) -> Advisory<'_> {
    Advisory {
        id: "ALPINE-CVE-2023-45853",
        ecosystem: "Alpine:v3.20",
        package: "zlib",
        introduced: None,
        fixed: Some(fixed),
        severity: S::Word("Medium"),
    }
}

#[tokio::test]
async fn an_advisory_update_rematches_the_fleet_from_the_layer_cache_and_notes_what_changed() {
    let docker_host = shared("dockerd").get("DOCKER_HOST");
    let docker = opsdeck_core::connectors::docker::connect(docker_host, None).await.unwrap();
    import(&docker, Rootfs::Alpine, "opsdeck-fleet/base:1").await;
    let compliant = "HEALTHCHECK CMD [\"/bin/true\"]\nUSER 1000\nLABEL version=1 maintainer=ops description=fleet\n";
    build(&docker, "opsdeck-fleet/app:1", &format!("FROM opsdeck-fleet/base:1\n{compliant}"), &[]).await;
    build(
        &docker,
        "opsdeck-fleet/static:1",
        &format!("FROM scratch\nCOPY hello.txt /hello.txt\n{compliant}"),
        &[("hello.txt", b"hello\n")],
    )
    .await;

    let t = TestBackend::new().await;
    let before = t.dir.path().join("osv-1");
    write(&before, &[(zlib("1.3.1-r2"), "CVE-2023-45853", "2026-11-01T00:00:00Z")]);
    let first = t.backend.import_advisories(&before).await.unwrap();
    assert_eq!((first.import.records, first.rematched.images), (1, 0), "nothing scanned yet");

    let engine = Engine { docker, host: docker_host.into(), connection_id: None };
    let images = ["opsdeck-fleet/app:1", "opsdeck-fleet/base:1", "opsdeck-fleet/static:1"];
    let outcomes = t.backend.scan_many(&engine, images.iter().map(|i| (i.to_string(), vec![])).collect(), Arc::new(|_| {})).await;
    let decided: Vec<(&str, Option<&str>, Option<&str>)> =
        outcomes.iter().map(|o| (o.image.as_str(), o.scan.as_ref().map(|s| s.decision.as_str()), o.error.as_deref())).collect();
    assert_eq!(
        decided,
        [
            ("opsdeck-fleet/app:1", Some("ALLOW"), None),
            ("opsdeck-fleet/base:1", Some("BLOCK"), None),
            ("opsdeck-fleet/static:1", Some("WARN"), None)
        ]
    );
    drop(engine); // from here on, nothing talks to Docker

    let fleet = t.backend.fleet_images().await.unwrap();
    let rows: Vec<(&str, Decision, bool, u32)> =
        fleet.iter().map(|f| (f.image.as_str(), f.decision, f.not_assessed, f.counts.medium)).collect();
    assert_eq!(
        rows,
        [
            ("opsdeck-fleet/app:1", Decision::Allow, false, 1),
            ("opsdeck-fleet/base:1", Decision::Block, false, 1),
            ("opsdeck-fleet/static:1", Decision::Warn, true, 0),
        ]
    );
    assert!(fleet.iter().all(|f| f.advisories_as_of.as_deref() == Some("2026-11-01T00:00:00Z")), "{fleet:?}");
    assert_eq!(fleet[0].tags, ["opsdeck-fleet/app:1"]);

    let layers = layer_cache::count(t.backend.db()).await.unwrap();
    let cached_at: Vec<(String, String)> =
        sqlx::query_as("SELECT digest, cached_at FROM layer_cache ORDER BY digest").fetch_all(t.backend.db().pool()).await.unwrap();
    let scans = t.backend.scan_history(None, 100).await.unwrap().len();

    // The update, through the CLI on the same data directory.
    let update = t.dir.path().join("osv-2");
    write(
        &update,
        &[
            (zlib("1.3.1-r0"), "CVE-2023-45853", "2026-12-01T00:00:00Z"),
            (
                Advisory {
                    id: "ALPINE-CVE-2024-5535",
                    ecosystem: "Alpine:v3.20",
                    package: "openssl",
                    introduced: None,
                    fixed: Some("3.3.1-r1"),
                    severity: S::Cvss3(CVE_2024_5535_CVSS),
                },
                "CVE-2024-5535",
                "2026-12-02T00:00:00Z",
            ),
        ],
    );
    let out = workspace::cli(t.dir.path(), "opsdeck-test-fleet").args(["advisories", "import", update.to_str().unwrap()]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let expected_note = [
        "2 images changed (3 re-matched, 0 need a new scan):",
        "  opsdeck-fleet/app:1 ALLOW → BLOCK (new CVE-2024-5535; fixed CVE-2023-45853)",
        "  opsdeck-fleet/base:1 BLOCK (new CVE-2024-5535; fixed CVE-2023-45853)",
    ];
    let printed: Vec<&str> = stdout.lines().skip_while(|l| !l.contains("images changed")).collect();
    assert_eq!(printed, expected_note, "{stdout}");

    // The note is kept for the app, newest first, with each change in full.
    let notes = t.backend.rematch_notes().await.unwrap();
    assert_eq!(notes.len(), 2, "the first import's (empty) note and the update's");
    let note = &notes[0];
    assert_eq!(note.lines(), expected_note);
    assert!(note.cause.starts_with("advisories imported from ") && note.cause.ends_with("osv-2 (2 records)"), "{}", note.cause);
    assert_eq!(note.rematched.changed, ["opsdeck-fleet/app:1: ALLOW → BLOCK"], "one decision changed");
    let app = &note.rematched.changes[0];
    assert_eq!((app.before, app.after, app.before_not_assessed, app.after_not_assessed), (Decision::Allow, Decision::Block, false, false));
    assert_eq!(
        (app.new_findings.as_slice(), app.fixed_findings.as_slice()),
        (&["CVE-2024-5535".to_string()][..], &["CVE-2023-45853".to_string()][..])
    );
    assert!(app.new_not_assessed.is_empty());

    // No layer was read again: the cache holds the same records, untouched;
    // every re-matched report says its layers came from the cache.
    assert_eq!(layer_cache::count(t.backend.db()).await.unwrap(), layers);
    let after: Vec<(String, String)> =
        sqlx::query_as("SELECT digest, cached_at FROM layer_cache ORDER BY digest").fetch_all(t.backend.db().pool()).await.unwrap();
    assert_eq!(after, cached_at, "no layer record rewritten");
    let history = t.backend.scan_history(None, 100).await.unwrap();
    assert_eq!(history.len(), scans + 3, "one re-match entry per image");
    for s in &history[..3] {
        let r = t.backend.scan_report(s.id).await.unwrap();
        assert!(r.layers.iter().all(|l| l.from_cache) && r.duration_ms == 0, "{}: {:?}", r.image, r.layers);
    }

    // The fleet shows the re-matched decisions and the newer advisory data.
    let fleet = t.backend.fleet_images().await.unwrap();
    let rows: Vec<(&str, Decision, u32, u32)> =
        fleet.iter().map(|f| (f.image.as_str(), f.decision, f.counts.critical, f.counts.medium)).collect();
    assert_eq!(
        rows,
        [
            ("opsdeck-fleet/app:1", Decision::Block, 2, 0),
            ("opsdeck-fleet/base:1", Decision::Block, 2, 0),
            ("opsdeck-fleet/static:1", Decision::Warn, 0, 0)
        ],
        "libcrypto3 and libssl3 come from openssl"
    );
    assert!(fleet.iter().all(|f| f.advisories_as_of.as_deref() == Some("2026-12-02T00:00:00Z")), "{fleet:?}");
}
