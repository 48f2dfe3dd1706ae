//! Webhooks (reqwest, rustls): the generic JSON document, a Slack-compatible
//! `{"text": ...}` or a Teams Adaptive Card. A deadline on every call; a
//! timeout, a refused connection or a 5xx (or 429) is retried, another 4xx
//! fails with an excerpt of the receiver's answer.

use std::time::Duration;

use serde_json::{json, Value};

use super::{chain, read_ca, ChannelSpec, Outgoing, SendError, WebhookFormat};

/// The longest excerpt of a receiver's answer kept in the outbox.
const EXCERPT: usize = 300;

/// The JSON body for `format`.
pub fn payload(format: WebhookFormat, out: &Outgoing<'_>) -> Value {
    match format {
        WebhookFormat::Generic => json!({
            "source": "opsdeck",
            "event": out.event,
            "title": out.title,
            "text": out.body,
            "data": out.payload,
        }),
        WebhookFormat::Slack => json!({ "text": format!("*{}*\n{}", out.title, out.body) }),
        WebhookFormat::Teams => json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        { "type": "TextBlock", "text": out.title, "weight": "Bolder", "size": "Medium", "wrap": true },
                        { "type": "TextBlock", "text": out.body, "wrap": true },
                        { "type": "TextBlock", "text": format!("Opsdeck · {}", out.event), "isSubtle": true, "size": "Small", "wrap": true }
                    ]
                }
            }]
        }),
    }
}

/// Posts one message, to `url` (the URL kept in the keychain) or else the spec's.
pub async fn send(spec: &ChannelSpec, url: Option<&str>, out: &Outgoing<'_>) -> Result<(), SendError> {
    let ChannelSpec::Webhook { url: spec_url, format, ca_file, timeout_secs } = spec else {
        return Err(SendError::Permanent("not a webhook channel".into()));
    };
    let url = url.unwrap_or(spec_url);
    let limit = Duration::from_secs(u64::from(*timeout_secs));
    let mut builder = reqwest::Client::builder()
        .timeout(limit)
        .connect_timeout(limit)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = ca_file {
        let pem = read_ca(path)?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| SendError::Permanent(format!("the CA file {path}: {e}")))? {
            builder = builder.add_root_certificate(cert);
        }
    }
    let client = builder.build().map_err(|e| SendError::Permanent(format!("HTTP client: {e}")))?;
    let shown = ChannelSpec::Webhook { url: url.to_string(), format: *format, ca_file: None, timeout_secs: *timeout_secs }.target();
    let body = serde_json::to_vec(&payload(*format, out)).map_err(|e| SendError::Permanent(format!("payload: {e}")))?;
    let sent = client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body).send().await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return Err(SendError::Transient(format!("webhook {shown} did not answer within {} s", limit.as_secs())))
        }
        Err(e) if e.is_connect() => return Err(SendError::Transient(format!("webhook {shown}: cannot connect: {}", chain(&e)))),
        Err(e) => return Err(SendError::Transient(format!("webhook {shown}: {}", chain(&e)))),
    };
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body = match tokio::time::timeout(limit, resp.bytes()).await {
        Ok(Ok(t)) => excerpt(&String::from_utf8_lossy(&t)),
        _ => String::new(),
    };
    let msg = format!("webhook {shown} answered {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") });
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS || status == reqwest::StatusCode::REQUEST_TIMEOUT {
        Err(SendError::Transient(msg))
    } else {
        Err(SendError::Permanent(msg))
    }
}

fn excerpt(text: &str) -> String {
    let t = text.trim();
    let mut s: String = t.chars().take(EXCERPT).collect();
    if t.chars().count() > EXCERPT {
        s.push('…');
    }
    s.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_shapes() {
        let data = json!({"kind": "vm.request.filed"});
        let out = Outgoing { event: "vm.request.filed", title: "T", body: "B", payload: &data, recipient: "" };
        assert_eq!(payload(WebhookFormat::Slack, &out), json!({"text": "*T*\nB"}));
        let g = payload(WebhookFormat::Generic, &out);
        assert_eq!(g["event"], "vm.request.filed");
        assert_eq!(g["data"]["kind"], "vm.request.filed");
        let t = payload(WebhookFormat::Teams, &out);
        assert_eq!(t["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(t["attachments"][0]["content"]["type"], "AdaptiveCard");
        assert_eq!(t["attachments"][0]["content"]["body"][0]["text"], "T");
    }

    #[test]
    fn excerpts_are_short_and_one_line() {
        assert_eq!(excerpt(" a\nb "), "a b");
        let long = "x".repeat(1000);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT + 1);
    }
}
