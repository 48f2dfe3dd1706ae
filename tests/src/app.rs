//! Driving the real app window: tauri-driver + WebKitWebDriver (under Xvfb in
//! CI), one app instance per [`App`] with its own data directory and keychain
//! service, and helpers that wait on the DOM instead of sleeping.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::{procfs, workspace};

/// tauri-driver, leading a process group of its own: WebKitWebDriver, the
/// app and WebKit's processes.
pub struct Driver(Child);

/// Whether a live (not zombie) process of group `pgid` remains.
fn group_alive(pgid: i32) -> bool {
    procfs::pids().into_iter().any(|pid| procfs::stat(pid).is_some_and(|s| s.group == pgid && s.alive()))
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pgid = self.0.id() as i32;
        // SIGTERM lets tauri-driver stop WebKitWebDriver and the app...
        unsafe {
            libc::kill(pgid, libc::SIGTERM);
        }
        let _ = self.0.wait();
        // ...and whatever outlives it is ended too, and waited for, so the next
        // app starts on a quiet machine (and memory figures see one app).
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut killed = false;
        while group_alive(pgid) && Instant::now() < deadline {
            if !killed && Instant::now() + Duration::from_secs(5) > deadline {
                unsafe {
                    libc::kill(-pgid, libc::SIGKILL);
                }
                killed = true;
            }
            std::thread::sleep(Duration::from_millis(20)); // polling /proc for the group to be gone
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn app_binary() -> String {
    let bin =
        std::env::var("OPSDECK_APP_BIN").unwrap_or_else(|_| workspace::target_dir().join("debug/opsdeck-desktop").display().to_string());
    assert!(
        std::path::Path::new(&bin).exists(),
        "app binary {bin} missing: cargo build -p opsdeck-desktop --features custom-protocol (scripts/test.sh does it)"
    );
    bin
}

pub fn tauri_driver() -> String {
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

pub async fn wait_for_port(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The element at `sel`, waited for up to 30 s (a bound for an app sharing 2
/// cores with another app under test, not a figure); a failure says what the
/// view showed instead.
pub async fn css(c: &Client, sel: &str) -> fantoccini::elements::Element {
    match c.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css(sel)).await {
        Ok(el) => el,
        Err(e) => panic!("element {sel} not found: {e}; the page shows: {}", page_text(c).await),
    }
}

/// What the view on screen says (its text, shortened), for a failure message:
/// an error state or a spinner tells why an element never came.
pub async fn page_text(c: &Client) -> String {
    let read = c.execute(
        "const v = document.querySelector('[data-testid^=view-]') || document.body;
         return (v.innerText || '').replace(/\\s+/g, ' ').slice(0, 800);",
        vec![],
    );
    match tokio::time::timeout(Duration::from_secs(5), read).await {
        Ok(Ok(v)) => format!("{:?}", v.as_str().unwrap_or_default()),
        Ok(Err(e)) => format!("(unreadable: {e})"),
        Err(_) => "(no answer from WebDriver in 5 s)".into(),
    }
}

/// What to read off an element while waiting.
#[derive(Clone, Copy)]
pub enum Read<'a> {
    Attr(&'a str),
    Prop(&'a str),
}

/// Polls the element at `sel` until what `read` gives satisfies `pred` (bounded).
pub async fn wait_until(c: &Client, sel: &str, read: Read<'_>, pred: impl Fn(&str) -> bool, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut last: Option<String> = None;
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
                last = Some(v);
            }
        }
        assert!(Instant::now() < deadline, "{sel} never satisfied the condition within {limit:?} (last value: {last:?})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn shot(c: &Client, name: &str) {
    // WebKit's snapshot shows the last painted frame: let two frames paint first.
    c.execute_async("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", vec![])
        .await
        .expect("wait for paint");
    // A WebDriver call has no deadline of its own; a screenshot that never
    // answers (a page painted without compositing, see App::start_in) must
    // fail the test, not hang it.
    let png = tokio::time::timeout(Duration::from_secs(30), c.screenshot())
        .await
        .unwrap_or_else(|_| panic!("screenshot {name}: no answer from WebDriver in 30 s"))
        .expect("screenshot");
    let path = workspace::shots_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
}

/// Clicks `sel` the way a user could: scrolled into view, visible,
/// enabled and not covered (the element itself is at its centre), then
/// clicked — all in one script turn, so a layout shift between finding
/// and clicking (live data arriving, a banner appearing) cannot move the
/// target away from the click. Retried until it holds (a re-rendered
/// element is found again), for up to 15 s.
pub async fn click(c: &Client, sel: &str) {
    const SCRIPT: &str = r#"
        const el = arguments[0];
        if (!el.isConnected) return 'detached (re-rendered)';
        el.scrollIntoView({ block: 'center', inline: 'nearest' });
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) return 'not visible';
        if (el.disabled) return 'disabled';
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!hit || !(hit === el || el.contains(hit) || (el.control && el.control === hit))) {
            return 'covered by ' + (hit ? hit.outerHTML.slice(0, 160) : 'nothing');
        }
        el.click();
        return 'ok';
    "#;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let el = css(c, sel).await;
        let arg = serde_json::to_value(&el).unwrap();
        let got = c.execute(SCRIPT, vec![arg]).await.map(|v| v.as_str().unwrap_or_default().to_string());
        match got {
            Ok(s) if s == "ok" => return,
            Ok(s) if Instant::now() >= deadline => panic!("clicking {sel}: {s}"),
            Err(e) if Instant::now() >= deadline => panic!("clicking {sel}: {e}"),
            _ => tokio::time::sleep(Duration::from_millis(50)).await, // polling until the element is clickable
        }
    }
}

pub async fn fill(c: &Client, sel: &str, text: &str) {
    let el = css(c, sel).await;
    let arg = serde_json::to_value(&el).unwrap();
    // clear() fires no input event: tell the (controlled) input's owner, so a
    // re-render cannot put the old value back under the typed text.
    el.clear().await.ok();
    c.execute("arguments[0].dispatchEvent(new Event('input', { bubbles: true }));", vec![arg.clone()]).await.ok();
    el.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {sel}: {e}"));
    let typed = el.prop("value").await.ok().flatten().unwrap_or_default();
    if typed != text {
        // Typing raced a re-render: set the value the way an input event would.
        c.execute(
            "const el = arguments[0]; el.value = arguments[1]; el.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![arg, serde_json::Value::String(text.into())],
        )
        .await
        .unwrap_or_else(|e| panic!("setting {sel}: {e}"));
    }
}

/// Chooses an option the way a user's pick does: set the value, fire the
/// events. (WebKitWebDriver cannot click <option> elements.)
pub async fn select(c: &Client, sel: &str, value: &str) {
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

/// How long the app may take to open its window and load its page.
const SESSION_DEADLINE: Duration = Duration::from_secs(90);

/// Resolves (with the reason) once the app process `binary` that the driver
/// of process group `group` started has exited, or after `limit`.
async fn app_gone(group: i32, binary: &str, limit: Duration) -> String {
    // /proc/PID/comm holds the first 15 bytes of the executable's name.
    let name: String = std::path::Path::new(binary).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let comm: String = name.chars().take(15).collect();
    let running =
        || procfs::pids().into_iter().any(|p| procfs::stat(p).is_some_and(|s| s.group == group && s.alive()) && procfs::comm(p) == comm);
    let deadline = Instant::now() + limit;
    let mut seen = false;
    loop {
        let now = running();
        if seen && !now {
            return format!(
                "the app ({binary}) exited before its window opened; its error is on stderr above (a stale build? rebuild it with the workspace)"
            );
        }
        seen |= now;
        if Instant::now() >= deadline {
            return format!("no WebDriver session with the app ({binary}) within {limit:?} (app process seen: {seen})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await; // polling /proc for the app process
    }
}

/// A running app window with a WebDriver session on it.
pub struct App {
    pub c: Client,
    pub data: tempfile::TempDir,
    _driver: Driver,
}

impl App {
    /// Starts the app (the binary built with the UI embedded) in a fresh data
    /// directory and keychain service, and opens a WebDriver session on it.
    pub async fn start() -> App {
        let data = tempfile::tempdir().expect("temp dir");
        let keychain_service = format!("opsdeck-e2e-{}", uuid::Uuid::new_v4());
        App::start_in(data, &keychain_service).await
    }

    /// Starts the app on an existing data directory and keychain service
    /// (e.g. seeded with connections and warm caches); `close` gives it back.
    ///
    /// With WebKit's accelerated compositing (`OPSDECK_WEBKIT_COMPOSITING=1`):
    /// WebKitWebDriver's screenshot never answers for a page painted without
    /// it (WebKitGTK 2.50 under Xvfb), and the E2E tests take screenshots.
    /// The setting the app ships with is covered by [`App::start_shipped`].
    pub async fn start_in(data: tempfile::TempDir, keychain_service: &str) -> App {
        App::start_with(data, keychain_service, &app_binary(), &[("OPSDECK_WEBKIT_COMPOSITING".into(), "1".into())]).await
    }

    /// The app exactly as shipped (WebKit without accelerated compositing, see
    /// src-tauri/src/lib.rs), in a fresh data directory. No [`shot`] on it.
    pub async fn start_shipped() -> App {
        let data = tempfile::tempdir().expect("temp dir");
        let keychain_service = format!("opsdeck-e2e-{}", uuid::Uuid::new_v4());
        App::start_with(data, &keychain_service, &app_binary(), &[]).await
    }

    /// Like [`App::start_in`], with another binary (benchmarks compare builds
    /// and a blank Tauri window) and extra environment for the app and its
    /// WebKit processes (which inherit tauri-driver's).
    pub async fn start_with(data: tempfile::TempDir, keychain_service: &str, binary: &str, env: &[(String, String)]) -> App {
        opsdeck_core::connectors::tls::install_crypto_provider();
        let port = free_port();
        let native_port = free_port();
        let driver = Driver(
            Command::new(tauri_driver())
                .process_group(0)
                .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
                .env("OPSDECK_DATA_DIR", data.path())
                .env("OPSDECK_KEYCHAIN_SERVICE", keychain_service)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start tauri-driver"),
        );
        wait_for_port(port, Duration::from_secs(20)).await;
        // tauri-driver forwards the new session to WebKitWebDriver, which it
        // starts itself: a request forwarded before that one listens is cut
        // off ("IncompleteMessage"), so wait for both.
        wait_for_port(native_port, Duration::from_secs(20)).await;
        let caps = json!({ "tauri:options": { "application": binary } });
        let url = format!("http://127.0.0.1:{port}");
        let mut builder = ClientBuilder::rustls().expect("webdriver client");
        builder.capabilities(caps.as_object().expect("object").clone());
        let connect = builder.connect(&url);
        // "New session" answers once the app's page has loaded; an app that
        // exits at start (e.g. a stale build refusing the data directory's
        // migrations) leaves it waiting for ever: fail instead, saying why.
        let c = tokio::select! {
            c = connect => c.expect("WebDriver session with the app"),
            why = app_gone(driver.0.id() as i32, binary, SESSION_DEADLINE) => panic!("{why}"),
        };
        App { c, data, _driver: driver }
    }

    /// The environment of the app's WebKit web content processes (the
    /// driver's process group holds WebKitWebDriver, the app and WebKit's
    /// processes), one `KEY=VALUE` list per process.
    pub fn web_content_environments(&self) -> Vec<Vec<String>> {
        let group = self._driver.0.id() as i32;
        procfs::pids()
            .into_iter()
            .filter(|p| procfs::stat(*p).is_some_and(|s| s.group == group && s.alive()))
            .filter(|p| procfs::comm(*p).starts_with("WebKitWebProces"))
            .filter_map(|p| std::fs::read(format!("/proc/{p}/environ")).ok())
            .map(|env| env.split(|b| *b == 0).map(|kv| String::from_utf8_lossy(kv).into_owned()).collect())
            .collect()
    }

    /// See [`click`].
    pub async fn click(&self, sel: &str) {
        click(&self.c, sel).await
    }

    /// Adds a Docker engine connection named `name` through the Connections
    /// view and waits for its row.
    pub async fn add_docker_connection(&self, name: &str, host: &str) {
        self.click("[data-testid=nav-connections]").await;
        self.click("[data-testid=add-connection]").await;
        select(&self.c, "[data-testid=conn-kind]", "docker").await;
        fill(&self.c, "[data-testid=conn-name]", name).await;
        fill(&self.c, "[data-testid=conn-docker-host]", host).await;
        self.click("[data-testid=conn-save]").await;
        css(&self.c, &format!("[data-testid=conn-row][data-name='{name}']")).await;
    }

    /// Ends the session and stops the app; returns its data directory for inspection.
    pub async fn close(self) -> tempfile::TempDir {
        let _ = self.c.close().await;
        drop(self._driver);
        self.data
    }
}
