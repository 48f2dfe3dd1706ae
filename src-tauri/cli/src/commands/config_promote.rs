//! `opsdeck config promote`: plan a promotion between two saved etcd
//! connections into a file, review it, then apply exactly that plan.
//!
//! ```text
//! opsdeck config promote --from dev:/app/ --to prod:/app/ --plan plan.json
//! opsdeck config promote --apply plan.json [--select KEY…] [--with-removes]
//! ```
//!
//! Apply writes its report next to the plan (`plan.report.json`, or
//! `--report FILE`) after every committed batch; running it again with that
//! report skips what already landed. Into a protected prefix (the target's
//! team store), apply writes nothing: it files the reviewed plan as a change
//! request, published once another person approves it.

use std::path::{Path, PathBuf};

use clap::Args;
use opsdeck_core::config::promote::{PromoteAction, PromotePlan, PromoteReport, PromoteSelection, PromoteSideName};
use opsdeck_core::config::transfer::DocValue;
use opsdeck_core::config::MAX_TXN_OPS;
use opsdeck_core::{Backend, Error};

use crate::exit;
use crate::output::{errln, fail, outln, print_json, Format};

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// Source: a saved etcd connection and a prefix, CONNECTION:/prefix/.
    #[arg(long, requires_all = ["to", "plan"], conflicts_with = "apply")]
    from: Option<String>,
    /// Target: CONNECTION:/prefix/ (usually another etcd cluster).
    #[arg(long, requires_all = ["from", "plan"])]
    to: Option<String>,
    /// Write the plan (JSON; binary values as {"base64": "…"}) to this file.
    #[arg(long, value_name = "FILE", requires = "from")]
    plan: Option<PathBuf>,
    /// Apply this plan exactly as reviewed (guarded by the revisions it records).
    #[arg(long, value_name = "PLAN", required_unless_present = "from")]
    apply: Option<PathBuf>,
    /// Apply only these keys (relative to the prefixes, or full keys); repeat.
    /// Removes in the plan are applied only when selected (or --with-removes).
    #[arg(long, num_args = 1.., value_name = "KEY", requires = "apply")]
    select: Vec<String>,
    /// Without --select: also delete the target keys the source does not have.
    #[arg(long, requires = "apply", conflicts_with = "select")]
    with_removes: bool,
    /// The report file (default: the plan's name with .report.json); when it
    /// exists, the apply resumes after the batches it lists.
    #[arg(long, value_name = "FILE", requires = "apply")]
    report: Option<PathBuf>,
    /// Operations per transaction (etcd's --max-txn-ops; default 128).
    #[arg(long, default_value_t = MAX_TXN_OPS, value_name = "N")]
    max_ops: usize,
    #[arg(long, default_value = "")]
    comment: String,
    /// Output of the plan summary / the report on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also check every value written to the target against this JSON Schema
    /// (on top of the target's per-prefix schemas); a failing value refuses the apply.
    #[arg(long, value_name = "FILE", requires = "apply")]
    schema: Option<String>,
}

fn side(arg: &str, flag: &str) -> Result<(String, String), Error> {
    match arg.split_once(':') {
        Some((conn, prefix)) if !conn.is_empty() && !prefix.is_empty() => Ok((conn.to_string(), prefix.to_string())),
        _ => Err(Error::invalid(format!("{flag} {arg}: write CONNECTION:/prefix/ (a saved etcd connection, then the prefix)"))),
    }
}

/// Writes `text` to `path` through a temporary file, so a reader never sees half of it.
pub(super) fn write_atomic(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Error::invalid(format!("cannot write {}: {e}", path.display())))
}

fn default_report(plan: &Path) -> PathBuf {
    let stem = plan.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "plan".into());
    plan.with_file_name(format!("{stem}.report.json"))
}

/// A value for review: text as it is, bytes as their base64 with a marker.
fn shown(v: &DocValue) -> String {
    const MAX: usize = 2000;
    let text = match v {
        DocValue::Text(t) => t.clone(),
        DocValue::Binary { base64 } => format!("(binary) base64:{base64}"),
    };
    if text.len() > MAX {
        let cut = (0..=MAX).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        format!("{}… ({} bytes; the plan file has all of it)", &text[..cut], text.len())
    } else {
        text
    }
}

fn print_value(mark: char, v: &DocValue) {
    for line in shown(v).split('\n') {
        outln!("    {mark} {line}");
    }
}

fn print_plan(plan: &PromotePlan) {
    for item in &plan.items {
        match item.action {
            PromoteAction::Add => outln!("+ {} (new in {})", item.rel, plan.to.connection),
            PromoteAction::Change => outln!("~ {}", item.rel),
            PromoteAction::Remove => {
                outln!("- {} (only in {}; deleted only with --select or --with-removes)", item.rel, plan.to.connection)
            }
        }
        if let Some(c) = &item.current {
            print_value('-', c);
        }
        if let Some(v) = &item.value {
            print_value('+', v);
        }
    }
}

pub async fn run(b: &Backend, args: PromoteArgs) -> Result<u8, Error> {
    match (&args.apply, &args.from, &args.to, &args.plan) {
        (Some(plan), _, _, _) => Box::pin(apply(b, plan, &args)).await,
        (None, Some(from), Some(to), Some(file)) => Box::pin(make_plan(b, from, to, file, args.format)).await,
        _ => Err(Error::invalid("give --from CONN:/prefix/ --to CONN:/prefix/ --plan FILE, or --apply FILE")),
    }
}

async fn session(b: &Backend, name: &str) -> Result<opsdeck_core::backend::EtcdSession, Error> {
    let c = b.find_connection(name).await?;
    b.etcd_session(&c.id).await
}

async fn make_plan(b: &Backend, from: &str, to: &str, file: &Path, format: Format) -> Result<u8, Error> {
    let (from_conn, from_prefix) = side(from, "--from")?;
    let (to_conn, to_prefix) = side(to, "--to")?;
    let source = session(b, &from_conn).await?;
    let target = session(b, &to_conn).await?;
    let plan = b.config_promote_plan(&source, &from_prefix, &target, &to_prefix).await?;
    let text = serde_json::to_string_pretty(&plan).map_err(|e| Error::Internal(format!("cannot serialise the plan: {e}")))?;
    write_atomic(file, &text)?;
    if format == Format::Json {
        print_json(&plan);
    } else {
        print_plan(&plan);
    }
    let count = |a| plan.items.iter().filter(|i| i.action == a).count();
    errln!(
        "plan written to {}: {} to add, {} to change, {} only in the target (removed only when chosen), {} unchanged; review it, then: opsdeck config promote --apply {}",
        file.display(),
        count(PromoteAction::Add),
        count(PromoteAction::Change),
        count(PromoteAction::Remove),
        plan.unchanged,
        file.display()
    );
    Ok(exit::OK)
}

async fn apply(b: &Backend, file: &Path, args: &PromoteArgs) -> Result<u8, Error> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::invalid(format!("cannot read the plan {}: {e}", file.display())))?;
    let plan = PromotePlan::parse(&text)?;
    let report_path = args.report.clone().unwrap_or_else(|| default_report(file));
    let previous = match std::fs::read_to_string(&report_path) {
        Ok(t) => Some(PromoteReport::parse(&t, &plan)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::invalid(format!("cannot read the report {}: {e}", report_path.display()))),
    };
    if let Some(p) = &previous {
        errln!("resuming from {}: {} batch(es) already committed", report_path.display(), p.batches.len());
    }
    let source = session(b, &plan.from.connection).await?;
    let mut target = session(b, &plan.to.connection).await?;
    if let Some(f) = &args.schema {
        target = target.with_schema_file(f)?;
    }
    let selection = PromoteSelection { keys: args.select.clone(), with_removes: args.with_removes };
    let protected = b.config_promote_protected(&target, &plan, &selection).await?;
    if !protected.is_empty() {
        // Into a protected prefix: the reviewed plan becomes a change request.
        let c = b.config_promote_propose(&source, &target, &plan, &selection, &args.comment).await?;
        if args.format == Format::Json {
            print_json(&c);
        } else {
            outln!("{}", c.id);
        }
        errln!(
            "{} is under the protected prefix {}: nothing written; filed change {} of {} key(s) with the reviewed values and revisions.\n\
             Another person reviews and approves it (opsdeck config --connection {} review {} / approve {}), then a publisher \
             publishes it (… publish ID); a key changed since the review makes it stale, and nothing is written.",
            plan.to.label(),
            protected.join(", "),
            c.id,
            c.ops.len(),
            plan.to.connection,
            c.id,
            c.id
        );
        return Ok(exit::OK);
    }
    let progress_path = report_path.clone();
    let outcome = Box::pin(b.config_promote_apply(
        &source,
        &target,
        &plan,
        &selection,
        previous.as_ref(),
        args.max_ops,
        &args.comment,
        move |report, p| {
            if let Ok(text) = serde_json::to_string_pretty(report) {
                if let Err(e) = write_atomic(&progress_path, &text) {
                    errln!("warning: {e}");
                }
            }
            let last = report.batches.last().map(|b| b.revision).unwrap_or(0);
            errln!("batch {}/{} committed at revision {last} ({}/{} keys)", p.batch, p.batches, p.applied, p.items);
        },
    ))
    .await?;
    let mut report = outcome.report;
    if let Some(e) = &outcome.error {
        report.error = Some(e.to_string());
    }
    let text = serde_json::to_string_pretty(&report).map_err(|e| Error::Internal(format!("cannot serialise the report: {e}")))?;
    write_atomic(&report_path, &text)?;
    if args.format == Format::Json {
        print_json(&report);
    } else {
        for batch in &report.batches {
            outln!(
                "batch {}: revision {}: {} added, {} changed, {} removed{}",
                batch.index,
                batch.revision,
                batch.adds,
                batch.changes,
                batch.removes,
                if batch.recovered.is_some() { " (answer lost; read back: applied)" } else { "" }
            );
        }
    }
    let written: usize = report.batches.iter().map(|b| b.keys.len()).sum();
    errln!(
        "{written} of {} selected keys applied in {} transaction(s){}; report: {}",
        report.selected,
        report.batches.len(),
        if report.already_applied > 0 { format!(" ({} by an earlier run)", report.already_applied) } else { String::new() },
        report_path.display()
    );
    if !report.not_selected.is_empty() {
        errln!("not selected: {}", report.not_selected.join(", "));
    }
    if !report.changed_since_review.is_empty() {
        errln!("conflict: these keys changed since the review, so the promotion stopped (nothing of that batch was written):");
        for m in &report.changed_since_review {
            let side = match m.side {
                PromoteSideName::Source => &plan.from.connection,
                PromoteSideName::Target => &plan.to.connection,
            };
            let now =
                if m.mod_revision_now == 0 { "now absent".to_string() } else { format!("now at mod_revision {}", m.mod_revision_now) };
            let then =
                if m.reviewed_mod_revision == 0 { "absent".to_string() } else { format!("mod_revision {}", m.reviewed_mod_revision) };
            errln!("  {side}: {} (reviewed {then}, {now})", m.key);
        }
        errln!("not applied: {}; plan again to review the new values", report.not_applied.join(", "));
        return Ok(exit::FAILED);
    }
    if let Some(e) = outcome.error {
        if !report.not_applied.is_empty() {
            errln!("not applied: {}; run the same --apply again to resume", report.not_applied.join(", "));
        }
        return Ok(fail(&e));
    }
    Ok(exit::OK)
}
