//! From stored records to the request everyone sees, trusting nothing the
//! records merely claim. Every reader composes the same view from the same
//! records, so a record written around Opsdeck (raw etcdctl) is ignored by
//! all of them, with a note saying why:
//! - a decision counts only for the request revision it was made on, only
//!   when its writer (the etcd user its key belongs to) is its actor, and —
//!   in a shared store — only when the approver is neither the requester
//!   nor, for the admin step, the manager who approved;
//! - of several valid decisions on one step the first written counts;
//! - a run record counts only with the approval it executes pinned in it
//!   (revision, spec and its hash) and, while that revision is current, only
//!   if the decisions really approve it; once a VM exists, a later change to
//!   the request does not change what is in force (the pinned spec).

use super::{Approved, DecisionRecord, Records, RunRecord, Versioned};
use crate::vms::model::{Decision, Extension, ExtensionState, Stage, State, Transition, VmRequest};

pub fn compose(r: &Records) -> VmRequest {
    let req = &r.request.value;
    let requester = r.request.writer.clone().unwrap_or_else(|| req.requester.clone());
    let mut notes = Vec::new();
    let (manager, admin) = valid_decisions(r, &requester, &mut notes);

    let first = if req.quota.ok { State::PendingManager } else { State::Rejected };
    let mut history = vec![Transition {
        at: req.created_at.clone(),
        actor: requester.clone(),
        from: None,
        to: first,
        comment: if req.quota.ok { "submitted".into() } else { format!("submitted; quota exceeded: {}", req.quota.lines.join("; ")) },
    }];
    if let Some(at) = &req.edited_at {
        history.push(Transition {
            at: at.clone(),
            actor: requester.clone(),
            from: None,
            to: first,
            comment: "edited by the requester: earlier decisions no longer apply".into(),
        });
    }
    let mut state = first;
    let mut decisions = Vec::new();
    for (d, from, yes) in [(&manager, State::PendingManager, State::PendingAdmin), (&admin, State::PendingAdmin, State::Approved)] {
        if let Some(d) = d {
            let to = if d.approved { yes } else { State::Rejected };
            history.push(Transition {
                at: d.at.clone(),
                actor: crate::vms::delegation::acting(d),
                from: Some(from),
                to,
                comment: d.comment.clone(),
            });
            decisions.push(d.clone());
            state = to;
        }
    }
    if let Some(w) = &req.withdrawn {
        history.push(Transition {
            at: w.at.clone(),
            actor: requester.clone(),
            from: Some(state),
            to: State::Withdrawn,
            comment: w.comment.clone(),
        });
        state = State::Withdrawn;
    }

    let mut spec = req.spec.clone();
    let (mut asset, mut failure, mut attempts) = (None, None, 0);
    if let Some(run) = &r.run {
        match run_in_force(r, run, state, &mut notes) {
            RunUse::Counts(approved) => {
                history.extend(run.value.history.iter().cloned());
                state = run.value.state;
                asset = run.value.asset.clone();
                failure = run.value.failure.clone();
                attempts = run.value.attempts;
                if let Some(a) = approved.filter(|a| a.request_revision != r.request.revision) {
                    spec = a.spec.clone();
                }
            }
            RunUse::HistoryOnly => {
                history.extend(run.value.history.iter().cloned());
                attempts = run.value.attempts;
            }
            RunUse::Ignored => {}
        }
    }
    let extensions = lease_extensions(r, &requester, &mut spec, state, &mut notes);
    VmRequest {
        id: req.id.clone(),
        spec,
        requester,
        created_at: req.created_at.clone(),
        state,
        quota: req.quota.clone(),
        decisions,
        history,
        asset,
        failure,
        attempts,
        version: r.revision(),
        notes,
        extensions,
        estimate: req.estimate.clone(),
        escalations: crate::vms::escalation::shown(r),
    }
}

/// Days from the request's filing to `lease_end` (its total lease).
pub fn total_lease_days(created_at: &str, lease_end: &str) -> Option<i64> {
    let filed = time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339).ok()?.date();
    let end = crate::vms::validate::parse_date("lease end", lease_end).ok()?;
    Some((end - filed).whole_days())
}

/// The extensions of a request as everyone sees them; an approved one (by
/// the department's manager, never the requester, on that extension as
/// filed, within the department's longest total lease) moves the lease in
/// force of a VM that exists.
fn lease_extensions(
    r: &Records,
    requester: &str,
    spec: &mut crate::vms::model::RequestSpec,
    state: State,
    notes: &mut Vec<String>,
) -> Vec<Extension> {
    let mut out = Vec::new();
    let mut lease = spec.lease_end.clone();
    for e in &r.extensions {
        let rec = &e.record.value;
        let mut ds: Vec<&Versioned<DecisionRecord>> = e.decisions.iter().collect();
        ds.sort_by_key(|d| d.revision);
        let decision = ds
            .into_iter()
            .find(|d| {
                let who = d.writer.as_deref().unwrap_or(&d.value.decision.actor);
                let ok = who == d.value.decision.actor && d.value.decision.stage == Stage::Manager && d.value.request_revision == e.record.revision && (!r.trust.proves_identity() || who != requester);
                if !ok {
                    notes.push(format!("a decision by {who} on extension {} does not count (the requester's own, another's name, or an earlier version of it)", rec.n));
                }
                ok
            })
            .map(|d| d.value.decision.clone());
        let mut ext_state = match &decision {
            Some(d) if d.approved => ExtensionState::Approved,
            Some(_) => ExtensionState::Rejected,
            None => ExtensionState::Pending,
        };
        if ext_state == ExtensionState::Approved {
            let days = total_lease_days(&r.request.value.created_at, &rec.lease_end);
            if r.max_lease_days > 0 && days.is_none_or(|d| d > i64::from(r.max_lease_days)) {
                notes.push(format!(
                    "extension {} to {} is over the department's longest lease of {} days: not applied",
                    rec.n, rec.lease_end, r.max_lease_days
                ));
                ext_state = ExtensionState::Rejected;
            } else if rec.lease_end > lease || (crate::vms::reclaim::is_reclaim(&rec.reason) && rec.lease_end < lease) {
                // An extension moves the lease on; an approved reclaim brings it forward.
                lease = rec.lease_end.clone();
            }
        }
        out.push(Extension {
            n: rec.n,
            lease_end: rec.lease_end.clone(),
            reason: rec.reason.clone(),
            at: rec.at.clone(),
            state: ext_state,
            decision,
        });
    }
    if state.holds_vm() {
        spec.lease_end = lease;
    }
    out
}

/// The manager's and the admin's decision that count, in write order.
fn valid_decisions(r: &Records, requester: &str, notes: &mut Vec<String>) -> (Option<Decision>, Option<Decision>) {
    let separate = r.trust.proves_identity();
    let mut all: Vec<&Versioned<DecisionRecord>> = r.decisions.iter().collect();
    all.sort_by_key(|d| d.revision);
    // A rule's approval as filed comes first; a person's manager decision after it is a second one.
    let (mut manager, mut admin): (Option<Decision>, Option<Decision>) = (crate::vms::rules::verify(r, notes), None);
    for stage in [Stage::Manager, Stage::Admin] {
        for d in all.iter().filter(|d| d.value.decision.stage == stage) {
            let dec = &d.value.decision;
            let who = d.writer.as_deref().unwrap_or(&dec.actor);
            let step = stage.as_str();
            let verdict = if dec.actor.starts_with(crate::vms::rules::POLICY_PREFIX) {
                Verdict::Ignored(format!("a {step} decision written by \"{who}\" in a rule's name (\"{}\"): ignored", dec.actor))
            } else if who != dec.actor {
                Verdict::Ignored(format!("a {step} decision written by \"{who}\" claims to be by \"{}\": ignored", dec.actor))
            } else if d.value.request_revision != r.request.revision {
                // Normal after an edit: the request changed after the decision.
                Verdict::Stale(format!("the {step} decision by {who} was made on an earlier version of the request: it no longer applies"))
            } else if let Some(n) = crate::vms::delegation::refused(r, dec, d.revision, requester, manager.as_ref()) {
                Verdict::Ignored(n)
            } else if separate && who == requester {
                Verdict::Ignored(format!("{who} cannot approve their own request: the {step} decision by {who} is ignored"))
            } else if stage == Stage::Admin && !manager.as_ref().is_some_and(|m| m.approved) {
                Verdict::Ignored(format!("the admin decision by {who} came without a manager's approval: ignored"))
            } else if separate && stage == Stage::Admin && manager.as_ref().is_some_and(|m| m.actor == who) {
                Verdict::Ignored(format!(
                    "{who} already approved as manager: the admin step needs another person, their admin decision is ignored"
                ))
            } else {
                Verdict::Valid
            };
            let slot = if stage == Stage::Manager { &mut manager } else { &mut admin };
            match verdict {
                Verdict::Ignored(n) => notes.push(n),
                Verdict::Stale(n) if r.run.is_none() => notes.push(n),
                Verdict::Stale(_) => {}
                Verdict::Valid if slot.is_some() => notes.push(format!("a second {step} decision by {who} came after the first: ignored")),
                Verdict::Valid => *slot = Some(dec.clone()),
            }
        }
    }
    (manager, admin)
}

enum Verdict {
    Valid,
    /// Made on an earlier revision of the request (it was edited since).
    Stale(String),
    Ignored(String),
}

enum RunUse<'a> {
    /// The run is in force; the approval it executes (None: a personal
    /// store's run from before approvals were pinned).
    Counts(Option<&'a Approved>),
    /// An earlier attempt on a revision since changed: its history is shown.
    HistoryOnly,
    Ignored,
}

fn run_in_force<'a>(r: &Records, run: &'a Versioned<RunRecord>, decided: State, notes: &mut Vec<String>) -> RunUse<'a> {
    let v: &RunRecord = &run.value;
    let Some(a) = &v.approved else {
        // A personal store proves nothing anyway; its runs from before pins
        // existed keep their VMs managed.
        if !r.trust.proves_identity() {
            return RunUse::Counts(None);
        }
        notes.push("a run record without the approval it executes (written by an older Opsdeck or around it) is ignored".into());
        return RunUse::Ignored;
    };
    if super::spec_sha256(&a.spec) != a.spec_sha256 {
        notes.push("the run record's copy of the approved spec does not match its hash: ignored".into());
        return RunUse::Ignored;
    }
    if !matches!(v.state, State::Provisioning | State::Provisioned | State::Failed | State::Expired | State::Reclaimed) {
        notes.push(format!("a run record may not set the state \"{}\": ignored", v.state.as_str()));
        return RunUse::Ignored;
    }
    let current = r.request.revision;
    if a.request_revision == current {
        if decided != State::Approved || a.spec != r.request.value.spec {
            notes.push("a run record claims an approval that the decisions do not show (the manager or the admin step is missing or invalid): ignored".into());
            return RunUse::Ignored;
        }
        return RunUse::Counts(Some(a));
    }
    if a.request_revision > current {
        notes.push("a run record pinned to a request revision that never existed: ignored".into());
        return RunUse::Ignored;
    }
    if v.state == State::Failed {
        notes.push(format!("an attempt failed on an earlier version of the request; the request changed since (revision {} -> {current}) and needs approving again", a.request_revision));
        return RunUse::HistoryOnly;
    }
    notes.push(format!(
        "the request was changed after it was approved and provisioned (revision {} -> {current}); the change is not approved: the approved spec (lease {}) stays in force",
        a.request_revision, a.spec.lease_end
    ));
    RunUse::Counts(Some(a))
}

/// The pin an executor writes when it starts on an approved request.
pub fn approval_pin(r: &Records, view: &VmRequest) -> Option<Approved> {
    let who = |stage: Stage| view.decisions.iter().find(|d| d.stage == stage && d.approved).map(|d| d.actor.clone());
    Some(Approved {
        request_revision: r.request.revision,
        spec: r.request.value.spec.clone(),
        spec_sha256: super::spec_sha256(&r.request.value.spec),
        requester: view.requester.clone(),
        manager: who(Stage::Manager)?,
        admin: who(Stage::Admin)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vms::model::{QuotaCheck, RequestSpec, SnapshotSchedule};
    use crate::vms::store::{spec_sha256, Approved, RequestRecord, Trust};

    fn spec() -> RequestSpec {
        RequestSpec {
            name: "vm-1".into(),
            template: "t".into(),
            cpu: 2,
            memory_gb: 2,
            disk_gb: 20,
            network: String::new(),
            folder: String::new(),
            resource_pool: String::new(),
            department: "qa".into(),
            purpose: "p".into(),
            lease_end: "2027-01-31".into(),
            snapshot_schedule: SnapshotSchedule::None,
            customization_script: String::new(),
        }
    }

    fn records(trust: Trust) -> Records {
        let request = RequestRecord {
            id: "r1".into(),
            spec: spec(),
            requester: "alice".into(),
            created_at: "t0".into(),
            quota: QuotaCheck { ok: true, lines: vec![] },
            withdrawn: None,
            edited_at: None,
            estimate: None,
            auto_approval: None,
        };
        Records {
            request: Versioned { value: request, revision: 10, writer: Some("alice".into()) },
            decisions: vec![],
            run: None,
            turn: 0,
            trust,
            extensions: vec![],
            max_lease_days: 0,
            rule: None,
            delegation: Default::default(),
        }
    }

    fn decision(stage: Stage, by: &str, written_by: &str, on: i64, rev: i64) -> Versioned<DecisionRecord> {
        let decision = Decision {
            stage,
            approved: true,
            actor: by.into(),
            at: format!("t{rev}"),
            comment: String::new(),
            on_behalf_of: None,
            escalated: false,
        };
        Versioned { value: DecisionRecord { decision, request_revision: on }, revision: rev, writer: Some(written_by.into()) }
    }

    fn approved(r: &mut Records) {
        r.decisions = vec![decision(Stage::Manager, "bob", "bob", 10, 11), decision(Stage::Admin, "carol", "carol", 10, 12)];
    }

    fn run(r: &Records, state: State, pinned_on: i64) -> Versioned<RunRecord> {
        let s = r.request.value.spec.clone();
        let approved = Approved {
            request_revision: pinned_on,
            spec_sha256: spec_sha256(&s),
            spec: s,
            requester: "alice".into(),
            manager: "bob".into(),
            admin: "carol".into(),
        };
        Versioned {
            value: RunRecord {
                state,
                history: vec![],
                asset: None,
                failure: None,
                attempts: 1,
                approved: Some(approved),
                interrupted: None,
            },
            revision: 20,
            writer: None,
        }
    }

    #[test]
    fn three_people_approve_in_order() {
        let mut r = records(Trust::Shared);
        approved(&mut r);
        let v = compose(&r);
        assert_eq!(v.state, State::Approved);
        assert!(v.notes.is_empty(), "{:?}", v.notes);
    }

    #[test]
    fn the_requester_and_a_double_role_do_not_count_in_a_shared_store_only() {
        let mut r = records(Trust::Shared);
        r.decisions = vec![decision(Stage::Manager, "alice", "alice", 10, 11)];
        assert_eq!(compose(&r).state, State::PendingManager);
        r.decisions = vec![decision(Stage::Manager, "bob", "bob", 10, 11), decision(Stage::Admin, "bob", "bob", 10, 12)];
        assert_eq!(compose(&r).state, State::PendingAdmin);
        // The personal store proves no identity: one operator does it all.
        let mut p = records(Trust::Personal);
        p.request.writer = None;
        p.decisions = vec![decision(Stage::Manager, "alice", "alice", 10, 11), decision(Stage::Admin, "alice", "alice", 10, 12)];
        p.decisions.iter_mut().for_each(|d| d.writer = None);
        assert_eq!(compose(&p).state, State::Approved);
    }

    #[test]
    fn a_decision_claiming_someone_else_or_a_second_one_is_ignored() {
        let mut r = records(Trust::Shared);
        r.decisions = vec![decision(Stage::Manager, "bert", "bob", 10, 11)];
        let v = compose(&r);
        assert_eq!(v.state, State::PendingManager);
        assert!(v.notes[0].contains("claims to be by \"bert\""), "{:?}", v.notes);
        r.decisions = vec![decision(Stage::Manager, "bert", "bert", 10, 12), decision(Stage::Manager, "bob", "bob", 10, 11)];
        let v = compose(&r);
        assert_eq!(v.decisions[0].actor, "bob", "the first written counts");
        assert!(v.notes[0].contains("second manager decision by bert"), "{:?}", v.notes);
    }

    #[test]
    fn an_edit_voids_decisions_and_a_failed_run_on_the_old_revision() {
        let mut r = records(Trust::Shared);
        approved(&mut r);
        r.run = Some(run(&r, State::Failed, 10));
        assert_eq!(compose(&r).state, State::Failed);
        r.request.revision = 15;
        r.request.value.spec.cpu = 8;
        let v = compose(&r);
        assert_eq!(v.state, State::PendingManager);
        assert!(v.notes.iter().any(|n| n.contains("needs approving again")), "{:?}", v.notes);
    }

    #[test]
    fn after_provisioning_the_pinned_spec_is_in_force() {
        let mut r = records(Trust::Shared);
        approved(&mut r);
        r.run = Some(run(&r, State::Provisioned, 10));
        r.request.revision = 30;
        r.request.value.spec.lease_end = "2099-12-31".into();
        let v = compose(&r);
        assert_eq!((v.state, v.spec.lease_end.as_str()), (State::Provisioned, "2027-01-31"));
    }

    #[test]
    fn runs_that_do_not_match_their_approval_are_ignored() {
        let mut r = records(Trust::Shared);
        // No approvals at all: a run record for the current revision claims one.
        r.run = Some(run(&r, State::Provisioned, 10));
        assert_eq!(compose(&r).state, State::PendingManager);
        // A pin with a spec that does not match its hash.
        approved(&mut r);
        let mut bad = run(&r, State::Provisioned, 10);
        if let Some(a) = bad.value.approved.as_mut() {
            a.spec.cpu = 64;
        }
        r.run = Some(bad);
        assert_eq!(compose(&r).state, State::Approved);
        // A pin to a revision from the future, and a state a run may not set.
        r.run = Some(run(&r, State::Provisioned, 99));
        assert_eq!(compose(&r).state, State::Approved);
        r.run = Some(run(&r, State::PendingAdmin, 10));
        assert_eq!(compose(&r).state, State::Approved);
        // An older Opsdeck's run without a pin: ignored in a shared store,
        // kept in a personal one (its VMs stay managed after an upgrade).
        let mut old = run(&r, State::Provisioned, 10);
        old.value.approved = None;
        r.run = Some(old);
        assert_eq!(compose(&r).state, State::Approved);
        r.trust = Trust::Personal;
        assert_eq!(compose(&r).state, State::Provisioned);
    }
}
