//! Saved registry connections (issue 15 item 2, the app's path), on a real
//! registry (Debian docker-registry, scripts/services/registry.sh):
//! - bearer-token auth (`auth: token`; the realm is the project's token
//!   issuer, the registry checking the tokens is real): add, test, list
//!   repositories and tags, scan a tag; a wrong password is an auth error
//!   that names the connection and what to fix;
//! - cancelling a scan whose registry stalls in the middle of a layer blob
//!   (a relay in front of the real registry stops forwarding): the scan ends
//!   within 2 s, its download connection is closed, nothing is cached or
//!   recorded, and a later scan reads every layer; `opsdeck scan` on SIGINT
//!   likewise (exit 130 within 2 s).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsdeck_core::error::ErrorCode;
use opsdeck_core::scanner::layer_cache;
use opsdeck_core::scanner::registry::saved::{RegistryAuth, RegistryInput, RegistrySpec};
use opsdeck_core::scanner::scan::Progress;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::faults::{After, Relay, Upstream};
use opsdeck_tests::images::{build, import, output_text as text, push_all, Rootfs};
use opsdeck_tests::service::{shared, shared_with_args, Service};
use opsdeck_tests::workspace;

fn registry() -> &'static Service {
    shared_with_args("registry", &["--token"])
}

fn docker_host() -> &'static str {
    shared("dockerd").get("DOCKER_HOST")
}

/// Bytes of incompressible data in the big image's layer: a blob of ~4 MiB.
const BIG: usize = 4 << 20;

/// Pushed to the plain port (the token port serves the same storage):
/// saved/app:1 and :2 (Alpine + a file), saved/base:3.20, saved/big:1 (FROM
/// scratch, one layer of random bytes).
async fn setup() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let d = opsdeck_core::connectors::docker::connect(docker_host(), None).await.unwrap();
        import(&d, Rootfs::Alpine, "opsdeck-saved/alpine:3.20").await;
        build(&d, "opsdeck-saved/app:1", "FROM opsdeck-saved/alpine:3.20\nCOPY app.txt /srv/app.txt\n", &[("app.txt", b"app\n")]).await;
        let mut noise = vec![0u8; BIG];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for b in noise.iter_mut() {
            // xorshift: incompressible, so gzip leaves the blob ~4 MiB.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        build(&d, "opsdeck-saved/big:1", "FROM scratch\nCOPY noise.bin /noise.bin\n", &[("noise.bin", &noise)]).await;
        let images = [
            ("opsdeck-saved/alpine:3.20", "saved/base:3.20"),
            ("opsdeck-saved/app:1", "saved/app:1"),
            ("opsdeck-saved/app:1", "saved/app:2"),
            ("opsdeck-saved/big:1", "saved/big:1"),
        ];
        push_all(docker_host(), registry().get("REGISTRY_PLAIN"), &images);
    })
    .await;
}

fn input(name: &str, url: String, auth: RegistryAuth, password: Option<&str>) -> RegistryInput {
    let r = registry();
    let username = (auth != RegistryAuth::Anonymous).then(|| r.get("REGISTRY_USER").to_string());
    let ca = url.starts_with("https://").then(|| r.get("REGISTRY_CA").to_string());
    RegistryInput {
        id: None,
        name: name.into(),
        spec: RegistrySpec { url, auth, username, ca_file: ca, platform: Some("linux/amd64".into()) },
        secret: password.map(Into::into),
    }
}

#[tokio::test]
async fn a_saved_token_auth_registry_is_tested_browsed_and_scanned() {
    setup().await;
    let r = registry();
    let (user, password) = (r.get("REGISTRY_USER"), r.get("REGISTRY_PASSWORD"));
    let url = format!("https://{}", r.get("REGISTRY_TOKEN"));
    let t = TestBackend::new().await;
    let b = &t.backend;

    let tested = b.test_registry_connection(input("tokens", url.clone(), RegistryAuth::Token, Some(password))).await.unwrap();
    assert!(tested.ok, "{tested:?}");
    assert!(tested.message.contains("3 repositories"), "{tested:?}");
    let c = b.save_registry_connection(input("tokens", url.clone(), RegistryAuth::Token, Some(password))).await.unwrap();
    assert!(c.has_secret);

    // The catalog (scope registry:catalog:*) and the tags (repository:…:pull), each by token.
    let repos = b.registry_repositories(&c.id, Some(2)).await.unwrap();
    assert_eq!(repos.names, ["saved/app", "saved/base", "saved/big"], "{repos:?}");
    assert_eq!(repos.pages, 2);
    let mut tags = b.registry_tags("tokens", "saved/app", None).await.unwrap().names;
    tags.sort();
    assert_eq!(tags, ["1", "2"]);

    // A tag scanned through the saved connection: the password from the keychain.
    let (id, report) = b.scan_registry_tag(&c.id, "saved/app", "2", None, &|_| {}).await.unwrap();
    assert!(id > 0);
    assert_eq!(report.image, format!("{}/saved/app:2", r.get("REGISTRY_TOKEN")));
    assert_eq!(report.os.as_ref().map(|o| o.id.as_str()), Some("alpine"), "{:?}", report.os);
    assert!(!report.packages.is_empty());
    assert_eq!(report.layers.len(), 2);
    assert!(report.layers.iter().all(|l| !l.from_cache));
    // The same image by its other tag: every layer from the cache.
    let (_, again) = b.scan_registry_tag(&c.id, "saved/app", "1", None, &|_| {}).await.unwrap();
    assert!(again.layers.iter().all(|l| l.from_cache), "{:?}", again.layers);
    assert_eq!(again.packages, report.packages);

    // A wrong password: the token service refuses it; the error is an auth
    // error naming the connection and what to fix, on every path.
    let wrong = b.save_registry_connection(input("tokens-wrong", url.clone(), RegistryAuth::Token, Some("not-it"))).await.unwrap();
    for e in [
        b.registry_repositories(&wrong.id, None).await.unwrap_err(),
        b.registry_tags(&wrong.id, "saved/app", None).await.unwrap_err(),
        b.scan_registry_tag(&wrong.id, "saved/app", "1", None, &|_| {}).await.unwrap_err(),
    ] {
        assert_eq!(e.code(), ErrorCode::Auth, "{e}");
        let m = e.to_string();
        assert!(m.contains("token service") && m.contains(&format!("user {user:?}")), "{m}");
        assert!(m.contains("registry connection \"tokens-wrong\": check user/password"), "{m}");
    }
    let tested = b.test_registry_connection(input("tokens-wrong", url.clone(), RegistryAuth::Token, Some("nope"))).await.unwrap();
    assert!(!tested.ok && tested.error_code == Some(ErrorCode::Auth), "{tested:?}");
    // Token auth with no user: the issuer gives no anonymous token.
    let anonymous = b.save_registry_connection(input("tokens-anonymous", url.clone(), RegistryAuth::Anonymous, None)).await.unwrap();
    let e = b.registry_repositories(&anonymous.id, None).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth, "{e}");
    assert!(e.to_string().contains("give a user name and password"), "{e}");

    let history = b.scan_history(None, 10).await.unwrap();
    assert_eq!(history.len(), 2, "two scans kept, the refused one not: {history:?}");
    for x in b.registry_connections().await.unwrap() {
        b.delete_registry_connection(&x.id).await.unwrap_or_else(|e| panic!("removing {}: {e}", x.name));
    }
}

/// Polls `ok` until it holds or `within` passes; whether it held.
async fn within(within: Duration, ok: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if ok() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A relay to the plain port that stalls each connection after 512 KiB of
/// answers: in the middle of the big layer's blob (the answers before it are
/// a few KiB).
fn stalling_registry() -> Relay {
    Relay::start(Upstream::Tcp(registry().get("REGISTRY_PLAIN").to_string()), 512 << 10, After::Stall)
}

#[tokio::test]
async fn cancelling_a_scan_stalled_mid_blob_stops_the_download_at_once_and_caches_nothing() {
    setup().await;
    let relay = stalling_registry();
    let t = TestBackend::new().await;
    let b = t.backend.clone();
    let c = b
        .save_registry_connection(input("stalls", format!("http://127.0.0.1:{}", relay.port), RegistryAuth::Anonymous, None))
        .await
        .unwrap();

    // The scan as the app's registry_scan runs it: a task, aborted on cancel.
    let read = Arc::new(AtomicU64::new(0));
    let seen = read.clone();
    let (scanner, id) = (b.clone(), c.id.clone());
    let scan = tokio::spawn(async move {
        scanner
            .scan_registry_tag(&id, "saved/big", "1", None, &move |p| {
                if let Progress::Reading { bytes, .. } = p {
                    seen.fetch_max(bytes, Ordering::SeqCst);
                }
            })
            .await
    });
    // Stalled mid-blob: the relay tripped and part of the blob was read.
    assert!(
        within(Duration::from_secs(30), || relay.tripped.load(Ordering::SeqCst) >= 1 && read.load(Ordering::SeqCst) > 0).await,
        "the download did not stall mid-blob (tripped {}, read {})",
        relay.tripped.load(Ordering::SeqCst),
        read.load(Ordering::SeqCst)
    );
    assert!(!scan.is_finished(), "the stalled scan is still waiting");
    assert!(relay.established_clients() >= 1, "the blob's connection is open while stalled");

    let cancelled = Instant::now();
    scan.abort();
    let ended = scan.await;
    assert!(ended.as_ref().is_err_and(|e| e.is_cancelled()), "{ended:?}");
    // The download itself stops: the reader drops the stalled connection
    // (without the cancel it would wait for the 60 s idle limit).
    assert!(
        within(Duration::from_secs(2), || relay.established_clients() == 0).await,
        "the blob's connection to the stalled registry is still open 2 s after cancel ({} open)",
        relay.established_clients()
    );
    assert!(cancelled.elapsed() < Duration::from_secs(2), "cancel took {:?}", cancelled.elapsed());

    // Nothing half-read was kept: no layer cached, no scan recorded.
    assert_eq!(layer_cache::count(b.db()).await.unwrap(), 0);
    assert!(b.scan_history(None, 10).await.unwrap().is_empty());
    // The registry itself is fine: a scan over the plain port reads the layer whole.
    let direct = b
        .save_registry_connection(input("direct", format!("http://{}", registry().get("REGISTRY_PLAIN")), RegistryAuth::Anonymous, None))
        .await
        .unwrap();
    let (_, report) = b.scan_registry_tag(&direct.id, "saved/big", "1", None, &|_| {}).await.unwrap();
    assert_eq!(report.layers.len(), 1);
    assert!(!report.layers[0].from_cache, "the layer was read in full now, not taken from a half cache");
    assert_eq!(layer_cache::count(b.db()).await.unwrap(), 1);
}

#[tokio::test]
async fn ctrl_c_stops_opsdeck_scan_of_a_stalled_registry_within_2_s_and_caches_nothing() {
    setup().await;
    let relay = stalling_registry();
    let data = tempfile::tempdir().unwrap();
    let image = format!("127.0.0.1:{}/saved/big:1", relay.port);
    let cli = |data: &Path, args: &[&str]| {
        let mut c = Command::new(workspace::cli_bin());
        c.args(args).env("OPSDECK_DATA_DIR", data).env_remove("OPSDECK_REGISTRY_PASSWORD").env_remove("OPSDECK_STREAM_IDLE_SECS");
        c
    };
    let mut child = cli(data.path(), &["scan", "--plain-http", &image, "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run opsdeck");
    assert!(
        within(Duration::from_secs(30), || relay.tripped.load(Ordering::SeqCst) >= 1).await,
        "the CLI's download did not reach the stall"
    );
    // SAFETY: kill(2) with our child's pid and SIGINT.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let signalled = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(signalled.elapsed() < Duration::from_secs(2), "opsdeck scan still running 2 s after SIGINT");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let out = child.wait_with_output().unwrap();
    let out = Output { status, ..out };
    assert_eq!(status.code(), Some(130), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scan stopped"), "{}", text(&out));
    assert!(out.stdout.is_empty(), "no report: {}", text(&out));

    // The same data dir: the layer is read whole now, nothing was cached.
    let direct = format!("{}/saved/big:1", registry().get("REGISTRY_PLAIN"));
    let out = cli(data.path(), &["scan", "--plain-http", &direct, "--format", "json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(report[0]["layers"][0]["from_cache"], false, "{}", text(&out));
}
