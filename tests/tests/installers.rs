//! The installers built by `scripts/package.sh` (run by scripts/test.sh
//! before the tests, which export OPSDECK_DEB and OPSDECK_RPM): the .deb is
//! installed with dpkg in a clean Debian 12 root (the debootstrapped image,
//! run on the real dockerd) and `opsdeck --version` runs from it; the .rpm is
//! installed with rpm into an empty root and its CLI runs. Both install the
//! CLI's manual pages and its bash, zsh and fish completions where those
//! shells look for them.

use std::path::Path;
use std::process::Command;

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, LogsOptions, RemoveContainerOptions, WaitContainerOptions};
use futures::StreamExt;
use opsdeck_tests::images::{import, Rootfs};
use opsdeck_tests::service::shared;

/// What both packages install besides the binaries: manual pages (one per
/// subcommand too) and the completion scripts, at the distributions' paths.
const DOCS: [&str; 6] = [
    "/usr/share/man/man1/opsdeck.1.gz",
    "/usr/share/man/man1/opsdeck-config-put.1.gz",
    "/usr/share/man/man1/opsdeck-vm-request.1.gz",
    "/usr/share/bash-completion/completions/opsdeck",
    "/usr/share/zsh/vendor-completions/_opsdeck",
    "/usr/share/fish/vendor_completions.d/opsdeck.fish",
];

fn package(var: &str) -> String {
    let p = std::env::var(var)
        .unwrap_or_else(|_| panic!("{var} is not set: run `eval \"$(scripts/package.sh --debug)\"` first (scripts/test.sh does)"));
    assert!(Path::new(&p).exists(), "{p} does not exist");
    p
}

#[tokio::test]
async fn the_deb_installs_in_a_clean_debian_root() {
    let deb = package("OPSDECK_DEB");
    let deb_dir = Path::new(&deb).parent().unwrap().to_str().unwrap().to_string();
    let deb_name = Path::new(&deb).file_name().unwrap().to_str().unwrap().to_string();
    let docker = opsdeck_core::connectors::docker::connect(shared("dockerd").get("DOCKER_HOST"), None).await.unwrap();
    import(&docker, Rootfs::Debian, "opsdeck-install/debian:12").await;

    let docs = DOCS.join(" ");
    let script = format!(
        "dpkg -i --force-depends /pkg/{deb_name} > /tmp/dpkg.log 2>&1 || {{ cat /tmp/dpkg.log; exit 3; }}; \
         dpkg -s opsdeck | grep -E '^(Version|Depends):'; \
         for f in {docs}; do test -s $f || {{ echo \"missing $f\"; exit 4; }}; dpkg -S $f; done; \
         bash -n /usr/share/bash-completion/completions/opsdeck || exit 5; \
         zcat /usr/share/man/man1/opsdeck.1.gz | grep -q '^.TH opsdeck 1' || exit 6; \
         test -x /usr/bin/opsdeck-desktop && test -f /usr/share/applications/Opsdeck.desktop && /usr/bin/opsdeck --version"
    );
    let name = format!("opsdeck-install-{}", std::process::id());
    let body = ContainerCreateBody {
        image: Some("opsdeck-install/debian:12".into()),
        cmd: Some(vec!["sh".into(), "-c".into(), script]),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{deb_dir}:/pkg:ro")]),
            network_mode: Some("none".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    docker.create_container(Some(CreateContainerOptions { name: Some(name.clone()), ..Default::default() }), body).await.unwrap();
    docker.start_container(&name, None).await.unwrap();
    let code = docker
        .wait_container(&name, None::<WaitContainerOptions>)
        .next()
        .await
        .map(|r| match r {
            Ok(w) => w.status_code,
            Err(bollard::errors::Error::DockerContainerWaitError { code, .. }) => code,
            Err(e) => panic!("waiting for the install: {e}"),
        })
        .unwrap_or(-1);
    let mut logs = String::new();
    let mut stream = docker.logs(&name, Some(LogsOptions { stdout: true, stderr: true, ..Default::default() }));
    while let Some(Ok(chunk)) = stream.next().await {
        logs.push_str(&chunk.to_string());
    }
    docker.remove_container(&name, Some(RemoveContainerOptions { force: true, ..Default::default() })).await.unwrap();
    assert_eq!(code, 0, "install in a clean root failed:\n{logs}");
    assert!(logs.contains("Version: 0.1.0"), "{logs}");
    // WebKit for the app, and a CJK font so the 简体中文 UI renders (no tofu boxes).
    let depends = logs.lines().find(|l| l.starts_with("Depends:")).unwrap_or_default();
    assert!(depends.contains("libwebkit2gtk-4.1-0") && depends.contains("fonts-wqy-microhei | fonts-noto-cjk"), "{depends}");
    assert!(logs.contains(&format!("opsdeck {}", env!("CARGO_PKG_VERSION"))), "opsdeck --version from the installed package:\n{logs}");
    // dpkg -S: each file is owned by the package (not left behind by something else).
    for f in DOCS {
        assert!(logs.contains(&format!("opsdeck: {f}")), "{f} is not the package's:\n{logs}");
    }
}

#[test]
fn the_rpm_installs_into_an_empty_root() {
    let rpm = package("OPSDECK_RPM");
    let listed = Command::new("rpm").args(["-qpl", &rpm]).output().expect("rpm (apt install rpm)");
    let files = String::from_utf8_lossy(&listed.stdout);
    for f in ["/usr/bin/opsdeck", "/usr/bin/opsdeck-desktop", "/usr/share/applications/Opsdeck.desktop"].into_iter().chain(DOCS) {
        assert!(files.lines().any(|l| l == f), "{f} not in the rpm:\n{files}");
    }
    let root = tempfile::tempdir().unwrap();
    let r = root.path().to_str().unwrap();
    let install =
        Command::new("rpm").args(["--root", r, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", "--noscripts", &rpm]).output().unwrap();
    assert!(install.status.success(), "{}", String::from_utf8_lossy(&install.stderr));
    let out = Command::new(root.path().join("usr/bin/opsdeck")).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("opsdeck {}", env!("CARGO_PKG_VERSION")));
    for f in DOCS {
        let installed = root.path().join(f.trim_start_matches('/'));
        assert!(std::fs::metadata(&installed).is_ok_and(|m| m.len() > 0), "{f} not installed by the rpm");
    }
    let bash = Command::new("bash").arg("-n").arg(root.path().join("usr/share/bash-completion/completions/opsdeck")).output().unwrap();
    assert!(bash.status.success(), "{}", String::from_utf8_lossy(&bash.stderr));
    let q = Command::new("rpm").args(["--root", r, "--dbpath", "/var/lib/rpm", "-q", "opsdeck"]).output().unwrap();
    assert!(String::from_utf8_lossy(&q.stdout).starts_with("opsdeck-0.1.0"), "{}", String::from_utf8_lossy(&q.stdout));
}
