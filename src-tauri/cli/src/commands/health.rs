//! `opsdeck health`: health verdict of Kubernetes clusters, all contexts at
//! once, for terminals (table) and pipelines (json, exit code).

use std::time::Duration;

use clap::{Args, ValueEnum};
use opsdeck_core::clusters::health::check_all;
use opsdeck_core::clusters::{Severity, Verdict};

use opsdeck_core::clusters::history::{parse_since, verdict_str, HistoryQuery};

use super::open_backend;
use crate::exit;
use crate::output::{errln, fail, out, print_json, print_table, Format};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HealthFormat {
    Table,
    Json,
    /// JUnit XML: one test case per cluster, failed unless Healthy.
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Degraded,
    Unreachable,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HealthArgs {
    #[command(subcommand)]
    command: Option<HealthCommand>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Debug, clap::Subcommand)]
enum HealthCommand {
    /// Verdict changes recorded by `opsdeck health` and the app (newest first): when a cluster degraded, and what changed.
    History(HistoryArgs),
}

#[derive(Debug, Args)]
struct HistoryArgs {
    /// Only this context.
    context: Option<String>,
    /// Only changes since this time: RFC 3339, or an age (30m, 24h, 7d, 2w).
    #[arg(long)]
    since: Option<String>,
    /// Only clusters of this API server URL (two kubeconfigs may name different clusters alike).
    #[arg(long)]
    server: Option<String>,
    #[arg(long, default_value_t = 100)]
    limit: u32,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<String>,
    /// Context to check (repeat; none = every context of the file).
    #[arg(long = "context")]
    contexts: Vec<String>,
    #[arg(long, value_enum, default_value_t = HealthFormat::Table)]
    format: HealthFormat,
    /// Exit 1 when a cluster is at least this bad.
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Deadline per cluster, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Also read each reachable cluster's capacity (CPU and memory requests of unfinished pods against the
    /// allocatable of Ready schedulable nodes; one more list of every pod): table columns, `capacity` in JSON.
    #[arg(long)]
    capacity: bool,
}

/// A cluster's health with its capacity (`--capacity`): the health's fields, then `capacity` / `capacity_error`.
#[derive(serde::Serialize)]
struct WithCapacity<'a> {
    #[serde(flatten)]
    health: &'a opsdeck_core::clusters::ClusterHealth,
    capacity: Option<opsdeck_core::clusters::capacity::Capacity>,
    capacity_error: Option<String>,
}

/// Capacity of the reachable clusters of `results` (none asked: empty).
async fn capacities(
    path: &str,
    results: &[opsdeck_core::clusters::ClusterHealth],
    limit: Duration,
) -> std::collections::BTreeMap<String, opsdeck_core::clusters::capacity::ClusterCapacity> {
    let reachable: Vec<String> = results.iter().filter(|h| h.verdict != Verdict::Unreachable).map(|h| h.context.clone()).collect();
    let Ok(kc) = opsdeck_core::connectors::kube::read_kubeconfig(path) else { return Default::default() };
    opsdeck_core::clusters::capacity::capacity_all(&kc, &reachable, None, limit).await.into_iter().map(|c| (c.context.clone(), c)).collect()
}

/// "1.75/6 (29%)" of millicores, "1.5/12.0Gi (13%)" of bytes.
fn share(requested: i64, allocatable: i64, unit: fn(i64) -> String) -> String {
    let pct = if allocatable > 0 { format!(" ({}%)", (requested as f64 * 100.0 / allocatable as f64).round()) } else { String::new() };
    format!("{}/{}{pct}", unit(requested), unit(allocatable))
}

pub fn default_kubeconfig() -> Option<String> {
    if let Ok(k) = std::env::var("KUBECONFIG") {
        // Several files are merged the way kubectl merges them (the library reads the list).
        if k.split(':').any(|p| !p.is_empty()) {
            return Some(k);
        }
    }
    std::env::var("HOME").ok().map(|h| format!("{h}/.kube/config"))
}

pub async fn run(data_dir: Option<std::path::PathBuf>, a: HealthArgs) -> u8 {
    match a.command {
        Some(HealthCommand::History(h)) => history(data_dir, h).await,
        None => check(data_dir, a.check).await,
    }
}

/// `opsdeck health history`: a row per verdict change, with the findings that appeared and cleared.
async fn history(data_dir: Option<std::path::PathBuf>, a: HistoryArgs) -> u8 {
    let since_ms = match a.since.as_deref().map(parse_since).transpose() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let backend = match open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    let q = HistoryQuery { contexts: a.context.into_iter().collect(), server: a.server, since_ms, limit: a.limit.max(1) };
    let rows = match backend.health_history(&q).await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if a.format == Format::Json {
        return print_json(&rows);
    }
    let list = |f: &[opsdeck_core::clusters::Finding]| {
        if f.is_empty() {
            "-".to_string()
        } else {
            f.iter().map(|x| x.message.as_str()).collect::<Vec<_>>().join("; ")
        }
    };
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|t| {
            vec![
                t.at.clone(),
                t.context.clone(),
                format!("{} -> {}", t.from.map(verdict_str).unwrap_or("(first)"), verdict_str(t.to)).to_uppercase(),
                t.source.clone(),
                list(&t.appeared),
                list(&t.cleared),
            ]
        })
        .collect();
    print_table(&["TIME", "CONTEXT", "CHANGE", "SEEN BY", "APPEARED", "CLEARED"], &table);
    exit::OK
}

async fn check(data_dir: Option<std::path::PathBuf>, a: CheckArgs) -> u8 {
    let Some(path) = a.kubeconfig.or_else(default_kubeconfig) else {
        errln!("error (invalid_input): no kubeconfig: pass --kubeconfig or set KUBECONFIG");
        return exit::USAGE;
    };
    let limit = Duration::from_secs(a.timeout.clamp(1, 300));
    let results = match check_all(&path, &a.contexts, None, limit).await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let caps = if a.capacity { capacities(&path, &results, limit).await } else { Default::default() };
    // Verdict changes go to the health history; a data directory that cannot
    // be opened (a read-only CI runner) costs the history, not the check.
    match open_backend(data_dir).await {
        Ok(b) => {
            if let Err(e) = b.record_kubeconfig_health(&path, &results).await {
                errln!("warning: the health history was not updated: {e}");
            }
        }
        Err(e) => errln!("warning: the health history was not updated: {e}"),
    }
    if a.format == HealthFormat::Json && a.capacity {
        let rows: Vec<WithCapacity> = results
            .iter()
            .map(|h| {
                let c = caps.get(&h.context);
                WithCapacity {
                    health: h,
                    capacity: c.and_then(|c| c.capacity.clone()),
                    capacity_error: c.and_then(|c| c.error.as_ref().map(|e| e.message.clone())),
                }
            })
            .collect();
        print_json(&rows);
    } else if a.format == HealthFormat::Json {
        print_json(&results);
    } else if a.format == HealthFormat::Junit {
        out!("{}", junit(&results));
    } else {
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|h| {
                let worst: Vec<&str> =
                    h.findings.iter().filter(|f| f.severity >= Severity::Warning).map(|f| f.message.as_str()).take(3).collect();
                let mut row = vec![
                    h.context.clone(),
                    match h.error_code {
                        // Why it could not be checked: "UNREACHABLE (auth)" for a 401.
                        Some(c) if c != opsdeck_core::ErrorCode::Unreachable => format!("{:?} ({})", h.verdict, c.as_str()).to_uppercase(),
                        _ => format!("{:?}", h.verdict).to_uppercase(),
                    },
                    h.version.clone().unwrap_or_else(|| "-".into()),
                    h.latency_ms.map(|l| format!("{l} ms")).unwrap_or_else(|| "-".into()),
                    format!("{}/{}", h.nodes.ready, h.nodes.total),
                ];
                if a.capacity {
                    let cores = |m: i64| format!("{}", m as f64 / 1000.0);
                    let gib = |b: i64| format!("{:.1}Gi", b as f64 / 1_073_741_824.0);
                    match caps.get(&h.context).and_then(|c| c.capacity.as_ref()) {
                        Some(c) => row.extend([
                            share(c.cpu_requested_milli, c.cpu_allocatable_milli, cores),
                            share(c.memory_requested, c.memory_allocatable, gib),
                        ]),
                        None => row.extend(["-".to_string(), "-".to_string()]),
                    }
                }
                row.push(worst.join("; "));
                row
            })
            .collect();
        if a.capacity {
            print_table(
                &["CONTEXT", "VERDICT", "VERSION", "LATENCY", "NODES READY", "CPU REQ/ALLOC", "MEMORY REQ/ALLOC", "REASONS"],
                &rows,
            );
        } else {
            print_table(&["CONTEXT", "VERDICT", "VERSION", "LATENCY", "NODES READY", "REASONS"], &rows);
        }
    }
    let failing = |h: &&opsdeck_core::clusters::ClusterHealth| match a.fail_on {
        Some(FailOn::Degraded) => h.verdict != Verdict::Healthy,
        Some(FailOn::Unreachable) => h.verdict == Verdict::Unreachable,
        None => false,
    };
    if results.iter().any(|h| failing(&h)) {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// One test case per cluster; a Degraded or Unreachable cluster is a failure
/// whose message is its first reason and whose text is every reason.
fn junit(results: &[opsdeck_core::clusters::ClusterHealth]) -> String {
    use crate::junit::{Case, Outcome, Suite};
    let cases = results
        .iter()
        .map(|h| {
            let healthy = h.verdict == Verdict::Healthy;
            let reasons: Vec<&str> = h.findings.iter().filter(|f| f.severity >= Severity::Warning).map(|f| f.message.as_str()).collect();
            let message =
                if healthy { format!("{:?}", h.verdict) } else { format!("{:?}: {}", h.verdict, reasons.first().copied().unwrap_or("")) };
            let mut case =
                Case::new(h.context.as_str(), "opsdeck.health", if healthy { Outcome::Passed } else { Outcome::Failed }, message);
            case.kind = format!("{:?}", h.verdict).to_lowercase();
            case.detail = reasons.join("\n");
            case.time = Duration::from_millis(h.latency_ms.unwrap_or(0));
            case
        })
        .collect();
    crate::junit::report("opsdeck.health", &[Suite { name: "cluster-health".into(), cases }])
}
