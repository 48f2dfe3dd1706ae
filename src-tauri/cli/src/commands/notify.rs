//! `opsdeck notify`: notification channels (SMTP, webhooks), per-user
//! subscriptions, the outbox, and `notify send`, which drains the outbox
//! once (for cron or CI, when the app is not running). The SMTP password is
//! read from an environment variable or standard input, into the keychain.

use clap::Subcommand;
use opsdeck_core::notify::{ChannelInput, ChannelSpec, EventKind, RetryPolicy, SubscriptionInput, WebhookFormat};
use opsdeck_core::{Backend, Error};

use super::connections::{read_secret, SecretArgs};
use crate::exit;
use crate::output::{fail, outln, print_json, print_table, Format};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum HookKind {
    Generic,
    Slack,
    Teams,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// List the channels (no secrets: whether a password is in the keychain).
    Channels {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Add a channel, or change the one with this name (an e-mail server or a webhook).
    AddChannel {
        name: String,
        /// SMTP server HOST:PORT (587 is the STARTTLS submission port).
        #[arg(long, value_name = "HOST:PORT", conflicts_with = "webhook", required_unless_present = "webhook")]
        smtp: Option<String>,
        /// Sender address of the e-mails ("Opsdeck <ops@example.com>").
        #[arg(long, requires = "smtp")]
        from: Option<String>,
        /// SMTP AUTH user (its password from --secret-env or --secret-stdin, into the keychain).
        #[arg(long, requires = "smtp")]
        user: Option<String>,
        /// Send without STARTTLS (a relay on this machine only; refused with --user).
        #[arg(long, requires = "smtp")]
        no_starttls: bool,
        /// Webhook URL.
        #[arg(long)]
        webhook: Option<String>,
        /// Webhook payload: generic JSON, Slack ({"text"}) or Teams (Adaptive Card).
        #[arg(long, value_enum, default_value_t = HookKind::Generic)]
        kind: HookKind,
        /// Extra CA certificates (PEM) trusted for this server.
        #[arg(long)]
        ca: Option<String>,
        /// Deadline of one delivery, in seconds.
        #[arg(long, default_value_t = 15)]
        timeout: u32,
        #[command(flatten)]
        secret: SecretArgs,
    },
    /// Remove a channel, its password and the subscriptions to it.
    RemoveChannel { name: String },
    /// Send a test message through a channel now; exit 1 (or the error's code) if it does not go through.
    Test {
        channel: String,
        /// The address to send the test e-mail to (e-mail channels).
        #[arg(long)]
        to: Option<String>,
    },
    /// Subscribe a user to events on a channel.
    Subscribe {
        /// The user (as in requests and the audit log).
        #[arg(long)]
        user: String,
        /// Channel name or id.
        #[arg(long)]
        channel: String,
        /// E-mail address (e-mail channels).
        #[arg(long)]
        to: Option<String>,
        /// An event (repeatable; none = every event): vm.request.filed, vm.request.waiting_manager,
        /// vm.request.waiting_admin, vm.request.approved, vm.request.rejected, vm.request.provisioned,
        /// vm.request.failed, vm.lease.ending, vm.lease.destroy, cluster.degraded, cluster.unreachable,
        /// cluster.recovered, image.scan.block, config.change.waiting.
        #[arg(long = "event", value_name = "EVENT")]
        events: Vec<String>,
        /// Only VM events of this department (repeatable).
        #[arg(long = "department")]
        departments: Vec<String>,
    },
    /// List the subscriptions.
    Subscriptions {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Remove a subscription.
    Unsubscribe { id: String },
    /// The outbox, newest first: pending, sending, sent and failed notifications with their tries.
    Outbox {
        /// Only this state: pending, sending, sent, failed.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Put a failed notification back in line (fresh tries); `notify send` or the app sends it.
    Retry { id: i64 },
    /// Send what is due in the outbox, once (cron, CI); exit 1 if a notification failed for good.
    Send {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Set how often and how long notifications are retried.
    RetryPolicy {
        #[arg(long)]
        max_attempts: u32,
        /// The first wait, in milliseconds; doubled after each failed try.
        #[arg(long)]
        backoff_ms: u64,
        /// The longest wait, in milliseconds.
        #[arg(long)]
        backoff_max_ms: u64,
    },
}

pub async fn run(data_dir: Option<std::path::PathBuf>, c: NotifyCommand) -> u8 {
    let backend = match super::open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    run_on(&backend, c).await.unwrap_or_else(|e| fail(&e))
}

async fn run_on(b: &Backend, c: NotifyCommand) -> Result<u8, Error> {
    match c {
        NotifyCommand::Channels { format } => {
            let s = b.notify_settings().await?;
            if format == Format::Json {
                return Ok(print_json(&s.channels));
            }
            let rows: Vec<Vec<String>> = s
                .channels
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        c.spec.kind().to_string(),
                        c.spec.target(),
                        if c.has_password { "in keychain".into() } else { "-".into() },
                        c.id.clone(),
                    ]
                })
                .collect();
            print_table(&["NAME", "KIND", "TARGET", "SECRET", "ID"], &rows);
            Ok(exit::OK)
        }
        NotifyCommand::AddChannel { name, smtp, from, user, no_starttls, webhook, kind, ca, timeout, secret } => {
            let spec = match (smtp, webhook) {
                (Some(hp), _) => {
                    let (host, port) = hp
                        .rsplit_once(':')
                        .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h.to_string(), p)))
                        .ok_or_else(|| Error::invalid(format!("--smtp {hp}: HOST:PORT")))?;
                    let from = from.ok_or_else(|| Error::invalid("--from: the sender address of the e-mails"))?;
                    ChannelSpec::Smtp { host, port, starttls: !no_starttls, username: user, from, ca_file: ca, timeout_secs: timeout }
                }
                (None, Some(url)) => {
                    let format = match kind {
                        HookKind::Generic => WebhookFormat::Generic,
                        HookKind::Slack => WebhookFormat::Slack,
                        HookKind::Teams => WebhookFormat::Teams,
                    };
                    ChannelSpec::Webhook { url, format, ca_file: ca, timeout_secs: timeout }
                }
                (None, None) => return Err(Error::invalid("--smtp HOST:PORT or --webhook URL")),
            };
            let id = b.notify_settings().await?.channels.into_iter().find(|c| c.name == name.trim()).map(|c| c.id);
            let password = read_secret(&secret)?;
            let c = b.notify_save_channel(ChannelInput { id, name, spec, password, clear_password: false }).await?;
            outln!("{} {} ({}){}", c.name, c.spec.target(), c.id, if c.has_password { "; secret in the keychain" } else { "" });
            Ok(exit::OK)
        }
        NotifyCommand::RemoveChannel { name } => {
            b.notify_delete_channel(&name).await?;
            outln!("removed {name}");
            Ok(exit::OK)
        }
        NotifyCommand::Test { channel, to } => {
            b.notify_test(&channel, to.as_deref()).await?;
            outln!("sent a test message through {channel}");
            Ok(exit::OK)
        }
        NotifyCommand::Subscribe { user, channel, to, events, departments } => {
            let events = events
                .iter()
                .map(|e| {
                    EventKind::parse(e)
                        .ok_or_else(|| Error::invalid(format!("--event {e}: not an event (opsdeck notify subscribe --help)")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let s = b.notify_subscribe(SubscriptionInput { id: None, user, events, channel, address: to, departments }).await?;
            outln!("{}", s.id);
            Ok(exit::OK)
        }
        NotifyCommand::Subscriptions { format } => {
            let s = b.notify_settings().await?;
            if format == Format::Json {
                return Ok(print_json(&s.subscriptions));
            }
            let rows: Vec<Vec<String>> = s
                .subscriptions
                .iter()
                .map(|x| {
                    let channel = s.channels.iter().find(|c| c.id == x.channel).map_or(x.channel.clone(), |c| c.name.clone());
                    vec![
                        x.id.clone(),
                        x.user.clone(),
                        channel,
                        x.address.clone().unwrap_or_else(|| "-".into()),
                        if x.events.is_empty() { "*".into() } else { x.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",") },
                        if x.departments.is_empty() { "*".into() } else { x.departments.join(",") },
                    ]
                })
                .collect();
            print_table(&["ID", "USER", "CHANNEL", "TO", "EVENTS", "DEPARTMENTS"], &rows);
            Ok(exit::OK)
        }
        NotifyCommand::Unsubscribe { id } => {
            b.notify_unsubscribe(&id).await?;
            outln!("removed {id}");
            Ok(exit::OK)
        }
        NotifyCommand::Outbox { state, limit, format } => {
            let list = b.notify_outbox(state.as_deref(), limit).await?;
            if format == Format::Json {
                return Ok(print_json(&list));
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|e| {
                    vec![
                        e.id.to_string(),
                        e.state.clone(),
                        e.event.clone(),
                        if e.recipient.is_empty() { e.channel_id.clone() } else { e.recipient.clone() },
                        format!("{}/{}", e.attempts, e.max_attempts),
                        if e.state == "pending" { e.next_attempt_at.clone() } else { e.sent_at.clone().unwrap_or_default() },
                        e.last_error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print_table(&["ID", "STATE", "EVENT", "TO", "TRIES", "NEXT/SENT", "LAST ERROR"], &rows);
            Ok(exit::OK)
        }
        NotifyCommand::Retry { id } => {
            let e = b.notify_retry(id).await?;
            outln!("notification {} is {} again", e.id, e.state);
            Ok(exit::OK)
        }
        NotifyCommand::Send { format } => {
            let r = b.notify_send_due().await?;
            if format == Format::Json {
                print_json(&r);
            } else {
                for d in &r.deliveries {
                    outln!("{} {} {}{}", d.id, d.state, d.event, d.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default());
                }
                outln!("{} sent, {} to retry, {} failed", r.sent, r.retrying, r.failed);
            }
            Ok(if r.failed > 0 { exit::FAILED } else { exit::OK })
        }
        NotifyCommand::RetryPolicy { max_attempts, backoff_ms, backoff_max_ms } => {
            let p = b.notify_set_retry(RetryPolicy { max_attempts, backoff_base_ms: backoff_ms, backoff_max_ms }).await?;
            outln!("{} attempts, {} ms doubling up to {} ms", p.max_attempts, p.backoff_base_ms, p.backoff_max_ms);
            Ok(exit::OK)
        }
    }
}
