//! Images at scale, side by side with syft (issue 15's benchmarks).
//!
//!   scripts/setup/build-syft.sh                              # syft v1.57.2
//!   cargo build --release -p opsdeck-cli --bin opsdeck
//!   cargo build --release -p opsdeck-tests --bin bench-images-scale
//!   scripts/with-session.sh $CARGO_TARGET_DIR/release/bench-images-scale [RUNS] [FLEET] [JOBS]
//!
//! Starts its own dockerd and builds, from the debootstrapped Debian 12 base
//! the tests use (scripts/images/debian-rootfs.sh):
//! - `runtime`: `RUN apt-get install python3 nodejs` (Debian's own packages,
//!   from the machine's mirror, the build container on the host network);
//! - `app` FROM runtime: a Flask app's PyPI packages and an Express app's npm
//!   tree, real artifacts (scripts/images/bench-apps.sh);
//! - FLEET images (default 100) FROM app, each one small distinct layer;
//! - `big` FROM the base: 4 layers of 256 MiB of /dev/urandom (1 GiB more).
//!
//! Then, with /usr/bin/time (wall time, peak RSS), RUNS runs each (default 5):
//! cold (a fresh data dir: empty layer cache and scan history, advisories
//! imported) and warm `opsdeck scan` of `app`, from the engine and from its
//! `docker save` tarball, against `syft scan docker:IMAGE` and
//! `syft scan docker-archive:TAR` (cataloguing only); the package counts of
//! both tools by ecosystem and the packages only one of them lists; the fleet
//! cold and warm (`opsdeck scan IMAGE… --jobs JOBS`: the targets `--all`
//! expands to on an engine holding only the fleet); peak RSS of a cold scan
//! of the base, app and big images (engine and tarball).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bollard::Docker;
use futures::StreamExt;
use opsdeck_core::scanner::packages::Package;
use opsdeck_tests::bench::{median, timed};
use opsdeck_tests::images::{build, build_with, context_files, import, osv_zip, Rootfs};
use opsdeck_tests::lang::write_advisories;
use opsdeck_tests::service::Service;
use opsdeck_tests::workspace;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

const BASE: &str = "opsdeck-bench/debian:12";
const RUNTIME: &str = "opsdeck-bench/runtime:12";
const APP: &str = "opsdeck-bench/app:1";
const BIG: &str = "opsdeck-bench/big:1";
/// Synthetic OSV records imported before every cold scan (plus the real ones of tests/src/lang.rs).
const RECORDS: usize = 100_000;

struct Bench {
    opsdeck: PathBuf,
    syft: Option<PathBuf>,
    host: String,
    /// A data dir with the advisories imported and nothing scanned: copied for each cold run.
    template: tempfile::TempDir,
}

impl Bench {
    fn opsdeck(&self, data: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(&self.opsdeck);
        c.arg("scan").args(args).args(["--format", "json"]).env("OPSDECK_DATA_DIR", data).env("DOCKER_HOST", &self.host);
        c
    }

    fn syft(&self, source: &str) -> Option<Command> {
        let mut c = Command::new(self.syft.as_ref()?);
        c.args(["scan", source, "-o", "json", "-q"])
            .env("DOCKER_HOST", &self.host)
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
            // No per-run file cache of its own (syft's Go module / licence caches).
            .env("SYFT_CACHE_DIR", std::env::temp_dir().join("opsdeck-bench-syft-cache"));
        Some(c)
    }

    /// A copy of the template data dir: advisories loaded, no layer or scan cached.
    fn fresh(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(self.template.path(), dir.path());
        dir
    }

    /// Cold then warm `opsdeck scan ARGS`, `runs` times: ((cold ms, cold KiB), (warm ms, warm KiB)).
    fn cold_warm(&self, runs: usize, args: &[&str]) -> (Figure, Figure) {
        let (mut cold, mut warm) = (Figure::default(), Figure::default());
        for _ in 0..runs {
            let data = self.fresh();
            cold.add(timed(&mut self.opsdeck(data.path(), args)));
            warm.add(timed(&mut self.opsdeck(data.path(), args)));
        }
        (cold, warm)
    }

    fn syft_runs(&self, runs: usize, source: &str) -> Option<Figure> {
        let mut f = Figure::default();
        for _ in 0..runs {
            f.add(timed(&mut self.syft(source)?));
        }
        Some(f)
    }
}

/// Wall times and the highest peak RSS of a few runs.
#[derive(Default)]
struct Figure {
    times: Vec<Duration>,
    kib: Vec<u64>,
}

impl Figure {
    fn add(&mut self, (t, kib): (Duration, u64)) {
        self.times.push(t);
        self.kib.push(kib);
    }
    fn ms(&self) -> f64 {
        median(self.times.clone())
    }
    fn show(&self) -> String {
        let (lo, hi) = (self.kib.iter().min().copied().unwrap_or(0), self.kib.iter().max().copied().unwrap_or(0));
        let range = |v: &[Duration]| {
            let ms: Vec<u128> = v.iter().map(Duration::as_millis).collect();
            format!("{}–{}", ms.iter().min().unwrap_or(&0), ms.iter().max().unwrap_or(&0))
        };
        format!(
            "median {:.0} ms (runs {} ms, n={}), peak RSS {}–{} MiB",
            self.ms(),
            range(&self.times),
            self.times.len(),
            lo / 1024,
            hi / 1024
        )
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `docker save IMAGE > path`, streamed.
async fn save(docker: &Docker, image: &str, path: &Path) -> u64 {
    let mut file = tokio::fs::File::create(path).await.unwrap();
    let mut stream = docker.export_image(image);
    let mut n = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        n += chunk.len() as u64;
        file.write_all(&chunk).await.unwrap();
    }
    file.flush().await.unwrap();
    n
}

async fn images(docker: &Docker, fleet: usize) {
    import(docker, Rootfs::Debian, BASE).await;
    let runtime = format!(
        "FROM {BASE}\n\
         RUN apt-get -o Acquire::Check-Valid-Until=false update \
         && apt-get install -y --no-install-recommends python3 nodejs \
         && rm -rf /var/lib/apt/lists/*\n\
         CMD [\"bash\"]\n"
    );
    build_with(docker, RUNTIME, &runtime, &[], Some("host")).await;
    let apps = PathBuf::from(
        String::from_utf8(
            Command::new(workspace::root().join("scripts/images/bench-apps.sh")).output().expect("scripts/images/bench-apps.sh").stdout,
        )
        .unwrap()
        .trim(),
    );
    let mut files = context_files(&apps.join("py"), "py");
    files.extend(context_files(&apps.join("npm"), "npm"));
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();
    let app = format!(
        "FROM {RUNTIME}\n\
         COPY py/ /usr/local/lib/python3.11/dist-packages/\n\
         COPY npm/ /srv/web/\n\
         WORKDIR /srv/web\n\
         CMD [\"node\", \"server.js\"]\n"
    );
    build(docker, APP, &app, &files).await;
    for i in 0..fleet {
        let id = format!("{{\"service\": \"svc-{i:03}\", \"replicas\": {}}}\n", i % 7 + 1);
        let dockerfile = format!("FROM {APP}\nCOPY config.json /srv/web/config.json\n");
        build(docker, &fleet_image(i), &dockerfile, &[("config.json", id.as_bytes())]).await;
    }
    let big = format!(
        "FROM {BASE}\n{}CMD [\"bash\"]\n",
        (1..=4).map(|i| format!("RUN mkdir -p /opt/data && head -c 268435456 /dev/urandom > /opt/data/blob-{i}.bin\n")).collect::<String>()
    );
    build(docker, BIG, &big, &[]).await;
}

fn fleet_image(i: usize) -> String {
    format!("opsdeck-bench/fleet-{i:03}:1")
}

/// Ecosystem name both tools' packages are counted under.
fn ecosystem(opsdeck_scheme_or_syft_type: &str) -> &str {
    match opsdeck_scheme_or_syft_type {
        "dpkg" | "deb" => "deb",
        "pypi" | "python" => "python",
        "npm" => "npm",
        "apk" => "apk",
        "rpm" => "rpm",
        "go" | "go-module" => "go",
        "maven" | "java-archive" => "java",
        "cargo" | "rust-crate" => "rust",
        "gem" | "rubygems" => "gem",
        other => other,
    }
}

type Listing = BTreeMap<String, BTreeSet<(String, String, String)>>;

fn opsdeck_packages(report: &Value) -> Listing {
    let mut out = Listing::new();
    for p in report[0]["packages"].as_array().unwrap() {
        let scheme = p["scheme"].as_str().unwrap_or("?");
        out.entry(ecosystem(scheme).to_string()).or_default().insert((
            p["name"].as_str().unwrap_or("").to_lowercase(),
            p["version"].as_str().unwrap_or("").to_string(),
            p["path"].as_str().unwrap_or("").to_string(),
        ));
    }
    out
}

fn syft_packages(doc: &Value) -> Listing {
    let mut out = Listing::new();
    for a in doc["artifacts"].as_array().unwrap() {
        let path = a["locations"][0]["path"].as_str().unwrap_or("").trim_start_matches('/').to_string();
        out.entry(ecosystem(a["type"].as_str().unwrap_or("?")).to_string()).or_default().insert((
            a["name"].as_str().unwrap_or("").to_lowercase(),
            a["version"].as_str().unwrap_or("").to_string(),
            path,
        ));
    }
    out
}

/// Package counts by ecosystem, side by side, and what only one tool lists
/// (by name and version; the file each found it in).
fn compare(ops: &Listing, syft: &Listing) {
    println!("| ecosystem | Opsdeck | syft | only syft (name version — file) | only Opsdeck |");
    println!("| --- | --- | --- | --- | --- |");
    let keys: BTreeSet<&String> = ops.keys().chain(syft.keys()).collect();
    let (mut total_o, mut total_s) = (0, 0);
    for k in keys {
        let empty = BTreeSet::new();
        let (o, s) = (ops.get(k).unwrap_or(&empty), syft.get(k).unwrap_or(&empty));
        let nv = |set: &BTreeSet<(String, String, String)>| -> BTreeSet<(String, String)> {
            set.iter().map(|(n, v, _)| (n.clone(), v.clone())).collect()
        };
        let (on, sn) = (nv(o), nv(s));
        let list = |only: &BTreeSet<(String, String)>, within: &BTreeSet<(String, String, String)>| -> String {
            only.iter()
                .map(|(n, v)| {
                    let file = within.iter().find(|(a, b, _)| a == n && b == v).map(|(_, _, f)| f.as_str()).unwrap_or("");
                    format!("{n} {v} — {file}")
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        total_o += on.len();
        total_s += sn.len();
        println!(
            "| {k} | {} | {} | {} | {} |",
            on.len(),
            sn.len(),
            list(&sn.difference(&on).cloned().collect(), s),
            list(&on.difference(&sn).cloned().collect(), o)
        );
    }
    println!("| all | {total_o} | {total_s} | | |");
}

#[tokio::main]
async fn main() {
    let arg = |i: usize, default: usize| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (runs, fleet, jobs) = (arg(1, 5), arg(2, 100), arg(3, 4));
    let dockerd = Service::start("dockerd", &[]);
    let host = dockerd.get("DOCKER_HOST").to_string();
    let docker = opsdeck_core::connectors::docker::connect(&host, None).await.unwrap();
    let t = std::time::Instant::now();
    images(&docker, fleet).await;
    eprintln!("images built in {:.0} s", t.elapsed().as_secs_f64());

    let opsdeck = workspace::target_dir().join("release/opsdeck");
    assert!(opsdeck.exists(), "build it: cargo build --release -p opsdeck-cli --bin opsdeck");
    let syft = std::env::var("OPSDECK_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/opsdeck"))
        .join("bin/syft");
    let syft = syft.exists().then_some(syft);
    if syft.is_none() {
        println!("syft: not built (scripts/setup/build-syft.sh); its rows are skipped");
    }
    let work = tempfile::tempdir().unwrap();
    let tar = |name: &str| work.path().join(format!("{name}.tar"));
    for (image, name) in [(BASE, "base"), (APP, "app"), (BIG, "big")] {
        let bytes = save(&docker, image, &tar(name)).await;
        println!("image {image}: docker save tarball {} MiB", bytes / (1 << 20));
    }

    // The template data dir: the real advisories of the language test images
    // (lodash, requests, urllib3, …) and RECORDS synthetic ones over the app's
    // Debian sources, imported once.
    let template = tempfile::tempdir().unwrap();
    let bench = Bench { opsdeck, syft, host, template };
    let scratch = tempfile::tempdir().unwrap();
    let out = bench.opsdeck(scratch.path(), &[APP]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages: Vec<Package> = serde_json::from_value(report[0]["packages"].clone()).unwrap();
    let feed = scratch.path().join("osv.zip");
    osv_zip(&feed, RECORDS, &packages);
    let real = write_advisories(&scratch.path().join("real"));
    for path in [&feed, &real] {
        let st = Command::new(&bench.opsdeck)
            .args(["advisories", "import"])
            .arg(path)
            .env("OPSDECK_DATA_DIR", bench.template.path())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "advisories import {}", path.display());
    }

    // 1. Cold and warm, engine and tarball, beside syft.
    let app_tar = tar("app");
    let app_tar_s = app_tar.display().to_string();
    println!("\n## app image ({APP}: Debian 12 + python3 + nodejs + Flask and Express apps), {runs} runs");
    let (cold, warm) = bench.cold_warm(runs, &[APP]);
    println!("opsdeck scan IMAGE (engine)   cold: {}", cold.show());
    println!("opsdeck scan IMAGE (engine)   warm: {} = {:.1} % of cold", warm.show(), 100.0 * warm.ms() / cold.ms());
    if let Some(f) = bench.syft_runs(runs, &format!("docker:{APP}")) {
        println!("syft scan docker:IMAGE             : {}", f.show());
    }
    let (cold, warm) = bench.cold_warm(runs, &["--input", &app_tar_s]);
    println!("opsdeck scan --input TAR      cold: {}", cold.show());
    println!("opsdeck scan --input TAR      warm: {} = {:.1} % of cold", warm.show(), 100.0 * warm.ms() / cold.ms());
    if let Some(f) = bench.syft_runs(runs, &format!("docker-archive:{app_tar_s}")) {
        println!("syft scan docker-archive:TAR       : {}", f.show());
    }

    // 2. What each finds.
    let data = bench.fresh();
    let out = bench.opsdeck(data.path(), &["--input", &app_tar_s]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!(
        "\nOpsdeck findings on the app: {} ({} packages)",
        report[0]["vulnerabilities"].as_array().map_or(0, Vec::len),
        report[0]["packages"].as_array().map_or(0, Vec::len)
    );
    if let Some(mut c) = bench.syft(&format!("docker-archive:{app_tar_s}")) {
        let out = c.output().unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        compare(&opsdeck_packages(&report), &syft_packages(&doc));
    }

    // 3. The fleet.
    let names: Vec<String> = (0..fleet).map(fleet_image).collect();
    let mut args: Vec<&str> = names.iter().map(String::as_str).collect();
    let jobs_s = jobs.to_string();
    args.extend(["--jobs", &jobs_s]);
    // A cold fleet run is minutes on this machine: one run of each.
    let fleet_runs = 1;
    println!("\n## fleet: {fleet} images FROM {APP} (one small layer each), --jobs {jobs}, {fleet_runs} runs");
    let (cold, warm) = bench.cold_warm(fleet_runs, &args);
    println!("opsdeck scan IMAGE×{fleet} cold: {}", cold.show());
    println!("opsdeck scan IMAGE×{fleet} warm: {}", warm.show());
    if bench.syft.is_some() {
        // syft keeps no cache: a fleet costs the sum of its images; ten measured one after another.
        let mut f = Figure::default();
        for name in names.iter().take(10) {
            f.add(timed(&mut bench.syft(&format!("docker:{name}")).unwrap()));
        }
        let total: f64 = f.times.iter().map(Duration::as_secs_f64).sum();
        println!("syft scan docker:IMAGE, 10 of the fleet one after another: {total:.1} s in all; each {}", f.show());
    }

    // 4. Peak RSS against image size (cold scans).
    // Peak RSS hardly varies from run to run; one cold run of each.
    println!("\n## peak RSS against image size, cold, 1 run each");
    for (image, name) in [(BASE, "base"), (APP, "app"), (BIG, "big")] {
        let size = std::fs::metadata(tar(name)).unwrap().len() >> 20;
        let (cold, _) = bench.cold_warm(1, &[image]);
        println!("{name} ({size} MiB) engine: {}", cold.show());
        let path = tar(name).display().to_string();
        let (cold, _) = bench.cold_warm(1, &["--input", &path]);
        println!("{name} ({size} MiB) tarball: {}", cold.show());
    }
    if let Some(f) = bench.syft_runs(1, &format!("docker-archive:{}", tar("big").display())) {
        println!("syft scan docker-archive:big.tar: {}", f.show());
    }
}
