//! End to end, Images → Registries (issue 15 item 2): in the real app, add a
//! registry connection to a real basic-auth registry over TLS (Debian
//! docker-registry, scripts/services/registry.sh) after testing it, browse
//! its repositories and a repository's tags, and scan a tag: the report's
//! decision is the one `opsdeck scan` gives for the same reference.

use std::process::Command;
use std::time::Duration;

use opsdeck_tests::app::{css, fill, select, shot, wait_until, App, Read};
use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::service::{shared, shared_with_args};
use opsdeck_tests::workspace;

fn push(docker_host: &str, local: &str, target: &str) {
    for args in [vec!["tag", local, target], vec!["push", target]] {
        let out = Command::new("docker").args(&args).env("DOCKER_HOST", docker_host).output().expect("run docker");
        assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test]
async fn add_a_registry_browse_it_and_scan_a_tag() {
    let host = shared("dockerd").get("DOCKER_HOST").to_string();
    let r = shared_with_args("registry", &["--basic"]);
    let docker = opsdeck_core::connectors::docker::connect(&host, None).await.unwrap();
    import(&docker, Rootfs::Alpine, "opsdeck-e2e-reg/alpine:3.20").await;
    build(
        &docker,
        "opsdeck-e2e-reg/web:1",
        "FROM opsdeck-e2e-reg/alpine:3.20\nCOPY index.html /srv/index.html\n",
        &[("index.html", b"hi\n")],
    )
    .await;
    let plain = r.get("REGISTRY_PLAIN");
    for tag in ["1.9", "1.10", "2.0"] {
        push(&host, "opsdeck-e2e-reg/web:1", &format!("{plain}/shop/web:{tag}"));
    }
    push(&host, "opsdeck-e2e-reg/alpine:3.20", &format!("{plain}/shop/base:3.20"));
    push(&host, "opsdeck-e2e-reg/alpine:3.20", &format!("{plain}/tools/alpine:3.20"));
    let (ca, user, password) = (r.get("REGISTRY_CA"), r.get("REGISTRY_USER"), r.get("REGISTRY_PASSWORD"));

    let app = App::start().await;
    let c = &app.c;
    app.add_docker_connection("local docker", &host).await;
    app.click("[data-testid=nav-images]").await;
    app.click("[data-testid=images-tab-registries]").await;
    css(c, "[data-testid=registry-none]").await;

    // Add: a wrong password fails the test with what to check; the right one passes.
    app.click("[data-testid=registry-add]").await;
    fill(c, "[data-testid=registry-name]", "shop registry").await;
    fill(c, "[data-testid=registry-url]", &format!("https://{}", r.get("REGISTRY_BASIC"))).await;
    select(c, "[data-testid=registry-auth]", "basic").await;
    fill(c, "[data-testid=registry-username]", user).await;
    fill(c, "[data-testid=registry-password]", "not-the-password").await;
    fill(c, "[data-testid=registry-caFile]", ca).await;
    app.click("[data-testid=registry-test]").await;
    let failed = wait_until(
        c,
        "[data-testid=registry-test-result][data-ok=false]",
        Read::Prop("innerText"),
        |t| !t.is_empty(),
        Duration::from_secs(20),
    )
    .await;
    assert!(failed.contains("check"), "{failed}");
    fill(c, "[data-testid=registry-password]", password).await;
    app.click("[data-testid=registry-test]").await;
    wait_until(c, "[data-testid=registry-test-result]", Read::Attr("data-ok"), |v| v == "true", Duration::from_secs(20)).await;
    shot(c, "images-registry-add").await;
    app.click("[data-testid=registry-save]").await;

    // Browse: repositories, then the tags of shop/web (versions in order), filtered.
    wait_until(c, "[data-testid=registry-repos]", Read::Prop("innerText"), |t| t.contains("tools/alpine"), Duration::from_secs(20)).await;
    app.click("[data-testid=registry-repo-row][data-name='shop/web'] [data-testid=registry-repo-open]").await;
    css(c, "[data-testid=registry-tag-row][data-name='1.10']").await;
    let order = c
        .execute("return [...document.querySelectorAll('[data-testid=registry-tag-row]')].map(r => r.dataset.name).join(' ')", vec![])
        .await
        .unwrap();
    assert_eq!(order.as_str(), Some("1.9 1.10 2.0"));
    shot(c, "images-registry-browse").await;

    // Scan 1.10: progress, then the report; the decision is opsdeck scan's.
    app.click("[data-testid=registry-tag-row][data-name='1.10'] [data-testid=registry-tag-scan]").await;
    let decision =
        wait_until(c, "[data-testid=scan-decision]", Read::Attr("data-decision"), |v| !v.is_empty(), Duration::from_secs(90)).await;
    shot(c, "images-registry-scan").await;
    let image = format!("{}/shop/web:1.10", r.get("REGISTRY_BASIC"));
    let cli_data = tempfile::tempdir().unwrap();
    let out = workspace::cli(cli_data.path(), "opsdeck-e2e-registry-cli")
        .args(["scan", "--registry-ca", ca, "--registry-user", user, &image, "--format", "json"])
        .env("OPSDECK_REGISTRY_PASSWORD", password)
        .output()
        .unwrap();
    let cli: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(cli[0]["decision"].as_str(), Some(decision.as_str()), "the app's decision is opsdeck scan's");
    app.click("[data-testid=scan-drawer] [data-testid=modal-close]").await;

    // The scan is in the history; the password in no file of the data directory.
    app.click("[data-testid=images-tab-history]").await;
    wait_until(c, "[data-testid=view-images]", Read::Prop("innerText"), |t| t.contains("shop/web:1.10"), Duration::from_secs(10)).await;
    let data = app.close().await;
    let mut stack = vec![data.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                assert!(!bytes.windows(password.len()).any(|w| w == password.as_bytes()), "the password is in {}", p.display());
            }
        }
    }
}
