//! Notifications on the backend: channels (the SMTP password to the
//! keychain), subscriptions, the outbox and its sender. The workspaces call
//! [`Backend::notify`] where an event is decided; it only writes the outbox
//! (never fails or slows the action) and wakes the sender. Changes to
//! channels and subscriptions, tests and retries are audited.

use crate::error::{Error, Result};
use crate::notify::channels::{self, Channel, ChannelInput, Outgoing};
use crate::notify::settings::{self as nsettings, password_account, NotifySettings, RetryPolicy};
use crate::notify::subscriptions::{self, Subscription, SubscriptionInput};
use crate::notify::{outbox, sender, DrainReport, Event, OutboxCounts, OutboxEntry};

use super::Backend;
use crate::clusters::ClusterHealth;
use crate::notify::EventKind;
use crate::scanner::policy::Decision;
use crate::scanner::scan::ScanReport;
use crate::vms::lifecycle::Action;
use crate::vms::model::{State, VmRequest};
use crate::vms::store::RequestStore;

impl Backend {
    /// Queues the notifications of `event` for every matching subscription,
    /// and wakes the sender. A failure is logged: the action stands.
    pub async fn notify(&self, event: Event) {
        let result = async {
            let s = nsettings::load(&self.db).await?;
            outbox::enqueue(&self.db, &s, &event).await
        }
        .await;
        match result {
            Ok(ids) if !ids.is_empty() => {
                tracing::debug!(event = event.kind.as_str(), target = %event.target, queued = ids.len(), "notifications queued");
                self.notify_wake.notify_one();
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, event = event.kind.as_str(), target = %event.target, "queueing notifications failed"),
        }
    }

    pub async fn notify_settings(&self) -> Result<NotifySettings> {
        nsettings::load(&self.db).await
    }

    /// Creates or updates a channel; its password goes to the keychain first.
    pub async fn notify_save_channel(&self, input: ChannelInput) -> Result<Channel> {
        let action = if input.id.is_some() { "notify.channel.update" } else { "notify.channel.create" };
        let target = input.name.trim().to_string();
        let result = self.save_channel_inner(input).await;
        let detail = result.as_ref().map(|c| {
            format!("{} {} ({})", c.spec.kind(), c.spec.target(), if c.has_password { "secret in keychain" } else { "no secret" })
        });
        self.audit("app", &target, action, detail).await;
        result
    }

    async fn save_channel_inner(&self, input: ChannelInput) -> Result<Channel> {
        let (name, spec) = channels::validate(&input)?;
        let s = nsettings::load(&self.db).await?;
        if s.channels.iter().any(|c| c.name == name && Some(&c.id) != input.id.as_ref()) {
            return Err(Error::Conflict(format!("a notification channel named \"{name}\" exists")));
        }
        let id = match &input.id {
            Some(id) => {
                s.channel(id)?;
                id.clone()
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let account = password_account(&id);
        let existing = s.channels.iter().find(|c| c.id == id).cloned();
        let had = existing.as_ref().is_some_and(|c| c.has_password);
        if let channels::ChannelSpec::Webhook { url, format, ca_file, timeout_secs } = spec {
            // The URL (Slack's and Teams' carry their token) goes to the keychain;
            // the settings keep its scheme, host and port. The same redacted URL
            // given back (an edit of other fields) keeps the stored one.
            let shown = channels::ChannelSpec::Webhook { url: url.clone(), format, ca_file: None, timeout_secs }.target();
            let unchanged =
                had && existing.as_ref().is_some_and(|c| matches!(&c.spec, channels::ChannelSpec::Webhook { url: u, .. } if *u == url));
            if !unchanged {
                self.keychain.set(&account, &url).await?;
            }
            let spec = channels::ChannelSpec::Webhook { url: shown, format, ca_file, timeout_secs };
            return self.store_channel(s, Channel { id, name, spec, has_password: true }, existing.is_none()).await;
        }
        let has_user = matches!(&spec, channels::ChannelSpec::Smtp { username: Some(_), .. });
        let has_password = if input.clear_password || !has_user {
            if had {
                self.keychain.delete(&account).await?;
            }
            false
        } else if let Some(pw) = &input.password {
            self.keychain.set(&account, pw).await?;
            true
        } else {
            had
        };
        self.store_channel(s, Channel { id, name, spec, has_password }, existing.is_none()).await
    }

    /// Writes `channel` into the settings; a new channel's secret is removed if that fails.
    async fn store_channel(&self, mut s: NotifySettings, channel: Channel, new: bool) -> Result<Channel> {
        match s.channels.iter_mut().find(|c| c.id == channel.id) {
            Some(c) => *c = channel.clone(),
            None => s.channels.push(channel.clone()),
        }
        if let Err(e) = nsettings::store(&self.db, &s).await {
            if new && channel.has_password {
                let _ = self.keychain.delete(&password_account(&channel.id)).await;
            }
            return Err(e);
        }
        Ok(channel)
    }

    /// Removes a channel, its password and the subscriptions to it.
    /// Notifications already queued for it fail when their turn comes.
    pub async fn notify_delete_channel(&self, id_or_name: &str) -> Result<()> {
        let mut s = nsettings::load(&self.db).await?;
        let c = s.channel(id_or_name)?.clone();
        let result = async {
            if c.has_password {
                self.keychain.delete(&password_account(&c.id)).await?;
            }
            s.channels.retain(|x| x.id != c.id);
            let before = s.subscriptions.len();
            s.subscriptions.retain(|x| x.channel != c.id);
            nsettings::store(&self.db, &s).await?;
            Ok(format!("{} {}; {} subscription(s) removed", c.spec.kind(), c.spec.target(), before - s.subscriptions.len()))
        }
        .await;
        self.audit("app", &c.name, "notify.channel.delete", result.as_ref().map(Clone::clone)).await;
        result.map(|_| ())
    }

    /// Adds (or, with an id, replaces) a subscription.
    pub async fn notify_subscribe(&self, input: SubscriptionInput) -> Result<Subscription> {
        let target = input.user.trim().to_string();
        let result = async {
            let mut s = nsettings::load(&self.db).await?;
            let sub = subscriptions::validate(input, &s.channels)?;
            match s.subscriptions.iter_mut().find(|x| x.id == sub.id) {
                Some(x) => *x = sub.clone(),
                None => s.subscriptions.push(sub.clone()),
            }
            nsettings::store(&self.db, &s).await?;
            Ok(sub)
        }
        .await;
        let detail = result.as_ref().map(|x: &Subscription| {
            let events = if x.events.is_empty() {
                "every event".to_string()
            } else {
                x.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
            };
            format!("{} -> channel {}{}: {events}", x.id, x.channel, x.address.as_deref().map(|a| format!(" ({a})")).unwrap_or_default())
        });
        self.audit("app", &target, "notify.subscribe", detail).await;
        result
    }

    pub async fn notify_unsubscribe(&self, id: &str) -> Result<()> {
        let result = async {
            let mut s = nsettings::load(&self.db).await?;
            let Some(sub) = s.subscriptions.iter().find(|x| x.id == id).cloned() else {
                return Err(Error::NotFound(format!("no subscription {id} (opsdeck notify subscriptions)")));
            };
            s.subscriptions.retain(|x| x.id != id);
            nsettings::store(&self.db, &s).await?;
            Ok(sub)
        }
        .await;
        let target = result.as_ref().map(|s| s.user.clone()).unwrap_or_else(|_| id.to_string());
        self.audit("app", &target, "notify.unsubscribe", result.as_ref().map(|s| format!("{} (channel {})", s.id, s.channel))).await;
        result.map(|_| ())
    }

    pub async fn notify_set_retry(&self, retry: RetryPolicy) -> Result<RetryPolicy> {
        let result = async {
            retry.validate()?;
            let mut s = nsettings::load(&self.db).await?;
            s.retry = retry;
            nsettings::store(&self.db, &s).await
        }
        .await;
        let detail = result.as_ref().map(|_| {
            format!("{} attempts, backoff {} ms doubling up to {} ms", retry.max_attempts, retry.backoff_base_ms, retry.backoff_max_ms)
        });
        self.audit("app", "notification retry policy", "notify.retry_policy", detail).await;
        result.map(|_| retry)
    }

    /// Sends a test message through a channel now (not through the outbox)
    /// to `address` (an SMTP channel needs one). Audited.
    pub async fn notify_test(&self, channel: &str, address: Option<&str>) -> Result<()> {
        let s = nsettings::load(&self.db).await?;
        let c = s.channel(channel)?.clone();
        let result = async {
            let recipient = address.map(str::trim).unwrap_or("");
            if matches!(c.spec, channels::ChannelSpec::Smtp { .. }) && recipient.is_empty() {
                return Err(Error::invalid("an e-mail channel is tested with an address to send to (--to)"));
            }
            let password = sender::secret_of(&self.keychain, &c).await?;
            let e = Event::test(&c.name, &self.actor);
            let payload = serde_json::to_value(&e).unwrap_or_default();
            let out = Outgoing { event: e.kind.as_str(), title: &e.title, body: &e.text, payload: &payload, recipient };
            sender::deliver(&c, password.as_ref(), &out).await.map_err(|e| match e {
                channels::SendError::Transient(m) => Error::Unreachable(m),
                channels::SendError::Permanent(m) => Error::InvalidInput(m),
            })?;
            Ok(format!(
                "test message sent through {} {}{}",
                c.spec.kind(),
                c.spec.target(),
                if recipient.is_empty() { String::new() } else { format!(" to {recipient}") }
            ))
        }
        .await;
        self.audit("app", &c.name, "notify.test", result.as_ref().map(Clone::clone)).await;
        result.map(|_| ())
    }

    /// The outbox, newest first (`state`: pending, sending, sent, failed).
    pub async fn notify_outbox(&self, state: Option<&str>, limit: u32) -> Result<Vec<OutboxEntry>> {
        outbox::list(&self.db, state, limit).await
    }

    pub async fn notify_counts(&self) -> Result<OutboxCounts> {
        outbox::counts(&self.db).await
    }

    /// Puts a failed notification back in line with fresh tries. Audited.
    pub async fn notify_retry(&self, id: i64) -> Result<OutboxEntry> {
        let result = async {
            let retry = nsettings::load(&self.db).await?.retry;
            outbox::retry(&self.db, id, &retry).await
        }
        .await;
        let detail = result.as_ref().map(|e| format!("notification {id} ({} to {}) queued again", e.event, e.channel_id));
        self.audit("app", &format!("notification {id}"), "notify.retry", detail).await;
        if result.is_ok() {
            self.notify_wake.notify_one();
        }
        result
    }

    /// Sends what is due now, once (`opsdeck notify send`).
    pub async fn notify_send_due(&self) -> Result<DrainReport> {
        sender::drain_once(&self.db, &self.keychain).await
    }

    /// The sender loop (the app runs it for as long as it is open).
    pub async fn notify_run_sender(&self) {
        sender::run(self.db.clone(), self.keychain.clone(), self.notify_wake.clone()).await
    }
}

// ---- where the workspaces' events are decided ----------------------------

impl Backend {
    /// A VM request reached `r.state` by a submit, an edit, a decision or a
    /// provisioning run (`filed`: a new request, also told to its followers).
    pub(crate) async fn notify_vm_request(&self, r: &VmRequest, filed: bool, comment: &str) {
        if filed {
            self.notify(Event::vm_request(r, EventKind::VmRequestFiled, comment)).await;
        }
        let kind = match r.state {
            State::PendingManager => EventKind::VmRequestWaitingManager,
            State::PendingAdmin => EventKind::VmRequestWaitingAdmin,
            State::Approved => EventKind::VmRequestApproved,
            State::Rejected => EventKind::VmRequestRejected,
            State::Provisioned => EventKind::VmRequestProvisioned,
            State::Failed => EventKind::VmRequestFailed,
            _ => return,
        };
        self.notify(Event::vm_request(r, kind, comment)).await;
    }

    /// The lifecycle actions the requester is told about: a lease ending
    /// soon, a VM powered off at the end of its lease (destroyed after the grace period).
    pub(crate) async fn notify_lifecycle(&self, store: &dyn RequestStore, actions: &[Action]) {
        for a in actions.iter().filter(|a| a.ok) {
            let kind = match a.action.as_str() {
                "lease_warning" => EventKind::VmLeaseEnding,
                "power_off" => EventKind::VmLeaseDestroy,
                _ => continue,
            };
            match store.get(&a.request).await {
                Ok(rec) => self.notify(Event::vm_lease(kind, &rec.compose(), &a.vm, &a.detail)).await,
                Err(e) => tracing::warn!(error = %e, request = %a.request, "no notification: the request could not be read"),
            }
        }
    }

    /// Each context whose verdict changed from `before` (the last known) to `after`.
    pub(crate) async fn notify_verdicts(&self, connection: &str, before: &[ClusterHealth], after: &[ClusterHealth]) {
        for h in after {
            let was = before.iter().find(|b| b.context == h.context).map(|b| b.verdict);
            let reasons: Vec<String> = h.findings.iter().map(|f| format!("{}: {}", f.object, f.message)).collect();
            if let Some(e) = Event::cluster(connection, &h.context, was, h.verdict, &reasons) {
                self.notify(e).await;
            }
        }
    }

    /// A scan whose verdict is BLOCK.
    pub(crate) async fn notify_scan(&self, id: i64, report: &ScanReport) {
        let v = &report.assessment.verdict;
        if v.decision != Decision::Block {
            return;
        }
        let mut reasons: Vec<String> = v.violations.iter().map(|x| format!("{}: {}", x.policy, x.details)).collect();
        reasons.extend(v.not_assessed.iter().map(|r| format!("not assessed: {r}")));
        self.notify(Event::image_block(&report.image, id, &reasons)).await;
    }
}
