//! `opsdeck scan` beyond a Docker engine: image files (`--input`: a
//! `docker save` tarball, an OCI layout folder or a tarball of one), images
//! on a registry (`--registry`, or a reference whose host is a saved
//! registry connection), and fleet scans (`--all`: every image of the
//! engine, every tag of registry repositories) with `--jobs` scans at once
//! and a summary table.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use opsdeck_core::backend::Engine;
use opsdeck_core::scanner::image::oci::Platform;
use opsdeck_core::scanner::policy::{Decision, Outcome as ScanOutcome, Policy};
use opsdeck_core::scanner::registry::{Client, Endpoint, Reference};
use opsdeck_core::scanner::scan::{Progress, ScanReport};
use opsdeck_core::secrets::Secret;
use opsdeck_core::{Backend, Error, Result};
use serde::Serialize;

use crate::output::{errln, outln, print_json, print_table};

/// Environment variable holding the registry password (never a flag: it would show in `ps`).
pub const PASSWORD_ENV: &str = "OPSDECK_REGISTRY_PASSWORD";
/// Most tags or repositories `--all` expands a registry to.
const MAX_EXPANSION: usize = 10_000;

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Scan an image file instead of an engine's image: a `docker save`
    /// tarball, an OCI image layout folder, or a tarball of one. Repeatable.
    #[arg(long = "input", value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// IMAGE arguments are registry references (host[:port]/repository[:tag|@sha256:…]),
    /// read with the Distribution (v2) API instead of from Docker. Also implied
    /// by --registry-ca, --registry-user and --plain-http.
    #[arg(long)]
    pub registry: bool,
    /// The platform to scan from a multi-platform image (index / manifest list).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", default_value = "linux/<host arch>", hide_default_value = true)]
    pub platform: Option<String>,
    /// Talk to the registry over http:// (a local test registry). Never the default.
    #[arg(long)]
    pub plain_http: bool,
    /// PEM file of CAs that sign the registry's certificate (besides the system's).
    #[arg(long, value_name = "PEM")]
    pub registry_ca: Option<PathBuf>,
    /// Registry user (basic auth, or for the token service); the password is
    /// read from $OPSDECK_REGISTRY_PASSWORD.
    #[arg(long, value_name = "USER")]
    pub registry_user: Option<String>,
    /// IMAGE arguments are REPOSITORY[:TAG] (or full references) on this saved
    /// registry connection (`opsdeck registry add`): its URL, user, keychain
    /// password, CA file and default platform. With --all and no IMAGE: every
    /// tag of every repository of that registry.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["registry_user", "registry_ca", "plain_http"])]
    pub registry_connection: Option<String>,
    /// Fleet scan: every image on the engine; with --registry, every tag of
    /// each REPOSITORY given (host/repo), or of every repository of a HOST
    /// given alone (host:port). Prints a summary table (or JSON).
    #[arg(long)]
    pub all: bool,
    /// Images scanned at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: u16,
}

/// One thing to scan.
#[derive(Debug, Clone)]
enum Target {
    Engine(String),
    File(PathBuf),
    Registry(Reference),
}

impl Target {
    fn name(&self) -> String {
        match self {
            Target::Engine(i) => i.clone(),
            Target::File(p) => p.display().to_string(),
            Target::Registry(r) => r.to_string(),
        }
    }
}

impl InputArgs {
    fn wants_registry(&self) -> bool {
        self.registry || self.plain_http || self.registry_ca.is_some() || self.registry_user.is_some() || self.registry_connection.is_some()
    }

    /// Whether the IMAGE arguments need a Docker engine.
    pub fn needs_engine(&self, images: &[String], running: bool) -> bool {
        running || (!self.wants_registry() && (!images.is_empty() || (self.all && self.inputs.is_empty())))
    }

    fn platform(&self) -> Result<Platform> {
        match &self.platform {
            Some(p) if p != "linux/<host arch>" => Platform::parse(p),
            _ => Ok(Platform::host()),
        }
    }

    fn endpoint(&self, registry: &str) -> Result<Endpoint> {
        let password = std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty()).map(Secret::new);
        if self.registry_user.is_some() && password.is_none() {
            return Err(Error::invalid(format!("--registry-user needs the password in ${PASSWORD_ENV}")));
        }
        Ok(Endpoint {
            registry: registry.to_string(),
            plain_http: self.plain_http,
            ca_file: self.registry_ca.as_ref().map(|p| p.display().to_string()),
            username: self.registry_user.clone(),
            password,
            timeout: None,
        })
    }
}

/// The outcome of one target, in the order given.
pub struct Scanned {
    pub name: String,
    pub result: Result<ScanReport>,
}

/// Expands the arguments into targets and scans them, `--jobs` at once.
pub async fn run(backend: &Backend, engine: Option<&Engine>, images: Vec<String>, a: &InputArgs, policy: &Policy) -> Result<Vec<Scanned>> {
    let mut platform = a.platform()?;
    let mut targets: Vec<Target> = a.inputs.iter().cloned().map(Target::File).collect();
    let mut clients: Vec<Client> = Vec::new();
    let mut images = images;
    if let Some(name) = &a.registry_connection {
        // A saved connection: its client, and names relative to its host.
        let (saved, client) = backend.registry_client(name).await?;
        if let (Some(p), None | Some("linux/<host arch>")) = (&saved.spec.platform, a.platform.as_deref()) {
            platform = Platform::parse(p)?;
        }
        images = images.into_iter().map(|i| if Reference::looks_like_registry(&i) { i } else { format!("{}/{i}", saved.host) }).collect();
        if a.all && images.is_empty() {
            images.push(saved.host.clone());
        }
        clients.push(client);
    }
    if a.wants_registry() {
        for image in &images {
            let (registry, expand) = if a.all && !image.contains('/') {
                (image.clone(), None)
            } else {
                let r = Reference::parse(image)?;
                (r.registry.clone(), Some(r))
            };
            if !clients.iter().any(|c| c.registry() == registry) {
                clients.push(Client::new(&a.endpoint(&registry)?)?);
            }
            let client = clients.iter().find(|c| c.registry() == registry).ok_or_else(|| Error::Internal("no client".into()))?;
            match (a.all, expand) {
                (false, Some(r)) => targets.push(Target::Registry(r)),
                (true, Some(r)) if r.tag.is_some() || r.digest.is_some() => targets.push(Target::Registry(r)),
                (true, Some(r)) => {
                    let tags = client.all_tags(&r.repository, MAX_EXPANSION).await?;
                    targets.extend(tags.iter().map(|t| Target::Registry(r.with_tag(t))));
                }
                (_, None) => {
                    for repo in client.all_repositories(MAX_EXPANSION).await? {
                        let r = Reference { registry: registry.clone(), repository: repo, tag: None, digest: None };
                        let tags = client.all_tags(&r.repository, MAX_EXPANSION).await?;
                        targets.extend(tags.iter().map(|t| Target::Registry(r.with_tag(t))));
                    }
                }
            }
        }
    } else if a.all && images.is_empty() && a.inputs.is_empty() {
        let engine = engine.ok_or_else(|| Error::Internal("--all needs the engine".into()))?;
        let inv = opsdeck_core::scanner::engine::inventory(&engine.docker, &engine.host).await?;
        targets.extend(inv.images.iter().map(|i| Target::Engine(i.tags.first().cloned().unwrap_or_else(|| i.id.clone()))));
    } else {
        targets.extend(images.into_iter().map(Target::Engine));
    }
    if targets.is_empty() {
        errln!("nothing to scan: the engine or registry holds no image");
    }
    let clients = &clients;
    let platform = &platform;
    let tasks: Vec<_> = targets
        .into_iter()
        .map(|target| async move {
            let name = target.name();
            let progress = |p: Progress| {
                if let Progress::Reading { layers_to_read, layers_cached, bytes: 0, .. } = p {
                    if layers_to_read > 0 {
                        errln!("{name}: reading {layers_to_read} layers ({layers_cached} cached)");
                    }
                }
            };
            let result = match &target {
                Target::Engine(image) => match engine {
                    Some(e) => backend.scan_with(e, image, policy, &progress).await,
                    None => Err(Error::Internal("no engine".into())),
                },
                Target::File(path) => backend.scan_input(path, platform, policy, &progress).await,
                Target::Registry(r) => match clients.iter().find(|c| c.registry() == r.registry) {
                    Some(c) => backend.scan_registry_image(c, None, r, platform, policy, &progress).await,
                    None => Err(Error::Internal(format!("no client for {}", r.registry))),
                },
            };
            Scanned { name, result: result.map(|(_, r)| r) }
        })
        .collect();
    Ok(opsdeck_core::scanner::fleet::bounded(tasks, usize::from(a.jobs)).await)
}

/// One image of a fleet scan, for the summary's JSON.
#[derive(Serialize)]
struct FleetRow {
    image: String,
    decision: Option<String>,
    not_assessed: bool,
    critical: u32,
    high: u32,
    medium: u32,
    low: u32,
    packages: usize,
    layers_read: usize,
    layers_cached: usize,
    error: Option<String>,
}

#[derive(Serialize)]
struct FleetSummary {
    images: usize,
    block: usize,
    warn: usize,
    allow: usize,
    errors: usize,
    layers_read: usize,
    layers_cached: usize,
    duration_ms: u64,
}

#[derive(Serialize)]
struct Fleet {
    summary: FleetSummary,
    images: Vec<FleetRow>,
}

fn fleet(reports: &[ScanReport], errors: &[(String, Error)], elapsed: Duration) -> Fleet {
    let mut rows: Vec<FleetRow> = reports
        .iter()
        .map(|r| {
            let c = &r.assessment.counts;
            let read = r.layers.iter().filter(|l| !l.from_cache).count();
            FleetRow {
                image: r.image.clone(),
                decision: Some(r.assessment.verdict.decision.as_str().to_string()),
                not_assessed: r.assessment.verdict.outcome == ScanOutcome::NotAssessed,
                critical: c.critical,
                high: c.high,
                medium: c.medium,
                low: c.low,
                packages: r.packages.len(),
                layers_read: read,
                layers_cached: r.layers.len() - read,
                error: None,
            }
        })
        .collect();
    rows.extend(errors.iter().map(|(image, e)| FleetRow {
        image: image.clone(),
        decision: None,
        not_assessed: false,
        critical: 0,
        high: 0,
        medium: 0,
        low: 0,
        packages: 0,
        layers_read: 0,
        layers_cached: 0,
        error: Some(format!("{}: {e}", e.code().as_str())),
    }));
    let count = |d: Decision| reports.iter().filter(|r| r.assessment.verdict.decision == d).count();
    Fleet {
        summary: FleetSummary {
            images: reports.len() + errors.len(),
            block: count(Decision::Block),
            warn: count(Decision::Warn),
            allow: count(Decision::Allow),
            errors: errors.len(),
            layers_read: rows.iter().map(|r| r.layers_read).sum(),
            layers_cached: rows.iter().map(|r| r.layers_cached).sum(),
            duration_ms: elapsed.as_millis() as u64,
        },
        images: rows,
    }
}

/// The fleet summary: a table with a totals line, or JSON.
pub fn print_fleet(reports: &[ScanReport], errors: &[(String, Error)], started: Instant, json: bool) {
    let f = fleet(reports, errors, started.elapsed());
    if json {
        print_json(&f);
        return;
    }
    let rows: Vec<Vec<String>> = f
        .images
        .iter()
        .map(|r| {
            let decision = match (&r.decision, r.not_assessed) {
                (Some(d), false) => d.clone(),
                (Some(d), true) => format!("{d} (NOT ASSESSED)"),
                (None, _) => "ERROR".into(),
            };
            vec![
                r.image.clone(),
                decision,
                format!("{}/{}/{}/{}", r.critical, r.high, r.medium, r.low),
                r.packages.to_string(),
                format!("{}/{}", r.layers_read, r.layers_cached),
                r.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print_table(&["IMAGE", "DECISION", "C/H/M/L", "PACKAGES", "LAYERS READ/CACHED", "ERROR"], &rows);
    let s = &f.summary;
    outln!(
        "\n{} images: {} BLOCK, {} WARN, {} ALLOW, {} errors; layers read {}, from cache {}; {:.1} s",
        s.images,
        s.block,
        s.warn,
        s.allow,
        s.errors,
        s.layers_read,
        s.layers_cached,
        s.duration_ms as f64 / 1000.0
    );
}
