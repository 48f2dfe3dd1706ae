//! End to end, Images → Registries (issue 15 item 2): in the real app with
//! no Docker connection (a registry needs no engine), add a registry
//! connection to a real basic-auth registry over TLS (Debian
//! docker-registry, scripts/services/registry.sh) after testing it, browse
//! its repositories and a repository's tags, and scan a tag: the report's
//! decision is the one `opsdeck scan` gives for the same reference. Then a
//! scan through a relay that stalls mid-blob is cancelled by closing its
//! drawer: the download's connection closes within 2 s, nothing is recorded.

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use opsdeck_tests::app::{css, fill, select, shot, wait_until, App, Read};
use opsdeck_tests::faults::{After, Relay, Upstream};
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
    // A layer of 4 MiB of incompressible bytes: its blob stalls half way through the relay below.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let noise: Vec<u8> = (0..4 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    build(&docker, "opsdeck-e2e-reg/big:1", "FROM scratch\nCOPY noise.bin /noise.bin\n", &[("noise.bin", &noise)]).await;
    push(&host, "opsdeck-e2e-reg/big:1", &format!("{plain}/stall/big:1"));
    let (ca, user, password) = (r.get("REGISTRY_CA"), r.get("REGISTRY_USER"), r.get("REGISTRY_PASSWORD"));

    let app = App::start().await;
    let c = &app.c;
    // No Docker connection: the workspace opens on Registries, says so, and has no engine tabs.
    app.click("[data-testid=nav-images]").await;
    css(c, "[data-testid=registry-none]").await;
    let notice = wait_until(c, "[data-testid=images-no-engine]", Read::Prop("innerText"), |t| !t.is_empty(), Duration::from_secs(10)).await;
    assert!(notice.contains("No Docker engine"), "{notice}");
    let tabs = c
        .execute("return [...document.querySelectorAll('[data-testid^=images-tab-]')].map(b => b.dataset.testid).join(' ')", vec![])
        .await
        .unwrap();
    assert_eq!(tabs.as_str(), Some("images-tab-registries images-tab-fleet images-tab-history images-tab-policy"));
    shot(c, "images-registry-no-engine").await;

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

    // The scan is in the history.
    app.click("[data-testid=images-tab-history]").await;
    wait_until(c, "[data-testid=view-images]", Read::Prop("innerText"), |t| t.contains("shop/web:1.10"), Duration::from_secs(10)).await;

    // Cancel: a registry (the plain port through a relay) that stalls mid-blob;
    // closing the scan drawer stops the download at once.
    let relay = Relay::start(Upstream::Tcp(plain.to_string()), 512 << 10, After::Stall);
    app.click("[data-testid=images-tab-registries]").await;
    app.click("[data-testid=registry-add]").await;
    fill(c, "[data-testid=registry-name]", "stalling").await;
    fill(c, "[data-testid=registry-url]", &format!("http://127.0.0.1:{}", relay.port)).await;
    app.click("[data-testid=registry-save]").await;
    // The same registry behind both: the first one also lists stall/big, so
    // wait for the new one to be the one shown.
    wait_until(c, "[data-testid=registry-browser]", Read::Attr("data-registry"), |v| v == "stalling", Duration::from_secs(10)).await;
    wait_until(c, "[data-testid=registry-repos]", Read::Prop("innerText"), |t| t.contains("stall/big"), Duration::from_secs(20)).await;
    app.click("[data-testid=registry-repo-row][data-name='stall/big'] [data-testid=registry-repo-open]").await;
    app.click("[data-testid=registry-tag-row][data-name='1'] [data-testid=registry-tag-scan]").await;
    wait_until(c, "[data-testid=scan-progress]", Read::Attr("data-stage"), |v| v == "reading", Duration::from_secs(30)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while relay.tripped.load(Ordering::SeqCst) == 0 || relay.established_clients() == 0 {
        assert!(Instant::now() < deadline, "the blob did not stall at the relay");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shot(c, "images-registry-scan-stalled").await;
    app.click("[data-testid=scan-drawer] [data-testid=modal-close]").await;
    let closed = Instant::now();
    while relay.established_clients() > 0 {
        assert!(closed.elapsed() < Duration::from_secs(2), "the stalled download is still open 2 s after closing the drawer");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.click("[data-testid=images-tab-history]").await;
    wait_until(c, "[data-testid=view-images]", Read::Prop("innerText"), |t| t.contains("shop/web:1.10"), Duration::from_secs(10)).await;
    let history = c.execute("return document.querySelector('[data-testid=view-images]').innerText", vec![]).await.unwrap();
    assert!(!history.as_str().unwrap_or("").contains("stall/big"), "a cancelled scan is not recorded: {history}");

    // The password in no file of the data directory.
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
