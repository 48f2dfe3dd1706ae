//! `opsdeck apply -f FILE --context C...`: server-side apply of a manifest to
//! several clusters at once, a result per cluster; exit 1 when any failed.
//! The backend's apply, as the desktop app's: audited per context (`cluster.apply`).
//!
//! Every apply is reviewed first on every context (permission pre-check,
//! server-side dry run, field conflicts): nothing is written anywhere unless
//! every context is clean. `--dry-run` prints the review and stops, `--diff`
//! prints the diffs and stops (exit 0 clean, 1 denied or conflicts, or the
//! class of the error that kept a cluster from being reviewed);
//! `--force-conflicts --reason R` takes conflicting fields, audited with R.

use clap::Args;
use opsdeck_core::clusters::review::ClusterReview;
use opsdeck_core::{Error, ErrorCode};

use crate::exit;
use crate::output::{fail, outln, print_json, Format};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Manifest file (YAML, several documents allowed); "-" reads standard input.
    #[arg(short = 'f', long = "filename")]
    file: String,
    #[arg(long)]
    kubeconfig: Option<String>,
    /// Context to apply to (repeat; none = every context of the file).
    #[arg(long = "context")]
    contexts: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Review only: permissions, what would change, field conflicts; writes nothing.
    #[arg(long, conflicts_with = "force_conflicts")]
    dry_run: bool,
    /// Print the diff (live object against the server-side dry run) per cluster, then stop.
    #[arg(long, conflicts_with = "force_conflicts")]
    diff: bool,
    /// Take fields other managers own (an HPA's replicas, an operator's fields); needs --reason.
    #[arg(long, requires = "reason")]
    force_conflicts: bool,
    /// Why conflicts are forced: recorded in the audit entry.
    #[arg(long, requires = "force_conflicts")]
    reason: Option<String>,
}

pub async fn run(data_dir: Option<std::path::PathBuf>, a: ApplyArgs) -> u8 {
    match run_inner(data_dir, a).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn run_inner(data_dir: Option<std::path::PathBuf>, a: ApplyArgs) -> Result<u8, Error> {
    let path = a
        .kubeconfig
        .or_else(super::health::default_kubeconfig)
        .ok_or_else(|| Error::invalid("no kubeconfig: pass --kubeconfig or set KUBECONFIG"))?;
    let manifest = if a.file == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| Error::invalid(format!("reading standard input: {e}")))?;
        s
    } else {
        std::fs::read_to_string(&a.file).map_err(|e| Error::invalid(format!("cannot read {}: {e}", a.file)))?
    };
    let backend = super::open_backend(data_dir).await?;
    if a.dry_run || a.diff {
        let reviews = backend.cluster_apply_review_kubeconfig(&path, &a.contexts, &manifest).await?;
        if a.format == Format::Json {
            print_json(&reviews);
        } else {
            print_review(&reviews, a.diff);
        }
        return Ok(review_exit(&reviews));
    }
    let reason = if a.force_conflicts { a.reason.as_deref() } else { None };
    let results = match backend.cluster_apply_kubeconfig(&path, &a.contexts, &manifest, reason).await {
        Ok(r) => r,
        Err(e) => {
            // Refused after the review: show it, so what is in the way is on screen.
            if matches!(e.code(), ErrorCode::Forbidden | ErrorCode::Conflict) && a.format == Format::Table {
                if let Ok(reviews) = backend.cluster_apply_review_kubeconfig(&path, &a.contexts, &manifest).await {
                    print_review(&reviews, false);
                }
            }
            return Err(e);
        }
    };
    if a.format == Format::Json {
        print_json(&results);
    } else {
        for r in &results {
            outln!("{}: {}", r.context, if r.ok { "ok" } else { "FAILED" });
            if let Some(e) = &r.error {
                outln!("  {e}");
            }
            for o in &r.objects {
                let ns = o.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
                match &o.error {
                    Some(e) => outln!("  {} {ns}{}: failed: {e}", o.kind, o.name),
                    None => outln!("  {} {ns}{}: {}", o.kind, o.name, o.action),
                }
            }
            for ro in &r.rollouts {
                outln!(
                    "  rollout deployment {}/{}: {}/{} updated, {}/{} available{}",
                    ro.namespace,
                    ro.name,
                    ro.updated,
                    ro.desired,
                    ro.available,
                    ro.desired,
                    if ro.done { ", complete" } else { "" }
                );
            }
        }
    }
    Ok(if results.iter().all(|r| r.ok) { exit::OK } else { exit::FAILED })
}

/// Exit code of a review: 0 clean; 1 (FAILED, as a conflict or a refusal by a
/// role) when an object is denied, conflicts or was refused by the dry run;
/// the error's class (unreachable 4, timeout 5, auth 6, ...) when a cluster
/// could not be reviewed at all.
fn review_exit(reviews: &[ClusterReview]) -> u8 {
    if let Some(code) = reviews.iter().find_map(|r| r.error_code) {
        return exit::for_code(code);
    }
    if reviews.iter().all(|r| r.clean) {
        exit::OK
    } else {
        exit::FAILED
    }
}

fn print_review(reviews: &[ClusterReview], diffs: bool) {
    for r in reviews {
        let verdict = if r.clean {
            "clean"
        } else if r.error.is_some() {
            "NOT REVIEWED"
        } else if r.denied {
            "DENIED"
        } else if r.conflicted {
            "CONFLICTS"
        } else {
            "FAILED"
        };
        outln!("{}: {verdict}", r.context);
        if let Some(e) = &r.error {
            outln!("  {e}");
        }
        for o in &r.objects {
            let change = match (o.exists, o.changed()) {
                (Some(false), _) => "create",
                (_, true) => "change",
                (_, false) => "unchanged",
            };
            outln!("  {}: {change}", o.label());
            for c in o.access.iter().filter(|c| !c.allowed) {
                outln!(
                    "    permission denied: {} {}{}",
                    c.verb,
                    c.resource,
                    c.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
                );
            }
            for c in &o.conflicts {
                outln!("    conflict: {} owned by {}", c.field, c.manager);
            }
            if let Some(n) = &o.note {
                outln!("    note: {n}");
            }
            if let Some(e) = &o.error {
                outln!("    error: {e}");
            }
            if diffs && !o.diff.is_empty() {
                for line in o.diff.lines() {
                    outln!("    {line}");
                }
            }
        }
    }
    let conflicted: Vec<&str> = reviews.iter().filter(|r| r.conflicted).map(|r| r.context.as_str()).collect();
    let denied: Vec<&str> = reviews.iter().filter(|r| r.denied).map(|r| r.context.as_str()).collect();
    if !denied.is_empty() {
        outln!("denied on {}: ask for the permissions or leave those contexts out", denied.join(", "));
    }
    if !conflicted.is_empty() {
        outln!(
            "conflicts on {}: remove those fields from the manifest, or take them with --force-conflicts --reason \"...\"",
            conflicted.join(", ")
        );
    }
}
