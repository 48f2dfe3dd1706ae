//! Test images on the real dockerd, made locally (no registry is reachable):
//! root filesystems from `scripts/images/` imported with the Engine's import
//! (`docker import`), and images built from them with Dockerfiles (`docker
//! build`, legacy builder, no RUN: nothing needs a network).

use std::path::PathBuf;
use std::process::Command;

use bollard::query_parameters::{BuildImageOptions, CreateImageOptions};
use bollard::Docker;
use futures::StreamExt;

use crate::workspace;

/// Root filesystems the scripts make (cached under ~/.cache/opsdeck/images).
#[derive(Debug, Clone, Copy)]
pub enum Rootfs {
    /// debootstrap --variant=minbase bookworm
    Debian,
    /// busybox + Alpine os-release + apk database
    Alpine,
    /// busybox + Rocky os-release + rpm database written by rpm
    Rocky,
    /// busybox only
    Busybox,
}

/// Path of the rootfs tar, built by the project's script on first use.
pub fn rootfs(kind: Rootfs) -> PathBuf {
    let scripts = workspace::root().join("scripts/images");
    let mut cmd = match kind {
        Rootfs::Debian => Command::new(scripts.join("debian-rootfs.sh")),
        other => {
            let mut c = Command::new(scripts.join("fixture-rootfs.sh"));
            c.arg(format!("{other:?}").to_lowercase());
            c
        }
    };
    let out = cmd.output().expect("run scripts/images");
    assert!(out.status.success(), "{kind:?} rootfs: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Imports a rootfs tar as `reference` (name:tag), streaming the file.
pub async fn import(docker: &Docker, kind: Rootfs, reference: &str) {
    let tar = rootfs(kind);
    let (repo, tag) = reference.rsplit_once(':').unwrap_or((reference, "latest"));
    let file = tokio::fs::File::open(&tar).await.expect("open rootfs tar");
    let body = tokio_util::io::ReaderStream::new(file);
    let options = CreateImageOptions { from_src: Some("-".into()), repo: Some(repo.into()), tag: Some(tag.into()), ..Default::default() };
    let mut progress = docker.create_image(Some(options), Some(bollard::body_try_stream(body)), None);
    while let Some(step) = progress.next().await {
        step.unwrap_or_else(|e| panic!("docker import {reference}: {e}"));
    }
}

/// Builds `reference` from a Dockerfile (and optional extra files).
pub async fn build(docker: &Docker, reference: &str, dockerfile: &str, files: &[(&str, &[u8])]) {
    build_with(docker, reference, dockerfile, files, None).await;
}

/// [`build`] with the build containers' network mode: `Some("host")` lets a
/// `RUN apt-get install` reach the machine's Debian mirror (the test dockerd
/// has no bridge).
pub async fn build_with(docker: &Docker, reference: &str, dockerfile: &str, files: &[(&str, &[u8])], network: Option<&str>) {
    let mut context = tar::Builder::new(Vec::new());
    for (path, data) in [("Dockerfile", dockerfile.as_bytes())].into_iter().chain(files.iter().copied()) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        context.append_data(&mut h, path, data).expect("build context");
    }
    let context = context.into_inner().expect("build context");
    let options = BuildImageOptions {
        t: Some(reference.into()),
        rm: true,
        dockerfile: "Dockerfile".into(),
        networkmode: network.map(Into::into),
        ..Default::default()
    };
    let mut progress = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(step) = progress.next().await {
        let info = step.unwrap_or_else(|e| panic!("docker build {reference}: {e}"));
        if let Some(err) = info.error_detail.and_then(|d| d.message) {
            panic!("docker build {reference}: {err}");
        }
    }
}

/// Real language-package artifacts (PyPI, npm, Maven Central, a Go binary
/// built here, a Cargo.lock), made by `scripts/images/lang-artifacts.sh`.
pub fn lang_artifacts() -> PathBuf {
    let out = Command::new(workspace::root().join("scripts/images/lang-artifacts.sh")).output().expect("run lang-artifacts.sh");
    assert!(out.status.success(), "lang artifacts: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Every file under `dir` as build-context entries named `prefix/…`.
pub fn context_files(dir: &std::path::Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read artifact folder") {
            let path = entry.expect("artifact entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under the folder").to_string_lossy().into_owned();
                out.push((format!("{prefix}/{rel}"), std::fs::read(&path).expect("read artifact")));
            }
        }
    }
    out.sort();
    out
}

/// Writes a zip of `records` synthetic OSV records for the benchmarks: like
/// the real Debian feed, ~10,000 Debian 12 source packages with a few records
/// each, the sources of `packages` among them; plus Alpine, Rocky and npm records.
pub fn osv_zip(path: &std::path::Path, records: usize, packages: &[opsdeck_core::scanner::packages::Package]) {
    let sources: Vec<&str> = packages.iter().map(|p| p.source_name.as_deref().unwrap_or(&p.name)).collect();
    let file = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(file);
    for i in 0..records {
        let (eco, name) = match i % 10 {
            // Like the real Debian feed: ~10,000 source packages with a few
            // records each; the image's own sources are among them.
            0..=5 => (
                "Debian:12",
                match (i / 10) % 10_000 {
                    k if k < sources.len() => sources[k].to_string(),
                    k => format!("deb-src-{k}"),
                },
            ),
            6 => ("Alpine:v3.20", format!("apk-pkg-{}", i % 5000)),
            7 => ("Rocky Linux:9", format!("rpm-pkg-{}", i % 5000)),
            _ => ("npm", format!("npm-pkg-{i}")),
        };
        let severity = ["Low", "Medium", "High", "Critical"][i % 4];
        let record = serde_json::json!({
            "id": format!("BENCH-{i:06}"), "modified": "2026-11-01T00:00:00Z", "aliases": [format!("CVE-2026-{i:06}")],
            "summary": "synthetic", "database_specific": {"severity": severity},
            "affected": [{"package": {"ecosystem": eco, "name": name},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": format!("{}.{}-{}", i % 7, i % 13, i % 5)}]}]}]
        });
        z.start_file(format!("BENCH-{i:06}.json"), zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut z, &serde_json::to_vec(&record).unwrap()).unwrap();
    }
    z.finish().unwrap();
}

/// A command's exit code and both outputs, for assertion messages.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs the docker CLI against the engine at `host`; panics unless it succeeds.
pub fn docker_cli(host: &str, args: &[&str]) {
    let out = std::process::Command::new("docker").args(args).env("DOCKER_HOST", host).output().expect("run docker");
    assert!(out.status.success(), "docker {args:?}: {}", output_text(&out));
}

/// Tags each `(local image, repository:tag)` as `registry/repository:tag`
/// and pushes it with the docker CLI of the engine at `host`.
pub fn push_all(host: &str, registry: &str, images: &[(&str, &str)]) {
    for (local, remote) in images {
        let target = format!("{registry}/{remote}");
        docker_cli(host, &["tag", local, &target]);
        docker_cli(host, &["push", &target]);
    }
}
