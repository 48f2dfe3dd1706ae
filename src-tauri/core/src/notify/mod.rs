//! Notifications for every workspace: events decided in the backend (VM
//! requests and leases, cluster verdicts, blocked scans, config changes
//! waiting) become rows of an outbox in SQLite, sent by e-mail (SMTP) or
//! webhooks (generic, Slack, Teams) with retries; per-user subscriptions
//! choose what goes where. docs/notifications.md.

pub mod channels;
pub mod event;
pub mod outbox;
pub mod sender;
pub mod settings;
pub mod subscriptions;

pub use channels::{Channel, ChannelInput, ChannelSpec, WebhookFormat};
pub use event::{Event, EventKind};
pub use outbox::{OutboxCounts, OutboxEntry};
pub use sender::{Delivery, DrainReport};
pub use settings::{NotifySettings, RetryPolicy};
pub use subscriptions::{Subscription, SubscriptionInput};
