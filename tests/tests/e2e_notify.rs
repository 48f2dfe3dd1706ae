//! End to end, the notification outbox: notifications made by real events
//! and sent once through real receivers before the app starts — mail to the
//! project's SMTP server (STARTTLS + AUTH), a generic webhook to a receiver
//! that takes it, a mail channel with a stale password (refused, failed), a
//! Teams webhook whose receiver is down (retrying) — then the app's outbox
//! lists each with its state, tries, next try and last error, in English and
//! in Chinese. With the Teams receiver back, "Retry now" delivers a retrying
//! one at once, exactly once; Retry on a failed one runs at once and, the
//! server still refusing the login, is failed again.

use std::path::Path;
use std::time::Duration;

use fantoccini::Locator;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::clusters::model::Verdict;
use opsdeck_core::notify::{Event, RetryPolicy, WebhookFormat};
use opsdeck_tests::app::{css, select, shot, wait_until, App, Read};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::notify::{smtp_channel, started_receiver, subscribe, webhook_channel};
use opsdeck_tests::service::Service;

/// The `data-state` of every outbox row, in the table's order.
async fn states(c: &fantoccini::Client) -> Vec<String> {
    let mut out = Vec::new();
    for el in c.find_all(Locator::Css("[data-testid=notify-state-cell]")).await.unwrap_or_default() {
        out.push(el.attr("data-state").await.ok().flatten().unwrap_or_default());
    }
    out
}

fn count(states: &[String], s: &str) -> usize {
    states.iter().filter(|x| *x == s).count()
}

#[tokio::test]
async fn outbox_shows_sent_retrying_and_failed_and_retries_by_hand() {
    let smtp = Service::start("smtp", &[]);
    let prep = TestBackend::new().await;
    let b = &prep.backend;
    // Tries far apart: the retrying row keeps its state while the test reads it.
    b.notify_set_retry(RetryPolicy { max_attempts: 12, backoff_base_ms: 3_600_000, backoff_max_ms: 3_600_000 }).await.unwrap();
    let mail = smtp_channel(b, &smtp, "ops mail", smtp.get("SMTP_PASSWORD")).await;
    let stale = smtp_channel(b, &smtp, "old relay", "not-the-password").await;
    let (receiver, url) = started_receiver().await;
    let chat = webhook_channel(b, "chat", &url, WebhookFormat::Generic, 5).await;
    // A port with nobody listening: bound, then freed.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let teams = webhook_channel(b, "teams", &format!("http://127.0.0.1:{down}/hook"), WebhookFormat::Teams, 5).await;
    subscribe(b, "ops", &mail, Some("ops@example.com"), &[], &[]).await;
    subscribe(b, "oncall", &stale, Some("oncall@example.com"), &[], &[]).await;
    subscribe(b, "ops", &chat, None, &[], &[]).await;
    subscribe(b, "ops", &teams, None, &[], &[]).await;

    let events = [
        Event::cluster("kube-prod", "prod-a", Some(Verdict::Healthy), Verdict::Degraded, &["node/n1: NotReady".into()]).unwrap(),
        Event::cluster("kube-prod", "prod-b", Some(Verdict::Healthy), Verdict::Unreachable, &["connection refused".into()]).unwrap(),
        Event::image_block("registry.local/shop/web:2.4", 17, &["CVE-2026-0001 (critical) in openssl 3.0.11".into()]),
        Event::config_change("http://127.0.0.1:2379", "c20261205-1", "alice", &["/app/prod/db".into()], "raise the pool"),
    ];
    for e in events {
        b.notify(e).await;
    }
    // One pass of the sender: every row tried once.
    b.notify_send_due().await.unwrap();
    let list = b.notify_outbox(None, 100).await.unwrap();
    assert_eq!(list.len(), 16, "4 events × 4 channels: {list:#?}");
    let by = |channel: &str, state: &str| list.iter().filter(|e| e.channel_id == channel && e.state == state).count();
    assert_eq!((by(&mail, "sent"), by(&chat, "sent"), by(&stale, "failed"), by(&teams, "pending")), (4, 4, 4, 4), "{list:#?}");
    assert_eq!(receiver.received().len(), 4);
    let maildir = Path::new(smtp.get("SMTP_MAILDIR"));
    let mails =
        std::fs::read_dir(maildir).unwrap().filter_map(|e| e.ok()).filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count();
    assert_eq!(mails, 4, "the mail channel's four messages reached the server");

    let service = b.keychain().service().to_string();
    let TestBackend { backend, dir } = prep;
    drop(backend);
    let app = App::start_in(dir, &service).await;
    let c = &app.c;
    app.click("[data-testid=nav-notifications]").await;
    css(c, "[data-testid=view-notifications]").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let shown = loop {
        let s = states(c).await;
        if s.len() == 16 || std::time::Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await; // polling the table until every row is listed
    };
    assert_eq!((count(&shown, "sent"), count(&shown, "retrying"), count(&shown, "failed")), (8, 4, 4), "{shown:?}");
    shot(c, "notifications-outbox").await;
    let text = css(c, "[data-testid=notify-outbox]").await.prop("textContent").await.unwrap().unwrap_or_default();
    assert!(text.contains("Retrying") && text.contains("next try"), "the retrying rows say when: {text}");
    assert!(text.contains("Cluster degraded") && text.contains("Image blocked"), "events by name: {text}");
    let errors = c.find_all(Locator::Css("[data-testid=notify-last-error]")).await.unwrap();
    let mut seen = Vec::new();
    for e in errors {
        seen.push(e.attr("title").await.ok().flatten().unwrap_or_default());
    }
    assert!(seen.iter().any(|e| e.contains("535")), "the refused login's answer is shown: {seen:?}");
    assert!(seen.iter().any(|e| e.contains("cannot connect")), "the down receiver is named: {seen:?}");
    assert_eq!(c.find_all(Locator::Css("[data-testid=notify-retry]")).await.unwrap().len(), 4, "Retry on the failed rows only");

    // The Teams receiver is back: "Retry now" on one retrying row sends it at
    // once (not at its next try, an hour away), exactly once.
    let teams_receiver = opsdeck_tests::notify::Receiver::default();
    teams_receiver.serve(tokio::net::TcpListener::bind(("127.0.0.1", down)).await.unwrap());
    app.click("[data-testid=notify-retry-now]").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        app.click("[data-testid=notify-refresh]").await;
        let s = states(c).await;
        if (count(&s, "sent"), count(&s, "retrying"), count(&s, "failed")) == (9, 3, 4) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the retried notification was not delivered: {s:?}");
        tokio::time::sleep(Duration::from_millis(200)).await; // polling the outbox
    }
    let got = teams_receiver.received();
    assert_eq!(got.len(), 1, "delivered once: {got:#?}");
    assert_eq!(got[0]["type"], "message", "a Teams payload: {}", got[0]);

    // Only what failed, then Retry: the app's sender tries it at once; the
    // server still refuses the login, so it is failed again.
    select(c, "[data-testid=notify-state]", "failed").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while states(c).await != vec!["failed".to_string(); 4] {
        assert!(std::time::Instant::now() < deadline, "only the failed rows listed: {:?}", states(c).await);
        tokio::time::sleep(Duration::from_millis(100)).await; // polling the filtered table
    }
    app.click("[data-testid=notify-retry]").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        app.click("[data-testid=notify-refresh]").await;
        let s = states(c).await;
        if s.len() == 4 && count(&s, "failed") == 4 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the retried notification is not failed again: {s:?}");
        tokio::time::sleep(Duration::from_millis(200)).await; // polling the outbox
    }

    // The same outbox in Chinese.
    app.click("[data-testid=nav-settings]").await;
    select(c, "[data-testid=settings-language]", "zh-CN").await;
    app.click("[data-testid=nav-notifications]").await;
    select(c, "[data-testid=notify-state]", "").await;
    let zh = wait_until(
        c,
        "[data-testid=notify-outbox]",
        Read::Prop("textContent"),
        |t| t.contains("重试中") && t.contains("集群降级"),
        Duration::from_secs(10),
    )
    .await;
    assert!(zh.contains("已发送") && zh.contains("失败"), "{zh}");
    shot(c, "notifications-outbox-zh").await;
    let data = app.close().await;

    // What the app did is in its audit log: two retries by hand; the failed
    // one was tried again (its tries start over) and refused again.
    let after = opsdeck_core::Backend::open(opsdeck_core::BackendOptions {
        data_dir: data.path().into(),
        keychain_service: service.clone(),
        actor: "tester".into(),
    })
    .await
    .unwrap();
    let filter = AuditFilter { text: Some("notify.retry".into()), limit: 100, ..Default::default() };
    let retried =
        after.audit_log(&filter).await.unwrap().entries.into_iter().filter(|e| e.action == "notify.retry" && e.result == "ok").count();
    assert_eq!(retried, 2, "both retries audited");
    let failed = after.notify_outbox(Some("failed"), 100).await.unwrap();
    assert_eq!(failed.len(), 4);
    assert!(failed.iter().all(|e| e.attempts == 1 && e.last_error.as_deref().unwrap_or("").contains("535")), "{failed:#?}");
    assert_eq!(after.notify_outbox(Some("sent"), 100).await.unwrap().len(), 9);
}
