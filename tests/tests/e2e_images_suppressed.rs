//! End to end (issue 15 items 4 and 7): in the real app, with the team's
//! suppressions in a real etcd, a scanned image's report shows a suppressed
//! finding (reason, author, expiry, scope) and an expired suppression listed
//! as expired whose finding counts again (screenshot
//! `images-suppressed-finding.png`); then an advisory update imported in the
//! app re-matches the cached image and the Fleet tab shows the image's
//! decision and the note of what changed (`images-fleet.png`).
//!
//! Records transcribed from Alpine's secdb (v3.20 main): CVE-2024-5535
//! (openssl, fixed 3.3.1-r1; NVD CVSS 3.1 9.1) and CVE-2023-45853 (zlib
//! MiniZip); the zlib record's severity word (Medium) and its corrected fixed
//! version in the update are the test's.

use std::time::Duration;

use opsdeck_core::backend::{StoreChoice, VmSettings};
use opsdeck_core::team::suppressions::NewSuppression;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_tests::app::{css, fill, shot, wait_until, App, Read};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::osv::{record, Advisory, Severity as S};
use opsdeck_tests::service::shared;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, raw_etcd};
use serde_json::json;

const IMAGE: &str = "opsdeck-e2e-sup/api:2";

fn write(dir: &std::path::Path, records: &[(Advisory, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (a, cve) in records {
        let mut r = record(a);
        r["aliases"] = json!([cve]);
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
async fn a_suppressed_and_an_expired_finding_in_the_report_then_the_fleet_after_an_update() {
    let host = shared("dockerd").get("DOCKER_HOST").to_string();
    let docker = opsdeck_core::connectors::docker::connect(&host, None).await.unwrap();
    import(&docker, Rootfs::Alpine, "opsdeck-e2e-sup/alpine:3.20").await;
    build(
        &docker,
        IMAGE,
        "FROM opsdeck-e2e-sup/alpine:3.20\nHEALTHCHECK CMD [\"/bin/true\"]\nUSER 1000\nLABEL version=2 maintainer=ops description=api\n",
        &[],
    )
    .await;

    // Alice's data directory: the team store, one live suppression added
    // through Opsdeck, one that expired written as Opsdeck writes it.
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let t = TestBackend::new().await;
    let c = etcd_connection(&t, &etcd, "alice").await;
    let store = StoreChoice::Etcd { connection_id: c.id.clone(), prefix: DEFAULT_ROOT.into(), allow_no_auth: false };
    t.backend.set_vm_settings(&VmSettings { store, ..Default::default() }).await.unwrap();
    t.backend
        .suppress_add(&NewSuppression {
            vulnerability: "CVE-2024-5535".into(),
            package: Some("openssl".into()),
            image: Some("opsdeck-e2e-sup/api:*".into()),
            reason: "NPN is not used: TLS is terminated at the ingress".into(),
            expires: "2099-12-31".into(),
        })
        .await
        .unwrap();
    let expired = json!({"id": "sexpired1", "created_at": "2026-01-05T09:00:00Z", "suppression": {
        "id": "CVE-2023-45853", "package": "zlib", "image": null, "reason": "minizip is not shipped in this image",
        "author": "alice", "expires": "2026-01-31"}});
    raw_etcd(&etcd, "alice")
        .await
        .put(format!("{DEFAULT_ROOT}images/suppressions/alice/sexpired1"), serde_json::to_vec(&expired).unwrap(), None)
        .await
        .unwrap();
    let osv = t.dir.path().join("osv-1");
    write(
        &osv,
        &[
            (zlib("1.3.1-r2"), "CVE-2023-45853"),
            (
                Advisory {
                    id: "ALPINE-CVE-2024-5535",
                    ecosystem: "Alpine:v3.20",
                    package: "openssl",
                    introduced: None,
                    fixed: Some("3.3.1-r1"),
                    severity: S::Cvss3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H"),
                },
                "CVE-2024-5535",
            ),
        ],
    );
    t.backend.import_advisories(&osv).await.unwrap();
    let update = t.dir.path().join("osv-2");
    write(&update, &[(zlib("1.3.1-r0"), "CVE-2023-45853")]);
    let keychain = t.backend.keychain().service().to_string();
    let TestBackend { backend, dir } = t;
    drop(backend);

    let app = App::start_in(dir, &keychain).await;
    let c = &app.c;
    app.add_docker_connection("local docker", &host).await;
    app.click("[data-testid=nav-images]").await;
    app.click(&format!("[data-testid=image-row][data-ref='{IMAGE}'] [data-testid=image-scan]")).await;
    // openssl's CRITICAL findings are suppressed (not counted); zlib's counts again.
    wait_until(c, "[data-testid=scan-decision]", Read::Attr("data-decision"), |v| v == "ALLOW", Duration::from_secs(60)).await;
    let live = css(c, "[data-testid=scan-suppressed] [data-testid=scan-suppressed-row][data-id='CVE-2024-5535']").await;
    let text = live.text().await.unwrap();
    for part in ["NPN is not used", "alice", "until 2099-12-31", "package openssl", "images opsdeck-e2e-sup/api:*", "libcrypto3"] {
        assert!(text.contains(part), "{part} in {text}");
    }
    let gone = css(c, "[data-testid=scan-expired] [data-testid=scan-expired-row][data-id='CVE-2023-45853']").await;
    let text = gone.text().await.unwrap();
    for part in ["minizip is not shipped", "alice", "expired 2026-01-31", "package zlib", "any image"] {
        assert!(text.contains(part), "{part} in {text}");
    }
    css(c, "[data-testid=scan-vuln-row][data-id='ALPINE-CVE-2023-45853']").await;
    shot(c, "images-suppressed-finding").await;
    app.click("[data-testid=scan-drawer] [data-testid=modal-close]").await;

    // The update: the zlib record corrected; the cached image is re-matched.
    app.click("[data-testid=images-advisories-open]").await;
    fill(c, "[data-testid=advisories-path]", update.to_str().unwrap()).await;
    app.click("[data-testid=advisories-import]").await;
    let change = wait_until(
        c,
        &format!("[data-testid=advisories-result] [data-testid=rematch-change][data-image='{IMAGE}']"),
        Read::Prop("textContent"),
        |t| !t.is_empty(),
        Duration::from_secs(20),
    )
    .await;
    assert!(change.contains("fixed: CVE-2023-45853"), "{change}");
    app.click("[data-testid=advisories-dialog] [data-testid=modal-close]").await;

    app.click("[data-testid=images-tab-fleet]").await;
    let row = format!("[data-testid=fleet-row][data-image='{IMAGE}']");
    wait_until(c, &row, Read::Attr("data-status"), |v| v == "ALLOW", Duration::from_secs(10)).await;
    let note = wait_until(
        c,
        "[data-testid=fleet-latest-note]",
        Read::Prop("textContent"),
        |t| t.contains("1 image changed"),
        Duration::from_secs(10),
    )
    .await;
    assert!(note.contains("osv-2"), "{note}");
    shot(c, "images-fleet").await;
    app.close().await;
}
