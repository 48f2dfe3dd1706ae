//! An import that can stop part-way and continue. The import's guarded
//! batches (see [`super::transfer`]) are written as [`super::promote`]
//! writes its batches ([`commit_batch`](super::promote::commit_batch)), and
//! the run keeps an [`ImportReport`]: every committed batch with its etcd
//! revision, the batch whose outcome is unknown (sent, then etcd froze or
//! went away, or the process stopped before the answer), and the exact keys
//! not written with the revision each had when the import was planned.
//!
//! A resume ([`resume`]) takes that report and the same document: it reads
//! the unknown batch back (the outcome-unknown read-back of
//! [`super::outcome`]), checks the committed keys still hold the imported
//! values, and writes the keys not written only while each still has the
//! revision it had at the plan: a key someone else changed since is a
//! conflict, not overwritten.

use std::collections::BTreeSet;

use etcd_client::Client;
use sha2::{Digest, Sha256};

use super::compare::scan;
use super::model::{ImportReport, ImportUnknownBatch};
use super::outcome::{read_back, Found, Intent};
use super::promote::{MovedKey, PromoteAction, PromoteBatch, PromoteItem, PromoteSideName};
use super::transfer::{self, DocValue, Document};
use crate::error::{Error, ErrorCode, Result};

/// What an import report file says it is.
pub const REPORT_KIND: &str = "opsdeck.config.import.report";

/// sha256 (hex) of a document's text.
pub fn digest(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// Parses a report file.
pub fn parse_report(text: &str) -> Result<ImportReport> {
    let r: ImportReport = serde_json::from_str(text).map_err(|e| {
        Error::invalid(format!("not an Opsdeck import report ({e}); give the file an interrupted `opsdeck config import` wrote"))
    })?;
    if r.kind != REPORT_KIND {
        return Err(Error::invalid(format!("report: kind \"{}\" is not {REPORT_KIND}", r.kind)));
    }
    Ok(r)
}

/// The end of a run: the report (always: it lists what landed) and, when a
/// fault stopped the run, that error.
#[derive(Debug)]
pub struct ImportOutcome {
    pub report: ImportReport,
    pub error: Option<Error>,
}

/// A run ready to write: the report so far and the items still to write.
#[derive(Debug)]
pub struct Prepared {
    pub report: ImportReport,
    /// Keys to write, in key order, each guarded by its planned revision.
    pub items: Vec<PromoteItem>,
    /// The previous run's unknown batch, found applied by reading it back
    /// (already in `report.committed`; to be audited).
    pub resolved: Option<PromoteBatch>,
    /// The previous run's unknown batch, found not applied: why.
    pub not_applied: Option<String>,
}

fn item(rel: &str, guard: i64, value: &DocValue) -> PromoteItem {
    PromoteItem {
        rel: rel.to_string(),
        action: if guard == 0 { PromoteAction::Add } else { PromoteAction::Change },
        source_mod_revision: 0,
        target_mod_revision: guard,
        value: Some(value.clone()),
        current: None,
    }
}

fn value_of<'d>(doc: &'d Document, rel: &str) -> Result<&'d DocValue> {
    doc.keys
        .get(rel)
        .ok_or_else(|| Error::invalid(format!("report: key {rel} is not in the document; give the document the import was run with")))
}

/// Counts and completeness from the report's lists.
pub fn tally(report: &mut ImportReport) {
    report.applied = report.committed.iter().map(|b| b.keys.len()).sum();
    report.batches = report.committed.len();
    report.complete = report.unknown.is_none() && report.not_written.is_empty();
}

/// Records a committed batch: its keys leave `not_written` and `guards`.
pub fn record(report: &mut ImportReport, batch: PromoteBatch) {
    let keys: BTreeSet<&str> = batch.keys.iter().map(String::as_str).collect();
    report.not_written.retain(|k| !keys.contains(k.as_str()));
    report.guards.retain(|k, _| !keys.contains(k.as_str()));
    report.written_now += batch.keys.len();
    report.committed.push(batch);
    tally(report);
}

/// The report of an import that has written nothing yet: every planned key
/// not written, each with the revision it is guarded by.
fn fresh_report(
    plan: crate::config::ImportPlan,
    connection: &str,
    prefix: &str,
    document: &str,
    guards: impl Iterator<Item = (String, i64)>,
) -> ImportReport {
    let guards: Vec<(String, i64)> = guards.collect();
    let mut report = ImportReport {
        applied: 0,
        batches: 0,
        plan,
        kind: REPORT_KIND.into(),
        prefix: prefix.into(),
        connection: connection.into(),
        document_sha256: digest(document),
        committed: vec![],
        unknown: None,
        not_written: guards.iter().map(|(k, _)| k.clone()).collect(),
        guards: guards.into_iter().collect(),
        conflicts: vec![],
        changed_since_commit: vec![],
        already_applied: 0,
        read_back: None,
        written_now: 0,
        interrupted: false,
        complete: false,
        error: None,
    };
    tally(&mut report);
    report
}

/// Plans a new import of `document` under `prefix` (every key to create or
/// update, guarded by the revision it has now).
pub async fn start(client: &mut Client, connection: &str, prefix: &str, document: &str) -> Result<Prepared> {
    let doc = transfer::parse(document)?;
    let planned = transfer::plan(client, prefix, &doc).await?;
    let mut items = Vec::with_capacity(planned.writes.len());
    for (rel, _, guard) in &planned.writes {
        items.push(item(rel, *guard, value_of(&doc, rel)?));
    }
    let guards = items.iter().map(|i| (i.rel.clone(), i.target_mod_revision));
    let report = fresh_report(planned.plan, connection, prefix, document, guards);
    Ok(Prepared { report, items, resolved: None, not_applied: None })
}

/// Notes the unknown batch `u` as read back not applied: its keys are
/// written again (against `fenced`, when the read-back rewrote its first key
/// unchanged to fence it). Returns the note.
fn written_again(report: &mut ImportReport, u: &ImportUnknownBatch, first: &str, why: &str, fenced: Option<i64>) -> String {
    if let Some(r) = fenced {
        report.guards.insert(first.to_string(), r);
    }
    report.not_written.extend(u.keys.iter().cloned());
    report.not_written.sort();
    report.not_written.dedup();
    let note = format!("batch {} (outcome unknown) read back: not applied: {why}; its keys are written again", u.index);
    report.read_back = Some(note.clone());
    note
}

/// Continues the import `previous` reports, with the same `document`: the
/// unknown batch is read back, the committed keys are checked, and the keys
/// not written are written only while each still has its planned revision.
pub async fn resume(client: &mut Client, prefix: &str, document: &str, previous: &ImportReport) -> Result<Prepared> {
    if previous.kind != REPORT_KIND {
        return Err(Error::invalid(format!("report: kind \"{}\" is not {REPORT_KIND}", previous.kind)));
    }
    if previous.prefix != prefix {
        return Err(Error::invalid(format!(
            "report: it is of an import under {}, not {prefix}; give the same prefix, or no report to start a new import",
            previous.prefix
        )));
    }
    if previous.document_sha256 != digest(document) {
        return Err(Error::invalid(
            "report: it is of another document (its sha256 differs): give the document the interrupted import was run with, or no report to start a new import",
        ));
    }
    let doc = transfer::parse(document)?;
    let mut report = previous.clone();
    report.conflicts.clear();
    report.changed_since_commit.clear();
    report.written_now = 0;
    report.interrupted = false;
    report.error = None;
    report.read_back = None;
    report.already_applied = report.committed.iter().map(|b| b.keys.len()).sum();

    let mut resolved = None;
    let mut not_applied = None;
    if let Some(u) = report.unknown.take() {
        let first = u.keys.first().ok_or_else(|| Error::invalid("report: its unknown batch lists no keys"))?;
        let guard = report.guards.get(first).copied().unwrap_or(0);
        let value = value_of(&doc, first)?.bytes(first)?;
        match read_back(client, &format!("{prefix}{first}"), Intent::Put(&value), guard).await {
            Found::Applied { revision, why, .. } => {
                let adds = u.keys.iter().filter(|k| report.guards.get(*k).copied().unwrap_or(0) == 0).count();
                let batch = PromoteBatch {
                    index: report.committed.len() + 1,
                    revision,
                    committed_at: crate::cache::db::now_rfc3339(),
                    adds,
                    changes: u.keys.len() - adds,
                    removes: 0,
                    keys: u.keys.clone(),
                    recovered: Some(format!("its outcome was unknown ({}); read back at the resume: applied: {why}", u.why)),
                };
                report.read_back = Some(format!("batch {} (outcome unknown) read back: applied at revision {revision}: {why}", u.index));
                record(&mut report, batch.clone());
                report.written_now = 0;
                resolved = Some(batch);
            }
            Found::NotApplied { why, fenced } => not_applied = Some(written_again(&mut report, &u, first, &why, fenced)),
            // A create still absent: written again under the same guards, so of
            // the lost batch and this one only one can land.
            Found::StillAbsent { why } => {
                let why = format!(
                    "not applied so far ({why}); its keys are written again under the same guards, so only one of the two can land"
                );
                not_applied = Some(written_again(&mut report, &u, first, &why, None));
            }
            Found::Unknown { why } => {
                let message = format!(
                    "outcome unknown: batch {} ({} keys, first {prefix}{first}) is still unknown: {why}. Resume again once etcd answers",
                    u.index,
                    u.keys.len()
                );
                report.unknown = Some(u);
                return Err(Error::Remote {
                    code: ErrorCode::OutcomeUnknown,
                    message,
                    source: Box::new(Error::invalid("read-back at resume")),
                });
            }
        }
    }

    // What etcd holds now, for the committed keys and the keys still to write.
    let (now, _) = scan(client, prefix).await?;
    for batch in &report.committed {
        for rel in &batch.keys {
            let want = value_of(&doc, rel)?.bytes(rel)?;
            let held = now.get(rel);
            if held.map(|(v, _)| v) != Some(&want) {
                report.changed_since_commit.push(MovedKey {
                    rel: rel.clone(),
                    side: PromoteSideName::Target,
                    key: format!("{prefix}{rel}"),
                    reviewed_mod_revision: batch.revision,
                    mod_revision_now: held.map(|(_, r)| *r).unwrap_or(0),
                });
            }
        }
    }
    let mut items = Vec::new();
    for rel in &report.not_written {
        let guard = report.guards.get(rel).copied().ok_or_else(|| Error::invalid(format!("report: no planned revision for {rel}")))?;
        let rev_now = now.get(rel).map(|(_, r)| *r).unwrap_or(0);
        if rev_now != guard {
            report.conflicts.push(MovedKey {
                rel: rel.clone(),
                side: PromoteSideName::Target,
                key: format!("{prefix}{rel}"),
                reviewed_mod_revision: guard,
                mod_revision_now: rev_now,
            });
        } else {
            items.push(item(rel, guard, value_of(&doc, rel)?));
        }
    }
    tally(&mut report);
    Ok(Prepared { report, items, resolved, not_applied })
}

/// First … last of a batch's keys (for its audit entry).
pub fn key_range(keys: &[String]) -> String {
    match (keys.first(), keys.last()) {
        (Some(a), Some(b)) if a != b => format!("{a} … {b}"),
        (Some(a), _) => a.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ImportPlan;

    fn report(keys: &[&str]) -> ImportReport {
        let plan = ImportPlan { creates: keys.iter().map(|k| k.to_string()).collect(), updates: vec![], unchanged: 0, total: keys.len() };
        fresh_report(plan, "c", "/p/", "doc", keys.iter().map(|k| (k.to_string(), 0)))
    }

    fn batch(index: usize, keys: &[&str]) -> PromoteBatch {
        PromoteBatch {
            index,
            revision: 10 + index as i64,
            committed_at: String::new(),
            adds: keys.len(),
            changes: 0,
            removes: 0,
            keys: keys.iter().map(|k| k.to_string()).collect(),
            recovered: None,
        }
    }

    #[test]
    fn committed_batches_leave_the_keys_not_written_and_complete_the_report() {
        let mut r = report(&["a", "b", "c"]);
        record(&mut r, batch(1, &["a", "b"]));
        assert_eq!((r.applied, r.batches, r.written_now, r.complete), (2, 1, 2, false));
        assert_eq!(r.not_written, ["c"]);
        assert_eq!(r.guards.keys().collect::<Vec<_>>(), ["c"]);
        r.unknown = Some(ImportUnknownBatch { index: 2, keys: vec!["c".into()], why: "sent".into() });
        r.not_written.clear();
        tally(&mut r);
        assert!(!r.complete, "a batch whose outcome is unknown keeps it incomplete");
        r.unknown = None;
        record(&mut r, batch(2, &["c"]));
        assert!(r.complete && r.guards.is_empty());
        assert_eq!(key_range(&r.committed[0].keys), "a … b");
        assert_eq!(key_range(&r.committed[1].keys), "c");
    }

    #[test]
    fn a_report_file_round_trips_and_others_are_refused() {
        let mut r = report(&["a"]);
        record(&mut r, batch(1, &["a"]));
        let text = serde_json::to_string_pretty(&r).unwrap();
        assert_eq!(parse_report(&text).unwrap(), r);
        let e = parse_report(&text.replace(REPORT_KIND, "opsdeck.config.promote.report")).unwrap_err().to_string();
        assert!(e.contains("is not opsdeck.config.import.report"), "{e}");
        let e = parse_report("{}").unwrap_err().to_string();
        assert!(e.contains("not an Opsdeck import report"), "{e}");
        assert_ne!(digest("doc"), digest("doc "), "a changed document is another document");
    }
}
