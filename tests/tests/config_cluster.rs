//! The Config workspace's cluster view against real etcd (issue 17, item 8):
//! members, leader, raft and DB size; the quota setting and the near-quota
//! warning; a learner that never started (unreachable, not promoted); and a
//! real NOSPACE alarm on an etcd with a 16 MiB quota, cleared by running the
//! very etcdctl commands the view shows — from the library and the CLI.

use std::process::Command;

use etcd_client::{Client, MemberAddOptions};
use opsdeck_core::backend::ClusterSettings;
use opsdeck_core::config::cluster::{QuotaSource, Severity, WarningKind, DEFAULT_QUOTA_BYTES};
use opsdeck_core::connections::ConnectionSpec;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::{workspace, Service};

/// Saves an etcd connection named `name`; returns its id.
async fn saved(t: &TestBackend, name: &str, etcd: &Service) -> String {
    let spec =
        ConnectionSpec::Etcd { endpoints: vec![etcd.get("ETCD_ENDPOINT").into()], tls: None, username: None, allow_plaintext: false };
    t.add(name, spec, None).await.id
}

/// Runs one `etcdctl …` line the view printed, as an operator would paste it.
fn etcdctl(line: &str) -> String {
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("etcdctl"), "{line}");
    let mut cmd = Command::new("etcdctl");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ETCDCTL_")) {
        cmd.env_remove(k);
    }
    let out = cmd.env("ETCDCTL_API", "3").args(words).output().expect("run etcdctl");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{line} failed: {text}");
    text
}

#[tokio::test]
async fn members_leader_raft_and_db_size_are_reported() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let id = saved(&t, "one", &etcd).await;
    let v = t.backend.config_cluster(&id, None).await.unwrap();
    assert_eq!(v.members.len(), 1, "{v:?}");
    let m = &v.members[0];
    assert_eq!(m.name, "opsdeck");
    assert!(m.is_leader && !m.is_learner, "{m:?}");
    assert_eq!(v.leader, "opsdeck");
    assert_eq!(v.leader_id, m.id);
    assert_eq!(m.client_urls, [etcd.get("ETCD_ENDPOINT")]);
    assert!(m.peer_urls[0].starts_with("http://127.0.0.1:"), "{m:?}");
    let s = m.status.as_ref().expect("the member answered its status");
    assert!(s.db_size > 0 && s.db_size_in_use > 0 && s.db_size_in_use <= s.db_size, "{s:?}");
    assert!(v.raft_term >= 1 && v.raft_index >= 1, "{v:?}");
    assert!(v.version.starts_with("3."), "{v:?}");
    assert!(v.revision >= 1, "{v:?}");
    assert_eq!((m.quota_bytes, m.quota_source), (DEFAULT_QUOTA_BYTES, QuotaSource::Default));
    assert!(v.alarms.is_empty() && v.warnings.is_empty(), "{v:?}");

    // A quota setting below 125% of the DB size makes it "near the quota".
    let quota = (s.db_size as u64) * 100 / 90;
    t.backend.config_set_cluster_settings(&id, &ClusterSettings { quota_backend_bytes: Some(quota) }).await.unwrap();
    let v = t.backend.config_cluster(&id, None).await.unwrap();
    assert_eq!((v.members[0].quota_bytes, v.members[0].quota_source), (quota, QuotaSource::Setting));
    assert_eq!(v.warnings.len(), 1, "{:?}", v.warnings);
    let w = &v.warnings[0];
    assert_eq!((w.kind, w.severity), (WarningKind::NearQuota, Severity::Warning));
    assert!(w.commands[0].contains(" compact ") && w.commands[1].ends_with(" defrag"), "{:?}", w.commands);
    // The quota of one call wins over the setting.
    let v = t.backend.config_cluster(&id, Some(DEFAULT_QUOTA_BYTES)).await.unwrap();
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    assert!(t.backend.config_set_cluster_settings(&id, &ClusterSettings { quota_backend_bytes: Some(0) }).await.is_err());
}

#[tokio::test]
async fn a_learner_that_never_started_is_unreachable_and_not_promoted() {
    let etcd = Service::start("etcd", &[]);
    let mut raw = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    // A learner does not count for quorum: the single member keeps serving.
    let added = raw.member_add(["http://127.0.0.1:9"], Some(MemberAddOptions::new().with_is_learner())).await.unwrap();
    let learner = format!("{:x}", added.member().expect("the added member").id());
    let t = TestBackend::new().await;
    let id = saved(&t, "with-learner", &etcd).await;
    let v = t.backend.config_cluster(&id, None).await.unwrap();
    assert_eq!(v.members.len(), 2, "{v:?}");
    let l = v.members.iter().find(|m| m.id == learner).expect("the learner is listed");
    assert!(l.is_learner && !l.is_leader && l.status.is_none() && l.client_urls.is_empty(), "{l:?}");
    assert_eq!(l.peer_urls, ["http://127.0.0.1:9"]);
    let mine: Vec<_> = v.warnings.iter().filter(|w| w.member == learner).collect();
    let kinds: Vec<WarningKind> = mine.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, [WarningKind::Unreachable, WarningKind::Learner], "{:?}", v.warnings);
    assert!(mine[0].commands.iter().any(|c| c.ends_with(&format!("member remove {learner}"))), "{:?}", mine[0].commands);
    assert!(mine[1].commands[0].ends_with(&format!("member promote {learner}")), "{:?}", mine[1].commands);
    assert!(v.alarms.is_empty());
    // The remove hint, run, removes it.
    etcdctl(&mine[0].commands[1]);
    let v = t.backend.config_cluster(&id, None).await.unwrap();
    assert_eq!(v.members.len(), 1, "{v:?}");
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
}

#[tokio::test]
async fn a_real_nospace_alarm_is_shown_with_the_commands_that_clear_it() {
    let etcd = Service::start_with_args("etcd", &["--quota-backend-bytes=16777216"], &[]);
    let mut raw = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    // Rewrite three 1 MB keys (history keeps every version) until etcd refuses.
    let value = vec![0x5au8; 1_000_000];
    let mut refused = None;
    for i in 0..64 {
        if let Err(e) = raw.put(format!("/fill/k{}", i % 3), value.clone(), None).await {
            refused = Some(e.to_string());
            break;
        }
    }
    let refused = refused.expect("etcd with a 16 MiB quota refuses writes within 64 MB");
    assert!(refused.contains("database space exceeded"), "{refused}");

    let t = TestBackend::new().await;
    let id = saved(&t, "tiny", &etcd).await;
    let v = t.backend.config_cluster(&id, Some(16 * 1024 * 1024)).await.unwrap();
    assert_eq!(v.alarms.len(), 1, "{v:?}");
    assert_eq!(v.alarms[0].alarm, "NOSPACE");
    assert_eq!(v.alarms[0].member, "opsdeck");
    let w = v.warnings.iter().find(|w| w.kind == WarningKind::Nospace).expect("a NOSPACE warning");
    assert_eq!(w.severity, Severity::Critical);
    let endpoint = etcd.get("ETCD_ENDPOINT");
    assert_eq!(
        w.commands,
        [
            format!("etcdctl --endpoints={endpoint} compact {}", v.revision),
            format!("etcdctl --endpoints={endpoint} defrag"),
            format!("etcdctl --endpoints={endpoint} alarm disarm"),
        ]
    );
    assert!(v.members[0].used_percent > 80.0, "{:?}", v.members[0]);
    assert!(!v.warnings.iter().any(|w| w.kind == WarningKind::NearQuota), "NOSPACE says it all: {:?}", v.warnings);

    // The CLI shows the same and exits 1 while the alarm is active.
    let data = t.dir.path();
    let keychain = t.backend.keychain().service().to_string();
    let cli = |args: &[&str]| {
        let o = workspace::cli(data, &keychain).arg("config").arg("cluster").args(args).output().unwrap();
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (code, out, err) = cli(&["tiny", "--quota", "16MiB"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("ALARM NOSPACE") && out.contains(&w.commands[2]), "{out}");
    let (code, out, _) = cli(&["tiny", "--format", "json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["alarms"][0]["alarm"], "NOSPACE");

    // Run exactly what the view showed.
    for line in &w.commands {
        etcdctl(line);
    }
    let v = t.backend.config_cluster(&id, Some(16 * 1024 * 1024)).await.unwrap();
    assert!(v.alarms.is_empty(), "{v:?}");
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    assert!(v.members[0].status.as_ref().unwrap().db_size < 16 * 1024 * 1024, "{v:?}");
    raw.put("/after", "writes work again", None).await.unwrap();
    let (code, out, err) = cli(&["tiny", "--quota", "16MiB"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("alarms: none"), "{out}");
}
