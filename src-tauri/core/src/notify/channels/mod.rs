//! Where notifications go: an SMTP server (e-mail) or a webhook (generic
//! JSON, Slack-compatible, Teams-compatible). A channel is a settings entry;
//! the SMTP password is in the OS keychain, never in the database.

pub mod smtp;
pub mod webhook;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Default deadline of one delivery (connect, TLS, the whole exchange).
pub const DEFAULT_TIMEOUT_SECS: u32 = 15;

fn default_timeout() -> u32 {
    DEFAULT_TIMEOUT_SECS
}

fn default_true() -> bool {
    true
}

/// The body shape a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// `{"event", "title", "text", "target", "at", ...}`.
    Generic,
    /// Slack incoming webhooks (and Mattermost, Rocket.Chat): `{"text": ...}`.
    Slack,
    /// Microsoft Teams workflows: an Adaptive Card in a message.
    Teams,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Generic => "generic",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Teams => "teams",
        }
    }
}

/// A channel's settings (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "lowercase", rename = "NotifyChannelSpec")]
pub enum ChannelSpec {
    Smtp {
        host: String,
        port: u16,
        /// Upgrade with STARTTLS before anything else (required: no mail, and
        /// never a password, in clear). Off only for a relay on this machine.
        #[serde(default = "default_true")]
        starttls: bool,
        /// AUTH user; the password is in the keychain.
        #[serde(default)]
        username: Option<String>,
        /// The sender address (`Opsdeck <ops@example.com>` or a bare address).
        from: String,
        /// A PEM file of extra CA certificates trusted for this server
        /// (a private CA); the system's roots are trusted too.
        #[serde(default)]
        ca_file: Option<String>,
        #[serde(default = "default_timeout")]
        timeout_secs: u32,
    },
    Webhook {
        url: String,
        format: WebhookFormat,
        /// A PEM file of extra CA certificates trusted for this URL.
        #[serde(default)]
        ca_file: Option<String>,
        #[serde(default = "default_timeout")]
        timeout_secs: u32,
    },
}

impl ChannelSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelSpec::Smtp { .. } => "smtp",
            ChannelSpec::Webhook { format, .. } => format.as_str(),
        }
    }

    /// Where it sends, for lists and the audit log (a webhook URL's path
    /// and query are left out: they often carry its token).
    pub fn target(&self) -> String {
        match self {
            ChannelSpec::Smtp { host, port, username, starttls, .. } => format!(
                "smtp://{}{host}:{port}{}",
                username.as_deref().map(|u| format!("{u}@")).unwrap_or_default(),
                if *starttls { " (STARTTLS)" } else { " (no TLS)" }
            ),
            ChannelSpec::Webhook { url, .. } => match url::Url::parse(url) {
                Ok(u) => {
                    format!("{}://{}{}/…", u.scheme(), u.host_str().unwrap_or(""), u.port().map(|p| format!(":{p}")).unwrap_or_default())
                }
                Err(_) => "(invalid URL)".into(),
            },
        }
    }
}

/// A saved channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename = "NotifyChannel")]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub spec: ChannelSpec,
    /// The channel's secret is in the keychain: the SMTP password, or the
    /// webhook's URL (whose path and query often carry its token; the spec
    /// then keeps only its scheme, host and port).
    #[serde(default)]
    pub has_password: bool,
}

/// A channel to create (no id) or update; the password goes to the keychain.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename = "NotifyChannelInput")]
pub struct ChannelInput {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub spec: ChannelSpec,
    /// A new SMTP password (kept as is when absent).
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub clear_password: bool,
}

/// What a message carries to a channel.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub event: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// The event as JSON (the generic webhook's payload).
    pub payload: &'a serde_json::Value,
    /// The e-mail address (SMTP); empty for a webhook.
    pub recipient: &'a str,
}

/// Why a delivery did not go through: worth another try later, or not
/// (the receiver refused it; retrying unchanged gives the same answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    Transient(String),
    Permanent(String),
}

impl SendError {
    pub fn message(&self) -> &str {
        match self {
            SendError::Transient(m) | SendError::Permanent(m) => m,
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// Checks a channel's settings; returns them trimmed.
pub fn validate(input: &ChannelInput) -> Result<(String, ChannelSpec)> {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("channel name: 1 to 100 characters"));
    }
    let spec = match &input.spec {
        ChannelSpec::Smtp { host, port, starttls, username, from, ca_file, timeout_secs } => {
            let host = host.trim().to_string();
            if host.is_empty() || host.contains(char::is_whitespace) {
                return Err(Error::invalid("SMTP host: a host name or address"));
            }
            if *port == 0 {
                return Err(Error::invalid("SMTP port: 1 to 65535 (587 for STARTTLS submission)"));
            }
            let from = from.trim().to_string();
            from.parse::<lettre::message::Mailbox>()
                .map_err(|e| Error::invalid(format!("sender address \"{from}\": {e} (e.g. Opsdeck <ops@example.com>)")))?;
            let username = username.as_ref().map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
            if username.is_some() && !*starttls {
                return Err(Error::invalid("SMTP AUTH without STARTTLS would send the password in clear: turn STARTTLS on"));
            }
            ChannelSpec::Smtp {
                host,
                port: *port,
                starttls: *starttls,
                username,
                from,
                ca_file: clean_path(ca_file),
                timeout_secs: timeout(*timeout_secs)?,
            }
        }
        ChannelSpec::Webhook { url, format, ca_file, timeout_secs } => {
            let url = url.trim().to_string();
            let parsed = url::Url::parse(&url).map_err(|e| Error::invalid(format!("webhook URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(Error::invalid("webhook URL: http:// or https:// with a host"));
            }
            ChannelSpec::Webhook { url, format: *format, ca_file: clean_path(ca_file), timeout_secs: timeout(*timeout_secs)? }
        }
    };
    if input.password.is_some() && !matches!(&spec, ChannelSpec::Smtp { username: Some(_), .. }) {
        return Err(Error::invalid("a password is stored only for an SMTP channel with a user"));
    }
    Ok((name, spec))
}

fn clean_path(p: &Option<String>) -> Option<String> {
    p.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn timeout(secs: u32) -> Result<u32> {
    if !(1..=300).contains(&secs) {
        return Err(Error::invalid("timeout: 1 to 300 seconds"));
    }
    Ok(secs)
}

/// Reads a PEM file of CA certificates named in a channel.
pub(crate) fn read_ca(path: &str) -> std::result::Result<Vec<u8>, SendError> {
    std::fs::read(path).map_err(|e| SendError::Permanent(format!("cannot read the CA file {path}: {e}")))
}

/// An error and its causes on one line (lettre's and reqwest's Display leave out the cause).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(c) = next {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        next = c.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(starttls: bool, user: Option<&str>) -> ChannelInput {
        ChannelInput {
            id: None,
            name: " mail ".into(),
            spec: ChannelSpec::Smtp {
                host: "smtp.example.com".into(),
                port: 587,
                starttls,
                username: user.map(Into::into),
                from: "Opsdeck <ops@example.com>".into(),
                ca_file: None,
                timeout_secs: 10,
            },
            password: None,
            clear_password: false,
        }
    }

    #[test]
    fn validates_channels() {
        let (name, _) = validate(&smtp(true, Some("ops"))).unwrap();
        assert_eq!(name, "mail");
        let e = validate(&smtp(false, Some("ops"))).unwrap_err().to_string();
        assert!(e.contains("in clear"), "{e}");
        let mut bad = smtp(true, None);
        if let ChannelSpec::Smtp { from, .. } = &mut bad.spec {
            *from = "not an address".into();
        }
        assert!(validate(&bad).unwrap_err().to_string().contains("sender address"));
        let hook = |url: &str| ChannelInput {
            id: None,
            name: "hook".into(),
            spec: ChannelSpec::Webhook { url: url.into(), format: WebhookFormat::Slack, ca_file: None, timeout_secs: 5 },
            password: None,
            clear_password: false,
        };
        assert!(validate(&hook("https://hooks.example.com/services/T/B/secret")).is_ok());
        assert!(validate(&hook("ftp://x/")).is_err());
        assert!(validate(&hook("not a url")).is_err());
        let with_pw = ChannelInput { password: Some("x".into()), ..hook("https://h/") };
        assert!(validate(&with_pw).is_err());
    }

    #[test]
    fn webhook_target_hides_the_token_in_the_path() {
        let spec = ChannelSpec::Webhook {
            url: "https://hooks.example.com/services/T0/B0/s3cr3t?x=1".into(),
            format: WebhookFormat::Slack,
            ca_file: None,
            timeout_secs: 5,
        };
        assert_eq!(spec.target(), "https://hooks.example.com/…");
    }
}
