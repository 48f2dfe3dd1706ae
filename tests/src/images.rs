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
    let mut context = tar::Builder::new(Vec::new());
    for (path, data) in [("Dockerfile", dockerfile.as_bytes())].into_iter().chain(files.iter().copied()) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        context.append_data(&mut h, path, data).expect("build context");
    }
    let context = context.into_inner().expect("build context");
    let options = BuildImageOptions { t: Some(reference.into()), rm: true, dockerfile: "Dockerfile".into(), ..Default::default() };
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
