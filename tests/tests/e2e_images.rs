//! End to end, Images workspace: in the real app over the real dockerd,
//! import an advisory database through the UI, scan a locally built image,
//! and see the decision and findings; a compliant image is allowed.

use std::time::Duration;

use opsdeck_tests::app::{css, fill, shot, wait_until, App, Read};
use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::osv::{write_folder, Advisory, Severity as S, CVSS_CRITICAL};
use opsdeck_tests::service::shared;

#[tokio::test]
async fn scan_an_image_from_the_ui() {
    let host = shared("dockerd").get("DOCKER_HOST").to_string();
    let docker = opsdeck_core::connectors::docker::connect(&host, None).await.unwrap();
    import(&docker, Rootfs::Alpine, "opsdeck-e2e/alpine:3.20").await;
    build(
        &docker,
        "opsdeck-e2e/web:1.0",
        "FROM opsdeck-e2e/alpine:3.20\nHEALTHCHECK CMD [\"/bin/true\"]\nUSER 1000\nLABEL version=1.0 maintainer=ops description=web\n",
        &[],
    )
    .await;
    let osv = tempfile::tempdir().unwrap();
    write_folder(
        osv.path(),
        &[Advisory {
            id: "ALPINE-E2E-1",
            ecosystem: "Alpine:v3.20",
            package: "openssl",
            introduced: None,
            fixed: Some("3.3.0-r3"),
            severity: S::Cvss3(CVSS_CRITICAL),
        }],
    );

    let app = App::start().await;
    let c = &app.c;
    app.add_docker_connection("local docker", &host).await;

    app.click("[data-testid=nav-images]").await;
    css(c, "[data-testid=image-row][data-ref='opsdeck-e2e/web:1.0']").await;
    shot(c, "images-inventory").await;

    // The advisory database, imported through the dialog.
    app.click("[data-testid=images-advisories-open]").await;
    fill(c, "[data-testid=advisories-path]", osv.path().to_str().unwrap()).await;
    app.click("[data-testid=advisories-import]").await;
    wait_until(c, "[data-testid=advisories-result]", Read::Attr("data-records"), |v| v == "1", Duration::from_secs(20)).await;
    app.click("[data-testid=advisories-dialog] [data-testid=modal-close]").await;

    // Scan: CRITICAL openssl in libcrypto3/libssl3 → BLOCK, with the findings.
    app.click("[data-testid=image-row][data-ref='opsdeck-e2e/web:1.0'] [data-testid=image-scan]").await;
    wait_until(c, "[data-testid=scan-decision]", Read::Attr("data-decision"), |v| v == "BLOCK", Duration::from_secs(60)).await;
    css(c, "[data-testid=scan-vuln-row][data-id='ALPINE-E2E-1'][data-package='libcrypto3']").await;
    css(c, "[data-testid=scan-violation][data-policy='no-critical-vulnerabilities']").await;
    let risk = wait_until(c, "[data-testid=scan-risk]", Read::Prop("textContent"), |t| !t.is_empty(), Duration::from_secs(5)).await;
    assert_eq!(risk, "20", "two CRITICAL findings");
    shot(c, "images-scan-block").await;
    app.click("[data-testid=scan-drawer] [data-testid=modal-close]").await;

    // The base image has no HEALTHCHECK, USER or labels: the policy violations show.
    app.click("[data-testid=image-row][data-ref='opsdeck-e2e/alpine:3.20'] [data-testid=image-scan]").await;
    wait_until(c, "[data-testid=scan-decision]", Read::Attr("data-decision"), |v| v == "BLOCK", Duration::from_secs(60)).await;
    css(c, "[data-testid=scan-violation][data-policy='require-healthcheck']").await;
    css(c, "[data-testid=scan-violation][data-policy='no-root-user']").await;
    shot(c, "images-scan-policy").await;
    app.click("[data-testid=scan-drawer] [data-testid=modal-close]").await;

    // Both scans are in the history.
    app.click("[data-testid=images-tab-history]").await;
    wait_until(c, "[data-testid=view-images]", Read::Prop("innerText"), |t| t.matches("BLOCK").count() >= 2, Duration::from_secs(10)).await;
    app.click("[data-testid=images-tab-policy]").await;
    css(c, "[data-testid=policy-form]").await;
    shot(c, "images-policy").await;
    app.close().await;
}
