//! `opsdeck rollout FILE… --contexts a,b,c --waves a,25%,rest --soak 30s
//! [--auto-rollback] [--junit out.xml]`: a progressive rollout across
//! clusters (docs/rollouts.md). Every cluster is reviewed (as `opsdeck apply`)
//! and health-checked before anything is written; then wave by wave each
//! cluster is applied, its workloads waited for and its live verdict soaked.
//! Progress lines go to standard error as they happen, the final table (or
//! JSON) to standard output. A failure stops the rollout: with
//! `--auto-rollback` the changed clusters are put back at once, otherwise
//! `opsdeck rollout --rollback ID` does it later.
//!
//! Exit: 0 completed; 1 a cluster failed (rolled back or not), a refusal by
//! the review or an unhealthy cluster before the start (nothing written);
//! 130/143 stopped by SIGINT/SIGTERM (the rollout stops at a safe point,
//! rolled back with `--auto-rollback`); the error's class when a cluster
//! could not be reached at all (4, 5, 6, …).

use std::time::Duration;

use clap::{Args, Subcommand};
use opsdeck_core::backend::{RolloutEvent, RolloutOptions, RolloutOutcome, RolloutPhase, RolloutReport};
use opsdeck_core::checks::spec::parse_duration;
use opsdeck_core::clusters::rollout::CancellationToken;
use opsdeck_core::Error;

use crate::exit;
use crate::junit::{Case, Outcome, Suite};
use crate::output::{errln, fail, outln, print_json, print_table, Format};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct RolloutArgs {
    #[command(subcommand)]
    records: Option<RecordsCommand>,
    /// Manifest files (YAML, several documents allowed), applied as one; "-" reads standard input.
    #[arg(required_unless_present = "rollback")]
    files: Vec<String>,
    #[arg(long)]
    kubeconfig: Option<String>,
    /// Contexts to roll out to, in order (comma-separated or repeated; none = every context of the kubeconfig).
    #[arg(long = "contexts", alias = "context", value_delimiter = ',')]
    contexts: Vec<String>,
    /// Waves: comma-separated context names (a+b for several), percentages (25%) and rest, each optionally
    /// named (canary=a); @FILE reads them from a file, one per line. Default: one wave of every context.
    #[arg(long, default_value = "")]
    waves: String,
    /// How long each cluster's live verdict must stay healthy after its rollout (e.g. 30s, 2m; 0 = no soak).
    #[arg(long, default_value = "30s")]
    soak: String,
    /// Longest wait for one cluster's workloads to roll out.
    #[arg(long, default_value = "5m")]
    timeout: String,
    /// On a failure or a stop, roll the changed clusters back to the objects they had before.
    #[arg(long)]
    auto_rollback: bool,
    /// Write a JUnit report (a test case per cluster, a suite per wave) to this file.
    #[arg(long)]
    junit: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Roll back the clusters an earlier rollout changed (its id, as printed), then stop.
    #[arg(long, conflicts_with_all = ["files", "auto_rollback", "junit"])]
    rollback: Option<String>,
}

/// The rollback records kept in the data directory (`<data dir>/rollouts/`).
#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    /// The rollback records kept: id, when, where, clusters changed, objects (Secrets: data in the keychain), rolled back.
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Deletes the rollback records older than a duration (e.g. 30d, 12h), and the Secret data each kept in the keychain.
    Prune {
        /// Age of the records to delete (e.g. 30d; 0 = every record).
        #[arg(long)]
        older_than: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub async fn run(data_dir: Option<std::path::PathBuf>, a: RolloutArgs) -> u8 {
    if let Some(c) = a.records {
        return match records(data_dir, c).await {
            Ok(code) => code,
            Err(e) => fail(&e),
        };
    }
    match run_inner(data_dir, a).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn records(data_dir: Option<std::path::PathBuf>, c: RecordsCommand) -> Result<u8, Error> {
    let backend = super::open_backend(data_dir).await?;
    let (list, format, pruned) = match c {
        RecordsCommand::List { format } => (backend.cluster_rollout_records()?, format, false),
        RecordsCommand::Prune { older_than, format } => {
            let age = age("--older-than", &older_than)?;
            (backend.cluster_rollout_prune(age).await?, format, true)
        }
    };
    if format == Format::Json {
        return Ok(print_json(&list));
    }
    let rows = list
        .iter()
        .map(|r| {
            let rolled_back = if r.rolled_back.is_empty() { "-".to_string() } else { r.rolled_back.join(",") };
            vec![
                r.id.clone(),
                r.created_at.clone(),
                r.contexts.join(","),
                format!("{} ({} Secret)", r.objects, r.secrets),
                rolled_back,
                r.error.clone().unwrap_or_else(|| r.source.clone()),
            ]
        })
        .collect::<Vec<_>>();
    print_table(&["ID", "CREATED", "CONTEXTS", "OBJECTS", "ROLLED BACK", "SOURCE"], &rows);
    if pruned {
        outln!("{} rollback record(s) deleted", list.len());
    }
    Ok(exit::OK)
}

/// An age: `30d`, `12h`, `90m`, `45s`, or `0`.
fn age(field: &str, s: &str) -> Result<Duration, Error> {
    let t = s.trim();
    let bad = || Error::invalid(format!("{field} \"{s}\": use e.g. 30d, 12h, 90m or 0"));
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "d" => n.checked_mul(86_400),
        "h" => n.checked_mul(3_600),
        "m" => n.checked_mul(60),
        "s" => Some(n),
        _ => None,
    };
    secs.filter(|s| *s <= 100 * 365 * 86_400).map(Duration::from_secs).ok_or_else(bad)
}

fn duration(field: &str, s: &str) -> Result<Duration, Error> {
    if s.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(field, s)
}

fn read_input(path: &str) -> Result<String, Error> {
    if path == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| Error::invalid(format!("reading standard input: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("cannot read {path}: {e}")))
}

fn progress_line(e: &RolloutEvent) {
    let secs = e.elapsed_ms as f64 / 1000.0;
    match (&e.context, e.wave, e.phase) {
        (Some(c), Some(w), Some(p)) => errln!("[{secs:>6.1}s] wave {} {c}: {}: {}", w + 1, p.as_str(), e.message),
        (Some(c), None, Some(p)) => errln!("[{secs:>6.1}s] {c}: {}: {}", p.as_str(), e.message),
        _ => errln!("[{secs:>6.1}s] {}", e.message),
    }
}

async fn run_inner(data_dir: Option<std::path::PathBuf>, a: RolloutArgs) -> Result<u8, Error> {
    let backend = super::open_backend(data_dir).await?;
    if let Some(id) = &a.rollback {
        let restored = backend.cluster_rollout_rollback(id, a.kubeconfig.as_deref(), |e| progress_line(&e)).await?;
        if a.format == Format::Json {
            print_json(&restored);
        } else {
            let rows = restored
                .iter()
                .flat_map(|(c, r)| {
                    r.iter().map(move |x| vec![c.clone(), x.object.clone(), x.action.clone(), x.error.clone().unwrap_or_default()])
                })
                .collect::<Vec<_>>();
            print_table(&["CONTEXT", "OBJECT", "ROLLBACK", "ERROR"], &rows);
        }
        let ok = restored.values().all(|r| r.iter().all(|x| x.error.is_none()));
        return Ok(if ok { exit::OK } else { exit::FAILED });
    }
    let path = a
        .kubeconfig
        .clone()
        .or_else(super::health::default_kubeconfig)
        .ok_or_else(|| Error::invalid("no kubeconfig: pass --kubeconfig or set KUBECONFIG"))?;
    let manifest = a.files.iter().map(|f| read_input(f)).collect::<Result<Vec<_>, _>>()?.join("\n---\n");
    let waves = match a.waves.strip_prefix('@') {
        Some(file) => read_input(file)?,
        None => a.waves.clone(),
    };
    let opts = RolloutOptions {
        waves,
        soak_ms: duration("--soak", &a.soak)?.as_millis() as u64,
        timeout_ms: parse_duration("--timeout", &a.timeout)?.as_millis() as u64,
        auto_rollback: a.auto_rollback,
    };
    let stop = CancellationToken::new();
    let watcher = crate::stop::watch(
        stop.clone(),
        if a.auto_rollback {
            "stopping: the rollout stops at a safe point, then the changed clusters are rolled back (signal again to exit now)"
        } else {
            "stopping: the rollout stops at a safe point; the changed clusters can be rolled back with --rollback (signal again to exit now)"
        },
        crate::stop::Again::Exit("stopped again: exiting now (what was changed is in the rollback record: opsdeck rollout --rollback ID)"),
    );
    let result = backend.cluster_rollout_kubeconfig(&path, &a.contexts, &manifest, &opts, stop, |e| progress_line(&e)).await;
    let signal = watcher.finish();
    let report = result?;
    if a.format == Format::Json {
        print_json(&report);
    } else {
        print_report(&report);
    }
    if let Some(file) = &a.junit {
        std::fs::write(file, junit(&report)).map_err(|e| Error::Internal(format!("cannot write {}: {e}", file.display())))?;
    }
    Ok(match (report.outcome, signal) {
        (RolloutOutcome::Completed, _) => exit::OK,
        (RolloutOutcome::Stopped, Some(code)) => code,
        _ => exit::FAILED,
    })
}

fn print_report(r: &RolloutReport) {
    let mut rows = Vec::new();
    for (i, w) in r.waves.iter().enumerate() {
        for c in &w.clusters {
            let rollouts = c
                .rollouts
                .iter()
                .map(|x| format!("{}/{} {}/{}", x.namespace, x.name, x.available, x.desired))
                .collect::<Vec<_>>()
                .join(", ");
            let message: String = c.message.chars().take(160).collect();
            rows.push(vec![
                format!("{} {}", i + 1, w.name),
                c.context.clone(),
                match c.rollback {
                    Some(rb) => format!("{} → {}", c.phase.as_str().to_uppercase(), rb.as_str().to_uppercase()),
                    None => c.phase.as_str().to_uppercase(),
                },
                rollouts,
                format!("{:.1}s", c.elapsed_ms as f64 / 1000.0),
                message,
            ]);
        }
    }
    print_table(&["WAVE", "CONTEXT", "RESULT", "AVAILABLE", "TIME", "DETAIL"], &rows);
    let verdict = match r.outcome {
        RolloutOutcome::Completed => "completed".to_string(),
        RolloutOutcome::Failed => "FAILED".to_string(),
        RolloutOutcome::Stopped => "STOPPED".to_string(),
    };
    outln!("rollout {}: {verdict} in {:.1} s", r.id, r.elapsed_ms as f64 / 1000.0);
    if let Some(e) = &r.error {
        outln!("  {e}");
    }
    if r.rolled_back {
        outln!("  rolled back: every changed cluster has its objects as before the rollout");
    } else if r.can_roll_back {
        outln!("  to roll the changed clusters back: opsdeck rollout --rollback {}", r.id);
    }
}

/// A suite per wave, a case per cluster: passed when it rolled out and
/// soaked healthy, failed with the reason, skipped when never started.
fn junit(r: &RolloutReport) -> String {
    let suites: Vec<Suite> = r
        .waves
        .iter()
        .enumerate()
        .map(|(i, w)| Suite {
            name: format!("wave-{} {}", i + 1, w.name),
            cases: w
                .clusters
                .iter()
                .map(|c| {
                    let outcome = match c.phase {
                        RolloutPhase::Done => Outcome::Passed,
                        RolloutPhase::Skipped | RolloutPhase::Pending => Outcome::Skipped,
                        _ => Outcome::Failed,
                    };
                    let mut case = Case::new(c.context.as_str(), format!("opsdeck.rollout.wave-{}", i + 1), outcome, c.message.clone());
                    case.time = Duration::from_millis(c.elapsed_ms);
                    case.kind = c.phase.as_str().to_string();
                    let restored = c.restored.iter().map(|x| format!("rollback {}: {}", x.object, x.error.as_deref().unwrap_or(&x.action)));
                    case.detail = c.findings.iter().map(|f| f.message.clone()).chain(restored).collect::<Vec<_>>().join("\n");
                    case
                })
                .collect(),
        })
        .collect();
    crate::junit::report("opsdeck.rollout", &suites)
}
