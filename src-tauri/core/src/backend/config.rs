//! The Config workspace on the backend: etcd sessions per connection and the
//! config operations, with every write audited (who, key, old/new revision,
//! comment).

use etcd_client::Client;

use super::Backend;
use crate::cache::audit::AuditFilter;
use crate::config::format::ValueFormat;
use crate::config::import_run::{self, ImportOutcome};
use crate::config::promote::{
    self, BatchOutcome, PromoteItem, PromoteOutcome, PromotePlan, PromoteProgress, PromoteReport, PromoteSelection, PromoteSideName,
};
use crate::config::search::{SearchEvent, SearchHandle, SearchMode};
use crate::config::transfer::DocFormat;
use crate::config::watch::{WatchEvent, WatchHandle};
use crate::config::MAX_TXN_OPS;
use crate::config::{self as cfg, write::check_value};
use crate::config::{
    CopyItem, CopyReport, DeletePreview, History, ImportPlan, ImportReport, ImportUnknownBatch, KeyValue, PrefixDiff, TreeEntry, TreePage,
    WriteResult,
};
use crate::connections::ConnectionSpec;
use crate::connectors::etcd::EtcdTarget;
use crate::error::{Error, ErrorCode, Result};
use tokio_util::sync::CancellationToken;

/// A connected etcd client and how to name it in the audit log.
#[derive(Clone)]
pub struct EtcdSession {
    /// Connection name (or the endpoints of an ad-hoc CLI target).
    pub label: String,
    user: Option<String>,
    client: Client,
    /// The team root whose `config/schemas/` governs this etcd's values.
    pub(super) schema_root: String,
    /// A command-line schema (`--schema FILE`): every key written.
    pub(super) local_schema: Option<crate::config::schema::Schema>,
    /// The saved connection (None: CLI flags): what the local cache is kept under.
    connection_id: Option<String>,
}

impl EtcdSession {
    /// An ad-hoc session (CLI flags rather than a saved profile).
    pub async fn connect(target: &EtcdTarget<'_>) -> Result<EtcdSession> {
        let client = target.connect().await?;
        Ok(EtcdSession {
            label: target.endpoints.join(","),
            user: target.username.map(String::from),
            client,
            schema_root: crate::team::DEFAULT_ROOT.into(),
            local_schema: None,
            connection_id: None,
        })
    }

    /// Names the connection and user in denials, so the user knows whose role to fix.
    pub(super) fn context<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| match e {
            Error::Forbidden(m) => {
                Error::Forbidden(format!("{m} (user \"{}\" on connection \"{}\")", self.user.as_deref().unwrap_or("none"), self.label))
            }
            other => other,
        })
    }

    pub(super) fn client(&self) -> Client {
        self.client.clone()
    }

    /// The client and the authenticated user (for the VM request store).
    pub(super) fn parts(&self) -> (Client, Option<String>) {
        (self.client.clone(), self.user.clone())
    }
}

/// Refuses a plan that is not one, or made for other connections than `from` and `to`.
pub(super) fn check_plan_sessions(from: &EtcdSession, to: &EtcdSession, plan: &PromotePlan) -> Result<()> {
    plan.check()?;
    for (session, side, name) in [(from, &plan.from, "--from"), (to, &plan.to, "--to")] {
        if session.label != side.connection {
            return Err(Error::invalid(format!(
                "plan: its {name} connection is \"{}\", not \"{}\"; apply it with the connections it was made for, or plan again",
                side.connection, session.label
            )));
        }
    }
    Ok(())
}

fn comment_of(comment: &str) -> Result<String> {
    let c = comment.trim();
    if c.len() > 1000 {
        return Err(Error::invalid("comment: at most 1000 characters"));
    }
    Ok(c.to_string())
}

fn outcome(label: &str, what: String, comment: &str) -> String {
    let mut d = format!("on {label}: {what}");
    if !comment.is_empty() {
        d.push_str(&format!("; comment: {comment}"));
    }
    d
}

impl Backend {
    /// A session for a saved etcd connection (the client is reused).
    pub async fn etcd_session(&self, connection_id: &str) -> Result<EtcdSession> {
        let stored = crate::connections::store::get(&self.db, connection_id).await?;
        let c = stored.connection;
        let ConnectionSpec::Etcd { endpoints, tls, username, .. } = &c.spec else {
            return Err(Error::invalid(format!("connection \"{}\" is not an etcd connection", c.name)));
        };
        let schema_root = self.team_root_for(connection_id).await?;
        if let Some(client) = self.etcd_clients.lock().ok().and_then(|m| m.get(connection_id).cloned()) {
            let connection_id = Some(c.id);
            return Ok(EtcdSession { label: c.name, user: username.clone(), client, schema_root, local_schema: None, connection_id });
        }
        let secret = match &stored.secret_ref {
            Some(account) => self.keychain.get(account).await?,
            None => None,
        };
        let target = EtcdTarget::new(endpoints, tls.as_ref(), username.as_deref(), secret.as_ref());
        let client =
            crate::error::with_timeout(format!("etcd {}", c.name), crate::connectors::etcd::CONNECT_TIMEOUT * 3, target.connect()).await?;
        if let Ok(mut m) = self.etcd_clients.lock() {
            m.insert(connection_id.to_string(), client.clone());
        }
        Ok(EtcdSession { label: c.name, user: username.clone(), client, schema_root, local_schema: None, connection_id: Some(c.id) })
    }

    /// A page of the tree; a first page reads first up to where it ended on
    /// the last visit (remembered per connection and prefix), so it costs
    /// about one screen of keys however many the prefix holds.
    /// The bound is kept in memory and, for a saved connection, in the local
    /// cache (so it outlives a restart).
    pub async fn config_tree(&self, s: &EtcdSession, prefix: &str, cursor: Option<&str>, limit: i64) -> Result<TreePage> {
        use crate::cache::snapshots;
        use crate::config::window::{self, FirstScreen};
        if cursor.is_some() {
            return s.context(cfg::tree::children(&mut s.client(), prefix, cursor, limit).await);
        }
        let scope = match &s.connection_id {
            Some(id) => id.clone(),
            None => format!("flags:{}", s.label),
        };
        let cached = format!("config.first_screen:{prefix}");
        let mut screen = window::recall(&scope, prefix);
        if screen.is_none() {
            if let Some(id) = &s.connection_id {
                // A cache is never a reason to fail: a miss reads the whole prefix.
                screen = snapshots::get::<FirstScreen>(&self.db, id, &cached).await.ok().flatten().map(|s| s.payload);
            }
        }
        let (page, next) = s.context(cfg::tree::children_from(&mut s.client(), prefix, cursor, limit, screen.clone()).await)?;
        if next != screen {
            if let (Some(id), Some(n)) = (&s.connection_id, &next) {
                if let Err(e) = snapshots::put(&self.db, id, &cached, n).await {
                    tracing::warn!("config tree: cannot cache where the first screen of {prefix} ends: {e}");
                }
            }
        }
        window::remember(&scope, prefix, next);
        Ok(page)
    }

    pub async fn config_count(&self, s: &EtcdSession, prefix: &str) -> Result<i64> {
        s.context(cfg::tree::count(&mut s.client(), prefix).await)
    }

    pub async fn config_search(&self, s: &EtcdSession, prefix: &str, text: &str, limit: usize) -> Result<Vec<TreeEntry>> {
        s.context(cfg::tree::search(&mut s.client(), prefix, text, limit).await)
    }

    /// Searches key names and values under `prefix` for `text` (as typed, or
    /// fuzzy), in pages, with hits streamed to `on_event`; dropping the handle
    /// stops the scan.
    pub fn config_value_search(
        &self,
        s: &EtcdSession,
        prefix: &str,
        text: &str,
        mode: SearchMode,
        limit: usize,
        on_event: impl Fn(SearchEvent) + Send + Sync + 'static,
    ) -> Result<SearchHandle> {
        cfg::search::search_with(&s.client, prefix, text, mode, limit, on_event)
    }

    pub async fn config_get(&self, s: &EtcdSession, key: &str) -> Result<KeyValue> {
        s.context(cfg::read::get(&mut s.client(), key).await)
    }

    /// The value's bytes as stored (for `config get --raw`).
    pub async fn config_get_bytes(&self, s: &EtcdSession, key: &str) -> Result<Vec<u8>> {
        s.context(cfg::read::get_bytes(&mut s.client(), key).await)
    }

    async fn audited_write(
        &self,
        s: &EtcdSession,
        key: &str,
        action: &str,
        expected: i64,
        comment: &str,
        result: Result<WriteResult>,
    ) -> Result<WriteResult> {
        let summary = match &result {
            Ok(WriteResult::Written { revision, recovered, .. }) => {
                let after_fault = recovered.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
                Ok(outcome(&s.label, format!("mod_revision {expected} → {revision}{after_fault}"), comment))
            }
            Ok(WriteResult::Conflict { current }) => Err(Error::invalid(outcome(
                &s.label,
                match current {
                    Some(c) => format!("conflict: expected mod_revision {expected}, found {}; nothing written", c.meta.mod_revision),
                    None => format!("conflict: expected mod_revision {expected}, the key was deleted; nothing written"),
                },
                comment,
            ))),
            Err(e) => Err(Error::Internal(outcome(&s.label, e.to_string(), comment))),
        };
        match &summary {
            Ok(d) => self.audit("etcd", key, action, Ok(d.clone())).await,
            Err(e) => self.audit("etcd", key, action, Err(e)).await,
        }
        result
    }

    /// Guarded put: written only if the key's mod_revision is still `expected`
    /// (0 = create only if absent).
    #[allow(clippy::too_many_arguments)]
    pub async fn config_put(
        &self,
        s: &EtcdSession,
        key: &str,
        value: &str,
        expected: i64,
        format: ValueFormat,
        allow_invalid: bool,
        comment: &str,
    ) -> Result<WriteResult> {
        let comment = comment_of(comment)?;
        if format == ValueFormat::Binary {
            // The text of a binary value is its base64 rendering: writing it
            // would replace the bytes with that text.
            return Err(Error::invalid(
                "a binary value cannot be saved from its text form (that is base64, not the value); write the bytes instead: `opsdeck config put KEY - < FILE`",
            ));
        }
        check_value(value, format, allow_invalid)?;
        Box::pin(self.schema_check(s, [(key.to_string(), value.as_bytes())])).await?;
        let result = s.context(cfg::write::put(&mut s.client(), key, value, expected).await);
        self.audited_write(s, key, if expected == 0 { "config.create" } else { "config.put" }, expected, &comment, result).await
    }

    /// Guarded put of raw bytes, stored exactly as given (no format check:
    /// for values that are not text, e.g. read from a file).
    pub async fn config_put_bytes(&self, s: &EtcdSession, key: &str, value: &[u8], expected: i64, comment: &str) -> Result<WriteResult> {
        let comment = comment_of(comment)?;
        Box::pin(self.schema_check(s, [(key.to_string(), value)])).await?;
        let result = s.context(cfg::write::put(&mut s.client(), key, value, expected).await);
        self.audited_write(s, key, if expected == 0 { "config.create" } else { "config.put" }, expected, &comment, result).await
    }

    pub async fn config_delete(&self, s: &EtcdSession, key: &str, expected: i64, comment: &str) -> Result<WriteResult> {
        let comment = comment_of(comment)?;
        let result = s.context(cfg::write::delete(&mut s.client(), key, expected).await);
        self.audited_write(s, key, "config.delete", expected, &comment, result).await
    }

    pub async fn config_delete_preview(&self, s: &EtcdSession, prefix: &str) -> Result<DeletePreview> {
        Ok(s.context(cfg::write::delete_preview(&mut s.client(), prefix).await)?.0)
    }

    pub async fn config_delete_prefix(&self, s: &EtcdSession, prefix: &str, expected_count: i64, comment: &str) -> Result<i64> {
        let comment = comment_of(comment)?;
        let result = s.context(cfg::write::delete_prefix(&mut s.client(), prefix, expected_count).await);
        let detail = result.as_ref().map(|n| outcome(&s.label, format!("{n} keys deleted"), &comment));
        self.audit("etcd", prefix, "config.delete_prefix", detail).await;
        result
    }

    pub async fn config_history(&self, s: &EtcdSession, key: &str, limit: usize) -> Result<History> {
        let mut h = s.context(cfg::history::history(&mut s.client(), key, limit).await)?;
        let filter = AuditFilter {
            platform: Some("etcd".into()),
            target: Some(key.to_string()),
            text: Some(format!("on {}:", s.label)),
            limit: 100,
            ..Default::default()
        };
        h.audit = self.audit_log(&filter).await?.entries;
        Ok(h)
    }

    /// Rolls `key` back to the value it had at `to_revision`: a new guarded
    /// write of exactly those bytes.
    pub async fn config_rollback(&self, s: &EtcdSession, key: &str, to_revision: i64, expected: i64, comment: &str) -> Result<WriteResult> {
        let comment = comment_of(comment)?;
        let Some(value) = s.context(cfg::history::value_at(&mut s.client(), key, to_revision).await)? else {
            return Err(Error::invalid(format!("{key} did not exist at revision {to_revision}")));
        };
        Box::pin(self.schema_check(s, [(key.to_string(), value.as_slice())])).await?;
        let result = s.context(cfg::write::put(&mut s.client(), key, &value, expected).await);
        let note = if comment.is_empty() {
            format!("rollback to revision {to_revision}")
        } else {
            format!("rollback to revision {to_revision}: {comment}")
        };
        self.audited_write(s, key, "config.rollback", expected, &note, result).await
    }

    pub async fn config_compare(&self, s: &EtcdSession, left: &str, right: &str) -> Result<PrefixDiff> {
        s.context(cfg::compare::compare(&mut s.client(), left, right).await)
    }

    pub async fn config_copy(&self, s: &EtcdSession, from: &str, to: &str, items: &[CopyItem], comment: &str) -> Result<CopyReport> {
        let comment = comment_of(comment)?;
        let result = s.context(cfg::compare::copy(&mut s.client(), from, to, items).await);
        let detail = match &result {
            Ok(r) if r.conflicts.is_empty() => Ok(outcome(&s.label, format!("copied {} keys from {from}", r.copied), &comment)),
            Ok(r) => Err(Error::invalid(outcome(
                &s.label,
                format!("nothing copied from {from}: changed meanwhile: {}", r.conflicts.join(", ")),
                &comment,
            ))),
            Err(e) => Err(Error::Internal(e.to_string())),
        };
        match &detail {
            Ok(d) => self.audit("etcd", to, "config.copy", Ok(d.clone())).await,
            Err(e) => self.audit("etcd", to, "config.copy", Err(e)).await,
        }
        result
    }

    pub async fn config_export(&self, s: &EtcdSession, prefix: &str, format: DocFormat) -> Result<String> {
        s.context(cfg::transfer::export(&mut s.client(), prefix, format).await)
    }

    pub async fn config_import_preview(&self, s: &EtcdSession, prefix: &str, document: &str) -> Result<ImportPlan> {
        s.context(cfg::transfer::preview(&mut s.client(), prefix, document).await)
    }

    /// Imports `document` under `prefix` in one go: the report, or the error
    /// that stopped it (the report of a stopped run is lost: use
    /// [`Self::config_import_run`] to keep it).
    pub async fn config_import(&self, s: &EtcdSession, prefix: &str, document: &str, comment: &str) -> Result<ImportReport> {
        let run = self.config_import_run(s, prefix, document, None, MAX_TXN_OPS, comment, None, |_| {}).await?;
        match run.error {
            Some(e) => Err(e),
            None => Ok(run.report),
        }
    }

    /// Imports `document` under `prefix` (or continues the import `previous`
    /// reports), in guarded transactions of at most `max_ops` operations,
    /// each committed batch audited as `config.import` with its keys and
    /// revision. `stop` (when given) ends the run after the batch in flight. `on_progress`
    /// gets the report whenever it changes: before a batch is sent (listing it
    /// as `unknown`, so a report saved then is right even if the process dies)
    /// and after. `Err` only when nothing was attempted (a bad document or
    /// report, etcd unreachable before the first batch, a batch still unknown
    /// at a resume); otherwise the report, with the error that stopped the
    /// run, if any.
    #[allow(clippy::too_many_arguments)]
    pub async fn config_import_run(
        &self,
        s: &EtcdSession,
        prefix: &str,
        document: &str,
        previous: Option<&ImportReport>,
        max_ops: usize,
        comment: &str,
        stop: Option<&CancellationToken>,
        on_progress: impl Fn(&ImportReport),
    ) -> Result<ImportOutcome> {
        let comment = comment_of(comment)?;
        let mut client = s.client();
        let prepared = match previous {
            Some(p) => s.context(import_run::resume(&mut client, prefix, document, p).await),
            None => s.context(import_run::start(&mut client, &s.label, prefix, document).await),
        };
        let import_run::Prepared { mut report, items, resolved, not_applied } = match prepared {
            Ok(p) => p,
            Err(e) => {
                if previous.is_some() {
                    let note = Error::Internal(outcome(&s.label, format!("resume of the import into {prefix} refused: {e}"), &comment));
                    self.audit("etcd", prefix, "config.import", Err(&note)).await;
                }
                return Err(e);
            }
        };
        if let Some(b) = &resolved {
            let what = format!(
                "import batch {} (outcome unknown until this resume): {} keys ({} created, {} updated), {}, at revision {}; {}",
                b.index,
                b.keys.len(),
                b.adds,
                b.changes,
                import_run::key_range(&b.keys),
                b.revision,
                b.recovered.as_deref().unwrap_or_default()
            );
            self.audit("etcd", prefix, "config.import", Ok(outcome(&s.label, what, &comment))).await;
        }
        if let Some(why) = &not_applied {
            tracing::info!(prefix, why, "resume: the unknown batch was not applied; writing its keys again");
        }
        Box::pin(self.schema_check_items(s, prefix, &items)).await?;
        let refs: Vec<&PromoteItem> = items.iter().collect();
        let batches = promote::batches_under(prefix, &refs, max_ops)?;
        let total = batches.len();
        let mut error = None;
        'batches: for (n, batch) in batches.into_iter().enumerate() {
            if stop.is_some_and(CancellationToken::is_cancelled) {
                report.interrupted = true;
                break;
            }
            let mut batch = batch;
            while !batch.is_empty() {
                let index = report.committed.len() + 1;
                report.unknown = Some(ImportUnknownBatch {
                    index,
                    keys: batch.iter().map(|i| i.rel.clone()).collect(),
                    why: "sent; the run stopped before its answer arrived".into(),
                });
                on_progress(&report);
                let step = s.context(promote::commit_batch(&mut client, prefix, &batch, index).await);
                report.unknown = None;
                match step {
                    Ok(BatchOutcome::Committed(b)) => {
                        let what = format!(
                            "import batch {index} ({}/{total} of this run): {} keys ({} created, {} updated), {}, at revision {}{}",
                            n + 1,
                            b.keys.len(),
                            b.adds,
                            b.changes,
                            import_run::key_range(&b.keys),
                            b.revision,
                            b.recovered.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
                        );
                        self.audit("etcd", prefix, "config.import", Ok(outcome(&s.label, what, &comment))).await;
                        import_run::record(&mut report, b);
                        on_progress(&report);
                        break;
                    }
                    // Keys someone else changed since the plan: not written;
                    // the rest of the batch is sent again without them.
                    Ok(BatchOutcome::Moved(moved)) => {
                        batch.retain(|i| !moved.iter().any(|m| m.rel == i.rel));
                        report.conflicts.extend(moved);
                    }
                    Err(e) => {
                        let fate = if e.code() == ErrorCode::OutcomeUnknown {
                            report.unknown =
                                Some(ImportUnknownBatch { index, keys: batch.iter().map(|i| i.rel.clone()).collect(), why: e.to_string() });
                            "its outcome is unknown"
                        } else {
                            "nothing of it was written"
                        };
                        let note = Error::Internal(outcome(
                            &s.label,
                            format!(
                                "import stopped at batch {index} ({fate}): {e}; {} keys written in {} transaction(s)",
                                report.applied, report.batches
                            ),
                            &comment,
                        ));
                        self.audit("etcd", prefix, "config.import", Err(&note)).await;
                        report.error = Some(e.to_string());
                        error = Some(e);
                        break 'batches;
                    }
                }
            }
        }
        if let Some(u) = &report.unknown {
            report.not_written.retain(|k| !u.keys.contains(k));
        }
        import_run::tally(&mut report);
        if report.interrupted {
            let note = Error::Cancelled(outcome(
                &s.label,
                format!(
                    "import interrupted after batch {}: {} keys written in {} transaction(s), {} not written; resume with its report",
                    report.batches,
                    report.applied,
                    report.batches,
                    report.not_written.len()
                ),
                &comment,
            ));
            self.audit("etcd", prefix, "config.import", Err(&note)).await;
        }
        if !report.conflicts.is_empty() {
            let keys: Vec<&str> = report.conflicts.iter().map(|m| m.key.as_str()).collect();
            let note = Error::Conflict(outcome(
                &s.label,
                format!("import: changed by someone else since the plan, not written: {}", keys.join(", ")),
                &comment,
            ));
            self.audit("etcd", prefix, "config.import", Err(&note)).await;
        }
        on_progress(&report);
        Ok(ImportOutcome { report, error })
    }

    pub async fn config_watch(
        &self,
        s: &EtcdSession,
        prefix: &str,
        on_event: impl Fn(WatchEvent) + Send + Sync + 'static,
    ) -> Result<WatchHandle> {
        s.context(cfg::watch::watch(&mut s.client(), prefix, on_event).await)
    }

    /// Plans a promotion of `from_prefix` on `from` to `to_prefix` on `to`
    /// (two connections, usually two etcd clusters): what differs, with the
    /// values and the revisions seen on both sides. Reads only.
    pub async fn config_promote_plan(
        &self,
        from: &EtcdSession,
        from_prefix: &str,
        to: &EtcdSession,
        to_prefix: &str,
    ) -> Result<PromotePlan> {
        let plan = promote::plan(&mut from.client(), (&from.label, from_prefix), &mut to.client(), (&to.label, to_prefix)).await;
        from.context(to.context(plan))
    }

    /// Applies exactly the reviewed `plan` (the items `selection` picks, less
    /// those `previous` — the report of an earlier run — lists as landed), in
    /// guarded transactions of at most `max_ops` operations, each committed
    /// batch audited as `config.promote`. Stops at the first batch with a key
    /// that moved since the review (nothing of that batch written) and lists
    /// every selected key that moved. `Err` only when nothing was attempted
    /// (a bad plan or selection, another cluster); otherwise the report, with
    /// the error that stopped the run, if any.
    #[allow(clippy::too_many_arguments)]
    pub async fn config_promote_apply(
        &self,
        from: &EtcdSession,
        to: &EtcdSession,
        plan: &PromotePlan,
        selection: &PromoteSelection,
        previous: Option<&PromoteReport>,
        max_ops: usize,
        comment: &str,
        on_progress: impl Fn(&PromoteReport, PromoteProgress),
    ) -> Result<PromoteOutcome> {
        let comment = comment_of(comment)?;
        check_plan_sessions(from, to, plan)?;
        if let Some(p) = previous {
            if p.plan_checksum != plan.checksum {
                return Err(Error::invalid(
                    "report: it belongs to another plan (its plan checksum differs); give the report of this plan, or none",
                ));
            }
        }
        let (picked, not_selected) = promote::select(plan, selection)?;
        let protected = self.config_promote_protected(to, plan, selection).await?;
        if !protected.is_empty() {
            return Err(Error::Forbidden(format!(
                "{} is under the protected prefix {}: a promotion there is filed as a change request carrying this plan, not written \
                 (opsdeck config promote --apply files it; another person approves, a publisher publishes)",
                plan.to.label(),
                protected.join(", ")
            )));
        }
        let landed = previous.map(PromoteReport::landed).unwrap_or_default();
        let todo: Vec<&PromoteItem> = picked.iter().copied().filter(|i| !landed.contains(&i.rel)).collect();
        Box::pin(self.schema_check_items(to, &plan.to.prefix, todo.iter().copied())).await?;
        let (mut source, mut target) = (from.client(), to.client());
        from.context(to.context(promote::check_clusters(plan, &mut source, &mut target).await))?;
        let batches = promote::batches(plan, &todo, max_ops)?;
        let (from_label, to_label) = (plan.from.label(), plan.to.label());
        let mut report = PromoteReport {
            kind: promote::REPORT_KIND.into(),
            plan_checksum: plan.checksum.clone(),
            from: from_label.clone(),
            to: to_label.clone(),
            selected: picked.len(),
            batches: previous.map(|p| p.batches.clone()).unwrap_or_default(),
            already_applied: picked.len() - todo.len(),
            not_applied: vec![],
            changed_since_review: vec![],
            not_selected,
            complete: false,
            error: None,
        };
        let mut error = None;
        let mut applied = 0;
        for (n, batch) in batches.iter().enumerate() {
            let index = report.batches.len() + 1;
            let step = promote::apply_batch(&mut source, &mut target, plan, batch, index).await;
            match from.context(to.context(step)) {
                Ok(BatchOutcome::Committed(b)) => {
                    let what = format!(
                        "promotion from {from_label}, batch {index} ({}/{} of this run): {} added, {} changed, {} removed at revision {}{}; keys: {}",
                        n + 1,
                        batches.len(),
                        b.adds,
                        b.changes,
                        b.removes,
                        b.revision,
                        b.recovered.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
                        b.keys.join(", ")
                    );
                    self.audit("etcd", &plan.to.prefix, "config.promote", Ok(outcome(&to.label, what, &comment))).await;
                    applied += b.keys.len();
                    report.batches.push(b);
                    on_progress(&report, PromoteProgress { batch: n + 1, batches: batches.len(), applied, items: todo.len() });
                }
                Ok(BatchOutcome::Moved(in_batch)) => {
                    // Name every selected key still to apply that moved, not only this batch's.
                    let rest: Vec<&PromoteItem> = batches[n..].iter().flatten().copied().collect();
                    let mut all = promote::moved(&mut source, plan, PromoteSideName::Source, &rest, max_ops).await.unwrap_or_default();
                    all.extend(promote::moved(&mut target, plan, PromoteSideName::Target, &rest, max_ops).await.unwrap_or_default());
                    for m in in_batch {
                        if !all.iter().any(|a| a.rel == m.rel && a.side == m.side) {
                            all.push(m);
                        }
                    }
                    all.sort_by(|a, b| a.rel.cmp(&b.rel));
                    let keys: Vec<&str> = all.iter().map(|m| m.key.as_str()).collect();
                    let e = Error::Conflict(format!(
                        "promotion from {from_label} stopped before batch {index}: changed since the review: {}; nothing of that batch written",
                        keys.join(", ")
                    ));
                    self.audit(
                        "etcd",
                        &plan.to.prefix,
                        "config.promote",
                        Err(&Error::Conflict(outcome(&to.label, e.to_string(), &comment))),
                    )
                    .await;
                    report.changed_since_review = all;
                    break;
                }
                Err(e) => {
                    let note = Error::Internal(outcome(
                        &to.label,
                        format!("promotion from {from_label} stopped before batch {index}: {e}"),
                        &comment,
                    ));
                    self.audit("etcd", &plan.to.prefix, "config.promote", Err(&note)).await;
                    report.error = Some(e.to_string());
                    error = Some(e);
                    break;
                }
            }
        }
        let landed = report.landed();
        report.not_applied = picked.iter().filter(|i| !landed.contains(&i.rel)).map(|i| i.rel.clone()).collect();
        report.complete = report.not_applied.is_empty();
        Ok(PromoteOutcome { report, error })
    }
}
