//! End to end, Config workspace: open a key in the real app, edit and save it
//! (with the diff), then save over a conflicting external write and see the
//! conflict view with the other value; a change by someone else appears live.

use std::time::Duration;

use etcd_client::Client;
use opsdeck_tests::app::{css, fill, shot, wait_until, App, Read};
use opsdeck_tests::Service;
use serde_json::json;

/// Sets a textarea's content the way typing does (fires `input`).
async fn set_text(app: &App, sel: &str, text: &str) {
    let el = css(&app.c, sel).await;
    let arg = serde_json::to_value(&el).unwrap();
    app.c
        .execute(
            "const t = arguments[0]; t.focus(); t.value = arguments[1]; t.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![arg, json!(text)],
        )
        .await
        .unwrap_or_else(|e| panic!("typing into {sel}: {e}"));
}

async fn open_row(app: &App, key: &str) {
    app.click(&format!("[data-testid=config-tree-row][data-key='{key}']")).await;
}

#[tokio::test]
async fn edit_save_and_conflict_in_the_config_workspace() {
    let etcd = Service::start("etcd", &[]);
    let endpoint = etcd.get("ETCD_ENDPOINT").to_string();
    let mut other = Client::connect([endpoint.as_str()], None).await.unwrap();
    other.put("/app/dev/db", "{\n  \"pool\": 10\n}", None).await.unwrap();
    other.put("/app/dev/feature", "on", None).await.unwrap();
    other.put("/app/prod/db", "{\n  \"pool\": 50\n}", None).await.unwrap();

    let app = App::start().await;
    let c = &app.c;
    // The connection, added through the Connections view.
    app.click("[data-testid=nav-connections]").await;
    app.click("[data-testid=add-connection]").await;
    opsdeck_tests::app::select(c, "[data-testid=conn-kind]", "etcd").await;
    fill(c, "[data-testid=conn-name]", "dev etcd").await;
    fill(c, "[data-testid=conn-etcd-endpoints]", &endpoint).await;
    app.click("[data-testid=conn-save]").await;
    css(c, "[data-testid=conn-row][data-name='dev etcd']").await;

    app.click("[data-testid=nav-config]").await;
    css(c, "[data-testid=view-config]").await;
    css(c, "[data-testid=config-tree]").await;
    open_row(&app, "/app/").await;
    open_row(&app, "/app/dev/").await;
    open_row(&app, "/app/dev/db").await;
    wait_until(c, "[data-testid=config-value-key]", Read::Prop("textContent"), |t| t.contains("/app/dev/db"), Duration::from_secs(10))
        .await;
    wait_until(c, "[data-testid=config-editor]", Read::Prop("value"), |v| v.contains("\"pool\": 10"), Duration::from_secs(10)).await;
    shot(c, "config-key-open").await;

    // Invalid JSON cannot be saved as JSON.
    set_text(&app, "[data-testid=config-editor]", "{ \"pool\": ").await;
    wait_until(c, "[data-testid=config-validation]", Read::Attr("data-ok"), |v| v == "false", Duration::from_secs(5)).await;
    let save_disabled = css(c, "[data-testid=config-save]").await.prop("disabled").await.unwrap();
    assert_eq!(save_disabled.as_deref(), Some("true"), "Save is disabled for invalid JSON");
    shot(c, "config-invalid-json").await;

    // Edit, see the diff, save with a comment.
    set_text(&app, "[data-testid=config-editor]", "{\n  \"pool\": 20\n}").await;
    wait_until(c, "[data-testid=config-validation]", Read::Attr("data-ok"), |v| v == "true", Duration::from_secs(5)).await;
    css(c, "[data-testid=config-save]:not([disabled])").await;
    app.click("[data-testid=config-save]").await;
    css(c, "[data-testid=config-diff]").await;
    shot(c, "config-diff-before-save").await;
    fill(c, "[data-testid=config-comment]", "raise the pool").await;
    app.click("[data-testid=config-confirm-save]").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let v = other.get("/app/dev/db", None).await.unwrap();
        if v.kvs()[0].value_str().unwrap().contains("20") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the save never reached etcd");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Someone else writes while we edit: saving shows the conflict, theirs survives.
    set_text(&app, "[data-testid=config-editor]", "{\n  \"pool\": 30\n}").await;
    wait_until(c, "[data-testid=config-validation]", Read::Attr("data-ok"), |v| v == "true", Duration::from_secs(5)).await;
    // The edit is registered (Save enabled) before the other writer acts; an
    // unedited view would just reload their value.
    css(c, "[data-testid=config-save]:not([disabled])").await;
    other.put("/app/dev/db", "{\n  \"pool\": 99\n}", None).await.unwrap();
    // The live watch tells the editing user at once.
    css(c, "[data-testid=config-watch-banner]").await;
    shot(c, "config-changed-while-editing").await;
    app.click("[data-testid=config-save]").await;
    css(c, "[data-testid=config-diff]").await;
    app.click("[data-testid=config-confirm-save]").await;
    css(c, "[data-testid=config-conflict]").await;
    wait_until(c, "[data-testid=config-conflict-theirs]", Read::Prop("textContent"), |t| t.contains("99"), Duration::from_secs(10)).await;
    shot(c, "config-conflict").await;
    let v = other.get("/app/dev/db", None).await.unwrap();
    assert!(v.kvs()[0].value_str().unwrap().contains("99"), "their value survived");
    app.click("[data-testid=config-reload-theirs]").await;
    wait_until(c, "[data-testid=config-editor]", Read::Prop("value"), |v| v.contains("99"), Duration::from_secs(10)).await;

    // A key created by someone else shows up in the open tree, highlighted.
    other.put("/app/dev/new-key", "hello", None).await.unwrap();
    wait_until(c, "[data-testid=config-tree-row][data-key='/app/dev/new-key']", Read::Attr("data-key"), |_| true, Duration::from_secs(2))
        .await;
    shot(c, "config-watch-new-key").await;

    // History of the key lists the revisions, newest first.
    app.click("[data-testid=config-tab-history]").await;
    css(c, "[data-testid=config-history-row]").await;
    let rows = c.find_all(fantoccini::Locator::Css("[data-testid=config-history-row]")).await.unwrap();
    assert!(rows.len() >= 3, "10 → 20 → 99: got {} rows", rows.len());
    shot(c, "config-history").await;

    // Compare dev with prod and copy the key prod lacks, in one guarded transaction.
    app.click("[data-testid=config-compare-open]").await;
    fill(c, "[data-testid=config-compare-left]", "/app/dev/").await;
    fill(c, "[data-testid=config-compare-right]", "/app/prod/").await;
    app.click("[data-testid=config-compare-run]").await;
    css(c, "[data-testid=config-diff-row][data-rel='feature'][data-section=only_left]").await;
    app.click("[data-testid=config-diff-row][data-rel='feature'] input[type=checkbox]").await;
    shot(c, "config-compare").await;
    app.click("[data-testid=config-copy-selected]").await;
    app.click("[data-testid=config-copy-confirm]").await;
    css(c, "[data-testid=config-copy-report]").await;
    let copied = other.get("/app/prod/feature", None).await.unwrap();
    assert_eq!(copied.kvs().first().map(|kv| kv.value_str().unwrap().to_string()), Some("on".to_string()));
    // Esc, as a user presses it (into the focused element), closes the dialog.
    app.c.active_element().await.unwrap().send_keys(&fantoccini::key::Key::Escape.to_string()).await.unwrap();

    // A prefix with 20,000 keys: counted, and only the visible rows are in the DOM.
    let ops: Vec<String> = (0..20_000).map(|i| format!("/big/k{i:05}")).collect();
    for chunk in ops.chunks(128) {
        let puts: Vec<etcd_client::TxnOp> = chunk.iter().map(|k| etcd_client::TxnOp::put(k.as_str(), "v", None)).collect();
        other.txn(etcd_client::Txn::new().and_then(puts)).await.unwrap();
    }
    // The root listing was read before /big/ existed (only the open prefix is watched): refresh.
    app.click("[data-testid=config-tree-refresh]").await;
    // The refreshed tree re-renders under the pointer: click until /big/ is the open prefix.
    for attempt in 0.. {
        app.click("[data-testid=config-tree-row][data-key='/big/']").await;
        let opened = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let el = css(c, "[data-testid=config-prefix]").await;
                if el.prop("textContent").await.ok().flatten().as_deref().map(str::trim) == Some("/big/") {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        if opened.is_ok() {
            break;
        }
        assert!(attempt < 3, "clicking /big/ never opened it");
    }
    wait_until(c, "[data-testid=config-count]", Read::Attr("data-count"), |n| n == "20000", Duration::from_secs(30)).await;
    let rows = c.find_all(fantoccini::Locator::Css("[data-testid=config-tree-row]")).await.unwrap();
    assert!(rows.len() < 300, "virtualised: {} rows in the DOM for 20,000 keys", rows.len());
    shot(c, "config-big-prefix").await;
    app.close().await;
}

/// Picks the option of a `<select>` whose text is `text` (connection ids are not known to the test).
async fn select_text(app: &App, sel: &str, text: &str) {
    let el = css(&app.c, sel).await;
    let arg = serde_json::to_value(&el).unwrap();
    let ok = app
        .c
        .execute(
            "const s = arguments[0]; const o = [...s.options].find(o => o.textContent.trim() === arguments[1]); if (!o) return false;
             s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
            vec![arg, json!(text)],
        )
        .await
        .unwrap();
    assert_eq!(ok, json!(true), "{sel} has no option {text}");
}

async fn add_etcd(app: &App, name: &str, endpoint: &str) {
    let c = &app.c;
    app.click("[data-testid=nav-connections]").await;
    app.click("[data-testid=add-connection]").await;
    opsdeck_tests::app::select(c, "[data-testid=conn-kind]", "etcd").await;
    fill(c, "[data-testid=conn-name]", name).await;
    fill(c, "[data-testid=conn-etcd-endpoints]", endpoint).await;
    app.click("[data-testid=conn-save]").await;
    css(c, &format!("[data-testid=conn-row][data-name='{name}']")).await;
}

#[tokio::test]
async fn a_promotion_between_two_etcd_clusters_is_reviewed_then_applied_in_the_app() {
    let (dev_etcd, prod_etcd) = (Service::start("etcd", &[]), Service::start("etcd", &[]));
    let mut dev = Client::connect([dev_etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    let mut prod = Client::connect([prod_etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    dev.put("/app/db", "{\n  \"pool\": 20,\n  \"timeout\": \"5s\"\n}", None).await.unwrap();
    dev.put("/app/feature/new-ui", "on", None).await.unwrap();
    dev.put("/app/cert.der", vec![0x30u8, 0x82, 0x01, 0x0a, 0xff], None).await.unwrap();
    prod.put("/app/db", "{\n  \"pool\": 10,\n  \"timeout\": \"5s\"\n}", None).await.unwrap();
    prod.put("/app/legacy", "retired", None).await.unwrap();

    let app = App::start().await;
    let c = &app.c;
    add_etcd(&app, "dev etcd", dev_etcd.get("ETCD_ENDPOINT")).await;
    add_etcd(&app, "prod etcd", prod_etcd.get("ETCD_ENDPOINT")).await;
    app.click("[data-testid=nav-config]").await;
    css(c, "[data-testid=config-tree]").await;
    select_text(&app, "[data-testid=config-connection]", "dev etcd").await;
    app.click("[data-testid=config-promote-open]").await;
    fill(c, "[data-testid=config-promote-from]", "/app/").await;
    select_text(&app, "[data-testid=config-promote-target-connection]", "prod etcd").await;
    fill(c, "[data-testid=config-promote-to]", "/app/").await;
    app.click("[data-testid=config-promote-plan]").await;
    // The review: added, changed (with the value diff), binary (base64), removed (not ticked).
    for (rel, action) in [("cert.der", "add"), ("db", "change"), ("feature/new-ui", "add"), ("legacy", "remove")] {
        css(c, &format!("[data-testid=config-promote-row][data-rel='{rel}'][data-action={action}]")).await;
    }
    shot(c, "config-promote-review").await;
    app.click("[data-testid=config-promote-apply]").await;
    css(c, "[data-testid=config-promote-report]").await;
    shot(c, "config-promote-applied").await;
    let got = prod.get("/app/db", None).await.unwrap();
    assert!(got.kvs()[0].value_str().unwrap().contains("\"pool\": 20"));
    assert_eq!(prod.get("/app/cert.der", None).await.unwrap().kvs()[0].value(), &[0x30u8, 0x82, 0x01, 0x0a, 0xff]);
    assert_eq!(prod.get("/app/legacy", None).await.unwrap().kvs().len(), 1, "a remove only when ticked");
    app.close().await;
}
