//! What a notification is about: an event decided in the backend (a VM
//! request filed or decided, a lease ending, a cluster's verdict changing, a
//! scan blocked, a config change waiting), with the text every channel sends.

use serde::{Deserialize, Serialize};

use crate::clusters::model::Verdict;
use crate::vms::model::VmRequest;

/// The kinds of events a user can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
pub enum EventKind {
    /// A VM request was filed (for whoever follows all requests).
    #[serde(rename = "vm.request.filed")]
    VmRequestFiled,
    /// A request waits for the department's manager (to managers, by department).
    #[serde(rename = "vm.request.waiting_manager")]
    VmRequestWaitingManager,
    /// A request waits for the IT admin.
    #[serde(rename = "vm.request.waiting_admin")]
    VmRequestWaitingAdmin,
    /// The requester's request was approved by both steps.
    #[serde(rename = "vm.request.approved")]
    VmRequestApproved,
    /// A request waited past its department's approval timeout and waits
    /// for you, its escalation delegate (to that user only).
    #[serde(rename = "vm.request.escalated")]
    VmRequestEscalated,
    #[serde(rename = "vm.request.rejected")]
    VmRequestRejected,
    #[serde(rename = "vm.request.provisioned")]
    VmRequestProvisioned,
    #[serde(rename = "vm.request.failed")]
    VmRequestFailed,
    /// The lease of the requester's VM ends in a few days.
    #[serde(rename = "vm.lease.ending")]
    VmLeaseEnding,
    /// The lease ended: the VM is powered off and destroyed after the grace period.
    #[serde(rename = "vm.lease.destroy")]
    VmLeaseDestroy,
    #[serde(rename = "cluster.degraded")]
    ClusterDegraded,
    #[serde(rename = "cluster.unreachable")]
    ClusterUnreachable,
    /// A cluster that was degraded or unreachable is healthy again.
    #[serde(rename = "cluster.recovered")]
    ClusterRecovered,
    /// An image scan's verdict is BLOCK.
    #[serde(rename = "image.scan.block")]
    ImageScanBlock,
    /// A config change request waits for a reviewer.
    #[serde(rename = "config.change.waiting")]
    ConfigChangeWaiting,
    /// A test message sent by hand (`opsdeck notify test`).
    #[serde(rename = "test")]
    Test,
}

impl EventKind {
    pub const ALL: [EventKind; 16] = [
        EventKind::VmRequestFiled,
        EventKind::VmRequestWaitingManager,
        EventKind::VmRequestWaitingAdmin,
        EventKind::VmRequestEscalated,
        EventKind::VmRequestApproved,
        EventKind::VmRequestRejected,
        EventKind::VmRequestProvisioned,
        EventKind::VmRequestFailed,
        EventKind::VmLeaseEnding,
        EventKind::VmLeaseDestroy,
        EventKind::ClusterDegraded,
        EventKind::ClusterUnreachable,
        EventKind::ClusterRecovered,
        EventKind::ImageScanBlock,
        EventKind::ConfigChangeWaiting,
        EventKind::Test,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::VmRequestFiled => "vm.request.filed",
            EventKind::VmRequestWaitingManager => "vm.request.waiting_manager",
            EventKind::VmRequestWaitingAdmin => "vm.request.waiting_admin",
            EventKind::VmRequestEscalated => "vm.request.escalated",
            EventKind::VmRequestApproved => "vm.request.approved",
            EventKind::VmRequestRejected => "vm.request.rejected",
            EventKind::VmRequestProvisioned => "vm.request.provisioned",
            EventKind::VmRequestFailed => "vm.request.failed",
            EventKind::VmLeaseEnding => "vm.lease.ending",
            EventKind::VmLeaseDestroy => "vm.lease.destroy",
            EventKind::ClusterDegraded => "cluster.degraded",
            EventKind::ClusterUnreachable => "cluster.unreachable",
            EventKind::ClusterRecovered => "cluster.recovered",
            EventKind::ImageScanBlock => "image.scan.block",
            EventKind::ConfigChangeWaiting => "config.change.waiting",
            EventKind::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the event is addressed to one user (the requester): only
    /// that user's subscriptions receive it.
    pub fn personal(self) -> bool {
        matches!(
            self,
            EventKind::VmRequestApproved
                | EventKind::VmRequestEscalated
                | EventKind::VmRequestRejected
                | EventKind::VmRequestProvisioned
                | EventKind::VmRequestFailed
                | EventKind::VmLeaseEnding
                | EventKind::VmLeaseDestroy
        )
    }
}

/// One event, with the text the channels send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    /// One line: the e-mail subject, the card title.
    pub title: String,
    /// A few lines of plain text.
    pub text: String,
    /// What it is about: a request id, a cluster context, an image, a change id.
    pub target: String,
    /// The department of a VM request (subscriptions may filter on it).
    pub department: Option<String>,
    /// The user a personal event is for (the requester).
    pub for_user: Option<String>,
    pub at: String,
}

fn event(kind: EventKind, title: String, text: String, target: &str) -> Event {
    Event { kind, title, text, target: target.to_string(), department: None, for_user: None, at: crate::cache::db::now_rfc3339() }
}

impl Event {
    /// The event of a VM request's new state (`None` for states nobody is told about).
    pub fn vm_request(r: &VmRequest, kind: EventKind, comment: &str) -> Event {
        let s = &r.spec;
        let what = format!("{} ({} vCPU, {} GB memory, {} GB disk, lease until {})", s.name, s.cpu, s.memory_gb, s.disk_gb, s.lease_end);
        let (title, lead) = match kind {
            EventKind::VmRequestFiled => (format!("VM request {} filed: {}", r.id, s.name), format!("{} requested {what}.", r.requester)),
            EventKind::VmRequestWaitingManager => (
                format!("VM request {} waits for your approval (manager of {})", r.id, s.department),
                format!("{} requested {what}. It waits for the {} manager's approval.", r.requester, s.department),
            ),
            EventKind::VmRequestWaitingAdmin => (
                format!("VM request {} waits for your approval (IT admin)", r.id),
                format!("{} requested {what}; the {} manager approved it. It waits for the IT admin.", r.requester, s.department),
            ),
            EventKind::VmRequestApproved => (
                format!("Your VM request {} is approved: {}", r.id, s.name),
                format!("Your request for {what} is approved; it will be provisioned."),
            ),
            EventKind::VmRequestRejected => {
                (format!("Your VM request {} was rejected: {}", r.id, s.name), format!("Your request for {what} was rejected."))
            }
            EventKind::VmRequestProvisioned => {
                let a = r.asset.clone().unwrap_or_default();
                (
                    format!("Your VM {} is ready", s.name),
                    format!("Your request {} is provisioned: VM {} on host {}, datastore {}.", r.id, a.name, a.host, a.datastore),
                )
            }
            EventKind::VmRequestFailed => (
                format!("Provisioning of your VM {} failed", s.name),
                format!("Your request {} for {what} failed: {}", r.id, r.failure.clone().unwrap_or_default()),
            ),
            other => (format!("VM request {}: {}", r.id, other.as_str()), what.clone()),
        };
        let comment = comment.trim();
        let text = if comment.is_empty() { lead } else { format!("{lead}\nComment: {comment}") };
        let mut e = event(kind, title, format!("{text}\nDepartment: {}. Purpose: {}.", s.department, s.purpose), &r.id);
        e.department = Some(s.department.clone());
        e.for_user = Some(r.requester.clone());
        e
    }

    /// A request whose `step` waited since `since` past the department's
    /// timeout: it waits for `to`, the escalation delegate (to them only).
    pub fn vm_escalated(r: &VmRequest, step: &str, to: &str, since: &str, timeout_hours: u32) -> Event {
        let s = &r.spec;
        let title = format!("VM request {} waits for you: escalated after {timeout_hours} h without a {step} decision", r.id);
        let text = format!(
            "{} requested {} ({} vCPU, {} GB memory, {} GB disk). The {step} step has waited since {since}, longer than the \
             {} department's {timeout_hours} h: as its escalation delegate you may decide it:\n  opsdeck vm approve {} --as {step} --escalated\nDepartment: {}. Purpose: {}.",
            r.requester, s.name, s.cpu, s.memory_gb, s.disk_gb, s.department, r.id, s.department, s.purpose
        );
        let mut e = event(EventKind::VmRequestEscalated, title, text, &r.id);
        e.department = Some(s.department.clone());
        e.for_user = Some(to.to_string());
        e
    }

    /// Lease extension `n` of a request: asked for (`VmRequestWaitingManager`,
    /// to the department's managers) or decided (`VmRequestApproved` /
    /// `VmRequestRejected`, to the requester).
    pub fn vm_extension(r: &VmRequest, n: u32, kind: EventKind, comment: &str) -> Event {
        let s = &r.spec;
        let ext = r.extensions.iter().find(|e| e.n == n);
        let until = ext.map_or("", |e| e.lease_end.as_str());
        let reason = ext.map_or("", |e| e.reason.as_str());
        let (title, lead) = match kind {
            EventKind::VmRequestWaitingManager => (
                format!("Lease extension of VM {} waits for your approval (manager of {})", s.name, s.department),
                format!("{} asks to keep VM {} (request {}) until {until}: {reason}", r.requester, s.name, r.id),
            ),
            EventKind::VmRequestApproved => (
                format!("The lease of your VM {} is extended to {until}", s.name),
                format!("Extension {n} of request {} is approved: the lease now ends {}.", r.id, s.lease_end),
            ),
            _ => (
                format!("Your lease extension for VM {} was rejected", s.name),
                format!("Extension {n} of request {} (to {until}) was rejected: the lease still ends {}.", r.id, s.lease_end),
            ),
        };
        let comment = comment.trim();
        let text = if comment.is_empty() { lead } else { format!("{lead}\nComment: {comment}") };
        let mut e = event(kind, title, format!("{text}\nDepartment: {}.", s.department), &r.id);
        e.department = Some(s.department.clone());
        e.for_user = Some(r.requester.clone());
        e
    }

    /// A lifecycle action that concerns the requester (lease warning, power-off before destroy).
    pub fn vm_lease(kind: EventKind, r: &VmRequest, vm: &str, detail: &str) -> Event {
        let title = match kind {
            EventKind::VmLeaseEnding => format!("The lease of your VM {vm} ends on {}", r.spec.lease_end),
            _ => format!("Your VM {vm} is powered off and will be destroyed"),
        };
        let text = format!(
            "Request {} ({}): {detail}.\nTo keep it, ask for an extension: opsdeck vm extend {} --until YYYY-MM-DD --reason \"…\"",
            r.id, r.spec.name, r.id
        );
        let mut e = event(kind, title, text, &r.id);
        e.department = Some(r.spec.department.clone());
        e.for_user = Some(r.requester.clone());
        e
    }

    /// A cluster's verdict changed from `before` (None: first seen) to `now`.
    pub fn cluster(connection: &str, context: &str, before: Option<Verdict>, now: Verdict, reasons: &[String]) -> Option<Event> {
        let kind = match (before, now) {
            (Some(b), n) if b == n => return None,
            (_, Verdict::Degraded) => EventKind::ClusterDegraded,
            (_, Verdict::Unreachable) => EventKind::ClusterUnreachable,
            (Some(_), Verdict::Healthy) => EventKind::ClusterRecovered,
            (None, Verdict::Healthy) => return None,
        };
        let word = match now {
            Verdict::Healthy => "healthy again",
            Verdict::Degraded => "degraded",
            Verdict::Unreachable => "unreachable",
        };
        let title = format!("Cluster {context} is {word}");
        let mut text = format!("Cluster {context} (connection {connection}) is {word}");
        if let Some(b) = before {
            text.push_str(&format!(" (was {})", verdict_word(b)));
        }
        text.push('.');
        for r in reasons.iter().take(10) {
            text.push_str(&format!("\n- {r}"));
        }
        Some(event(kind, title, text, context))
    }

    /// An image scan whose verdict is BLOCK.
    pub fn image_block(image: &str, scan_id: i64, reasons: &[String]) -> Event {
        let mut text = format!("The scan of {image} (scan {scan_id}) is BLOCK.");
        for r in reasons.iter().take(10) {
            text.push_str(&format!("\n- {r}"));
        }
        event(EventKind::ImageScanBlock, format!("Image {image} is blocked by the scan policy"), text, image)
    }

    /// A config change request that waits for a reviewer, in the etcd at `endpoints`.
    pub fn config_change(endpoints: &str, id: &str, author: &str, keys: &[String], comment: &str) -> Event {
        let title = format!("Config change {id} by {author} waits for review");
        let text = format!(
            "{author} proposed change {id} of {} key(s) in the etcd at {endpoints}: {}\nComment: {comment}\nReview it in the app (Config, Changes) or with: opsdeck config --connection CONNECTION review {id}",
            keys.len(),
            keys.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
        );
        event(EventKind::ConfigChangeWaiting, title, text, id)
    }

    /// A test message for a channel.
    pub fn test(channel: &str, actor: &str) -> Event {
        event(
            EventKind::Test,
            format!("Opsdeck test message ({channel})"),
            format!("This is a test message from Opsdeck, sent by {actor} through the channel \"{channel}\"."),
            channel,
        )
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Healthy => "healthy",
        Verdict::Degraded => "degraded",
        Verdict::Unreachable => "unreachable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::Value::String(k.as_str().into()));
        }
        assert_eq!(EventKind::parse("vm.nope"), None);
    }

    #[test]
    fn cluster_events_only_on_a_change() {
        assert!(Event::cluster("k", "a", Some(Verdict::Degraded), Verdict::Degraded, &[]).is_none());
        assert!(Event::cluster("k", "a", None, Verdict::Healthy, &[]).is_none());
        let e = Event::cluster("k", "a", Some(Verdict::Healthy), Verdict::Unreachable, &["api: refused".into()]).unwrap();
        assert_eq!(e.kind, EventKind::ClusterUnreachable);
        assert!(e.text.contains("(was healthy)") && e.text.contains("- api: refused"), "{}", e.text);
        let e = Event::cluster("k", "a", Some(Verdict::Degraded), Verdict::Healthy, &[]).unwrap();
        assert_eq!(e.kind, EventKind::ClusterRecovered);
        assert_eq!(Event::cluster("k", "a", None, Verdict::Degraded, &[]).unwrap().kind, EventKind::ClusterDegraded);
    }
}
