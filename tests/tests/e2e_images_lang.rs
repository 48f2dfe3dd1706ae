//! End to end, Images workspace: a language-package finding in the real
//! app's report view with the file and the layer it came from (real
//! artifacts, tests/src/lang.rs), and the "your layers / base image" filter.

use std::time::Duration;

use opsdeck_tests::app::{css, fill, select, shot, wait_until, App, Read};
use opsdeck_tests::lang::{images, write_advisories};
use opsdeck_tests::service::shared;

#[tokio::test]
async fn a_language_finding_shows_its_file_and_layer() {
    let host = shared("dockerd").get("DOCKER_HOST").to_string();
    let docker = opsdeck_core::connectors::docker::connect(&host, None).await.unwrap();
    images(&docker).await;
    let osv = tempfile::tempdir().unwrap();
    let folder = write_advisories(osv.path());

    let app = App::start().await;
    let c = &app.c;
    app.add_docker_connection("local docker", &host).await;
    app.click("[data-testid=nav-images]").await;
    css(c, "[data-testid=image-row][data-ref='opsdeck-test/lang-app:1']").await;
    app.click("[data-testid=images-advisories-open]").await;
    fill(c, "[data-testid=advisories-path]", folder.to_str().unwrap()).await;
    app.click("[data-testid=advisories-import]").await;
    wait_until(c, "[data-testid=advisories-result]", Read::Attr("data-records"), |v| v == "8", Duration::from_secs(20)).await;
    app.click("[data-testid=advisories-dialog] [data-testid=modal-close]").await;

    app.click("[data-testid=image-row][data-ref='opsdeck-test/lang-app:1'] [data-testid=image-scan]").await;
    wait_until(c, "[data-testid=scan-decision]", Read::Attr("data-outcome"), |v| v == "assessed", Duration::from_secs(120)).await;
    // The Go module finding: its binary, layer 5 (the image's own), COPY instruction.
    let row = "[data-testid=scan-vuln-row][data-id='GO-2022-1059'][data-layer='5']";
    let text = wait_until(c, row, Read::Prop("innerText"), |t| t.contains("/usr/local/bin/gobin"), Duration::from_secs(10)).await;
    assert!(text.contains("COPY") && text.contains("#5"), "{text}");
    css(c, "[data-testid=scan-vuln-row][data-id='GHSA-34jh-p97f-mpxf'] [data-testid=scan-layer-cell][data-base='true']").await;
    shot(c, "images-scan-language-layers").await;

    // Your layers only: the base image's urllib3 finding leaves the table.
    select(c, "[data-testid=scan-layer-scope]", "ours").await;
    wait_until(
        c,
        "[data-testid=scan-report]",
        Read::Prop("innerText"),
        |t| !t.contains("GHSA-34jh-p97f-mpxf") && t.contains("GO-2022-1059"),
        Duration::from_secs(5),
    )
    .await;
    app.close().await;
}
