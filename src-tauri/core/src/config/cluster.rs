//! The cluster behind an etcd connection: members (name, URLs, learner or
//! voter), the leader, raft term and index, each member's database size (and
//! in-use size) against the backend quota, the version, and the active alarms,
//! each warning with the `etcdctl` commands that fix it (shown, never run).
//!
//! etcd's status answer is per member: the member list comes from the
//! connection's client, then each started member is asked for its status over
//! a client of its own (its first client URL), a bounded number at a time,
//! each connect and call with its own deadline. A member that does not answer
//! is reported unreachable, not an error of the whole view.
//!
//! etcd before 3.6 does not report its `--quota-backend-bytes`: the quota is
//! the member's reported one when it has one, else the connection's setting,
//! else etcd's default of 2 GiB, and the view says which.

use std::time::Duration;

use etcd_client::{AlarmAction, AlarmType, Client, GetOptions};
use futures::future::BoxFuture;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::etcd_err;
use crate::error::{with_timeout, Result};

/// etcd's default `--quota-backend-bytes` (2 GiB).
pub const DEFAULT_QUOTA_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// A database this full (of the quota) is a warning: compact and defragment.
pub const NEAR_QUOTA_PERCENT: u64 = 80;
/// Members asked for their status at once.
pub const STATUS_CONCURRENCY: usize = 4;
/// Deadline of one member's connect plus status call, and of the list calls.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the quota the view compares against came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum QuotaSource {
    /// The member reported it (etcd 3.6 and later).
    Reported,
    /// The connection's quota setting.
    Setting,
    /// etcd's default `--quota-backend-bytes`, 2 GiB (etcd before 3.6 does not report it).
    Default,
}

/// What one member's status call answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct MemberStatus {
    pub version: String,
    /// Bytes of the backend file.
    #[specta(type = f64)]
    pub db_size: i64,
    /// Bytes in use (the rest is free pages a defragment gives back).
    #[specta(type = f64)]
    pub db_size_in_use: i64,
    #[specta(type = f64)]
    pub raft_term: u64,
    #[specta(type = f64)]
    pub raft_index: u64,
    #[specta(type = f64)]
    pub raft_applied_index: u64,
    /// The leader this member knows (hex id; empty: none).
    pub leader: String,
    /// Errors the member reports about itself.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ClusterMember {
    /// Hex, as `etcdctl member list` prints it.
    pub id: String,
    /// Empty while the member has not started.
    pub name: String,
    pub peer_urls: Vec<String>,
    pub client_urls: Vec<String>,
    pub is_learner: bool,
    pub is_leader: bool,
    pub status: Option<MemberStatus>,
    /// Why there is no status (not started, no answer).
    pub status_error: Option<String>,
    /// The quota this member's size is compared against, and its source.
    #[specta(type = f64)]
    pub quota_bytes: u64,
    pub quota_source: QuotaSource,
    /// db_size / quota, percent (0 without a status).
    pub used_percent: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ClusterAlarm {
    /// Hex member id.
    pub member_id: String,
    /// Member name when known.
    pub member: String,
    /// `NOSPACE` or `CORRUPT`.
    pub alarm: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    Nospace,
    Corrupt,
    NearQuota,
    Unreachable,
    Learner,
    NoLeader,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
}

/// Something to act on, with the commands that fix it (shown, never run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ClusterWarning {
    pub kind: WarningKind,
    pub severity: Severity,
    /// The member concerned (name, else hex id); empty for the cluster.
    pub member: String,
    pub message: String,
    /// `etcdctl …` lines, in the order to run them.
    pub commands: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ClusterView {
    /// Hex cluster id.
    pub cluster_id: String,
    /// Hex id of the leader (empty: none known).
    pub leader_id: String,
    /// The leader's name (empty: unknown).
    pub leader: String,
    /// The leader's raft term and index (else the highest any member reported).
    #[specta(type = f64)]
    pub raft_term: u64,
    #[specta(type = f64)]
    pub raft_index: u64,
    /// The version the leader (else a member) reports.
    pub version: String,
    /// The current key-space revision (for `etcdctl compact`).
    #[specta(type = f64)]
    pub revision: i64,
    pub members: Vec<ClusterMember>,
    pub alarms: Vec<ClusterAlarm>,
    pub warnings: Vec<ClusterWarning>,
    /// The quota setting given (None: the default applies where members do not report one).
    #[specta(type = Option<f64>)]
    pub quota_setting: Option<u64>,
    /// The endpoints the commands name (`--endpoints=…`).
    pub endpoints: Vec<String>,
}

impl ClusterView {
    /// Active alarms or critical warnings: what `opsdeck config cluster` exits 1 on.
    pub fn has_alarms(&self) -> bool {
        !self.alarms.is_empty()
    }
}

fn hex(id: u64) -> String {
    format!("{id:x}")
}

fn alarm_name(a: i32) -> String {
    match AlarmType::try_from(a) {
        Ok(AlarmType::Nospace) => "NOSPACE".into(),
        Ok(AlarmType::Corrupt) => "CORRUPT".into(),
        _ => format!("ALARM({a})"),
    }
}

/// Reads the cluster's state. `connect` opens a client to one member's
/// client URL (with the connection's TLS and credentials); `quota_setting`
/// is the connection's quota (None: etcd's default) for members that do not
/// report theirs.
pub async fn view(
    client: &mut Client,
    quota_setting: Option<u64>,
    endpoints: &[String],
    connect: impl Fn(String) -> BoxFuture<'static, Result<Client>>,
) -> Result<ClusterView> {
    let list = with_timeout("etcd member list", CALL_TIMEOUT, async { client.member_list().await.map_err(etcd_err) }).await?;
    let cluster_id = list.header().map(|h| h.cluster_id()).unwrap_or(0);
    // The key space's revision (the member list's header carries none).
    let revision = with_timeout("etcd read", CALL_TIMEOUT, async {
        client.get(vec![0u8], Some(GetOptions::new().with_count_only())).await.map_err(etcd_err)
    })
    .await?
    .header()
    .map(|h| h.revision())
    .unwrap_or(0);
    let alarms_resp = with_timeout("etcd alarm list", CALL_TIMEOUT, async {
        client.alarm(AlarmAction::Get, AlarmType::None, None).await.map_err(etcd_err)
    })
    .await?;
    let members = list.members().to_vec();
    // Each member's future owns what it needs (no borrow of `connect` across awaits).
    let calls: Vec<_> = members
        .iter()
        .map(|m| {
            let id = m.id();
            let url = m.client_urls().first().cloned();
            let opened = url.clone().map(&connect);
            async move {
                let (Some(url), Some(opened)) = (url, opened) else {
                    return (id, Err("not started: it has no client URL yet (added, never joined)".to_string()), 0);
                };
                let what = format!("etcd member {} at {url}", hex(id));
                let r = with_timeout(what, CALL_TIMEOUT, async move {
                    let mut c = opened.await?;
                    c.status().await.map_err(etcd_err)
                })
                .await;
                match r {
                    Ok(s) => (
                        id,
                        Ok(MemberStatus {
                            version: s.version().to_string(),
                            db_size: s.db_size(),
                            db_size_in_use: s.raft_used_db_size(),
                            raft_term: s.raft_term(),
                            raft_index: s.raft_index(),
                            raft_applied_index: s.raft_applied_index(),
                            leader: if s.leader() == 0 { String::new() } else { hex(s.leader()) },
                            errors: s.errors().to_vec(),
                        }),
                        s.db_size_quota(),
                    ),
                    Err(e) => (id, Err(e.to_string()), 0),
                }
            }
        })
        .collect();
    let statuses: Vec<(u64, std::result::Result<MemberStatus, String>, i64)> =
        futures::stream::iter(calls).buffer_unordered(STATUS_CONCURRENCY).collect().await;
    let mut out = Vec::with_capacity(members.len());
    for m in &members {
        let (status, status_error, reported) = match statuses.iter().find(|s| s.0 == m.id()) {
            Some((_, Ok(s), q)) => (Some(s.clone()), None, *q),
            Some((_, Err(e), _)) => (None, Some(e.clone()), 0),
            None => (None, Some("no status".to_string()), 0),
        };
        let (quota_bytes, quota_source) = match (reported, quota_setting) {
            (q, _) if q > 0 => (q as u64, QuotaSource::Reported),
            (_, Some(q)) => (q, QuotaSource::Setting),
            _ => (DEFAULT_QUOTA_BYTES, QuotaSource::Default),
        };
        let used_percent = status.as_ref().map(|s| s.db_size.max(0) as f64 * 100.0 / quota_bytes.max(1) as f64).unwrap_or(0.0);
        out.push(ClusterMember {
            id: hex(m.id()),
            name: m.name().to_string(),
            peer_urls: m.peer_urls().to_vec(),
            client_urls: m.client_urls().to_vec(),
            is_learner: m.is_learner(),
            is_leader: false,
            status,
            status_error,
            quota_bytes,
            quota_source,
            used_percent,
        });
    }
    // The leader most members name (they agree unless an election is under way).
    let mut votes: Vec<(&str, usize)> = Vec::new();
    for s in out.iter().filter_map(|m| m.status.as_ref()).filter(|s| !s.leader.is_empty()) {
        match votes.iter_mut().find(|v| v.0 == s.leader) {
            Some(v) => v.1 += 1,
            None => votes.push((&s.leader, 1)),
        }
    }
    let leader_id = votes.iter().max_by_key(|v| v.1).map(|v| v.0.to_string()).unwrap_or_default();
    for m in &mut out {
        m.is_leader = !leader_id.is_empty() && m.id == leader_id;
    }
    let lead = out.iter().find(|m| m.is_leader);
    let source = lead.and_then(|m| m.status.as_ref());
    let raft_term =
        source.map(|s| s.raft_term).unwrap_or_else(|| out.iter().filter_map(|m| m.status.as_ref()).map(|s| s.raft_term).max().unwrap_or(0));
    let raft_index = source
        .map(|s| s.raft_index)
        .unwrap_or_else(|| out.iter().filter_map(|m| m.status.as_ref()).map(|s| s.raft_index).max().unwrap_or(0));
    let version = source.or_else(|| out.iter().find_map(|m| m.status.as_ref())).map(|s| s.version.clone()).unwrap_or_default();
    let leader = lead.map(|m| if m.name.is_empty() { m.id.clone() } else { m.name.clone() }).unwrap_or_default();
    let alarms: Vec<ClusterAlarm> = alarms_resp
        .alarms()
        .iter()
        .map(|a| ClusterAlarm {
            member_id: hex(a.member_id()),
            member: out.iter().find(|m| m.id == hex(a.member_id())).map(|m| m.name.clone()).unwrap_or_default(),
            alarm: alarm_name(a.alarm() as i32),
        })
        .collect();
    let mut v = ClusterView {
        cluster_id: format!("{cluster_id:x}"),
        leader_id,
        leader,
        raft_term,
        raft_index,
        version,
        revision,
        members: out,
        alarms,
        warnings: vec![],
        quota_setting,
        endpoints: endpoints.to_vec(),
    };
    v.warnings = warnings(&v);
    Ok(v)
}

fn member_label(m: &ClusterMember) -> String {
    if m.name.is_empty() {
        m.id.clone()
    } else {
        m.name.clone()
    }
}

/// The commands that compact to the current revision and defragment the members.
fn compact_defrag(v: &ClusterView, endpoints: &str) -> Vec<String> {
    vec![format!("etcdctl --endpoints={endpoints} compact {}", v.revision.max(1)), format!("etcdctl --endpoints={endpoints} defrag")]
}

/// What to act on, derived from the view (pure: unit tested).
pub fn warnings(v: &ClusterView) -> Vec<ClusterWarning> {
    let all_urls: Vec<String> = v.members.iter().flat_map(|m| m.client_urls.iter().cloned()).collect();
    let endpoints = if all_urls.is_empty() { v.endpoints.join(",") } else { all_urls.join(",") };
    let first = v.endpoints.first().cloned().unwrap_or_else(|| endpoints.clone());
    let mut out = Vec::new();
    for a in &v.alarms {
        let member = if a.member.is_empty() { a.member_id.clone() } else { a.member.clone() };
        match a.alarm.as_str() {
            "NOSPACE" => {
                let mut commands = compact_defrag(v, &endpoints);
                commands.push(format!("etcdctl --endpoints={first} alarm disarm"));
                out.push(ClusterWarning {
                    kind: WarningKind::Nospace,
                    severity: Severity::Critical,
                    member,
                    message: "NOSPACE: the database reached its quota; etcd accepts only reads and deletes until space is freed and the alarm disarmed".into(),
                    commands,
                });
            }
            "CORRUPT" => out.push(ClusterWarning {
                kind: WarningKind::Corrupt,
                severity: Severity::Critical,
                member: member.clone(),
                message: "CORRUPT: this member's data differs from the others'; replace it from a healthy member (remove it, wipe its data dir, add it back), then disarm".into(),
                commands: vec![
                    format!("etcdctl --endpoints={first} member list -w table"),
                    format!("etcdctl --endpoints={first} member remove {}", a.member_id),
                    format!("etcdctl --endpoints={first} member add {member} --peer-urls=<its peer URL>"),
                    format!("etcdctl --endpoints={first} alarm disarm"),
                ],
            }),
            _ => {}
        }
    }
    let nospace = v.alarms.iter().any(|a| a.alarm == "NOSPACE");
    for m in &v.members {
        let label = member_label(m);
        if let Some(s) = &m.status {
            if !nospace && m.used_percent > NEAR_QUOTA_PERCENT as f64 {
                out.push(ClusterWarning {
                    kind: WarningKind::NearQuota,
                    severity: Severity::Warning,
                    member: label.clone(),
                    message: format!(
                        "database {} of {} bytes is {:.0}% of the quota ({} in use): compact old revisions and defragment before etcd raises NOSPACE",
                        s.db_size, m.quota_bytes, m.used_percent, s.db_size_in_use
                    ),
                    commands: compact_defrag(v, &endpoints),
                });
            }
        } else {
            out.push(ClusterWarning {
                kind: WarningKind::Unreachable,
                severity: Severity::Warning,
                member: label.clone(),
                message: format!(
                    "member {label} did not answer its status call ({}): check it is running, or remove it if it is gone for good",
                    m.status_error.as_deref().unwrap_or("no status")
                ),
                commands: vec![
                    format!("etcdctl --endpoints={first} member list -w table"),
                    format!("etcdctl --endpoints={first} member remove {}", m.id),
                ],
            });
        }
        if m.is_learner {
            out.push(ClusterWarning {
                kind: WarningKind::Learner,
                severity: Severity::Warning,
                member: label.clone(),
                message: format!(
                    "member {label} is a learner (not voting): promote it once it has caught up with the leader (etcd refuses until then)"
                ),
                commands: vec![format!("etcdctl --endpoints={first} member promote {}", m.id)],
            });
        }
    }
    if v.leader_id.is_empty() && v.members.iter().any(|m| m.status.is_some()) {
        out.push(ClusterWarning {
            kind: WarningKind::NoLeader,
            severity: Severity::Critical,
            member: String::new(),
            message: "no member knows a leader: the cluster has lost quorum or is electing; writes fail until a leader is elected".into(),
            commands: vec![format!("etcdctl --endpoints={endpoints} endpoint status -w table")],
        });
    }
    out
}

/// Parses a size: bytes, or with a KiB/MiB/GiB (also K/M/G, KB/MB/GB as binary) suffix.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 =
        num.parse().map_err(|_| crate::error::Error::invalid(format!("size \"{text}\": a number of bytes, or with KiB, MiB or GiB")))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        "g" | "gb" | "gib" => 1024 * 1024 * 1024,
        _ => return Err(crate::error::Error::invalid(format!("size \"{text}\": unit {unit} is not one of KiB, MiB, GiB"))),
    };
    let bytes = n.checked_mul(mult).ok_or_else(|| crate::error::Error::invalid(format!("size \"{text}\": too large")))?;
    if bytes == 0 {
        return Err(crate::error::Error::invalid("quota: must be more than 0 bytes"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, name: &str, db: i64, quota: u64, learner: bool, up: bool) -> ClusterMember {
        ClusterMember {
            id: id.into(),
            name: name.into(),
            peer_urls: vec![format!("http://{name}:2380")],
            client_urls: if up { vec![format!("http://{name}:2379")] } else { vec![] },
            is_learner: learner,
            is_leader: id == "1",
            status: up.then(|| MemberStatus {
                version: "3.5.9".into(),
                db_size: db,
                db_size_in_use: db / 2,
                raft_term: 2,
                raft_index: 10,
                raft_applied_index: 10,
                leader: "1".into(),
                errors: vec![],
            }),
            status_error: (!up).then(|| "no answer".into()),
            quota_bytes: quota,
            quota_source: QuotaSource::Default,
            used_percent: db as f64 * 100.0 / quota as f64,
        }
    }

    fn view(members: Vec<ClusterMember>, alarms: Vec<ClusterAlarm>) -> ClusterView {
        ClusterView {
            cluster_id: "c".into(),
            leader_id: "1".into(),
            leader: "a".into(),
            raft_term: 2,
            raft_index: 10,
            version: "3.5.9".into(),
            revision: 4242,
            members,
            alarms,
            warnings: vec![],
            quota_setting: None,
            endpoints: vec!["http://a:2379".into()],
        }
    }

    #[test]
    fn nospace_names_compact_defrag_and_disarm_in_order() {
        let v = view(
            vec![member("1", "a", 100, 100, false, true)],
            vec![ClusterAlarm { member_id: "1".into(), member: "a".into(), alarm: "NOSPACE".into() }],
        );
        let w = warnings(&v);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].kind, WarningKind::Nospace);
        assert_eq!(
            w[0].commands,
            [
                "etcdctl --endpoints=http://a:2379 compact 4242",
                "etcdctl --endpoints=http://a:2379 defrag",
                "etcdctl --endpoints=http://a:2379 alarm disarm"
            ]
        );
    }

    #[test]
    fn near_quota_unreachable_and_learner_each_have_their_hint() {
        let v = view(
            vec![member("1", "a", 81, 100, false, true), member("2", "b", 10, 100, false, true), member("3", "", 0, 100, true, false)],
            vec![],
        );
        let w = warnings(&v);
        let kinds: Vec<WarningKind> = w.iter().map(|w| w.kind).collect();
        assert_eq!(kinds, [WarningKind::NearQuota, WarningKind::Unreachable, WarningKind::Learner]);
        assert_eq!(w[0].member, "a");
        assert!(w[0].commands[0].ends_with("compact 4242") && w[0].commands[1].ends_with("defrag"), "{:?}", w[0].commands);
        assert!(w[0].commands[0].contains("--endpoints=http://a:2379,http://b:2379"), "{:?}", w[0].commands);
        assert_eq!(w[1].commands[1], "etcdctl --endpoints=http://a:2379 member remove 3");
        assert_eq!(w[2].commands, ["etcdctl --endpoints=http://a:2379 member promote 3"]);
        // 80% exactly is not yet a warning.
        let v = view(vec![member("1", "a", 80, 100, false, true)], vec![]);
        assert!(warnings(&v).is_empty());
    }

    #[test]
    fn no_leader_and_corrupt_are_critical() {
        let mut v = view(
            vec![member("1", "a", 1, 100, false, true)],
            vec![ClusterAlarm { member_id: "1".into(), member: String::new(), alarm: "CORRUPT".into() }],
        );
        v.leader_id = String::new();
        let w = warnings(&v);
        assert_eq!(w.iter().map(|w| w.kind).collect::<Vec<_>>(), [WarningKind::Corrupt, WarningKind::NoLeader]);
        assert!(w.iter().all(|w| w.severity == Severity::Critical));
        assert!(w[0].commands.iter().any(|c| c.ends_with("member remove 1")), "{:?}", w[0].commands);
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("16MiB").unwrap(), 16 * 1024 * 1024);
        assert_eq!(parse_size("2g").unwrap(), DEFAULT_QUOTA_BYTES);
        assert_eq!(parse_size("1234").unwrap(), 1234);
        assert!(parse_size("0").is_err());
        assert!(parse_size("12 parsecs").unwrap_err().to_string().contains("KiB"));
        assert!(parse_size("x").is_err());
    }
}
