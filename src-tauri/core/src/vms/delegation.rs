//! Delegation: an approver names a delegate for a date range (an absence),
//! and within it the delegate decides what the approver could, each decision
//! recorded as "by D on behalf of A". Outside the range, or once the
//! approver revoked it, the delegation carries nothing.
//!
//! The rules, checked before anything is written ([`check_decision`]) and
//! again by every reader ([`authorises`], from [`super::store::compose`]), so
//! a decision written around Opsdeck counts only when the rules hold:
//! - a delegation covers one step: the manager step of one department, or
//!   the IT admin step; the delegate never holds more than the approver;
//! - the window is whole UTC days, start and end included; a decision
//!   counts when it was made inside the window, before any revocation;
//! - nobody delegates to themselves, and no delegation may close a loop
//!   with the delegations in force over an overlapping window on the same
//!   step (A→B while B→A); a delegate cannot pass on what was delegated to
//!   them (delegations do not chain);
//! - the requester never decides their own request through a delegation
//!   (neither as the delegate nor as the approver named), and the admin step
//!   stays with a third person (not the manager who approved, directly or
//!   through a delegate).
//!
//! Escalation ([`super::escalation`]) gives the department's named
//! escalation delegate the step of a request that waited too long; its
//! decisions are checked here too.

use serde::{Deserialize, Serialize};
use time::Date;

use super::escalation::{self, EscalationPolicy, EscalationRecord};
use super::model::{Decision, Stage, State, VmRequest};
use super::store::{Records, RequestStore, Versioned};
use super::validate::parse_date;
use crate::cache::db::now_rfc3339;
use crate::error::{Error, Result};

/// One delegation, as the approver wrote it (etcd: under the approver's own
/// decision prefix, which proves they hold the step; SQLite: `vm_delegations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Delegation {
    pub id: String,
    pub approver: String,
    pub delegate: String,
    /// The step delegated: the manager step (of `department`) or the admin step.
    pub stage: Stage,
    /// The department whose manager step is delegated (manager step only).
    #[serde(default)]
    pub department: Option<String>,
    /// First day, `YYYY-MM-DD` (UTC), included.
    pub start: String,
    /// Last day, `YYYY-MM-DD` (UTC), included.
    pub end: String,
    pub reason: String,
    pub created_at: String,
    /// Set when the approver revoked it (it stops counting from then).
    #[serde(default)]
    pub revoked: Option<Revocation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Revocation {
    pub at: String,
    pub by: String,
}

/// What the form sends to create a delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DelegationInput {
    pub delegate: String,
    pub stage: Stage,
    #[serde(default)]
    pub department: Option<String>,
    pub start: String,
    pub end: String,
    pub reason: String,
}

/// A delegation as listed: the record and whether it is in force at the time asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DelegationView {
    #[serde(flatten)]
    pub delegation: Delegation,
    /// In force now: inside its window and not revoked.
    pub active: bool,
}

/// In whose name a decision is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case", tag = "kind", content = "approver")]
pub enum Via {
    /// The approver's own (the default).
    Own,
    /// As the delegate of this approver (a delegation in force now).
    OnBehalfOf(String),
    /// As the department's escalation delegate (the request waited past its timeout).
    Escalation,
}

impl Via {
    /// The fields a decision carries for it.
    pub fn stamp(&self, d: &mut Decision) {
        match self {
            Via::Own => {}
            Via::OnBehalfOf(a) => d.on_behalf_of = Some(a.clone()),
            Via::Escalation => d.escalated = true,
        }
    }

    /// "", " on behalf of alice", " as escalation delegate" (for audit lines).
    pub fn describe(&self) -> String {
        match self {
            Via::Own => String::new(),
            Via::OnBehalfOf(a) => format!(" on behalf of {a}"),
            Via::Escalation => " as escalation delegate".into(),
        }
    }
}

/// An RFC 3339 time (any offset).
pub fn instant(rfc3339: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).ok()
}

fn day_of(rfc3339: &str) -> Option<Date> {
    instant(rfc3339).map(|t| t.to_offset(time::UtcOffset::UTC).date())
}

impl Delegation {
    /// Whether the window holds day `day` (start and end included).
    pub fn covers_day(&self, day: Date) -> bool {
        match (parse_date("start", &self.start), parse_date("end", &self.end)) {
            (Ok(s), Ok(e)) => s <= day && day <= e,
            _ => false,
        }
    }

    /// Whether it was in force at `at` (RFC 3339): inside the window, not yet revoked.
    pub fn in_force_at(&self, at: &str) -> bool {
        let Some(day) = day_of(at) else { return false };
        let revoked_after = |r: &Revocation| matches!((instant(&r.at), instant(at)), (Some(r), Some(t)) if r > t);
        self.covers_day(day) && self.revoked.as_ref().is_none_or(revoked_after)
    }

    /// Whether it is about the step `stage` of a request of `department`.
    pub fn covers_step(&self, stage: Stage, department: &str) -> bool {
        self.stage == stage && (stage == Stage::Admin || self.department.as_deref() == Some(department))
    }

    fn overlaps(&self, other: &Delegation) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    fn same_step(&self, other: &Delegation) -> bool {
        self.stage == other.stage && (self.stage == Stage::Admin || self.department == other.department)
    }
}

pub fn new_id() -> String {
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!("d{}", &rand[..12])
}

/// A user name as the stores keep it (an etcd user name: no `/`, no spaces).
pub fn user_name(field: &str, raw: &str) -> Result<String> {
    let v = raw.trim();
    if v.is_empty() || v.len() > 128 || v.chars().any(|c| c == '/' || c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(format!("{field} \"{raw}\": a user name (1-128 characters, no '/' or spaces)")));
    }
    Ok(v.to_string())
}

/// Checks a new delegation by `approver` against the form rules and the
/// delegations there are (`existing`): no self-delegation, no loop.
pub fn validate(input: DelegationInput, approver: &str, existing: &[Delegation], today: Date) -> Result<Delegation> {
    let delegate = user_name("delegate", &input.delegate)?;
    if delegate == approver {
        return Err(Error::invalid(format!("{approver} cannot delegate to themselves: name another person")));
    }
    let start = parse_date("start", &input.start)?;
    let end = parse_date("end", &input.end)?;
    if end < start {
        return Err(Error::invalid(format!("end {end} is before start {start}")));
    }
    if end < today {
        return Err(Error::invalid(format!("end {end} is in the past: a delegation must end today or later")));
    }
    if (end - start).whole_days() > 366 {
        return Err(Error::invalid(format!("{start} to {end} is longer than a year: delegate for an absence, at most 366 days")));
    }
    let department = match input.stage {
        Stage::Manager => {
            let d = input.department.as_deref().map(str::trim).unwrap_or_default();
            if d.is_empty() || d.contains('/') {
                return Err(Error::invalid("department: a manager delegation names the department whose step it covers"));
            }
            Some(d.to_string())
        }
        Stage::Admin => None,
    };
    let reason = input.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason: say why (an absence, a handover), at most 500 characters"));
    }
    let d = Delegation {
        id: new_id(),
        approver: approver.to_string(),
        delegate,
        stage: input.stage,
        department,
        start: start.to_string(),
        end: end.to_string(),
        reason,
        created_at: now_rfc3339(),
        revoked: None,
    };
    if let Some(path) = loop_path(&d, existing) {
        return Err(Error::Conflict(format!(
            "delegating to {} would close a loop ({}): revoke one of them first",
            d.delegate,
            path.join(" → ")
        )));
    }
    Ok(d)
}

/// The loop `d` would close with the unrevoked delegations on the same step
/// whose windows overlap its own, as the chain of names, if any.
fn loop_path(d: &Delegation, existing: &[Delegation]) -> Option<Vec<String>> {
    let edges: Vec<&Delegation> = existing.iter().filter(|e| e.revoked.is_none() && e.same_step(d) && e.overlaps(d)).collect();
    // Depth-first from the delegate: a path back to the approver is a loop.
    let mut stack = vec![vec![d.approver.clone(), d.delegate.clone()]];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().cloned().unwrap_or_default();
        if last == d.approver {
            return Some(path);
        }
        if !seen.insert(last.clone()) {
            continue;
        }
        for e in edges.iter().filter(|e| e.approver == last) {
            let mut p = path.clone();
            p.push(e.delegate.clone());
            stack.push(p);
        }
    }
    None
}

/// Why a decision made through a delegation or an escalation does not
/// count (`None`: it counts, or it is the approver's own).
pub fn refused(r: &Records, d: &Decision, revision: i64, requester: &str, manager: Option<&Decision>) -> Option<String> {
    if d.on_behalf_of.is_none() && !d.escalated {
        return None;
    }
    authorises(r, d, revision, requester, manager).err()
}

/// Who acted, as the history shows it: "eve on behalf of bob", "eve (escalation delegate)".
pub fn acting(d: &Decision) -> String {
    match (&d.on_behalf_of, d.escalated) {
        (Some(a), _) => format!("{} on behalf of {a}", d.actor),
        (None, true) => format!("{} (escalation delegate)", d.actor),
        (None, false) => d.actor.clone(),
    }
}

/// Whether the decision `d` (written at store revision `revision`) made
/// through a delegation or an escalation counts on request `r`; `Err` says
/// why not (a note on the request). `manager` is the manager decision in
/// force (for the admin step's three-person rule).
pub fn authorises(
    r: &Records,
    d: &Decision,
    revision: i64,
    requester: &str,
    manager: Option<&Decision>,
) -> std::result::Result<(), String> {
    let who = &d.actor;
    let step = d.stage.as_str();
    let dept = &r.request.value.spec.department;
    if who == requester {
        return Err(format!("{who} filed this request: their {step} decision through a delegation or an escalation is ignored"));
    }
    if d.stage == Stage::Admin {
        if let Some(m) = manager {
            let mut manager_side = vec![m.actor.as_str()];
            manager_side.extend(m.on_behalf_of.as_deref());
            let mut mine = vec![who.as_str()];
            mine.extend(d.on_behalf_of.as_deref());
            if mine.iter().any(|x| manager_side.contains(x)) {
                return Err(format!(
                    "the admin decision by {who} involves the manager step's approver: the admin step needs a third person; ignored"
                ));
            }
        }
    }
    match (&d.on_behalf_of, d.escalated) {
        (Some(a), false) => {
            if a == requester {
                return Err(format!("{a} filed this request: a delegate of {a} cannot decide it; the {step} decision by {who} is ignored"));
            }
            let found = r.delegation.delegations.iter().find(|x| {
                let v = &x.value;
                v.approver == *a
                    && v.delegate == *who
                    && v.covers_step(d.stage, dept)
                    && v.in_force_at(&d.at)
                    && (v.revoked.is_none() || x.revision > revision)
            });
            match found {
                Some(_) => Ok(()),
                None => Err(format!(
                    "the {step} decision by {who} on behalf of {a} has no delegation from {a} to {who} in force at {} for this step: ignored",
                    d.at
                )),
            }
        }
        (None, true) => {
            let Some(p) = &r.delegation.policy else {
                return Err(format!(
                    "the {step} decision by {who} as escalation delegate: department {dept} has no escalation policy; ignored"
                ));
            };
            if p.escalate_to != *who {
                return Err(format!("the {step} decision by {who} as escalation delegate: {dept} escalates to {}; ignored", p.escalate_to));
            }
            let esc = r.delegation.escalations.iter().find(|e| {
                e.value.stage == d.stage && e.value.to == *who && e.value.request_revision == r.request.revision && e.revision < revision
            });
            match esc {
                Some(e) if escalation::due_by_policy(&e.value, p) => Ok(()),
                Some(_) => {
                    Err(format!("the escalation of the {step} step came before the department's timeout: {who}'s decision is ignored"))
                }
                None => {
                    Err(format!("the {step} decision by {who} as escalation delegate came without an escalation of this request: ignored"))
                }
            }
        }
        _ => Err(format!("the {step} decision by {who} claims both a delegation and an escalation: ignored")),
    }
}

/// The checks before a decision through `via` is written (the readers check
/// again): the delegation or escalation is in force now for this step.
pub async fn check_decision(store: &dyn RequestStore, current: &Records, req: &VmRequest, stage: Stage, me: &str, via: &Via) -> Result<()> {
    if *via == Via::Own {
        return Ok(());
    }
    let mut probe = Decision {
        stage,
        approved: true,
        actor: me.to_string(),
        at: now_rfc3339(),
        comment: String::new(),
        on_behalf_of: None,
        escalated: false,
    };
    via.stamp(&mut probe);
    if let Via::OnBehalfOf(a) = via {
        if a == me {
            return Err(Error::invalid("on behalf of yourself: decide as yourself instead"));
        }
        let all = store.delegations().await?;
        let dept = &req.spec.department;
        if !all
            .iter()
            .any(|x| x.value.approver == *a && x.value.delegate == me && x.value.covers_step(stage, dept) && x.value.in_force_at(&probe.at))
        {
            return Err(Error::Forbidden(format!(
                "{me} holds no delegation from {a} for the {} step{} in force today: {a} can delegate with `opsdeck vm delegate`",
                stage.as_str(),
                if stage == Stage::Manager { format!(" of {dept}") } else { String::new() }
            )));
        }
    }
    let manager = req.decisions.iter().find(|d| d.stage == Stage::Manager && d.approved);
    // Revision i64::MAX: "written after everything read".
    authorises(current, &probe, i64::MAX, &req.requester, manager).map_err(|why| {
        let why = why.trim_end_matches("; ignored").trim_end_matches(": ignored").trim_end_matches(" is ignored").to_string();
        Error::Forbidden(format!("{why}: refused"))
    })
}

/// Where delegations, escalation policies and escalations live: both
/// request stores, with the same semantics (see `store::local_delegation`,
/// `store::etcd_delegation`).
#[async_trait::async_trait]
pub trait DelegationStore: Send + Sync {
    /// Every delegation (revoked ones too), each with its store revision.
    async fn delegations(&self) -> Result<Vec<Versioned<Delegation>>>;
    /// Creates delegation `d` (`revision` 0; refused if its id exists) or
    /// replaces it (a revocation) if unchanged since read at `revision`;
    /// written where only its approver may write.
    async fn put_delegation(&self, d: &Delegation, revision: i64) -> Result<()>;
    async fn escalation_policies(&self) -> Result<Vec<EscalationPolicy>>;
    async fn set_escalation_policy(&self, p: &EscalationPolicy) -> Result<()>;
    async fn remove_escalation_policy(&self, department: &str) -> Result<()>;
    /// Records escalation `e` of the request read as `current`, once per step
    /// and request revision: `None` when one is there already (another pass
    /// was first); Conflict when the request moved meanwhile.
    async fn put_escalation(&self, current: &Records, e: &EscalationRecord) -> Result<Option<Records>>;
}

/// The delegation records a request's view needs (every delegation, this
/// request's escalations, its department's escalation policy).
#[derive(Debug, Clone, Default)]
pub struct DelegationRecords {
    pub delegations: Vec<Versioned<Delegation>>,
    pub escalations: Vec<Versioned<EscalationRecord>>,
    pub policy: Option<EscalationPolicy>,
}

/// Creates a delegation by the acting approver.
pub async fn delegate(store: &dyn RequestStore, input: DelegationInput, app_actor: &str) -> Result<Delegation> {
    let me = super::workflow::actor(store, app_actor);
    let existing: Vec<Delegation> = store.delegations().await?.into_iter().map(|v| v.value).collect();
    let d = validate(input, &me, &existing, super::validate::today())?;
    store.put_delegation(&d, 0).await?;
    Ok(d)
}

/// The approver revokes their delegation `id` (only they can).
pub async fn revoke(store: &dyn RequestStore, id: &str, app_actor: &str) -> Result<Delegation> {
    let me = super::workflow::actor(store, app_actor);
    let all = store.delegations().await?;
    let found = all.into_iter().find(|d| d.value.id == id).ok_or_else(|| Error::NotFound(format!("delegation {id} does not exist")))?;
    if found.value.approver != me && store.trust() != super::store::Trust::Personal {
        return Err(Error::Forbidden(format!("delegation {id} is {}'s: only they can revoke it (you are {me})", found.value.approver)));
    }
    if let Some(r) = &found.value.revoked {
        return Err(Error::Conflict(format!("delegation {id} was already revoked by {} at {}", r.by, r.at)));
    }
    let mut d = found.value.clone();
    d.revoked = Some(Revocation { at: now_rfc3339(), by: me });
    store.put_delegation(&d, found.revision).await?;
    Ok(d)
}

/// Every delegation (newest first), each marked in force or not at `now`.
pub async fn list(store: &dyn RequestStore, now: &str) -> Result<Vec<DelegationView>> {
    let mut out: Vec<DelegationView> =
        store.delegations().await?.into_iter().map(|v| DelegationView { active: v.value.in_force_at(now), delegation: v.value }).collect();
    out.sort_by(|a, b| b.delegation.created_at.cmp(&a.delegation.created_at).then_with(|| a.delegation.id.cmp(&b.delegation.id)));
    Ok(out)
}

/// The steps `me` may decide on request `req` through a delegation or an
/// escalation now (for the app's approve buttons).
pub fn ways_for(req: &VmRequest, delegations: &[DelegationView], me: &str, now: &str) -> Vec<Via> {
    let stage = match req.state {
        State::PendingManager => Stage::Manager,
        State::PendingAdmin => Stage::Admin,
        _ => return vec![],
    };
    let mut out: Vec<Via> = delegations
        .iter()
        .map(|v| &v.delegation)
        .filter(|d| d.delegate == me && d.covers_step(stage, &req.spec.department) && d.in_force_at(now))
        .map(|d| Via::OnBehalfOf(d.approver.clone()))
        .collect();
    if req.escalations.iter().any(|e| e.stage == stage && e.to == me) {
        out.push(Via::Escalation);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(to: &str, start: &str, end: &str) -> DelegationInput {
        DelegationInput {
            delegate: to.into(),
            stage: Stage::Manager,
            department: Some("qa".into()),
            start: start.into(),
            end: end.into(),
            reason: "holiday".into(),
        }
    }

    fn today() -> Date {
        parse_date("t", "2026-12-05").unwrap()
    }

    #[test]
    fn self_delegation_and_bad_windows_are_refused() {
        let e = validate(input("bob", "2026-12-05", "2026-12-10"), "bob", &[], today()).unwrap_err();
        assert!(e.to_string().contains("themselves"), "{e}");
        let e = validate(input("eve", "2026-12-10", "2026-12-05"), "bob", &[], today()).unwrap_err();
        assert!(e.to_string().contains("before start"), "{e}");
        let e = validate(input("eve", "2026-11-01", "2026-11-02"), "bob", &[], today()).unwrap_err();
        assert!(e.to_string().contains("in the past"), "{e}");
        let e = validate(input("e/ve", "2026-12-05", "2026-12-06"), "bob", &[], today()).unwrap_err();
        assert!(e.to_string().contains("user name"), "{e}");
        let mut i = input("eve", "2026-12-05", "2026-12-06");
        i.department = None;
        assert!(validate(i, "bob", &[], today()).is_err());
        let mut i = input("eve", "2026-12-05", "2026-12-06");
        i.reason = " ".into();
        assert!(validate(i, "bob", &[], today()).is_err());
    }

    #[test]
    fn a_loop_over_overlapping_windows_is_refused_and_other_steps_or_windows_are_not() {
        let a_b = validate(input("bob", "2026-12-05", "2026-12-10"), "amy", &[], today()).unwrap();
        let b_c = validate(input("cat", "2026-12-08", "2026-12-20"), "bob", std::slice::from_ref(&a_b), today()).unwrap();
        let both = vec![a_b.clone(), b_c.clone()];
        let e = validate(input("amy", "2026-12-09", "2026-12-09"), "cat", &both, today()).unwrap_err();
        assert!(e.to_string().contains("amy → bob → cat → amy") || e.to_string().contains("cat → amy → bob → cat"), "{e}");
        // Windows that do not overlap: no loop at the same time.
        validate(input("amy", "2026-12-21", "2026-12-22"), "cat", &both, today()).unwrap();
        // Another department's step: no loop.
        let mut other = input("amy", "2026-12-09", "2026-12-09");
        other.department = Some("dev".into());
        validate(other, "cat", &both, today()).unwrap();
        // A revoked link breaks the loop.
        let mut revoked = b_c;
        revoked.revoked = Some(Revocation { at: "2026-12-05T10:00:00Z".into(), by: "bob".into() });
        validate(input("amy", "2026-12-09", "2026-12-09"), "cat", &[a_b, revoked], today()).unwrap();
    }

    #[test]
    fn in_force_inside_the_window_until_revoked() {
        let mut d = validate(input("eve", "2026-12-05", "2026-12-06"), "bob", &[], today()).unwrap();
        assert!(d.in_force_at("2026-12-05T00:00:00Z") && d.in_force_at("2026-12-06T23:59:59Z"));
        assert!(!d.in_force_at("2026-12-04T23:59:59Z") && !d.in_force_at("2026-12-07T00:00:00Z"));
        assert!(d.in_force_at("2026-12-06T08:00:00+09:00"), "a local time is read in UTC");
        d.revoked = Some(Revocation { at: "2026-12-05T12:00:00Z".into(), by: "bob".into() });
        assert!(d.in_force_at("2026-12-05T11:59:59Z") && !d.in_force_at("2026-12-05T12:00:01Z"));
        assert!(d.covers_step(Stage::Manager, "qa") && !d.covers_step(Stage::Manager, "dev") && !d.covers_step(Stage::Admin, "qa"));
    }
}
