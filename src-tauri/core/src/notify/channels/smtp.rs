//! E-mail through an SMTP server (lettre on tokio): STARTTLS required before
//! AUTH, rustls with the platform's roots plus the channel's CA file, a
//! deadline on the whole exchange. A 5xx answer (a refused login, a refused
//! address) is permanent; a connection, TLS or 4xx problem is retried.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{chain, read_ca, ChannelSpec, Outgoing, SendError};
use crate::secrets::Secret;

/// Sends one message to `out.recipient`.
pub async fn send(spec: &ChannelSpec, password: Option<&Secret>, out: &Outgoing<'_>) -> Result<(), SendError> {
    let ChannelSpec::Smtp { host, port, starttls, username, from, ca_file, timeout_secs } = spec else {
        return Err(SendError::Permanent("not an SMTP channel".into()));
    };
    let limit = Duration::from_secs(u64::from(*timeout_secs));
    let from: Mailbox = from.parse().map_err(|e| SendError::Permanent(format!("sender address \"{from}\": {e}")))?;
    let to: Mailbox = out
        .recipient
        .parse()
        .map_err(|e| SendError::Permanent(format!("recipient address \"{}\": {e} (fix the subscription)", out.recipient)))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(out.title)
        .header(ContentType::TEXT_PLAIN)
        .body(format!("{}\n\n-- \nOpsdeck notification ({})\n", out.body, out.event))
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;

    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str()).port(*port).timeout(Some(limit));
    if *starttls {
        let mut params = TlsParameters::builder(host.clone());
        if let Some(path) = ca_file {
            let pem = read_ca(path)?;
            let cert = Certificate::from_pem(&pem).map_err(|e| SendError::Permanent(format!("the CA file {path}: {e}")))?;
            params = params.add_root_certificate(cert);
        }
        let params = params.build_rustls().map_err(|e| SendError::Permanent(format!("TLS settings for {host}: {e}")))?;
        builder = builder.tls(Tls::Required(params));
    } else {
        builder = builder.tls(Tls::None);
    }
    if let Some(user) = username {
        let Some(pw) = password else {
            return Err(SendError::Permanent(format!(
                "no password for SMTP user \"{user}\" in the keychain: set it (opsdeck notify add-channel … --password-stdin, or the channel settings)"
            )));
        };
        builder = builder.credentials(Credentials::new(user.clone(), pw.expose().to_string()));
    }
    let transport = builder.build();
    let where_ = format!("{host}:{port}");
    match tokio::time::timeout(limit, transport.send(message)).await {
        Err(_) => Err(SendError::Transient(format!("SMTP server {where_} did not answer within {} s", limit.as_secs()))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(&e, &where_, username.as_deref())),
    }
}

fn classify(e: &lettre::transport::smtp::Error, at: &str, user: Option<&str>) -> SendError {
    let code = e.status().map(|c| c.to_string());
    let detail = chain(e);
    if code.as_deref() == Some("535") || code.as_deref() == Some("534") {
        return SendError::Permanent(format!(
            "SMTP server {at} refused the login of user \"{}\" ({detail}): check the user and the password in the keychain, then retry",
            user.unwrap_or("")
        ));
    }
    if e.is_permanent() {
        return SendError::Permanent(format!("SMTP server {at} refused the message: {detail}"));
    }
    if e.is_timeout() {
        return SendError::Transient(format!("SMTP server {at} timed out: {detail}"));
    }
    if e.is_tls() {
        return SendError::Transient(format!("TLS with SMTP server {at} failed: {detail}"));
    }
    SendError::Transient(format!("SMTP server {at}: {detail}"))
}
