//! `opsdeck check --config checks.yaml [--junit FILE] [--json FILE]`: the
//! declarative smoke tests a CI pipeline runs (connectivity, auth, version,
//! list, round trips) against every platform; exit 1 when any check fails.

use std::path::PathBuf;

use clap::Args;
use opsdeck_core::checks::{self, CheckFile, CheckResult};
use opsdeck_core::Error;

use tokio_util::sync::CancellationToken;

use crate::exit;
use crate::junit::{self, Case, Outcome, Suite};
use crate::output::{errln, fail, print_table};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The checks file (YAML): targets and checks; secrets via secret_env or saved connections.
    #[arg(long)]
    config: PathBuf,
    /// Write a JUnit XML report (one test case per check) to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// An environment variable a target's secret_env may name besides OPSDECK_* (repeat).
    #[arg(long = "allow-env", value_name = "VAR")]
    allow_env: Vec<String>,
}

pub async fn run(data_dir: Option<PathBuf>, a: CheckArgs) -> u8 {
    let text = match std::fs::read_to_string(&a.config) {
        Ok(t) => t,
        Err(e) => return fail(&Error::invalid(format!("checks file {}: {e}", a.config.display()))),
    };
    let mut file = match CheckFile::parse(&text) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    file.allowed_env = a.allow_env;
    if let Err(e) = file.check_secret_env() {
        return fail(&e);
    }
    let backend = match super::open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    // One line on stderr per finished check, so a CI log shows progress
    // (and what already passed) while slow round trips are still running.
    let total = file.checks.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |r: &CheckResult| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let detail = if r.ok { String::new() } else { format!(": {}", r.message) };
        errln!("[{n:>w$}/{total}] {:<7} {} ({} ms){detail}", verdict(r), r.name, r.duration_ms, w = total.to_string().len());
    };
    // A cancelled pipeline job gets SIGTERM (Ctrl-C: SIGINT): no new check
    // starts, running ones finish so round trips clean up, the reports are
    // written. A second signal aborts at once.
    let stop = CancellationToken::new();
    let watcher = crate::stop::watch(
        stop.clone(),
        "stopping: no new check starts; the running ones finish and clean up (signal again to abort now)",
        crate::stop::Again::Exit("stopped again: aborting now (round trips in progress may leave their test objects behind)"),
    );
    let results = checks::run(&backend, &file, &progress, &stop).await;
    let signal = watcher.finish();
    let results = match results {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    print_table(
        &["CHECK", "TARGET", "KIND", "RESULT", "TIME", "DETAIL"],
        &results
            .iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.target.clone(),
                    r.kind.as_str().into(),
                    verdict(r).into(),
                    format!("{} ms", r.duration_ms),
                    r.message.clone(),
                ]
            })
            .collect::<Vec<_>>(),
    );
    if let Some(p) = &a.junit {
        if let Err(e) = std::fs::write(p, junit(&results)) {
            return fail(&Error::invalid(format!("writing {}: {e}", p.display())));
        }
    }
    if let Some(p) = &a.json {
        let json = serde_json::to_string_pretty(&results).unwrap_or_default();
        if let Err(e) = std::fs::write(p, json) {
            return fail(&Error::invalid(format!("writing {}: {e}", p.display())));
        }
    }
    let failed = results.iter().filter(|r| !r.ok && !r.skipped).count();
    let skipped = results.iter().filter(|r| r.skipped).count();
    if skipped > 0 {
        errln!("{} checks, {failed} failed, {skipped} not run (stopped)", results.len());
        return signal.unwrap_or(exit::STOPPED);
    }
    errln!("{} checks, {failed} failed", results.len());
    if failed > 0 {
        exit::FAILED
    } else {
        exit::OK
    }
}

fn outcome(r: &CheckResult) -> Outcome {
    match (r.ok, r.skipped) {
        (_, true) => Outcome::Skipped,
        (true, _) => Outcome::Passed,
        (false, _) => Outcome::Failed,
    }
}

fn verdict(r: &CheckResult) -> &'static str {
    match outcome(r) {
        Outcome::Passed => "ok",
        Outcome::Failed => "FAILED",
        Outcome::Skipped => "SKIPPED",
    }
}

/// One test suite per target (in file order), one test case per check
/// (classname `opsdeck.check.<platform>`) with its time; a failed check
/// carries its message and kind, a check not run is skipped.
fn junit(results: &[CheckResult]) -> String {
    let mut suites: Vec<Suite> = Vec::new();
    for r in results {
        let platform = if r.platform.is_empty() { "unknown" } else { &r.platform };
        let mut case = Case::new(r.name.clone(), format!("opsdeck.check.{platform}"), outcome(r), r.message.clone());
        case.kind = r.kind.as_str().into();
        case.time = std::time::Duration::from_millis(r.duration_ms);
        match suites.iter_mut().find(|s| s.name == r.target) {
            Some(s) => s.cases.push(case),
            None => suites.push(Suite { name: r.target.clone(), cases: vec![case] }),
        }
    }
    junit::report("opsdeck.check", &suites)
}
