//! Notifications against real receivers: the SMTP server of
//! scripts/services/smtp.sh (aiosmtpd: STARTTLS required, then AUTH; every
//! accepted message a file) and the webhook receiver of
//! `opsdeck_tests::notify` (it answers as each test tells it: refused
//! while not started, slow, 2xx or 4xx). The outbox is read back from the
//! backend; nothing waits by sleeping, everything is polled with a deadline.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use opsdeck_core::clusters::model::Verdict;
use opsdeck_core::notify::{ChannelInput, ChannelSpec, Event, EventKind, OutboxEntry, RetryPolicy, WebhookFormat};
use opsdeck_core::vms::model::{Stage, State};
use opsdeck_core::{Backend, BackendOptions};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::notify::{smtp_channel, started_receiver, subscribe, webhook_channel, Receiver};
use opsdeck_tests::service::Service;
use opsdeck_tests::vms::{form, vcsim_with_template};
use opsdeck_tests::workspace;
use tokio::net::TcpListener;

const DEADLINE: Duration = Duration::from_secs(30);

/// Retries come fast in tests.
fn quick() -> RetryPolicy {
    RetryPolicy { max_attempts: 5, backoff_base_ms: 100, backoff_max_ms: 400 }
}

fn degraded(context: &str) -> Event {
    Event::cluster("kube-prod", context, Some(Verdict::Healthy), Verdict::Degraded, &["node/n1: NotReady".into()]).unwrap()
}

/// The stored messages of the SMTP server, in arrival order.
fn mails(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| readable(&std::fs::read_to_string(p).unwrap())).collect()
}

/// A stored message with its headers unfolded and its quoted-printable body
/// decoded (as a mail reader shows it), to assert on its text.
fn readable(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let head = head.replace("\n ", " ");
    let mut out = Vec::new();
    let body = body.replace("=\n", "");
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&body[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    format!("{head}\n\n{}", String::from_utf8_lossy(&out))
}

/// Drains the outbox until `done` holds for it, or fails at the deadline.
async fn drain_until(b: &Backend, what: &str, done: impl Fn(&[OutboxEntry]) -> bool) -> Vec<OutboxEntry> {
    let start = Instant::now();
    loop {
        b.notify_send_due().await.unwrap();
        let list = b.notify_outbox(None, 100).await.unwrap();
        if done(&list) {
            return list;
        }
        assert!(start.elapsed() < DEADLINE, "{what}: not reached in {DEADLINE:?}; outbox: {list:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// No file of the data directory (the database, its WAL) holds `secret`.
fn assert_not_on_disk(dir: &Path, secret: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret:?} is in {}", p.display());
        }
    }
}

// ---- the tests -------------------------------------------------------------

/// A VM request filed: the department's manager gets an e-mail over
/// STARTTLS with AUTH, with the request in it; once both approve, the
/// requester gets theirs. Nobody else's subscription is used.
#[tokio::test]
async fn vm_request_mail_over_starttls_and_auth() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    let smtp = Service::start("smtp", &[]);
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    b.notify_set_retry(quick()).await.unwrap();
    let mail = smtp_channel(b, &smtp, "mail", smtp.get("SMTP_PASSWORD")).await;
    subscribe(b, "bob", &mail, Some("bob@example.com"), &[EventKind::VmRequestWaitingManager], &["qa"]).await;
    subscribe(b, "dan", &mail, Some("dan@example.com"), &[EventKind::VmRequestWaitingManager], &["finance"]).await;
    let mine = [EventKind::VmRequestApproved, EventKind::VmRequestProvisioned, EventKind::VmLeaseEnding, EventKind::VmLeaseDestroy];
    subscribe(b, "tester", &mail, Some("tester@example.com"), &mine, &[]).await;

    let store = b.vm_store(&opsdeck_core::backend::StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    let spec = opsdeck_core::vms::model::RequestSpec { network: "VM Network".into(), ..form("build-07", "qa") };
    let r = b.vm_submit(store, &vc.id, spec).await.unwrap();
    assert_eq!(r.state, State::PendingManager);
    let list = drain_until(b, "the manager's mail sent", |l| l.iter().any(|e| e.state == "sent")).await;
    assert_eq!(list.len(), 1, "only bob (qa) subscribed to this: {list:#?}");
    let got = mails(Path::new(smtp.get("SMTP_MAILDIR")));
    assert_eq!(got.len(), 1, "{got:#?}");
    let m = &got[0];
    assert!(m.contains("X-Sink-TLS: yes"), "sent after STARTTLS:\n{m}");
    assert!(m.contains(&format!("X-Sink-Auth-User: {}", smtp.get("SMTP_USER"))), "sent after AUTH:\n{m}");
    assert!(m.contains("X-Sink-Rcpt-To: bob@example.com") && m.contains("X-Sink-Mail-From: opsdeck@example.com"), "{m}");
    assert!(m.contains(&format!("Subject: VM request {} waits for your approval (manager of qa)", r.id)), "{m}");
    assert!(m.contains("build-07") && m.contains("Department: qa"), "{m}");

    b.vm_decide(store, Some(&vc.id), &r.id, Stage::Manager, true, "fine").await.unwrap();
    let r = b.vm_decide(store, Some(&vc.id), &r.id, Stage::Admin, true, "go").await.unwrap();
    assert_eq!(r.state, State::Approved);
    drain_until(b, "the requester's mail sent", |l| l.len() == 2 && l.iter().all(|e| e.state == "sent")).await;
    let got = mails(Path::new(smtp.get("SMTP_MAILDIR")));
    assert_eq!(got.len(), 2);
    assert!(got[1].contains("X-Sink-Rcpt-To: tester@example.com") && got[1].contains("is approved"), "{}", got[1]);
    assert!(got[1].contains("Comment: go"), "{}", got[1]);

    // Provisioned, then the lease: warned before its end, powered off after it.
    let opts = opsdeck_core::vms::provision::ProvisionOptions { instance: "test-instance".into(), ..Default::default() };
    let r = b.vm_provision(store, &vc.id, &r.id, &opts, &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    let lease = opsdeck_core::vms::validate::parse_date("lease", &r.spec.lease_end).unwrap();
    let at = |d: time::Date| d.with_hms(12, 0, 0).unwrap().assume_utc();
    b.vm_lifecycle(store, &vc.id, at(lease - time::Duration::days(2))).await.unwrap();
    b.vm_lifecycle(store, &vc.id, at(lease + time::Duration::days(1))).await.unwrap();
    drain_until(b, "the lifecycle mails sent", |l| l.len() == 5 && l.iter().all(|e| e.state == "sent")).await;
    let got = mails(Path::new(smtp.get("SMTP_MAILDIR")));
    let subjects: Vec<&str> = got.iter().filter_map(|m| m.lines().find(|l| l.starts_with("Subject: "))).collect();
    assert_eq!(
        subjects[2..],
        [
            "Subject: Your VM build-07 is ready".to_string(),
            format!("Subject: The lease of your VM build-07 ends on {}", r.spec.lease_end),
            "Subject: Your VM build-07 is powered off and will be destroyed".to_string(),
        ],
        "{got:#?}"
    );
    assert!(got[3].contains("in 2 days") && got[3].contains(&format!("opsdeck vm extend {}", r.id)), "{}", got[3]);
    t.cleanup().await;
}

/// The server refuses the login: the notification is failed with the
/// server's reason, nothing is delivered; with the password fixed, a retry
/// by hand delivers it.
#[tokio::test]
async fn smtp_auth_refused_is_failed_with_the_reason_then_retried_by_hand() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    let smtp = Service::start("smtp", &[]);
    b.notify_set_retry(quick()).await.unwrap();
    let mail = smtp_channel(b, &smtp, "mail", "not-the-password").await;
    subscribe(b, "ops", &mail, Some("ops@example.com"), &[EventKind::ClusterDegraded], &[]).await;
    b.notify(degraded("prod-a")).await;
    let list = drain_until(b, "the refusal recorded", |l| l.iter().any(|e| e.state == "failed")).await;
    let e = &list[0];
    let err = e.last_error.clone().unwrap_or_default();
    assert!(err.contains("refused the login") && err.contains("535"), "{err}");
    assert_eq!(e.attempts, 1, "a refused login is not retried blindly");
    assert!(mails(Path::new(smtp.get("SMTP_MAILDIR"))).is_empty());

    // A test message says the same, as an error.
    let te = b.notify_test("mail", Some("ops@example.com")).await.unwrap_err();
    assert!(te.to_string().contains("refused the login"), "{te}");

    let fixed = b.notify_settings().await.unwrap().channel("mail").unwrap().clone();
    b.notify_save_channel(ChannelInput {
        id: Some(fixed.id),
        name: fixed.name,
        spec: fixed.spec,
        password: Some(smtp.get("SMTP_PASSWORD").into()),
        clear_password: false,
    })
    .await
    .unwrap();
    b.notify_retry(e.id).await.unwrap();
    drain_until(b, "delivered after the retry", |l| l[0].state == "sent").await;
    let got = mails(Path::new(smtp.get("SMTP_MAILDIR")));
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("Subject: Cluster prod-a is degraded") && got[0].contains("node/n1: NotReady"), "{}", got[0]);
    t.cleanup().await;
}

/// The receiver is down (connection refused) for a while, then up: the
/// sender loop of the backend retries with backoff and delivers exactly once.
#[tokio::test]
async fn webhook_down_then_up_is_delivered_exactly_once() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    b.notify_set_retry(RetryPolicy { max_attempts: 30, backoff_base_ms: 100, backoff_max_ms: 300 }).await.unwrap();
    // A port with nobody listening: bound, then freed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let hook = webhook_channel(b, "hook", &format!("http://127.0.0.1:{port}/hook"), WebhookFormat::Generic, 5).await;
    subscribe(b, "ops", &hook, None, &[], &[]).await;
    let sender = tokio::spawn({
        let b = b.clone();
        async move { b.notify_run_sender().await }
    });
    b.notify(degraded("prod-b")).await;

    let start = Instant::now();
    let e = loop {
        let l = b.notify_outbox(None, 10).await.unwrap();
        if l.first().is_some_and(|e| e.attempts >= 2) {
            break l[0].clone();
        }
        assert!(start.elapsed() < DEADLINE, "no retries: {l:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(e.state, "pending", "{e:#?}");
    assert!(e.last_error.as_deref().unwrap_or("").contains("cannot connect"), "{e:#?}");

    let r = Receiver::default();
    r.serve(TcpListener::bind(("127.0.0.1", port)).await.unwrap());
    let start = Instant::now();
    loop {
        let l = b.notify_outbox(None, 10).await.unwrap();
        if l[0].state == "sent" {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "not delivered once up: {l:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another drain finds nothing to send: it arrived once.
    b.notify_send_due().await.unwrap();
    sender.abort();
    let got = r.received();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["event"], "cluster.degraded");
    assert_eq!(got[0]["title"], "Cluster prod-b is degraded");
    t.cleanup().await;
}

/// A receiver slower than the channel's deadline: the try times out and is
/// retried; a 4xx fails for good with the receiver's answer; Slack and
/// Teams receive their shapes.
#[tokio::test]
async fn webhook_timeout_retried_4xx_failed_and_slack_teams_shapes() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    b.notify_set_retry(quick()).await.unwrap();
    let (slow, slow_url) = started_receiver().await;
    slow.script.lock().unwrap().push((200, Duration::from_secs(3), "late"));
    let (bad, bad_url) = started_receiver().await;
    bad.script.lock().unwrap().push((400, Duration::ZERO, "invalid_payload: no text field"));
    let (slack, slack_url) = started_receiver().await;
    let (teams, teams_url) = started_receiver().await;
    for (name, url, format) in [
        ("slow", &slow_url, WebhookFormat::Generic),
        ("bad", &bad_url, WebhookFormat::Generic),
        ("slack", &slack_url, WebhookFormat::Slack),
        ("teams", &teams_url, WebhookFormat::Teams),
    ] {
        let id = webhook_channel(b, name, url, format, 1).await;
        subscribe(b, "ops", &id, None, &[EventKind::ImageScanBlock], &[]).await;
    }
    b.notify(Event::image_block("shop:1.2", 7, &["no-critical-vulnerabilities: 2 CRITICAL".into()])).await;
    let list =
        drain_until(b, "every channel settled", |l| l.len() == 4 && l.iter().all(|e| e.state == "sent" || e.state == "failed")).await;
    let s = b.notify_settings().await.unwrap();
    let of = |name: &str| list.iter().find(|e| e.channel_id == s.channel(name).unwrap().id).unwrap().clone();

    let e = of("slow");
    assert_eq!((e.state.as_str(), e.attempts), ("sent", 2), "timed out once, then sent: {e:#?}");
    assert!(e.last_error.as_deref().unwrap_or("").contains("did not answer within 1 s"), "{e:#?}");
    let e = of("bad");
    assert_eq!((e.state.as_str(), e.attempts), ("failed", 1), "{e:#?}");
    let err = e.last_error.unwrap_or_default();
    assert!(err.contains("400") && err.contains("invalid_payload: no text field"), "{err}");
    assert!(!err.contains("secret-token"), "the URL's token is not repeated: {err}");

    let s = slack.received();
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0],
        serde_json::json!({"text": "*Image shop:1.2 is blocked by the scan policy*\nThe scan of shop:1.2 (scan 7) is BLOCK.\n- no-critical-vulnerabilities: 2 CRITICAL"})
    );
    let tm = teams.received();
    assert_eq!(tm.len(), 1);
    assert_eq!(tm[0]["type"], "message");
    let card = &tm[0]["attachments"][0];
    assert_eq!(card["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["body"][0]["text"], "Image shop:1.2 is blocked by the scan policy");

    // The URLs (their token) are in the keychain; the settings show scheme, host and port.
    let s = b.notify_settings().await.unwrap();
    let slack_channel = s.channel("slack").unwrap();
    assert!(slack_channel.has_password);
    let shown = match &slack_channel.spec {
        ChannelSpec::Webhook { url, .. } => url.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(shown, format!("{}/…", slack_url.trim_end_matches("/hook/secret-token")));
    b.db().checkpoint().await.unwrap();
    assert_not_on_disk(t.dir.path(), "secret-token");
    t.cleanup().await;
}

/// Queued while the receiver is away, the notification survives the
/// process: a new backend on the same data directory still has it, and the
/// CLI's `notify send` (another process) delivers it by e-mail. The SMTP
/// password is in neither the database files nor the CLI's log output.
#[tokio::test]
async fn outbox_survives_a_restart_and_the_password_stays_in_the_keychain() {
    let smtp = Service::start("smtp", &[]);
    let dir = tempfile::tempdir().unwrap();
    let keychain = format!("opsdeck-test-{}", uuid::Uuid::new_v4());
    let options = BackendOptions { data_dir: dir.path().to_path_buf(), keychain_service: keychain.clone(), actor: "tester".into() };
    let password = smtp.get("SMTP_PASSWORD").to_string();
    {
        let b = Backend::open(options.clone()).await.unwrap();
        b.notify_set_retry(quick()).await.unwrap();
        let mail = smtp_channel(&b, &smtp, "mail", &password).await;
        subscribe(&b, "ops", &mail, Some("ops@example.com"), &[], &[]).await;
        b.notify(degraded("prod-c")).await;
        assert_eq!(b.notify_counts().await.unwrap().pending, 1);
        b.db().close().await;
    }
    let b = Backend::open(options).await.unwrap();
    let pending = b.notify_outbox(Some("pending"), 10).await.unwrap();
    assert_eq!(pending.len(), 1, "kept across the restart");

    let out = workspace::cli(dir.path(), &keychain).env("OPSDECK_LOG", "trace").args(["notify", "send"]).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 sent, 0 to retry, 0 failed"), "{stdout}");
    assert!(!stdout.contains(&password) && !stderr.contains(&password), "the password leaked into the output:\n{stdout}\n{stderr}");
    assert_eq!(b.notify_outbox(Some("sent"), 10).await.unwrap().len(), 1);
    let got = mails(Path::new(smtp.get("SMTP_MAILDIR")));
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("Cluster prod-c is degraded"), "{}", got[0]);

    // The CLI lists the outbox and the channel; no password anywhere on disk but the keychain.
    let out = workspace::cli(dir.path(), &keychain).args(["notify", "outbox"]).output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("sent") && listed.contains("cluster.degraded"), "{listed}");
    b.db().checkpoint().await.unwrap();
    assert_not_on_disk(dir.path(), &password);
    let s = b.notify_settings().await.unwrap();
    b.notify_delete_channel(&s.channels[0].id).await.unwrap();
    assert!(b.keychain().get(&format!("notify/{}", s.channels[0].id)).await.unwrap().is_none(), "the password left with the channel");
}

/// A cluster turning unreachable is told once, through the health check
/// where the verdict is decided: a second check with the same verdict
/// queues nothing more.
#[tokio::test]
async fn cluster_unreachable_is_notified_once_from_the_health_check() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    let (hook, url) = started_receiver().await;
    let id = webhook_channel(b, "hook", &url, WebhookFormat::Generic, 5).await;
    subscribe(b, "ops", &id, None, &[EventKind::ClusterUnreachable, EventKind::ClusterDegraded], &[]).await;
    // An API server address with nobody listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let kubeconfig = t.dir.path().join("dead.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: u\ncurrent-context: dead\n"
        ),
    )
    .unwrap();
    let spec = opsdeck_core::connections::ConnectionSpec::Kubernetes { kubeconfig: kubeconfig.display().to_string(), contexts: vec![] };
    let c = t.add("dead lab", spec, None).await;
    let h = b.cluster_health(&c.id).await.unwrap();
    assert_eq!(h[0].verdict, Verdict::Unreachable, "{h:#?}");
    b.cluster_health(&c.id).await.unwrap();
    drain_until(b, "the verdict change sent", |l| l.iter().all(|e| e.state == "sent") && !l.is_empty()).await;
    let got = hook.received();
    assert_eq!(got.len(), 1, "one change, one notification: {got:#?}");
    assert_eq!(got[0]["event"], "cluster.unreachable");
    assert_eq!(got[0]["title"], "Cluster dead is unreachable");
    assert!(got[0]["text"].as_str().unwrap().contains("(connection dead lab)"), "{}", got[0]);
    t.cleanup().await;
}

/// A config change request on a protected prefix (a real etcd with auth):
/// the reviewers subscribed to it hear of it, with the author and the keys.
#[tokio::test]
async fn config_change_waiting_reaches_the_reviewers() {
    use opsdeck_core::team::DEFAULT_ROOT;
    use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles};
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let t = TestBackend::new().await;
    let b = &t.backend;
    let (slack, url) = started_receiver().await;
    let id = webhook_channel(b, "reviews", &url, WebhookFormat::Slack, 5).await;
    subscribe(b, "rita", &id, None, &[EventKind::ConfigChangeWaiting], &[]).await;
    let root = b.etcd_session(&etcd_connection(&t, &etcd, "root").await.id).await.unwrap();
    let alice = b.etcd_session(&etcd_connection(&t, &etcd, "alice").await.id).await.unwrap();
    b.config_protect(&root, DEFAULT_ROOT, "/app/prod/").await.unwrap();
    let c =
        b.change_propose(&alice, DEFAULT_ROOT, &[("/app/prod/db".into(), Some(r#"{"pool": 20}"#.into()))], "raise the pool").await.unwrap();
    drain_until(b, "the review request sent", |l| l.len() == 1 && l[0].state == "sent").await;
    let got = slack.received();
    assert_eq!(got.len(), 1);
    let text = got[0]["text"].as_str().unwrap();
    assert!(text.starts_with(&format!("*Config change {} by alice waits for review*", c.id)), "{text}");
    assert!(text.contains("/app/prod/db") && text.contains("Comment: raise the pool"), "{text}");
    assert!(text.contains(&format!("opsdeck config --connection CONNECTION review {}", c.id)), "{text}");
    t.cleanup().await;
}
