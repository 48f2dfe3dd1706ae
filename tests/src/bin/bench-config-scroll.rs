//! Config at scale in the real app (issue 17, item 4): memory of the app
//! process and of its WebKit web content process while the key tree is
//! scrolled through a prefix of 1,000,000 keys, through WebDriver.
//!
//!   (cd ui && npm run build) && cargo build --workspace --features opsdeck-desktop/custom-protocol
//!   cargo build -p opsdeck-tests --bin bench-config-scroll
//!   scripts/with-session.sh $CARGO_TARGET_DIR/debug/bench-config-scroll [KEYS] [--baseline PATH] [--budget SECS]
//!   (OPSDECK_ETCD_NEWEST=1: on etcd 3.7, whose first pages stream; --budget 0: the first visits only)
//!
//! Loads KEYS keys (default 1,000,000) under `/scale/` into one etcd, then for
//! each app binary — `--baseline PATH` (an earlier build, "before") and the
//! app under test (`OPSDECK_APP_BIN`, else the debug build) — starts it as
//! shipped on a fresh data directory, adds one etcd connection in the app, opens the Config
//! workspace, opens `/scale/` and scrolls the tree from the top to the bottom
//! STEP rows at a time, each step waiting until the row at the top of the view
//! is on screen (its page loaded). Every 100,000 rows: RSS and anonymous PSS
//! of the app process and of WebKitWebProcess (/proc/PID/smaps_rollup), and
//! the DOM's element count. A binary stops at `--budget` seconds (default
//! 900) and says how far it got.
//!
//! Before the scroll, the first visit of the prefix in the app (a connection
//! never opened): from the click on `/scale/` to its first row on screen
//! (timed in the page), and the etcd Range requests from the click until the
//! key count shows (etcd's /metrics) — 3 app starts per binary, side by side
//! with etcdctl's same page after each.

use std::time::{Duration, Instant};

use opsdeck_tests::app::{app_binary, css, fill, select, App};
use opsdeck_tests::bench::scale::{key, load, PREFIX};
use opsdeck_tests::bench::{etcd_grpc_requests, etcd_range_requests, etcdctl};
use opsdeck_tests::procfs::{app_processes, mem, Mem};
use opsdeck_tests::Service;
use serde_json::json;

/// Rows scrolled a step (less than a page of 500: each step needs at most the next page).
const STEP: usize = 400;
/// Rows between two memory samples.
const SAMPLE: usize = 100_000;

struct Sample {
    rows: usize,
    secs: f64,
    app: Mem,
    web: Mem,
    dom: u64,
}

/// The app's process and its web content process.
fn memory(binary: &str) -> (Mem, Mem) {
    let (pid, children) = app_processes(binary);
    let pid = pid.unwrap_or_else(|| panic!("{binary}: the app process"));
    let web = children.iter().find(|(_, n)| n.starts_with("WebKitWebProces")).map(|(p, _)| mem(*p));
    (mem(pid), web.unwrap_or_else(|| panic!("{binary}: its WebKitWebProcess ({children:?})")))
}

/// Scrolls the tree so row `top` is the first in view and waits (in the page)
/// until that row is on screen; false when it did not come within 60 s.
async fn scroll_to(app: &App, top: usize) -> bool {
    let script = r#"
        const [top, key, done] = arguments;
        const tree = document.querySelector('[data-testid=config-tree]');
        const rowH = parseFloat(getComputedStyle(tree).getPropertyValue('--cfg-row-h')) || 26;
        const deadline = Date.now() + 60000;
        const tick = () => {
          tree.scrollTop = top * rowH;
          if (document.querySelector(`[data-testid=config-tree-row][data-key="${key}"]`)) return done(true);
          if (Date.now() > deadline) return done(false);
          setTimeout(tick, 5);
        };
        tick();
    "#;
    let v = app.c.execute_async(script, vec![json!(top), json!(key(top))]).await.expect("scroll the tree");
    v.as_bool() == Some(true)
}

/// A first visit in the app: ms from the click on the prefix to its first row
/// on screen, and the Range requests until the key count shows.
struct FirstVisit {
    ms: f64,
    ranges: u64,
    streams: u64,
    etcdctl_ms: f64,
}

/// Starts `binary` on a fresh data directory, adds the etcd connection in the
/// app, opens the Config workspace and the prefix (a first visit).
async fn open(label: &str, binary: &str, endpoint: &str, keys: usize) -> (App, FirstVisit) {
    let data = tempfile::tempdir().unwrap();
    let service = format!("opsdeck-bench-scroll-{}-{label}", std::process::id());
    // As shipped (no extra environment): no screenshots taken here. The
    // connection is added through the app (an earlier build cannot open a data
    // directory this build's backend migrated).
    let app = App::start_with(data, &service, binary, &[]).await;
    app.click("[data-testid=nav-connections]").await;
    app.click("[data-testid=add-connection]").await;
    select(&app.c, "[data-testid=conn-kind]", "etcd").await;
    fill(&app.c, "[data-testid=conn-name]", "scale etcd").await;
    fill(&app.c, "[data-testid=conn-etcd-endpoints]", endpoint).await;
    app.click("[data-testid=conn-save]").await;
    css(&app.c, "[data-testid=conn-row][data-name='scale etcd']").await;
    app.click("[data-testid=nav-config]").await;
    css(&app.c, "[data-testid=config-tree]").await;
    css(&app.c, &format!("[data-testid=config-tree-row][data-key='{PREFIX}']")).await;
    // Nothing else asks etcd now: the root's first page and count are in.
    app.c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css("[data-testid=config-count]:not([data-count=''])"))
        .await
        .unwrap();
    // ...and the workspace's other reads (change requests) are done: the counter stands still.
    let mut r0 = etcd_range_requests(endpoint);
    let s0 = etcd_grpc_requests(endpoint, "RangeStream");
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await; // a bench waiting for quiet, not a test's synchronisation
        let r = etcd_range_requests(endpoint);
        if r == r0 {
            break;
        }
        r0 = r;
    }
    let script = r#"
        const [prefix, key, done] = arguments;
        const row = document.querySelector(`[data-testid=config-tree-row][data-key="${prefix}"]`);
        const t0 = performance.now();
        row.click();
        const tick = () => document.querySelector(`[data-testid=config-tree-row][data-key="${key}"]`) ? done(performance.now() - t0) : setTimeout(tick, 1);
        tick();
    "#;
    let ms = app.c.execute_async(script, vec![json!(PREFIX), json!(key(0))]).await.expect("open the prefix").as_f64().unwrap_or(-1.0);
    let want = keys.to_string();
    opsdeck_tests::app::wait_until(
        &app.c,
        "[data-testid=config-count]",
        opsdeck_tests::app::Read::Attr("data-count"),
        |c| c == want,
        Duration::from_secs(60),
    )
    .await;
    let ranges = etcd_range_requests(endpoint) - r0;
    let streams = etcd_grpc_requests(endpoint, "RangeStream") - s0;
    let etcdctl_ms = etcdctl(endpoint, &["get", "--prefix", "--keys-only", "--limit", "500", PREFIX]).as_secs_f64() * 1000.0;
    eprintln!("{label}: first visit {ms:.1} ms, {ranges} Range + {streams} RangeStream requests (etcdctl {etcdctl_ms:.1} ms)");
    (app, FirstVisit { ms, ranges, streams, etcdctl_ms })
}

async fn run(label: &str, binary: &str, endpoint: &str, keys: usize, budget: Duration) -> (Vec<Sample>, Option<usize>, Vec<FirstVisit>) {
    let mut visits = Vec::new();
    for _ in 0..2 {
        let (app, v) = open(label, binary, endpoint, keys).await;
        visits.push(v);
        app.close().await;
    }
    let (app, v) = open(label, binary, endpoint, keys).await;
    visits.push(v);
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut sample = |rows: usize, app_mem: (Mem, Mem), dom: u64| {
        samples.push(Sample { rows, secs: started.elapsed().as_secs_f64(), app: app_mem.0, web: app_mem.1, dom });
    };
    let dom = |app: &App| {
        let c = app.c.clone();
        async move { c.execute("return document.getElementsByTagName('*').length", vec![]).await.ok().and_then(|v| v.as_u64()).unwrap_or(0) }
    };
    assert!(scroll_to(&app, 0).await, "{label}: the first row of {PREFIX} never showed");
    sample(0, memory(binary), dom(&app).await);
    let last = keys - 1;
    let mut top = 0;
    let mut stopped = None;
    while top < last {
        top = (top + STEP).min(last);
        if !scroll_to(&app, top).await {
            panic!("{label}: row {top} never showed");
        }
        if top % SAMPLE < STEP || top == last {
            sample(top, memory(binary), dom(&app).await);
            eprintln!("{label}: {top} rows, {:.0} s", started.elapsed().as_secs_f64());
        }
        if started.elapsed() > budget {
            sample(top, memory(binary), dom(&app).await);
            stopped = Some(top);
            break;
        }
    }
    app.close().await;
    (samples, stopped, visits)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keys: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let opt = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let budget = Duration::from_secs(opt("--budget").and_then(|s| s.parse().ok()).unwrap_or(900));
    let mut binaries = Vec::new();
    if let Some(b) = opt("--baseline") {
        binaries.push(("before".to_string(), b));
    }
    binaries.push(("after".to_string(), app_binary()));

    let etcd = Service::start("etcd", &[]);
    let endpoint = etcd.get("ETCD_ENDPOINT").to_string();
    load(&endpoint, keys).await;
    // One key beside the prefix: the root's count (keys + 1) differs from the prefix's.
    let mut c = etcd_client::Client::connect([endpoint.as_str()], None).await.unwrap();
    c.put("/other/key", "x", None).await.unwrap();

    let mib = |k: u64| k / 1024;
    println!("| app | rows scrolled | time | app process RSS / anon PSS | WebKitWebProcess RSS / anon PSS | DOM elements |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut firsts = Vec::new();
    for (label, binary) in &binaries {
        let (samples, stopped, visits) = run(label, binary, &endpoint, keys, budget).await;
        firsts.push((label.clone(), visits));
        for s in &samples {
            println!(
                "| {label} | {} | {:.0} s | {} / {} MiB | {} / {} MiB | {} |",
                s.rows,
                s.secs,
                mib(s.app.rss),
                mib(s.app.pss_anon),
                mib(s.web.rss),
                mib(s.web.pss_anon),
                s.dom
            );
        }
        if let Some(at) = stopped {
            println!("| {label} | stopped at row {at}: the {} s budget ran out | | | | |", budget.as_secs());
        }
    }
    println!();
    println!("| app | first visit of {PREFIX} in the app: click to first row (3 starts) | etcd Range + RangeStream requests until the count shows | etcdctl `get --prefix --keys-only --limit 500` right after |");
    println!("| --- | --- | --- | --- |");
    for (label, visits) in firsts {
        let list = |f: &dyn Fn(&FirstVisit) -> String| visits.iter().map(f).collect::<Vec<_>>().join(", ");
        println!(
            "| {label} | {} ms | {} | {} ms |",
            list(&|v| format!("{:.0}", v.ms)),
            list(&|v| format!("{} + {}", v.ranges, v.streams)),
            list(&|v| format!("{:.0}", v.etcdctl_ms))
        );
    }
}
