//! End to end: the real app window (embedded UI, real backend, real keychain)
//! driven through tauri-driver + WebKitWebDriver under Xvfb. Screenshots go to
//! `target/e2e-shots/` for a person to look at.

use std::time::Duration;

use fantoccini::{Client, Locator};
use opsdeck_tests::app::{click, css, fill, free_port, select, shot, wait_until, App, Read};
use opsdeck_tests::Service;

async fn add_etcd_connection(c: &Client, name: &str, endpoint: &str, user: Option<(&str, &str)>) {
    click(c, "[data-testid=nav-connections]").await;
    click(c, "[data-testid=add-connection]").await;
    select(c, "[data-testid=conn-kind]", "etcd").await;
    fill(c, "[data-testid=conn-name]", name).await;
    fill(c, "[data-testid=conn-etcd-endpoints]", endpoint).await;
    if let Some((u, p)) = user {
        fill(c, "[data-testid=conn-username]", u).await;
        fill(c, "[data-testid=conn-secret]", p).await;
    }
    click(c, "[data-testid=conn-save]").await;
    css(c, &format!("[data-testid=conn-row][data-name='{name}']")).await;
}

async fn test_row(c: &Client, name: &str) -> (String, String) {
    let row = format!("[data-testid=conn-row][data-name='{name}']");
    click(c, &format!("{row} [data-testid=conn-test]")).await;
    let status = format!("{row} [data-testid=conn-status]");
    let state = wait_until(c, &status, Read::Attr("data-state"), |s| s == "ok" || s == "error", Duration::from_secs(30)).await;
    let text = css(c, &status).await.prop("textContent").await.unwrap().unwrap_or_default();
    (state, text)
}

/// The app exactly as it ships: WebKit without accelerated compositing,
/// set by the app itself before GTK starts (src-tauri/src/lib.rs). The other
/// E2E tests run with compositing on, because WebKitWebDriver cannot take a
/// screenshot without it; this one takes none, and checks that every view
/// renders and a connection works, and that the setting reached WebKit.
#[tokio::test]
async fn the_app_as_shipped_renders_without_compositing() {
    let etcd = Service::start("etcd", &[]);
    let app = App::start_shipped().await;
    let c = &app.c;
    for view in ["vms", "images", "clusters", "config", "connections", "audit", "notifications", "settings"] {
        click(c, &format!("[data-testid=nav-{view}]")).await;
        css(c, &format!("[data-testid=view-{view}]")).await;
    }
    add_etcd_connection(c, "shipped etcd", etcd.get("ETCD_ENDPOINT"), None).await;
    let (state, text) = test_row(c, "shipped etcd").await;
    assert_eq!(state, "ok", "status text: {text}");
    let envs = app.web_content_environments();
    assert!(!envs.is_empty(), "the app's web content process was not found");
    for env in &envs {
        assert!(env.iter().any(|kv| kv == "WEBKIT_DISABLE_COMPOSITING_MODE=1"), "web content process without the setting: {env:?}");
    }
    app.close().await;
}

#[tokio::test]
async fn add_and_test_an_etcd_connection_in_the_app_window() {
    let etcd = Service::start("etcd", &[]);
    let app = App::start().await;
    let c = &app.c;

    // Every view renders.
    for view in ["vms", "images", "clusters", "config", "connections", "audit", "notifications", "settings"] {
        click(c, &format!("[data-testid=nav-{view}]")).await;
        css(c, &format!("[data-testid=view-{view}]")).await;
        shot(c, &format!("view-{view}")).await;
    }

    // Add a plain etcd connection through the form, test it, see the version.
    let endpoint = etcd.get("ETCD_ENDPOINT");
    add_etcd_connection(c, "e2e etcd", endpoint, None).await;
    let (state, text) = test_row(c, "e2e etcd").await;
    assert_eq!(state, "ok", "status text: {text}");
    assert!(text.contains("etcd 3."), "the row shows the server version: {text}");
    shot(c, "connections-etcd-tested").await;

    // A failing one shows the reason.
    let dead = format!("http://127.0.0.1:{}", free_port());
    add_etcd_connection(c, "e2e dead etcd", &dead, None).await;
    let (state, text) = test_row(c, "e2e dead etcd").await;
    assert_eq!(state, "error");
    assert!(text.contains("refused") || text.contains("reach") || text.contains("answer"), "{text}");

    // A connection with a password: it goes to the keychain, never to disk.
    let password = format!("pw-{}", uuid::Uuid::new_v4());
    add_etcd_connection(c, "e2e etcd with user", endpoint, Some(("alice", &password))).await;
    let _ = test_row(c, "e2e etcd with user").await;

    // vSphere: fetch the certificate thumbprint from the server, pin it, log in.
    let vcsim = Service::start("vcsim", &[]);
    click(c, "[data-testid=add-connection]").await;
    select(c, "[data-testid=conn-kind]", "vsphere").await;
    fill(c, "[data-testid=conn-name]", "e2e vcsim").await;
    fill(c, "[data-testid=conn-vsphere-url]", vcsim.get("VCSIM_SDK_URL")).await;
    fill(c, "[data-testid=conn-username]", vcsim.get("VCSIM_USER")).await;
    fill(c, "[data-testid=conn-secret]", vcsim.get("VCSIM_PASSWORD")).await;
    click(c, "[data-testid=conn-fetch-thumbprint]").await;
    let expected = vcsim.get("VCSIM_THUMBPRINT_SHA256").to_string();
    // Shown for the user to compare, not pinned until confirmed.
    wait_until(c, "[data-testid=conn-fetched-thumbprint]", Read::Prop("textContent"), |t| t.contains(&expected), Duration::from_secs(15))
        .await;
    let pinned = wait_until(c, "input[data-testid=conn-thumbprint]", Read::Prop("value"), |_| true, Duration::from_secs(1)).await;
    assert!(pinned.is_empty(), "nothing pinned before the user confirms: {pinned}");
    shot(c, "connection-form-vsphere-thumbprint").await;
    click(c, "[data-testid=conn-confirm-thumbprint]").await;
    wait_until(c, "input[data-testid=conn-thumbprint]", Read::Prop("value"), |v| v == expected, Duration::from_secs(5)).await;
    click(c, "[data-testid=conn-save]").await;
    let (state, text) = test_row(c, "e2e vcsim").await;
    assert_eq!(state, "ok", "{text}");
    assert!(text.contains("VMware"), "{text}");

    // Dark theme and Chinese, switched at runtime.
    click(c, "[data-testid=nav-settings]").await;
    select(c, "[data-testid=settings-theme]", "dark").await;
    select(c, "[data-testid=settings-language]", "zh-CN").await;
    wait_until(c, "html", Read::Attr("data-theme"), |t| t == "dark", Duration::from_secs(5)).await;
    click(c, "[data-testid=nav-connections]").await;
    css(c, "[data-testid=view-connections]").await;
    shot(c, "connections-dark-zh").await;

    // The audit log lists what we did.
    click(c, "[data-testid=nav-audit]").await;
    css(c, "[data-testid=audit-row]").await;
    let rows = c.find_all(Locator::Css("[data-testid=audit-row]")).await.unwrap();
    assert!(rows.len() >= 8, "creates, tests and settings changes: got {}", rows.len());
    shot(c, "audit-dark-zh").await;

    let data_dir = app.close().await;
    let data = data_dir.path();

    // The app's own files (database, WAL, log) hold no trace of the password.
    assert!(data.join("logs/opsdeck.log").exists(), "the app writes its log file");
    for entry in std::fs::read_dir(data).unwrap().chain(std::fs::read_dir(data.join("logs")).unwrap()) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(password.len()).any(|w| w == password.as_bytes()), "the password leaked into {}", path.display());
        }
    }
}
