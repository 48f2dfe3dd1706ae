//! Outside calls made by blue/green and failover: HTTP smoke checks (a GET
//! that must answer 2xx) and traffic-switch hooks (a command run with the
//! operation in its environment and on its standard input, or a webhook that
//! gets the same JSON). Each has a deadline and a result that says what happened.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

/// At most this much of a hook's output or an answer's body is kept.
const KEEP_OUTPUT: usize = 2000;

/// The result of a smoke check or a hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct CallResult {
    /// What was called: the URL, or the command.
    pub name: String,
    pub ok: bool,
    /// The HTTP status or exit code and what came back, or why it failed.
    pub message: String,
    pub duration_ms: u64,
}

/// A traffic-switch hook: a command (run by `sh -c`) or a webhook URL (POST).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    Command(String),
    Webhook(String),
}

fn tail(s: &str) -> String {
    let s = s.trim();
    if s.len() <= KEEP_OUTPUT {
        return s.to_string();
    }
    let mut start = s.len() - KEEP_OUTPUT;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

fn http(limit: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(limit)
        .connect_timeout(limit)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

async fn answer(name: &str, started: Instant, sent: Result<reqwest::Response, reqwest::Error>, limit: Duration) -> CallResult {
    let ms = started.elapsed().as_millis() as u64;
    match sent {
        Ok(r) => {
            let status = r.status();
            let body = tokio::time::timeout(limit, r.text()).await.ok().and_then(Result::ok).unwrap_or_default();
            let body = tail(&body);
            let message = if body.is_empty() { format!("HTTP {status}") } else { format!("HTTP {status}: {body}") };
            CallResult { name: name.into(), ok: status.is_success(), message, duration_ms: ms }
        }
        Err(e) if e.is_timeout() => {
            CallResult { name: name.into(), ok: false, message: format!("no answer within {} s", limit.as_secs()), duration_ms: ms }
        }
        Err(e) => CallResult { name: name.into(), ok: false, message: crate::connectors::errors::chain(&e), duration_ms: ms },
    }
}

/// GETs `url`; passes on a 2xx answer within `limit` (redirects are not followed).
pub async fn smoke_http(url: &str, limit: Duration) -> CallResult {
    let started = Instant::now();
    let client = match http(limit) {
        Ok(c) => c,
        Err(m) => return CallResult { name: url.into(), ok: false, message: m, duration_ms: 0 },
    };
    answer(url, started, client.get(url).send().await, limit).await
}

/// Runs a hook with `payload` (JSON): a command gets it on standard input
/// and `env` in its environment, and passes with exit 0 within `limit` (it
/// is killed after); a webhook gets it as a POST body and passes on 2xx.
pub async fn run_hook(hook: &Hook, payload: &serde_json::Value, env: &[(&str, String)], limit: Duration) -> CallResult {
    let started = Instant::now();
    match hook {
        Hook::Webhook(url) => {
            let client = match http(limit) {
                Ok(c) => c,
                Err(m) => return CallResult { name: url.clone(), ok: false, message: m, duration_ms: 0 },
            };
            let body = serde_json::to_vec(payload).unwrap_or_default();
            let sent = client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body).send().await;
            answer(url, started, sent, limit).await
        }
        Hook::Command(cmd) => {
            let result = run_command(cmd, payload, env, limit).await;
            let ms = started.elapsed().as_millis() as u64;
            match result {
                Ok((code, out)) => {
                    let out = tail(&out);
                    let status = code.map(|c| format!("exit {c}")).unwrap_or_else(|| "killed by a signal".into());
                    let message = if out.is_empty() { status } else { format!("{status}: {out}") };
                    CallResult { name: cmd.clone(), ok: code == Some(0), message, duration_ms: ms }
                }
                Err(m) => CallResult { name: cmd.clone(), ok: false, message: m, duration_ms: ms },
            }
        }
    }
}

async fn run_command(
    cmd: &str,
    payload: &serde_json::Value,
    env: &[(&str, String)],
    limit: Duration,
) -> Result<(Option<i32>, String), String> {
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", cmd])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let body = serde_json::to_vec(payload).unwrap_or_default();
        // A hook that does not read its input is fine.
        let _ = stdin.write_all(&body).await;
    }
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).to_string();
            let err = String::from_utf8_lossy(&out.stderr);
            if !err.trim().is_empty() {
                text.push_str(&err);
            }
            Ok((out.status.code(), text))
        }
        Ok(Err(e)) => Err(format!("waiting for the hook failed: {e}")),
        // Dropping the future kills the child (kill_on_drop).
        Err(_) => Err(format!("did not finish within {} s (killed)", limit.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_command_hook_gets_the_payload_and_its_exit_code_decides() {
        let payload = serde_json::json!({"action": "failover"});
        let ok = run_hook(
            &Hook::Command("read -r body; echo \"$OPSDECK_X $body\"".into()),
            &payload,
            &[("OPSDECK_X", "x1".into())],
            Duration::from_secs(10),
        )
        .await;
        assert!(ok.ok, "{ok:?}");
        assert_eq!(ok.message, "exit 0: x1 {\"action\":\"failover\"}");
        let bad = run_hook(&Hook::Command("echo nope >&2; exit 3".into()), &payload, &[], Duration::from_secs(10)).await;
        assert!(!bad.ok);
        assert_eq!(bad.message, "exit 3: nope");
        let slow = run_hook(&Hook::Command("sleep 30".into()), &payload, &[], Duration::from_secs(1)).await;
        assert!(!slow.ok);
        assert!(slow.message.contains("did not finish within 1 s"), "{slow:?}");
        assert!(slow.duration_ms < 10_000);
    }

    /// A local receiver (the user's traffic-switch endpoint) answering each
    /// connection with `status`, after `delay`; the request it got is sent back.
    async fn receiver(status: u16, delay: Duration) -> (String, tokio::sync::mpsc::Receiver<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/switch", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then the body of the length they announce.
                loop {
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    let done = text.find("\r\n\r\n").is_some_and(|end| {
                        let len = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        got.len() >= end + 4 + len
                    });
                    if n == 0 || done {
                        break;
                    }
                }
                let _ = tx.send(String::from_utf8_lossy(&got).to_string()).await;
                tokio::time::sleep(delay).await;
                let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                let _ = sock.write_all(answer.as_bytes()).await;
            }
        });
        (url, rx)
    }

    #[tokio::test]
    async fn a_webhook_hook_gets_the_payload_as_json_and_its_status_decides() {
        let payload = serde_json::json!({"action": "failover", "to": "roomy"});
        let (url, mut got) = receiver(202, Duration::ZERO).await;
        let ok = run_hook(&Hook::Webhook(url.clone()), &payload, &[], Duration::from_secs(10)).await;
        assert!(ok.ok, "{ok:?}");
        assert_eq!(ok.name, url);
        let request = got.recv().await.unwrap();
        assert!(request.starts_with("POST /switch "), "{request}");
        assert!(request.to_ascii_lowercase().contains("content-type: application/json"), "{request}");
        assert!(request.ends_with(r#"{"action":"failover","to":"roomy"}"#), "{request}");

        let (url, _got) = receiver(503, Duration::ZERO).await;
        let bad = run_hook(&Hook::Webhook(url), &payload, &[], Duration::from_secs(10)).await;
        assert!(!bad.ok && bad.message.contains("503"), "{bad:?}");

        let (url, _got) = receiver(200, Duration::from_secs(30)).await;
        let slow = run_hook(&Hook::Webhook(url), &payload, &[], Duration::from_secs(1)).await;
        assert!(!slow.ok && slow.duration_ms < 10_000, "{slow:?}");
        assert_eq!(slow.message, "no answer within 1 s", "{slow:?}");
    }

    #[tokio::test]
    async fn a_smoke_check_of_nothing_listening_fails_with_the_reason() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let r = smoke_http(&format!("http://127.0.0.1:{port}/healthz"), Duration::from_secs(3)).await;
        assert!(!r.ok);
        assert!(!r.message.is_empty());
    }

    #[test]
    fn long_output_keeps_its_end() {
        let s = "é".repeat(3000);
        let t = tail(&s);
        assert!(t.starts_with('…') && t.len() <= KEEP_OUTPUT + 4);
    }
}
