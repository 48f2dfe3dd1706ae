//! Registry connections of the Images workspace (issue 15 item 2): a real
//! registry (Debian docker-registry, scripts/services/registry.sh) with
//! htpasswd basic auth over TLS, holding images pushed from the test dockerd
//! to several repositories and tags. Through the backend the app uses: save
//! a connection (password to the keychain), list repositories and tags page
//! by page (a page size of 2), scan a tag and get the CLI's decision;
//! wrong password, no CA file and a closed port give errors that say what to
//! change; the password is in no file of the data directory nor in any output.

use std::path::Path;
use std::process::{Command, Output};

use opsdeck_core::error::ErrorCode;
use opsdeck_core::scanner::registry::saved::{RegistryAuth, RegistryInput, RegistrySpec};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::service::{shared, shared_with_args, Service};
use opsdeck_tests::workspace;
use serde_json::Value;

fn registry() -> &'static Service {
    shared_with_args("registry", &["--basic"])
}

fn docker_host() -> &'static str {
    shared("dockerd").get("DOCKER_HOST")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn docker(args: &[&str]) {
    let out = Command::new("docker").args(args).env("DOCKER_HOST", docker_host()).output().expect("run docker");
    assert!(out.status.success(), "docker {args:?}: {}", text(&out));
}

/// Repositories (in the catalog's order) and the tags of browse/app.
const REPOS: &[&str] = &["browse/app", "browse/base", "browse/tools", "browse/web", "team/api"];
const TAGS: &[&str] = &["1.0", "1.1", "2.0", "latest", "rc-3"];

/// Two images on the engine (Alpine, and Alpine + a layer running as root
/// without a health check), pushed to the plain port of the registry whose
/// storage the basic-auth port serves.
async fn setup() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let d = opsdeck_core::connectors::docker::connect(docker_host(), None).await.unwrap();
        import(&d, Rootfs::Alpine, "opsdeck-browse/alpine:3.20").await;
        build(&d, "opsdeck-browse/app:1", "FROM opsdeck-browse/alpine:3.20\nCOPY app.txt /srv/app.txt\n", &[("app.txt", b"app\n")]).await;
        let plain = registry().get("REGISTRY_PLAIN");
        let mut pushes = Vec::new();
        for repo in REPOS.iter().filter(|r| **r != "browse/app") {
            pushes.push(("opsdeck-browse/alpine:3.20".to_string(), format!("{plain}/{repo}:3.20")));
        }
        for tag in TAGS {
            pushes.push(("opsdeck-browse/app:1".to_string(), format!("{plain}/browse/app:{tag}")));
        }
        for (local, target) in pushes {
            docker(&["tag", &local, &target]);
            docker(&["push", &target]);
        }
    })
    .await;
}

fn spec(url: String, auth: RegistryAuth, ca: Option<&str>) -> RegistrySpec {
    let username = (auth != RegistryAuth::Anonymous).then(|| registry().get("REGISTRY_USER").to_string());
    RegistrySpec { url, auth, username, ca_file: ca.map(Into::into), platform: Some("linux/amd64".into()) }
}

fn input(name: &str, spec: RegistrySpec, secret: Option<&str>) -> RegistryInput {
    RegistryInput { id: None, name: name.into(), spec, secret: secret.map(Into::into) }
}

/// Every file under `dir` whose bytes hold `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

#[tokio::test]
async fn a_saved_registry_is_browsed_page_by_page_and_a_tag_scans_as_the_cli_does() {
    setup().await;
    let r = registry();
    let (ca, user, password) = (r.get("REGISTRY_CA"), r.get("REGISTRY_USER"), r.get("REGISTRY_PASSWORD"));
    let basic_url = format!("https://{}", r.get("REGISTRY_BASIC"));
    let t = TestBackend::new().await;
    let b = &t.backend;

    // Test before saving, then save: the password goes to the keychain only.
    let tested = b
        .test_registry_connection(input("team registry", spec(basic_url.clone(), RegistryAuth::Basic, Some(ca)), Some(password)))
        .await
        .unwrap();
    assert!(tested.ok, "{tested:?}");
    assert!(tested.message.contains("repositories"), "{tested:?}");
    let c = b
        .save_registry_connection(input("team registry", spec(basic_url.clone(), RegistryAuth::Basic, Some(ca)), Some(password)))
        .await
        .unwrap();
    assert!(c.has_secret);
    assert_eq!(c.host, r.get("REGISTRY_BASIC"));
    let again =
        b.save_registry_connection(input("TEAM registry", spec(basic_url.clone(), RegistryAuth::Basic, Some(ca)), Some(password))).await;
    assert!(again.unwrap_err().to_string().contains("already exists"));
    let no_password = b.save_registry_connection(input("other", spec(basic_url.clone(), RegistryAuth::Basic, Some(ca)), None)).await;
    assert!(no_password.unwrap_err().to_string().contains("password: required"));

    // Repositories: 2 a page, followed through the Link header to the end.
    let repos = b.registry_repositories(&c.id, Some(2)).await.unwrap();
    assert_eq!(repos.names, REPOS, "{repos:?}");
    assert_eq!(repos.pages, 3, "5 repositories at 2 a page: {repos:?}");
    assert!(!repos.truncated);
    let whole = b.registry_repositories("team registry", None).await.unwrap();
    assert_eq!((whole.names.len(), whole.pages), (5, 1), "by name, one page of 100");

    // Tags of one repository, paged the same way (the registry sorts them).
    // docker-registry 2.8 answers tags in storage order, all at once (it ignores `n` there).
    let tags = b.registry_tags(&c.id, "browse/app", Some(2)).await.unwrap();
    let mut sorted = tags.names.clone();
    sorted.sort();
    assert_eq!(sorted, TAGS, "{tags:?}");
    assert!(tags.pages >= 1);
    let bad = b.registry_tags(&c.id, "Browse/App", None).await.unwrap_err();
    assert_eq!(bad.code(), ErrorCode::InvalidInput, "{bad}");
    let missing = b.registry_tags(&c.id, "browse/nothing", None).await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NotFound, "{missing}");

    // A tag scanned from the connection: the CLI's report and decision.
    let progress_seen = std::sync::Mutex::new(0usize);
    let (id, report) = b
        .scan_registry_tag(&c.id, "browse/app", "rc-3", None, &|_| {
            *progress_seen.lock().unwrap() += 1;
        })
        .await
        .unwrap();
    assert!(id > 0 && *progress_seen.lock().unwrap() > 0);
    let image = format!("{}/browse/app:rc-3", r.get("REGISTRY_BASIC"));
    assert_eq!(report.image, image);
    let out = workspace::cli(t.dir.path(), b.keychain().service())
        .args(["scan", "--registry-ca", ca, "--registry-user", user, &image, "--format", "json"])
        .env("OPSDECK_REGISTRY_PASSWORD", password)
        .env("DOCKER_HOST", docker_host())
        .output()
        .unwrap();
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let app = serde_json::to_value(&report).unwrap();
    for field in [
        "decision",
        "outcome",
        "risk_score",
        "risk_level",
        "violations",
        "counts",
        "vulnerabilities",
        "not_assessed",
        "packages",
        "image_id",
    ] {
        assert_eq!(app[field], cli[0][field], "{field} differs between the app's scan and opsdeck scan");
    }
    assert!(!app["violations"].as_array().unwrap().is_empty(), "root user, no health check: {app}");
    let stdout_and_err = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!stdout_and_err.contains(password));

    // The CLI on the same data and keychain: the saved connection browses and scans alike.
    let cli = |args: &[&str]| {
        let out = workspace::cli(t.dir.path(), b.keychain().service()).args(args).env_remove("OPSDECK_REGISTRY_PASSWORD").output().unwrap();
        assert!(!String::from_utf8_lossy(&out.stdout).contains(password) && !String::from_utf8_lossy(&out.stderr).contains(password));
        out
    };
    let out = cli(&["registry", "repos", "team registry", "--page-size", "2", "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(listed["names"], serde_json::json!(REPOS));
    assert_eq!(listed["pages"], 3);
    let out = cli(&["registry", "tags", "team registry", "browse/app"]);
    let mut listed: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
    listed.sort();
    assert_eq!(listed, TAGS, "{}", text(&out));
    let out = cli(&["scan", "--registry-connection", "team registry", "browse/app:rc-3", "--format", "json"]);
    let saved: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(saved[0]["decision"], app["decision"], "{}", text(&out));
    assert_eq!(saved[0]["image"], app["image"]);
    let out = cli(&["registry", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&basic_url), "{}", text(&out));

    // Wrong password: says to check the user and password.
    let wrong = b
        .save_registry_connection(input("wrong", spec(basic_url.clone(), RegistryAuth::Basic, Some(ca)), Some("not-the-password")))
        .await
        .unwrap();
    let e = b.registry_repositories(&wrong.id, None).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Auth, "{e}");
    assert!(e.to_string().contains("check the user name and password"), "{e}");
    let tested =
        b.test_registry_connection(input("wrong", spec(basic_url.clone(), RegistryAuth::Basic, Some(ca)), Some("nope"))).await.unwrap();
    assert!(!tested.ok && tested.message.contains("check user/password"), "{tested:?}");

    // No CA file: the registry's certificate is from an unknown CA.
    let no_ca =
        b.save_registry_connection(input("no ca", spec(basic_url.clone(), RegistryAuth::Basic, None), Some(password))).await.unwrap();
    let e = b.registry_repositories(&no_ca.id, None).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Tls, "{e}");
    assert!(e.to_string().contains("Set the CA file of registry connection \"no ca\""), "{e}");

    // Nothing listening: unreachable, quickly.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = b
        .save_registry_connection(input("closed", spec(format!("http://127.0.0.1:{port}"), RegistryAuth::Anonymous, None), None))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let e = b.registry_repositories(&closed.id, None).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unreachable, "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    // Removing: audited, the keychain entry goes too.
    b.delete_registry_connection(&wrong.id).await.unwrap();
    assert!(b.registry_connections().await.unwrap().iter().all(|x| x.id != wrong.id));
    let audit = b.audit_log(&opsdeck_core::cache::audit::AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
    let actions: Vec<(String, String)> = audit.entries.iter().map(|e| (e.action.clone(), e.target.clone())).collect();
    for (action, target) in [("registry.add", "team registry"), ("registry.test", "team registry"), ("registry.remove", "wrong")] {
        assert!(actions.iter().any(|(a, t)| a == action && t == target), "{action} {target}: {actions:?}");
    }
    assert!(audit.entries.iter().all(|e| !e.detail.contains(password)));

    // The password is in no file of the data directory (SQLite, WAL, logs).
    assert_eq!(files_holding(t.dir.path(), password.as_bytes()), Vec::<String>::new());
    assert!(files_holding(t.dir.path(), b"registry/").iter().any(|f| f.contains("opsdeck.db")), "the keychain reference is stored");
    for x in b.registry_connections().await.unwrap() {
        b.delete_registry_connection(&x.id).await.unwrap_or_else(|e| panic!("removing {}: {e}", x.name));
    }
}
