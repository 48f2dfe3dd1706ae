//! `opsdeck config import PREFIX FILE`: write a document's keys under a
//! prefix in guarded transactions, with a report that says exactly what was
//! written when the run stops part-way (SIGINT/SIGTERM after the batch in
//! flight, or etcd gone, frozen or cut off), and `--resume REPORT` to
//! continue from it.
//!
//! ```text
//! opsdeck config import /app/ export.json                  # report: export.report.json
//! opsdeck config import /app/ export.json --resume export.report.json
//! ```

use std::path::{Path, PathBuf};

use clap::Args;
use opsdeck_core::backend::EtcdSession;
use opsdeck_core::config::import_run::{key_range, parse_report, ImportOutcome};
use opsdeck_core::config::{ImportReport, MAX_TXN_OPS};
use opsdeck_core::{Backend, Error};
use tokio_util::sync::CancellationToken;

use super::config_promote::write_atomic;
use crate::exit;
use crate::output::{errln, fail, outln, print_json, Format};

#[derive(Debug, Args)]
pub struct ImportArgs {
    prefix: String,
    /// The document (an `opsdeck config export`), or "-" for standard input.
    file: String,
    /// Show what would be created or updated; write nothing.
    #[arg(long, conflicts_with = "resume")]
    dry_run: bool,
    #[arg(long, default_value = "")]
    comment: String,
    /// Continue the import this report (written by an interrupted run) describes,
    /// with the same document: the batch whose outcome was unknown is read back,
    /// committed keys are checked, the rest is written, guarded by the revisions
    /// of the original plan (a key changed since is a conflict, not overwritten).
    #[arg(long, value_name = "REPORT")]
    resume: Option<PathBuf>,
    /// Where the report goes (default: the --resume file, else FILE's name with
    /// .report.json, or import.report.json for standard input). It is kept up
    /// to date while an import of more than one transaction runs, and written
    /// whenever a run ends incomplete.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Operations per transaction (etcd's --max-txn-ops; default 128).
    #[arg(long, default_value_t = MAX_TXN_OPS, value_name = "N")]
    max_ops: usize,
    /// Output of the report on standard output when the run stops early.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also check every value against this JSON Schema (on top of the team
    /// store's per-prefix schemas); a failing value refuses the whole import.
    #[arg(long, value_name = "FILE")]
    schema: Option<String>,
}

fn default_report(file: &str) -> PathBuf {
    if file == "-" {
        return PathBuf::from("import.report.json");
    }
    let path = Path::new(file);
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "import".into());
    path.with_file_name(format!("{stem}.report.json"))
}

fn read_report(path: &Path) -> Result<Option<ImportReport>, Error> {
    match std::fs::read_to_string(path) {
        Ok(t) => parse_report(&t).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::invalid(format!("cannot read the report {}: {e}", path.display()))),
    }
}

fn save(path: &Path, report: &ImportReport) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(report).map_err(|e| Error::Internal(format!("cannot serialise the report: {e}")))?;
    write_atomic(path, &text)
}

pub async fn run(b: &Backend, s: &EtcdSession, args: ImportArgs) -> Result<u8, Error> {
    let with_schema;
    let s = match &args.schema {
        Some(f) => {
            with_schema = s.clone().with_schema_file(f)?;
            &with_schema
        }
        None => s,
    };
    let doc = if args.file == "-" {
        super::config::read_input("-")?
    } else {
        std::fs::read_to_string(&args.file).map_err(|e| Error::invalid(format!("cannot read {}: {e}", args.file)))?
    };
    let prefix = &args.prefix;
    if args.dry_run {
        let plan = b.config_import_preview(s, prefix, &doc).await?;
        for k in &plan.creates {
            outln!("+ {prefix}{k}");
        }
        for k in &plan.updates {
            outln!("~ {prefix}{k}");
        }
        errln!(
            "{} to create, {} to update, {} unchanged (dry run: nothing written)",
            plan.creates.len(),
            plan.updates.len(),
            plan.unchanged
        );
        return Ok(exit::OK);
    }
    let explicit = args.report.is_some() || args.resume.is_some();
    let report_path = args.report.clone().or_else(|| args.resume.clone()).unwrap_or_else(|| default_report(&args.file));
    let previous = match &args.resume {
        Some(p) => Some(read_report(p)?.ok_or_else(|| Error::invalid(format!("--resume {}: no such report", p.display())))?),
        None => {
            // Never overwrite the report of an interrupted import by accident.
            if let Ok(Some(r)) = read_report(&report_path) {
                if !r.complete {
                    return Err(Error::invalid(format!(
                        "{} is the report of an unfinished import under {} ({} of {} keys written): continue it with --resume {}, or delete it (or give --report OTHER) to start a new import",
                        report_path.display(),
                        r.prefix,
                        r.applied,
                        r.applied + r.not_written.len() + r.unknown.as_ref().map(|u| u.keys.len()).unwrap_or(0),
                        report_path.display()
                    )));
                }
            }
            None
        }
    };
    if let Some(p) = &previous {
        errln!("resuming from {}: {} batch(es), {} keys already committed", report_path.display(), p.committed.len(), p.applied);
    }
    let stop = CancellationToken::new();
    let watcher = crate::stop::watch(
        stop.clone(),
        "stopping after the batch in flight (signal again to stop at once: the report then lists that batch as unknown)",
        crate::stop::Again::Exit("stopped again: exiting now; the report lists the batch in flight as unknown (a resume reads it back)"),
    );
    let max_ops = args.max_ops.max(1);
    let progress_path = report_path.clone();
    let last = std::cell::Cell::new(previous.as_ref().map(|p| p.committed.len()).unwrap_or(0));
    let result = b
        .config_import_run(s, prefix, &doc, previous.as_ref(), max_ops, &args.comment, Some(&stop), |report| {
            let keys = report.plan.creates.len() + report.plan.updates.len();
            if explicit || keys > max_ops {
                if let Err(e) = save(&progress_path, report) {
                    errln!("warning: {e}");
                }
            }
            if report.committed.len() > last.get() {
                last.set(report.committed.len());
                if let Some(b) = report.committed.last() {
                    errln!("batch {} committed at revision {} ({}/{} keys)", b.index, b.revision, report.applied, keys);
                }
            }
        })
        .await;
    let signal = watcher.finish();
    let ImportOutcome { report, error } = result?;
    if let Some(note) = &report.read_back {
        errln!("{note}");
    }
    let keys = report.plan.creates.len() + report.plan.updates.len();
    if explicit || keys > max_ops || !report.complete {
        save(&report_path, &report)?;
    }
    let code = if let Some(e) = &error {
        exit::for_error(e)
    } else if report.interrupted {
        signal.unwrap_or(exit::STOPPED)
    } else if !report.conflicts.is_empty() {
        exit::FAILED
    } else {
        exit::OK
    };
    if report.complete && report.conflicts.is_empty() {
        if previous.is_some() && report.written_now == 0 {
            outln!("nothing to do: the import is complete ({} keys in {} transaction(s)); nothing written", report.applied, report.batches);
        } else {
            outln!("imported {} keys in {} transaction(s) ({} unchanged)", report.applied, report.batches, report.plan.unchanged);
        }
        print_changed_since_commit(&report);
        return Ok(code);
    }
    if args.format == Format::Json {
        print_json(&report);
    } else {
        print_report(&report);
    }
    print_changed_since_commit(&report);
    let why = match (&error, report.interrupted) {
        (Some(e), _) => {
            let _ = fail(e);
            "stopped by the error above".to_string()
        }
        (None, true) => "interrupted (SIGINT/SIGTERM) after the batch in flight".to_string(),
        (None, false) => format!("{} key(s) changed by someone else since the plan were not written", report.conflicts.len()),
    };
    errln!(
        "import {why}: {} of {} keys written in {} transaction(s){}; {} not written{}; report: {}",
        report.applied,
        keys,
        report.batches,
        if report.already_applied > 0 { format!(" ({} by an earlier run)", report.already_applied) } else { String::new() },
        report.not_written.len(),
        report.unknown.as_ref().map(|u| format!(", {} in batch {} whose outcome is unknown", u.keys.len(), u.index)).unwrap_or_default(),
        report_path.display()
    );
    if !report.conflicts.is_empty() {
        errln!("conflict: changed by someone else since the import was planned (not overwritten; import again to plan with their values):");
        for m in &report.conflicts {
            errln!("  {} (planned at {}, now {})", m.key, revision_text(m.reviewed_mod_revision), revision_text(m.mod_revision_now));
        }
    }
    if !report.not_written.is_empty() || report.unknown.is_some() {
        errln!("continue with: opsdeck config import {prefix} {} --resume {}", args.file, report_path.display());
    }
    Ok(code)
}

fn revision_text(rev: i64) -> String {
    if rev == 0 {
        "absent".into()
    } else {
        format!("mod_revision {rev}")
    }
}

/// Committed batches, the unknown one, and every key not written (one line each).
fn print_report(report: &ImportReport) {
    let prefix = &report.prefix;
    for b in &report.committed {
        outln!(
            "committed: batch {} at revision {}: {} keys ({} created, {} updated), {}{}",
            b.index,
            b.revision,
            b.keys.len(),
            b.adds,
            b.changes,
            key_range(&b.keys),
            if b.recovered.is_some() { " (answer lost; read back: applied)" } else { "" }
        );
    }
    if let Some(u) = &report.unknown {
        outln!("unknown: batch {}: {} keys, {}: {}", u.index, u.keys.len(), key_range(&u.keys), u.why);
    }
    for k in &report.not_written {
        outln!("not written: {prefix}{k}");
    }
}

fn print_changed_since_commit(report: &ImportReport) {
    if report.changed_since_commit.is_empty() {
        return;
    }
    errln!("note: these committed keys no longer hold the imported value (changed since; not rewritten):");
    for m in &report.changed_since_commit {
        errln!("  {} (committed at revision {}, now {})", m.key, m.reviewed_mod_revision, revision_text(m.mod_revision_now));
    }
}
