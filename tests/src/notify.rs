//! A webhook receiver for the notification tests: the receiving end a team
//! points a generic/Slack/Teams webhook at, answering as the test tells it
//! (2xx, 4xx, slowly) and keeping the JSON bodies it accepted; and the
//! channels and subscriptions those tests save.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsdeck_core::notify::{ChannelInput, ChannelSpec, EventKind, SubscriptionInput, WebhookFormat};
use opsdeck_core::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::Service;

/// An answer of the receiver: status, delay before it, body.
pub type Answer = (u16, Duration, &'static str);

#[derive(Clone, Default)]
pub struct Receiver {
    /// The JSON bodies received, in order.
    pub bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    /// The answers to give, in order (status, delay); then 200 at once.
    pub script: Arc<Mutex<Vec<Answer>>>,
}

impl Receiver {
    /// Serves HTTP/1.1 on `listener` until the test ends.
    pub fn serve(&self, listener: TcpListener) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let me = me.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head_end, len) = loop {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                                .unwrap_or(0);
                            break (i + 4, len);
                        }
                    };
                    while buf.len() < head_end + len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let (status, delay, answer) = {
                        let mut s = me.script.lock().unwrap();
                        if s.is_empty() {
                            (200, Duration::ZERO, "ok")
                        } else {
                            s.remove(0)
                        }
                    };
                    tokio::time::sleep(delay).await;
                    if status < 300 {
                        let body = serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or(serde_json::Value::Null);
                        me.bodies.lock().unwrap().push(body);
                    }
                    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}", answer.len());
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
    }

    pub fn received(&self) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap().clone()
    }
}

/// A receiver listening on a free loopback port, and its webhook URL (with
/// a token in the path, as Slack's and Teams' URLs carry one).
pub async fn started_receiver() -> (Receiver, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook/secret-token", listener.local_addr().unwrap());
    let r = Receiver::default();
    r.serve(listener);
    (r, url)
}

/// Saves an SMTP channel to the server of scripts/services/smtp.sh
/// (STARTTLS, its CA, its user) signing in with `password`; its id.
pub async fn smtp_channel(t: &Backend, smtp: &Service, name: &str, password: &str) -> String {
    let c = t
        .notify_save_channel(ChannelInput {
            id: None,
            name: name.into(),
            spec: ChannelSpec::Smtp {
                host: smtp.get("SMTP_HOST").into(),
                port: smtp.get("SMTP_PORT").parse().unwrap(),
                starttls: true,
                username: Some(smtp.get("SMTP_USER").into()),
                from: "Opsdeck <opsdeck@example.com>".into(),
                ca_file: Some(smtp.get("SMTP_CA").into()),
                timeout_secs: 10,
            },
            password: Some(password.into()),
            clear_password: false,
        })
        .await
        .unwrap();
    assert!(c.has_password);
    c.id
}

/// Saves a webhook channel to `url`; its id.
pub async fn webhook_channel(t: &Backend, name: &str, url: &str, format: WebhookFormat, timeout_secs: u32) -> String {
    let spec = ChannelSpec::Webhook { url: url.into(), format, ca_file: None, timeout_secs };
    t.notify_save_channel(ChannelInput { id: None, name: name.into(), spec, password: None, clear_password: false }).await.unwrap().id
}

/// Subscribes `user` to `events` (all when empty) through `channel`.
pub async fn subscribe(t: &Backend, user: &str, channel: &str, to: Option<&str>, events: &[EventKind], departments: &[&str]) {
    t.notify_subscribe(SubscriptionInput {
        id: None,
        user: user.into(),
        events: events.to_vec(),
        channel: channel.into(),
        address: to.map(Into::into),
        departments: departments.iter().map(|d| d.to_string()).collect(),
    })
    .await
    .unwrap();
}
