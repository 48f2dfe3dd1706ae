//! `opsdeck scan` beyond the engine (issue 15, items 2 and 7): a `docker
//! save` tarball, an OCI layout made by skopeo (folder and tarball), and a
//! real registry (Debian docker-registry, scripts/services/registry.sh)
//! holding images pushed from the test dockerd — plain, TLS with a CA file,
//! htpasswd basic auth and token auth; a multi-platform index composed on
//! the registry; a blob corrupted in the registry's storage; fleet scans.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::service::{shared, shared_with_args, Service};
use opsdeck_tests::workspace;
use serde_json::Value;

const REGISTRY_ARGS: &[&str] = &["--tls", "--basic", "--token"];

fn registry() -> &'static Service {
    shared_with_args("registry", REGISTRY_ARGS)
}

fn docker_host() -> &'static str {
    shared("dockerd").get("DOCKER_HOST")
}

fn opsdeck(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(workspace::cli_bin())
        .args(args)
        .env("OPSDECK_DATA_DIR", data)
        .env("DOCKER_HOST", docker_host())
        .env_remove("OPSDECK_REGISTRY_PASSWORD")
        .envs(env.iter().copied())
        .output()
        .expect("run opsdeck")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

fn docker(args: &[&str]) {
    let out = Command::new("docker").args(args).env("DOCKER_HOST", docker_host()).output().expect("run docker");
    assert!(out.status.success(), "docker {args:?}: {}", text(&out));
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").arg("-fsS").args(args).output().expect("run curl");
    assert!(out.status.success(), "curl {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Test images on the engine, pushed once to the plain registry (whose
/// storage every variant serves): inputs/app:1 (Alpine + a layer), :2 (one
/// more layer), base:3.20, and inputs/app:multi, an index of linux/amd64 →
/// app:1 and linux/arm64 → a Rocky image.
async fn setup() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let d = opsdeck_core::connectors::docker::connect(docker_host(), None).await.unwrap();
        import(&d, Rootfs::Alpine, "opsdeck-inputs/alpine:3.20").await;
        import(&d, Rootfs::Rocky, "opsdeck-inputs/rocky:9").await;
        let app = "FROM opsdeck-inputs/alpine:3.20\nCOPY app.txt /srv/app.txt\nHEALTHCHECK CMD [\"/bin/true\"]\nUSER 1000\nLABEL version=1 maintainer=ops description=app\n";
        build(&d, "opsdeck-inputs/app:1", app, &[("app.txt", b"app 1\n")]).await;
        build(&d, "opsdeck-inputs/app:2", "FROM opsdeck-inputs/app:1\nCOPY v2.txt /srv/v2.txt\n", &[("v2.txt", b"v2\n")]).await;
        let plain = registry().get("REGISTRY_PLAIN");
        for (local, remote) in [
            ("opsdeck-inputs/app:1", "inputs/app:1"),
            ("opsdeck-inputs/app:2", "inputs/app:2"),
            ("opsdeck-inputs/alpine:3.20", "inputs/base:3.20"),
            ("opsdeck-inputs/rocky:9", "inputs/app:rocky-arm64"),
        ] {
            let target = format!("{plain}/{remote}");
            docker(&["tag", local, &target]);
            docker(&["push", &target]);
        }
        // A manifest list composed on the real registry from the pushed manifests.
        let entry = |tag: &str, arch: &str| {
            let accept = "Accept: application/vnd.docker.distribution.manifest.v2+json";
            let url = format!("http://{plain}/v2/inputs/app/manifests/{tag}");
            let body = curl(&["-H", accept, &url]);
            let head = curl(&["-I", "-H", accept, &url]);
            let digest = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("docker-content-digest:").map(|d| d.trim().to_string()))
                .expect("digest header");
            serde_json::json!({
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "digest": digest, "size": body.len(),
                "platform": {"os": "linux", "architecture": arch}
            })
        };
        let list = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
            "manifests": [entry("1", "amd64"), entry("rocky-arm64", "arm64")]
        });
        curl(&[
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.docker.distribution.manifest.list.v2+json",
            "--data-binary",
            &list.to_string(),
            &format!("http://{plain}/v2/inputs/app/manifests/multi"),
        ]);
    })
    .await;
}

fn save(dir: &Path, image: &str) -> PathBuf {
    let tar = dir.join("image.tar");
    docker(&["save", "-o", tar.to_str().unwrap(), image]);
    tar
}

#[tokio::test]
async fn docker_save_tarball_and_oci_layouts_scan_like_the_engine() {
    setup().await;
    let data = tempfile::tempdir().unwrap();
    let engine = json(&opsdeck(data.path(), &["scan", "opsdeck-inputs/app:1", "--format", "json"], &[]));
    let work = tempfile::tempdir().unwrap();
    let tar = save(work.path(), "opsdeck-inputs/app:1");

    let fresh = tempfile::tempdir().unwrap();
    let out = opsdeck(fresh.path(), &["scan", "--input", tar.to_str().unwrap(), "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let from_tar = json(&out);
    for key in ["image_id", "packages", "config"] {
        assert_eq!(from_tar[0][key], engine[0][key], "{key}: the tarball is the engine's image");
    }
    assert_eq!(from_tar[0]["os"]["id"], "alpine");
    assert_eq!(from_tar[0]["repo_tags"][0], "opsdeck-inputs/app:1");
    assert_eq!(from_tar[0]["layers"].as_array().unwrap().len(), 2);

    // An OCI layout made by skopeo from the same archive: the folder and a tarball of it.
    let layout = work.path().join("layout");
    let status = Command::new("skopeo")
        .args(["copy", "--quiet", &format!("docker-archive:{}", tar.display()), &format!("oci:{}:app", layout.display())])
        .status()
        .expect("skopeo (scripts/install-deps.sh)");
    assert!(status.success());
    let layout_tar = work.path().join("layout.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&layout_tar).unwrap());
    b.append_dir_all(".", &layout).unwrap();
    b.finish().unwrap();
    drop(b);
    for input in [&layout, &layout_tar] {
        let fresh = tempfile::tempdir().unwrap();
        let out = opsdeck(fresh.path(), &["scan", "--input", input.to_str().unwrap(), "--format", "json"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let r = json(&out);
        assert_eq!(r[0]["packages"], engine[0]["packages"], "{}", input.display());
        // skopeo writes an OCI config, which has no HEALTHCHECK (a Docker
        // extension): the user and labels are carried over, the health check is not.
        for key in ["user", "labels"] {
            assert_eq!(r[0]["config"][key], engine[0]["config"][key], "{key}");
        }
        assert_eq!(r[0]["config"]["healthcheck"], Value::Null);
        assert_eq!(r[0]["layers"].as_array().unwrap().len(), 2);
    }

    // A layer blob altered in the layout: refused as a digest mismatch, exit 2 (bad input).
    let index: Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let manifest: Value = serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(&manifest_digest)).unwrap()).unwrap();
    let top = manifest["layers"][1]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let blob = layout.join("blobs/sha256").join(top);
    let mut bytes = std::fs::read(&blob).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&blob, bytes).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let out = opsdeck(fresh.path(), &["scan", "--input", layout.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("digest mismatch"), "{}", text(&out));

    // Not an image at all.
    let junk = work.path().join("junk.tar");
    std::fs::write(&junk, b"not a tar").unwrap();
    let out = opsdeck(fresh.path(), &["scan", "--input", junk.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test]
async fn registry_plain_tls_basic_and_token_auth() {
    setup().await;
    let r = registry();
    let ca = r.get("REGISTRY_CA");
    let user = r.get("REGISTRY_USER");
    let password = [("OPSDECK_REGISTRY_PASSWORD", r.get("REGISTRY_PASSWORD"))];
    let wrong = [("OPSDECK_REGISTRY_PASSWORD", "not-the-password")];
    let data = tempfile::tempdir().unwrap();
    let engine = json(&opsdeck(data.path(), &["scan", "opsdeck-inputs/app:1", "--format", "json"], &[]));

    // Plain http, asked for explicitly.
    let image = format!("{}/inputs/app:1", r.get("REGISTRY_PLAIN"));
    let fresh = tempfile::tempdir().unwrap();
    let out = opsdeck(fresh.path(), &["scan", "--registry", "--plain-http", &image, "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first = json(&out);
    assert_eq!(first[0]["packages"], engine[0]["packages"]);
    assert_eq!(first[0]["config"], engine[0]["config"]);
    assert_eq!(first[0]["image"], image);
    assert!(first[0]["repo_digests"][0].as_str().unwrap().contains("/inputs/app@sha256:"));
    assert!(first[0]["layers"].as_array().unwrap().iter().all(|l| l["from_cache"] == false));
    // Each layer's Dockerfile instruction, from the config's history, as the engine's history gives it.
    let created_by = |r: &Value| r[0]["layers"].as_array().unwrap().iter().map(|l| l["created_by"].clone()).collect::<Vec<_>>();
    assert_eq!(created_by(&first), created_by(&engine));
    assert!(created_by(&first)[1].as_str().is_some_and(|c| c.contains("COPY")), "{first}");
    // Again: every layer from the cache, none downloaded.
    let again = json(&opsdeck(fresh.path(), &["scan", "--registry", "--plain-http", &image, "--format", "json"], &[]));
    assert!(again[0]["layers"].as_array().unwrap().iter().all(|l| l["from_cache"] == true), "{again}");

    // TLS: verified with the CA file; without it, or with another CA, a TLS error (exit 6).
    let tls = format!("{}/inputs/app:1", r.get("REGISTRY_TLS"));
    let out = opsdeck(data.path(), &["scan", "--registry-ca", ca, &tls], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = opsdeck(data.path(), &["scan", "--registry", &tls], &[]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error (tls)"), "{}", text(&out));
    let other_ca = Path::new(r.get("REGISTRY_RUN_DIR")).join("pki/token.crt");
    let out = opsdeck(data.path(), &["scan", "--registry-ca", other_ca.to_str().unwrap(), &tls], &[]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UnknownIssuer"), "{}", text(&out));
    // http:// to a TLS port is not the protocol.
    let out = opsdeck(data.path(), &["scan", "--plain-http", &tls], &[]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));

    // Basic auth: none, wrong and right credentials.
    let basic = format!("{}/inputs/app:2", r.get("REGISTRY_BASIC"));
    let out = opsdeck(data.path(), &["scan", "--registry-ca", ca, &basic], &[]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("asks for a user name and password"), "{}", text(&out));
    let out = opsdeck(data.path(), &["scan", "--registry-ca", ca, "--registry-user", user, &basic], &wrong);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the credentials"), "{}", text(&out));
    let out = opsdeck(data.path(), &["scan", "--registry-ca", ca, "--registry-user", user, &basic, "--format", "json"], &password);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&out)[0]["layers"].as_array().unwrap().len(), 3);

    // Token auth: the realm of WWW-Authenticate issues a token for the right user only.
    let token = format!("{}/inputs/base:3.20", r.get("REGISTRY_TOKEN"));
    let out = opsdeck(data.path(), &["scan", "--registry-ca", ca, &token], &[]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let out = opsdeck(data.path(), &["scan", "--registry-ca", ca, "--registry-user", user, &token], &wrong);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("token service"), "{}", text(&out));
    let out = opsdeck(data.path(), &["scan", "--registry-ca", ca, "--registry-user", user, &token, "--format", "json"], &password);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&out)[0]["os"]["id"], "alpine");

    // Not there: exit 2, naming it.
    let out = opsdeck(data.path(), &["scan", "--registry", "--plain-http", &format!("{}/inputs/nothing:1", r.get("REGISTRY_PLAIN"))], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test]
async fn a_multi_platform_index_gives_the_platform_asked_for() {
    setup().await;
    let image = format!("{}/inputs/app:multi", registry().get("REGISTRY_PLAIN"));
    let data = tempfile::tempdir().unwrap();
    let scan = |platform: Option<&str>| {
        let mut args = vec!["scan", "--plain-http", image.as_str(), "--format", "json"];
        if let Some(p) = platform {
            args.extend(["--platform", p]);
        }
        opsdeck(data.path(), &args, &[])
    };
    let host = json(&scan(None));
    assert_eq!(host[0]["os"]["id"], "alpine", "this machine is linux/amd64: {host}");
    assert_eq!(json(&scan(Some("linux/amd64")))[0]["os"]["id"], "alpine");
    let arm = json(&scan(Some("linux/arm64")));
    assert_eq!(arm[0]["os"]["id"], "rocky", "{arm}");
    let out = scan(Some("linux/s390x"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("offers linux/amd64, linux/arm64"), "{}", text(&out));
    let out = scan(Some("s390x"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test]
async fn a_blob_corrupted_in_the_registry_is_a_digest_mismatch() {
    setup().await;
    let d = opsdeck_core::connectors::docker::connect(docker_host(), None).await.unwrap();
    build(&d, "opsdeck-inputs/corrupt:1", "FROM opsdeck-inputs/alpine:3.20\nCOPY c.txt /srv/c.txt\n", &[("c.txt", &[b'c'; 4096])]).await;
    let r = registry();
    let target = format!("{}/inputs/corrupt:1", r.get("REGISTRY_PLAIN"));
    docker(&["tag", "opsdeck-inputs/corrupt:1", &target]);
    docker(&["push", &target]);
    let manifest: Value = serde_json::from_str(&curl(&[
        "-H",
        "Accept: application/vnd.docker.distribution.manifest.v2+json",
        &format!("http://{}/v2/inputs/corrupt/manifests/1", r.get("REGISTRY_PLAIN")),
    ]))
    .unwrap();
    let hex = manifest["layers"][1]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string();
    let data_file = Path::new(r.get("REGISTRY_STORAGE")).join(format!("docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]));
    let mut bytes = std::fs::read(&data_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&data_file, bytes).unwrap();

    let fresh = tempfile::tempdir().unwrap();
    let out = opsdeck(fresh.path(), &["scan", "--plain-http", &target], &[]);
    assert_eq!(out.status.code(), Some(7), "a registry serving other bytes than it names: protocol class\n{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("digest mismatch") && err.contains(&hex), "{}", text(&out));
    // Nothing of the bad layer was cached: the base layer only.
    let again = opsdeck(fresh.path(), &["scan", "--plain-http", &target], &[]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("reading 1 layers (1 cached)"), "{}", text(&again));
}

#[tokio::test]
async fn fleet_scans_read_each_shared_layer_once() {
    setup().await;
    let plain = registry().get("REGISTRY_PLAIN");
    let data = tempfile::tempdir().unwrap();
    // Every tag of inputs/app (1, 2, multi, rocky-arm64), two at a time.
    let repo = format!("{plain}/inputs/app");
    let out = opsdeck(data.path(), &["scan", "--all", "--plain-http", &repo, "--jobs", "2", "--format", "json", "--fail-on", "block"], &[]);
    let fleet = json(&out);
    let s = &fleet["summary"];
    assert_eq!(s["images"], 4, "{fleet}");
    assert_eq!(s["errors"], 0, "{fleet}");
    let rows = fleet["images"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["image"].as_str().unwrap()).collect();
    for tag in ["1", "2", "multi", "rocky-arm64"] {
        assert!(names.contains(&format!("{repo}:{tag}").as_str()), "{names:?}");
    }
    // Distinct layers: alpine, app.txt, v2.txt, rocky = 4 read; the other
    // uses (app:2's two lower layers, multi's two) came from the cache.
    assert_eq!(s["layers_read"], 4, "{fleet}");
    assert_eq!(s["layers_cached"], 4, "{fleet}");
    // Exit by the worst decision: the bare images break the policy (BLOCK).
    assert!(s["block"].as_u64().unwrap() >= 1, "{fleet}");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // The table: one row per image and the totals line.
    let out = opsdeck(data.path(), &["scan", "--all", "--plain-http", &repo], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("LAYERS READ/CACHED") && table.contains("4 images: "), "{table}");
    assert!(table.contains("layers read 0, from cache 8"), "a rescan reads nothing: {table}");

    // Every image on the engine.
    let out = opsdeck(data.path(), &["scan", "--all", "--jobs", "3", "--format", "json"], &[]);
    let fleet = json(&out);
    let names: Vec<&str> = fleet["images"].as_array().unwrap().iter().map(|r| r["image"].as_str().unwrap()).collect();
    // Each image once, by its first tag (the pushed images' first tag is the registry's).
    assert!(names.len() >= 4, "alpine, rocky, app:1, app:2 at least: {names:?}");
    assert!(names.iter().all(|n| n.contains("opsdeck-inputs/") || n.contains("/inputs/")), "{names:?}");
    assert_eq!(fleet["summary"]["errors"], 0, "{fleet}");
    assert_eq!(fleet["summary"]["images"].as_u64(), Some(names.len() as u64));
}
