//! End to end: the real app window (embedded UI, real backend, real keychain)
//! driven through tauri-driver + WebKitWebDriver under Xvfb. Screenshots go to
//! `target/e2e-shots/` for a person to look at.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use opsdeck_tests::{workspace, Service};
use serde_json::json;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // SIGTERM lets tauri-driver stop WebKitWebDriver and the app too.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn app_binary() -> String {
    let bin = std::env::var("OPSDECK_APP_BIN")
        .unwrap_or_else(|_| workspace::target_dir().join("debug/opsdeck-desktop").display().to_string());
    assert!(
        std::path::Path::new(&bin).exists(),
        "app binary {bin} missing: cargo build -p opsdeck-desktop --features custom-protocol (scripts/test.sh does it)"
    );
    bin
}

fn tauri_driver() -> String {
    if let Ok(b) = std::env::var("TAURI_DRIVER_BIN") {
        return b;
    }
    let out = Command::new(workspace::root().join("scripts/setup/tauri-driver.sh")).output().expect("tauri-driver.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("TAURI_DRIVER_BIN="))
        .map(String::from)
        .unwrap_or_else(|| panic!("tauri-driver unavailable: {}", String::from_utf8_lossy(&out.stderr)))
}

async fn wait_for_port(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn css(c: &Client, sel: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(sel))
        .await
        .unwrap_or_else(|e| panic!("element {sel} not found: {e}"))
}

/// What to read off an element while waiting.
#[derive(Clone, Copy)]
enum Read<'a> {
    Attr(&'a str),
    Prop(&'a str),
}

/// Polls the element at `sel` until what `read` gives satisfies `pred` (bounded).
async fn wait_until(c: &Client, sel: &str, read: Read<'_>, pred: impl Fn(&str) -> bool, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(el) = c.find(Locator::Css(sel)).await {
            let value = match read {
                Read::Attr(a) => el.attr(a).await,
                Read::Prop(p) => el.prop(p).await,
            };
            if let Ok(Some(v)) = value {
                if pred(&v) {
                    return v;
                }
            }
        }
        assert!(Instant::now() < deadline, "{sel} never satisfied the condition");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn shot(c: &Client, name: &str) {
    // WebKit's snapshot shows the last painted frame: let two frames paint first.
    c.execute_async("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", vec![])
        .await
        .expect("wait for paint");
    let png = c.screenshot().await.expect("screenshot");
    let path = workspace::shots_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
}

async fn fill(c: &Client, sel: &str, text: &str) {
    let el = css(c, sel).await;
    el.clear().await.ok();
    el.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {sel}: {e}"));
}

/// Chooses an option the way a user's pick does: set the value, fire the
/// events. (WebKitWebDriver cannot click <option> elements.)
async fn select(c: &Client, sel: &str, value: &str) {
    let el = css(c, sel).await;
    let arg = serde_json::to_value(&el).unwrap();
    let ok = c
        .execute(
            "const s = arguments[0]; if (![...s.options].some(o => o.value === arguments[1])) return false;
             s.value = arguments[1];
             s.dispatchEvent(new Event('input', { bubbles: true }));
             s.dispatchEvent(new Event('change', { bubbles: true }));
             return true;",
            vec![arg, json!(value)],
        )
        .await
        .unwrap_or_else(|e| panic!("selecting {value} in {sel}: {e}"));
    assert_eq!(ok, json!(true), "{sel} has no option {value}");
}

async fn add_etcd_connection(c: &Client, name: &str, endpoint: &str, user: Option<(&str, &str)>) {
    css(c, "[data-testid=nav-connections]").await.click().await.unwrap();
    css(c, "[data-testid=add-connection]").await.click().await.unwrap();
    select(c, "[data-testid=conn-kind]", "etcd").await;
    fill(c, "[data-testid=conn-name]", name).await;
    fill(c, "[data-testid=conn-etcd-endpoints]", endpoint).await;
    if let Some((u, p)) = user {
        fill(c, "[data-testid=conn-username]", u).await;
        fill(c, "[data-testid=conn-secret]", p).await;
    }
    css(c, "[data-testid=conn-save]").await.click().await.unwrap();
    css(c, &format!("[data-testid=conn-row][data-name='{name}']")).await;
}

async fn test_row(c: &Client, name: &str) -> (String, String) {
    let row = format!("[data-testid=conn-row][data-name='{name}']");
    css(c, &format!("{row} [data-testid=conn-test]")).await.click().await.unwrap();
    let status = format!("{row} [data-testid=conn-status]");
    let state = wait_until(c, &status, Read::Attr("data-state"), |s| s == "ok" || s == "error", Duration::from_secs(30)).await;
    let text = css(c, &status).await.prop("textContent").await.unwrap().unwrap_or_default();
    (state, text)
}

#[tokio::test]
async fn add_and_test_an_etcd_connection_in_the_app_window() {
    opsdeck_core::connectors::tls::install_crypto_provider();
    let etcd = Service::start("etcd", &[]);
    let data = tempfile::tempdir().unwrap();
    let keychain_service = format!("opsdeck-e2e-{}", uuid::Uuid::new_v4());
    let port = free_port();
    let native_port = free_port();
    let driver = Driver(
        Command::new(tauri_driver())
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("OPSDECK_DATA_DIR", data.path())
            .env("OPSDECK_KEYCHAIN_SERVICE", &keychain_service)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tauri-driver"),
    );
    wait_for_port(port, Duration::from_secs(20)).await;

    let caps = json!({ "tauri:options": { "application": app_binary() } });
    let c = ClientBuilder::rustls()
        .expect("webdriver client")
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session with the app");

    // Every view renders.
    for view in ["vms", "images", "clusters", "config", "connections", "audit", "settings"] {
        css(&c, &format!("[data-testid=nav-{view}]")).await.click().await.unwrap();
        css(&c, &format!("[data-testid=view-{view}]")).await;
        shot(&c, &format!("view-{view}")).await;
    }

    // Add a plain etcd connection through the form, test it, see the version.
    let endpoint = etcd.get("ETCD_ENDPOINT");
    add_etcd_connection(&c, "e2e etcd", endpoint, None).await;
    let (state, text) = test_row(&c, "e2e etcd").await;
    assert_eq!(state, "ok", "status text: {text}");
    assert!(text.contains("etcd 3."), "the row shows the server version: {text}");
    shot(&c, "connections-etcd-tested").await;

    // A failing one shows the reason.
    let dead = format!("http://127.0.0.1:{}", free_port());
    add_etcd_connection(&c, "e2e dead etcd", &dead, None).await;
    let (state, text) = test_row(&c, "e2e dead etcd").await;
    assert_eq!(state, "error");
    assert!(text.contains("refused") || text.contains("reach") || text.contains("answer"), "{text}");

    // A connection with a password: it goes to the keychain, never to disk.
    let password = format!("pw-{}", uuid::Uuid::new_v4());
    add_etcd_connection(&c, "e2e etcd with user", endpoint, Some(("alice", &password))).await;
    let _ = test_row(&c, "e2e etcd with user").await;

    // vSphere: fetch the certificate thumbprint from the server, pin it, log in.
    let vcsim = Service::start("vcsim", &[]);
    css(&c, "[data-testid=add-connection]").await.click().await.unwrap();
    select(&c, "[data-testid=conn-kind]", "vsphere").await;
    fill(&c, "[data-testid=conn-name]", "e2e vcsim").await;
    fill(&c, "[data-testid=conn-vsphere-url]", vcsim.get("VCSIM_SDK_URL")).await;
    fill(&c, "[data-testid=conn-username]", vcsim.get("VCSIM_USER")).await;
    fill(&c, "[data-testid=conn-secret]", vcsim.get("VCSIM_PASSWORD")).await;
    css(&c, "[data-testid=conn-fetch-thumbprint]").await.click().await.unwrap();
    let expected = vcsim.get("VCSIM_THUMBPRINT_SHA256").to_string();
    wait_until(&c, "input[data-testid=conn-thumbprint]", Read::Prop("value"), |v| v == expected, Duration::from_secs(15)).await;
    shot(&c, "connection-form-vsphere-thumbprint").await;
    css(&c, "[data-testid=conn-save]").await.click().await.unwrap();
    let (state, text) = test_row(&c, "e2e vcsim").await;
    assert_eq!(state, "ok", "{text}");
    assert!(text.contains("VMware"), "{text}");

    // Dark theme and Chinese, switched at runtime.
    css(&c, "[data-testid=nav-settings]").await.click().await.unwrap();
    select(&c, "[data-testid=settings-theme]", "dark").await;
    select(&c, "[data-testid=settings-language]", "zh-CN").await;
    wait_until(&c, "html", Read::Attr("data-theme"), |t| t == "dark", Duration::from_secs(5)).await;
    css(&c, "[data-testid=nav-connections]").await.click().await.unwrap();
    css(&c, "[data-testid=view-connections]").await;
    shot(&c, "connections-dark-zh").await;

    // The audit log lists what we did.
    css(&c, "[data-testid=nav-audit]").await.click().await.unwrap();
    css(&c, "[data-testid=audit-row]").await;
    let rows = c.find_all(Locator::Css("[data-testid=audit-row]")).await.unwrap();
    assert!(rows.len() >= 8, "creates, tests and settings changes: got {}", rows.len());
    shot(&c, "audit-dark-zh").await;

    c.close().await.ok();
    drop(driver);

    // The app's own files (database, WAL, log) hold no trace of the password.
    assert!(data.path().join("logs/opsdeck.log").exists(), "the app writes its log file");
    for entry in std::fs::read_dir(data.path()).unwrap().chain(std::fs::read_dir(data.path().join("logs")).unwrap()) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(password.len()).any(|w| w == password.as_bytes()),
                "the password leaked into {}",
                path.display()
            );
        }
    }
}
