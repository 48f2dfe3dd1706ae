//! `opsdeck scan IMAGE...`: vulnerability and policy scan of images on a
//! Docker engine, for terminals (table) and CI gates (json, sarif,
//! cyclonedx, spdx-json, junit; `--fail-on block|warn`).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use opsdeck_core::backend::Engine;
use opsdeck_core::connections::TlsFiles;
use opsdeck_core::connectors::docker;
use opsdeck_core::scanner::advisories::{FixStatus, Severity};
use opsdeck_core::scanner::gate::{self, GateOptions};
use opsdeck_core::scanner::policy::{Decision, Outcome as ScanOutcome, Policy};
use opsdeck_core::scanner::provenance::{self, LayerScope};
use opsdeck_core::scanner::reports::{cyclonedx, sarif, spdx};
use opsdeck_core::scanner::scan::ScanReport;
use opsdeck_core::team::suppressions::NewSuppression;
use opsdeck_core::{Error, Result};

use crate::exit;
use crate::output::{errln, fail, out, outln, print_json, print_table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ScanFormat {
    Table,
    Json,
    Sarif,
    /// CycloneDX 1.5 SBOM with vulnerabilities (one image).
    Cyclonedx,
    /// SPDX 2.3 JSON document with the findings (one image).
    SpdxJson,
    /// JUnit XML: one test case per image, failed at or above --fail-on (default block).
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Block,
    Warn,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Layers {
    /// The layers the image's own Dockerfile added.
    Ours,
    /// The base image's layers.
    Base,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ScanArgs {
    #[command(subcommand)]
    sub: Option<ScanSub>,
    /// Images to scan (name:tag, name@digest or id); with --registry,
    /// host[:port]/repository[:tag|@digest].
    #[arg(required_unless_present_any = ["running", "inputs", "all"])]
    images: Vec<String>,
    /// Scan the image of every running container instead.
    #[arg(long, conflicts_with = "images")]
    running: bool,
    /// Docker connection profile (name or id) instead of --docker-host.
    #[arg(long, conflicts_with = "docker_host")]
    connection: Option<String>,
    /// Docker engine (default: $DOCKER_HOST, else unix:///var/run/docker.sock).
    #[arg(long)]
    docker_host: Option<String>,
    /// TLS CA, client certificate and key for a tcp:// engine (dockerd --tlsverify).
    #[arg(long, requires_all = ["tlscert", "tlskey"])]
    tlscacert: Option<PathBuf>,
    #[arg(long)]
    tlscert: Option<PathBuf>,
    #[arg(long)]
    tlskey: Option<PathBuf>,
    /// Import these OSV advisories (zip or folder) before scanning.
    #[arg(long)]
    advisories: Option<PathBuf>,
    /// Policy file (JSON or YAML); default: the stored policy (Settings in the app).
    #[arg(long)]
    policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    format: ScanFormat,
    /// Exit 1 when an image's decision is at least this (a scan that could
    /// not assess the image is WARN, or BLOCK when the policy says so).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Suppressions file (default: ./opsdeck-ignore.yaml when present).
    #[arg(long)]
    ignore_file: Option<PathBuf>,
    /// Only findings of these severities count for the gate (comma-separated:
    /// CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).
    #[arg(long, value_delimiter = ',', value_parser = parse_severity)]
    severity: Option<Vec<Severity>>,
    /// Findings without a fixed version do not count for the gate.
    #[arg(long)]
    ignore_unfixed: bool,
    /// Only findings with these fix statuses count for the gate
    /// (comma-separated: fixed, not-fixed, wont-fix).
    #[arg(long, value_delimiter = ',', value_parser = parse_fix_status)]
    fix_status: Option<Vec<FixStatus>>,
    /// OpenVEX documents (JSON): `not_affected` and `fixed` statements hide
    /// the finding (listed as suppressed). Repeatable.
    #[arg(long)]
    vex: Vec<PathBuf>,
    /// Only the image's own layers (`ours`) or only the base image's
    /// (`base`): findings and packages of the other layers leave the gate
    /// and the report (docs/image-ecosystems.md: how the base is found).
    #[arg(long, value_enum)]
    layers: Option<Layers>,
    #[command(flatten)]
    inputs: super::scan_inputs::InputArgs,
}

#[derive(Debug, Subcommand)]
enum ScanSub {
    /// Accepted risks kept in the team store (etcd), applied by every
    /// scan of the app and of CI; the author is the etcd user.
    Suppress {
        #[command(subcommand)]
        cmd: SuppressCmd,
    },
}

#[derive(Debug, Subcommand)]
enum SuppressCmd {
    /// Accept a finding: VULNERABILITY is a CVE, GHSA or OSV id.
    Add {
        vulnerability: String,
        /// Why it is accepted (required).
        #[arg(long)]
        reason: String,
        /// Last day it applies (UTC), YYYY-MM-DD.
        #[arg(long)]
        expires: String,
        /// Only this package (binary or source name).
        #[arg(long)]
        package: Option<String>,
        /// Only images matching this glob (`registry.example/app:*`).
        #[arg(long)]
        image: Option<String>,
    },
    /// The team's suppressions (expired ones marked).
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Remove one of your own suppressions by its id (from list).
    Remove { id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

async fn suppress(data_dir: Option<PathBuf>, cmd: &SuppressCmd) -> Result<u8> {
    let backend = super::open_backend(data_dir).await?;
    match cmd {
        SuppressCmd::Add { vulnerability, reason, expires, package, image } => {
            let n = NewSuppression {
                vulnerability: vulnerability.clone(),
                package: package.clone(),
                image: image.clone(),
                reason: reason.clone(),
                expires: expires.clone(),
            };
            let s = Box::pin(backend.suppress_add(&n)).await?;
            outln!("{}", s.id);
            errln!("suppressed {} until {} (by {})", s.suppression.id, s.suppression.expires, s.suppression.author);
        }
        SuppressCmd::List { format } => {
            let (list, problems) = Box::pin(backend.team_suppressions()).await?.ok_or_else(|| {
                Error::invalid(
                    "no team store is set: team suppressions live in the shared etcd store (the team store chosen in Settings → VMs)",
                )
            })?;
            for p in &problems {
                errln!("warning: {p}");
            }
            let today = time::OffsetDateTime::now_utc().date();
            let expired = |e: &str| gate::parse_expiry(e).is_ok_and(|d| d < today);
            match format {
                ListFormat::Json => {
                    print_json(&list);
                }
                ListFormat::Table => {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|s| {
                            let x = &s.suppression;
                            vec![
                                s.id.clone(),
                                x.id.clone(),
                                x.package.clone().unwrap_or_else(|| "*".into()),
                                x.image.clone().unwrap_or_else(|| "*".into()),
                                if expired(&x.expires) { format!("{} (expired)", x.expires) } else { x.expires.clone() },
                                x.author.clone(),
                                x.reason.clone(),
                            ]
                        })
                        .collect();
                    print_table(&["ID", "VULNERABILITY", "PACKAGE", "IMAGE", "EXPIRES", "AUTHOR", "REASON"], &rows);
                }
            }
        }
        SuppressCmd::Remove { id } => {
            let s = Box::pin(backend.suppress_remove(id)).await?;
            errln!("removed suppression {} of {}", s.id, s.suppression.id);
        }
    }
    Ok(exit::OK)
}

fn parse_fix_status(s: &str) -> std::result::Result<FixStatus, String> {
    FixStatus::parse(s).ok_or_else(|| format!("{s:?} is not a fix status: use fixed, not-fixed or wont-fix"))
}

fn parse_severity(s: &str) -> std::result::Result<Severity, String> {
    let up = s.trim().to_ascii_uppercase();
    match up.as_str() {
        "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "UNKNOWN" => Ok(Severity::parse(&up)),
        _ => Err(format!("{s:?} is not a severity: use CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN")),
    }
}

/// The suppressions of --ignore-file, else of ./opsdeck-ignore.yaml when present.
fn gate_options(a: &ScanArgs) -> Result<GateOptions> {
    let default = PathBuf::from("opsdeck-ignore.yaml");
    let path = match &a.ignore_file {
        Some(p) => Some(p.clone()),
        None => default.is_file().then_some(default),
    };
    let suppressions = match &path {
        Some(p) => gate::load_suppressions(p)?,
        None => Vec::new(),
    };
    let mut vex = Vec::new();
    for path in &a.vex {
        vex.extend(gate::load_vex(path)?);
    }
    Ok(GateOptions {
        suppressions,
        severities: a.severity.clone(),
        ignore_unfixed: a.ignore_unfixed,
        fix_statuses: a.fix_status.clone(),
        today: None,
        vex,
    })
}

pub async fn run(data_dir: Option<PathBuf>, a: ScanArgs) -> u8 {
    if let Some(ScanSub::Suppress { cmd }) = &a.sub {
        return Box::pin(suppress(data_dir, cmd)).await.unwrap_or_else(|e| fail(&e));
    }
    match scan(data_dir, &a).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn engine(backend: &opsdeck_core::Backend, a: &ScanArgs) -> Result<Engine> {
    if let Some(c) = &a.connection {
        let c = backend.find_connection(c).await?;
        return backend.engine(&c.id).await;
    }
    let host = a.docker_host.clone().or_else(|| std::env::var("DOCKER_HOST").ok()).unwrap_or_else(|| "unix:///var/run/docker.sock".into());
    let tls = a.tlscacert.as_ref().map(|ca| TlsFiles {
        ca_file: Some(ca.display().to_string()),
        cert_file: a.tlscert.as_ref().map(|p| p.display().to_string()),
        key_file: a.tlskey.as_ref().map(|p| p.display().to_string()),
    });
    let docker = docker::connect(&host, tls.as_ref()).await?;
    Ok(Engine { docker, host, connection_id: None })
}

fn load_policy(path: &PathBuf) -> Result<Policy> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("policy file {}: {e}", path.display())))?;
    let policy: Policy = serde_norway::from_str(&text).map_err(|e| Error::invalid(format!("policy file {}: {e}", path.display())))?;
    policy.validate()?;
    Ok(policy)
}

async fn scan(data_dir: Option<PathBuf>, a: &ScanArgs) -> Result<u8> {
    if matches!(a.format, ScanFormat::Cyclonedx | ScanFormat::SpdxJson)
        && (a.running || a.inputs.all || a.images.len() + a.inputs.inputs.len() != 1)
    {
        let name = if a.format == ScanFormat::Cyclonedx { "cyclonedx" } else { "spdx-json" };
        return Err(Error::invalid(format!("--format {name} describes one image: pass exactly one IMAGE")));
    }
    let mut options = gate_options(a)?;
    let backend = super::open_backend(data_dir).await?;
    // The team's suppressions (etcd), so CI and the app agree; unreadable: none hide anything.
    match Box::pin(backend.team_suppressions()).await {
        Ok(Some((list, problems))) => {
            for p in problems {
                errln!("team suppressions: {p}");
            }
            options.suppressions.extend(list.into_iter().map(|s| s.suppression));
        }
        Ok(None) => {}
        Err(e) => errln!("warning: the team's suppressions could not be read ({e}); none applied to this scan"),
    }
    if let Some(path) = &a.advisories {
        let update = backend.import_advisories(path).await?;
        errln!("advisories: {} records imported from {}", update.import.records, path.display());
    }
    let policy = match &a.policy {
        Some(p) => load_policy(p)?,
        None => backend.image_policy().await?,
    };
    let started = std::time::Instant::now();
    let engine = match a.inputs.needs_engine(&a.images, a.running) {
        true => Some(engine(&backend, a).await?),
        false => None,
    };
    let images: Vec<String> = match (&engine, a.running) {
        (Some(engine), true) => {
            let inv = opsdeck_core::scanner::engine::inventory(&engine.docker, &engine.host).await?;
            opsdeck_core::scanner::engine::running_images(&inv).into_iter().map(|(id, _)| id).collect()
        }
        _ => a.images.clone(),
    };
    let mut reports: Vec<ScanReport> = Vec::new();
    let mut failed: Vec<(String, Error)> = Vec::new();
    // Ctrl-C / SIGTERM stops the scan in flight at once: its download or
    // export closes, nothing of a half-read layer is cached, nothing recorded.
    let stop = tokio_util::sync::CancellationToken::new();
    let watcher = crate::stop::watch(
        stop.clone(),
        "stopping: the scan in flight is dropped (nothing of it is cached or recorded)",
        crate::stop::Again::Exit("stopped again: exiting now"),
    );
    let scanning = Box::pin(super::scan_inputs::run(&backend, engine.as_ref(), images, &a.inputs, &policy));
    let scanned = tokio::select! {
        scanned = scanning => Some(scanned),
        () = stop.cancelled() => None,
    };
    let signal = watcher.finish();
    let (Some(scanned), None) = (scanned, signal) else {
        errln!("scan stopped: the image in flight was neither cached nor recorded; images scanned before it are in the history");
        return Ok(signal.unwrap_or(exit::STOPPED));
    };
    for scanned in scanned? {
        match scanned.result {
            Ok(mut r) => {
                gate::apply(&mut r, &policy, &options);
                if let Some(layers) = a.layers {
                    let scope = match layers {
                        Layers::Ours => LayerScope::Ours,
                        Layers::Base => LayerScope::Base,
                    };
                    provenance::restrict(&mut r, &policy, scope);
                }
                reports.push(r)
            }
            Err(e) => {
                errln!("error ({}): {}: {e}", e.code().as_str(), scanned.name);
                failed.push((scanned.name, e));
            }
        }
    }
    let errors = failed.len();
    // The exit code of the first error: its class (unreachable, timeout, …).
    let first_error: Option<u8> = failed.first().map(|(_, e)| exit::for_error(e));
    if a.inputs.all && matches!(a.format, ScanFormat::Table | ScanFormat::Json) {
        super::scan_inputs::print_fleet(&reports, &failed, started, a.format == ScanFormat::Json);
    } else {
        match a.format {
            ScanFormat::Table => table(&reports),
            ScanFormat::Json => {
                print_json(&reports);
            }
            ScanFormat::Sarif => outln!("{}", sarif::render_many(&reports)?),
            ScanFormat::Cyclonedx => match reports.first().map(cyclonedx::render) {
                Some(Ok(json)) => outln!("{json}"),
                Some(Err(e)) => return Err(e),
                None => {}
            },
            ScanFormat::SpdxJson => match reports.first().map(spdx::render) {
                Some(Ok(json)) => outln!("{json}"),
                Some(Err(e)) => return Err(e),
                None => {}
            },
            ScanFormat::Junit => out!("{}", junit(&reports, a.fail_on.unwrap_or(FailOn::Block))),
        }
    }
    let gate = |d: Decision| match a.fail_on {
        Some(FailOn::Block) => d == Decision::Block,
        Some(FailOn::Warn) => d != Decision::Allow,
        None => false,
    };
    if errors > 0 {
        return Ok(if reports.is_empty() { first_error.unwrap_or(exit::USAGE) } else { exit::FAILED });
    }
    Ok(if reports.iter().any(|r| gate(r.assessment.verdict.decision)) { exit::FAILED } else { exit::OK })
}

fn table(reports: &[ScanReport]) {
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let c = &r.assessment.counts;
            vec![
                r.image.clone(),
                match r.assessment.verdict.outcome {
                    ScanOutcome::Assessed => r.assessment.verdict.decision.as_str().to_string(),
                    ScanOutcome::NotAssessed => format!("{} (NOT ASSESSED)", r.assessment.verdict.decision.as_str()),
                },
                format!("{} ({:?})", r.assessment.verdict.risk_score, r.assessment.verdict.risk_level).to_uppercase(),
                format!("{}/{}/{}/{}", c.critical, c.high, c.medium, c.low),
                r.os.as_ref().and_then(|o| o.pretty_name.clone()).unwrap_or_else(|| "unknown OS".into()),
                r.packages.len().to_string(),
                r.assessment.verdict.violations.iter().map(|v| v.policy.as_str()).collect::<Vec<_>>().join(", "),
            ]
        })
        .collect();
    print_table(&["IMAGE", "DECISION", "RISK", "C/H/M/L", "OS", "PACKAGES", "VIOLATIONS"], &rows);
    for r in reports {
        if !r.assessment.verdict.not_assessed.is_empty() {
            outln!("\n{}: not assessed:", r.image);
            for why in &r.assessment.verdict.not_assessed {
                outln!("  - {why}");
            }
        }
        for (what, list) in [("suppressed", &r.assessment.suppressed), ("suppression expired, counted", &r.assessment.expired_suppressions)]
        {
            if list.is_empty() {
                continue;
            }
            outln!("\n{}: {what}:", r.image);
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    vec![
                        s.vulnerability.ids.join(", "),
                        s.vulnerability.package.clone(),
                        s.suppression.expires.clone(),
                        s.suppression.author.clone(),
                        s.suppression.reason.clone(),
                    ]
                })
                .collect();
            print_table(&["ADVISORIES", "PACKAGE", "EXPIRES", "AUTHOR", "REASON"], &rows);
        }
        if !r.assessment.excluded.is_empty() {
            outln!("\n{}: {} findings not counted (--severity / --ignore-unfixed / --fix-status)", r.image, r.assessment.excluded.len());
        }
    }
    for r in reports.iter().filter(|r| !r.assessment.vulnerabilities.is_empty()) {
        outln!("\n{}:", r.image);
        let rows: Vec<Vec<String>> = r
            .assessment
            .vulnerabilities
            .iter()
            .map(|v| {
                let severity = match &v.severity_source {
                    Some(source) => format!("{} ({source})", v.severity.as_str()),
                    None => v.severity.as_str().to_string(),
                };
                let status = match v.fix_status {
                    FixStatus::Fixed => "fixed".to_string(),
                    FixStatus::NotFixed => "no fix yet".to_string(),
                    FixStatus::WontFix => format!("won't fix{}", v.fix_note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()),
                };
                vec![
                    severity,
                    v.package.clone(),
                    v.installed.clone(),
                    v.fixed.clone().unwrap_or_else(|| "-".into()),
                    status,
                    v.ids.join(", "),
                ]
            })
            .collect();
        print_table(&["SEVERITY", "PACKAGE", "INSTALLED", "FIXED", "FIX STATUS", "ADVISORIES"], &rows);
    }
}

/// One test case per image; an image whose decision fails the gate is a
/// failure with the decision and risk, and every policy violation as text.
fn junit(reports: &[ScanReport], fail_on: FailOn) -> String {
    use crate::junit::{Case, Outcome, Suite};
    let cases = reports
        .iter()
        .map(|r| {
            let d = r.assessment.verdict.decision;
            let failed = d == Decision::Block || (fail_on == FailOn::Warn && d == Decision::Warn);
            let mut reasons: Vec<String> = r.assessment.verdict.not_assessed.iter().map(|why| format!("not assessed: {why}")).collect();
            reasons.extend(r.assessment.verdict.violations.iter().map(|v| format!("{}: {}", v.policy, v.details)));
            reasons.extend(r.assessment.suppressed.iter().map(|s| {
                let until = if s.suppression.expires.is_empty() { String::new() } else { format!(", until {}", s.suppression.expires) };
                format!(
                    "suppressed {} in {}: {} ({}{until})",
                    s.suppression.id, s.vulnerability.package, s.suppression.reason, s.suppression.author
                )
            }));
            reasons.extend(r.assessment.expired_suppressions.iter().map(|s| {
                format!("suppression of {} in {} expired {}: counted", s.suppression.id, s.vulnerability.package, s.suppression.expires)
            }));
            let outcome = match r.assessment.verdict.outcome {
                ScanOutcome::Assessed => String::new(),
                ScanOutcome::NotAssessed => format!(", not assessed: {}", r.assessment.verdict.not_assessed.join("; ")),
            };
            let message = format!("{} (risk {}{outcome})", d.as_str(), r.assessment.verdict.risk_score);
            let mut case = Case::new(r.image.as_str(), "opsdeck.scan", if failed { Outcome::Failed } else { Outcome::Passed }, message);
            case.kind = match r.assessment.verdict.outcome {
                ScanOutcome::Assessed => d.as_str().to_lowercase(),
                ScanOutcome::NotAssessed => format!("{}-not-assessed", d.as_str().to_lowercase()),
            };
            case.detail = reasons.join("\n");
            case.time = std::time::Duration::from_millis(r.duration_ms);
            case
        })
        .collect();
    crate::junit::report("opsdeck.scan", &[Suite { name: "image-scan".into(), cases }])
}
