//! Per-user subscriptions: which events go to which channel (and e-mail
//! address) for which user. An event addressed to one user (their request
//! decided, their lease ending) reaches only that user's subscriptions; the
//! others (a request waiting, a cluster degraded, a scan blocked, a change
//! waiting for review) reach every subscription to them, a VM request's
//! optionally filtered by department.

use serde::{Deserialize, Serialize};

use super::channels::{Channel, ChannelSpec};
use super::event::{Event, EventKind};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Subscription {
    pub id: String,
    /// The user (as recorded in requests and the audit log: the OS user, or
    /// the etcd user of a team store).
    pub user: String,
    /// The events; empty means every event.
    pub events: Vec<EventKind>,
    /// The channel id.
    pub channel: String,
    /// The e-mail address (SMTP channels); unused by webhooks.
    #[serde(default)]
    pub address: Option<String>,
    /// Only VM events of these departments (empty: all).
    #[serde(default)]
    pub departments: Vec<String>,
}

/// A subscription to create (no id) or replace.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct SubscriptionInput {
    #[serde(default)]
    pub id: Option<String>,
    pub user: String,
    #[serde(default)]
    pub events: Vec<EventKind>,
    pub channel: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub departments: Vec<String>,
}

impl Subscription {
    /// Whether `e` goes to this subscription.
    pub fn matches(&self, e: &Event) -> bool {
        if e.kind == EventKind::Test {
            return false;
        }
        if !self.events.is_empty() && !self.events.contains(&e.kind) {
            return false;
        }
        if e.kind.personal() && e.for_user.as_deref() != Some(self.user.as_str()) {
            return false;
        }
        match (&e.department, self.departments.is_empty()) {
            (_, true) | (None, false) => true,
            (Some(d), false) => self.departments.iter().any(|x| x == d),
        }
    }
}

/// Checks a subscription against the channels; returns it with its id.
pub fn validate(input: SubscriptionInput, channels: &[Channel]) -> Result<Subscription> {
    let user = input.user.trim().to_string();
    if user.is_empty() {
        return Err(Error::invalid("subscription: the user is required"));
    }
    let channel = channels
        .iter()
        .find(|c| c.id == input.channel || c.name == input.channel)
        .ok_or_else(|| Error::invalid(format!("no notification channel \"{}\" (opsdeck notify channels)", input.channel)))?;
    let address = input.address.map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    if let ChannelSpec::Smtp { .. } = channel.spec {
        let a = address.as_deref().ok_or_else(|| Error::invalid("an e-mail channel needs the address to send to"))?;
        a.parse::<lettre::message::Mailbox>().map_err(|e| Error::invalid(format!("address \"{a}\": {e}")))?;
    }
    let mut events = input.events;
    events.sort_by_key(|k| k.as_str());
    events.dedup();
    Ok(Subscription {
        id: input.id.unwrap_or_else(|| format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..10])),
        user,
        events,
        channel: channel.id.clone(),
        address,
        departments: input.departments.into_iter().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(user: &str, events: Vec<EventKind>, departments: Vec<&str>) -> Subscription {
        Subscription {
            id: "s".into(),
            user: user.into(),
            events,
            channel: "c".into(),
            address: None,
            departments: departments.into_iter().map(Into::into).collect(),
        }
    }

    fn ev(kind: EventKind, dept: Option<&str>, for_user: Option<&str>) -> Event {
        Event {
            kind,
            title: "t".into(),
            text: "x".into(),
            target: "r1".into(),
            department: dept.map(Into::into),
            for_user: for_user.map(Into::into),
            at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn personal_events_reach_only_their_user() {
        let alice = sub("alice", vec![], vec![]);
        let bob = sub("bob", vec![EventKind::VmRequestApproved], vec![]);
        let e = ev(EventKind::VmRequestApproved, Some("qa"), Some("alice"));
        assert!(alice.matches(&e));
        assert!(!bob.matches(&e));
    }

    #[test]
    fn shared_events_filter_by_kind_and_department() {
        let mgr = sub("bob", vec![EventKind::VmRequestWaitingManager], vec!["qa"]);
        assert!(mgr.matches(&ev(EventKind::VmRequestWaitingManager, Some("qa"), Some("alice"))));
        assert!(!mgr.matches(&ev(EventKind::VmRequestWaitingManager, Some("dev"), Some("alice"))));
        assert!(!mgr.matches(&ev(EventKind::VmRequestWaitingAdmin, Some("qa"), Some("alice"))));
        let ops = sub("carol", vec![EventKind::ClusterDegraded], vec!["qa"]);
        assert!(ops.matches(&ev(EventKind::ClusterDegraded, None, None)), "no department on the event: the filter does not apply");
        assert!(!sub("x", vec![], vec![]).matches(&ev(EventKind::Test, None, None)));
    }
}
