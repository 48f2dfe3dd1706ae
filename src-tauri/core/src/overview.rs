//! The Overview: the app's home screen, one tile per platform (VMs,
//! Clusters, Images, Config) and the recent team activity. The backend
//! builds it first from what this machine has cached (SQLite: inventories,
//! the last cluster health, the scan history, the local request store and
//! audit log, the tiles last read live), which answers in milliseconds and
//! offline, then refreshes each tile live on its own, with a deadline.
//!
//! This module holds the tiles and the pure functions that fill them; the
//! reading is in `backend::overview`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::Date;
/// Stops a live tile read (re-exported for the app).
pub use tokio_util::sync::CancellationToken;

use crate::cache::audit::AuditEntry;
use crate::clusters::model::{ClusterHealth, Verdict};
use crate::team::changes::{ChangeState, ChangeView};
use crate::team::trail::TrailEntry;
use crate::vms::inventory::Inventory;
use crate::vms::model::{State, VmRequest};

/// Items listed in a tile (the counts are of all of them).
pub const TILE_ITEMS: usize = 5;
/// Audit entries in the activity tile.
pub const ACTIVITY_ITEMS: usize = 8;
/// "Leases ending this week": within this many days from today.
pub const LEASE_WINDOW_DAYS: i64 = 7;

/// A tile the app refreshes on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum TileName {
    Vms,
    Clusters,
    Images,
    Config,
    Activity,
}

impl TileName {
    pub const ALL: [TileName; 5] = [TileName::Vms, TileName::Clusters, TileName::Images, TileName::Config, TileName::Activity];

    pub fn as_str(self) -> &'static str {
        match self {
            TileName::Vms => "vms",
            TileName::Clusters => "clusters",
            TileName::Images => "images",
            TileName::Config => "config",
            TileName::Activity => "activity",
        }
    }
}

/// Where a tile's figures come from and how old they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct TileStatus {
    /// Saved connections of the tile's platform (0: the tile asks to add one).
    pub connections: u32,
    /// `cache` (this machine's last copy), `live` (read just now) or
    /// `none` (nothing read yet).
    pub source: String,
    /// When the oldest figure was read from the platform.
    #[serde(default)]
    pub as_of: Option<String>,
    /// What could not be read (the figures shown are the last known).
    #[serde(default)]
    pub problems: Vec<String>,
}

impl TileStatus {
    pub fn new(connections: u32, source: &str) -> TileStatus {
        TileStatus { connections, source: source.into(), as_of: None, problems: Vec::new() }
    }

    /// Keeps the oldest time as `as_of`.
    pub fn seen(&mut self, at: &str) {
        if self.as_of.as_deref().is_none_or(|a| at < a) {
            self.as_of = Some(at.to_string());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RequestItem {
    pub id: String,
    pub name: String,
    pub department: String,
    pub requester: String,
    pub state: State,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct LeaseItem {
    pub id: String,
    pub name: String,
    pub department: String,
    pub requester: String,
    pub lease_end: String,
    /// Days from today (0 = ends today).
    pub days_left: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct VmsTile {
    pub status: TileStatus,
    /// `local` or `etcd`: the request store the figures are from.
    pub store: String,
    /// VMs (not templates) in the vCenters' inventories.
    pub vms: u32,
    pub powered_on: u32,
    /// Requests waiting for a manager's or an admin's decision that the
    /// user did not file (they may decide them).
    pub awaiting: u32,
    pub awaiting_items: Vec<RequestItem>,
    /// The user's own requests still in progress.
    pub mine_open: u32,
    /// Provisioned VMs whose lease ends within [`LEASE_WINDOW_DAYS`].
    pub leases_ending: u32,
    pub lease_items: Vec<LeaseItem>,
    /// Failed requests (retry or withdraw).
    pub failed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ClusterItem {
    pub connection_id: String,
    pub context: String,
    pub verdict: Verdict,
    /// The first reason of a verdict that is not Healthy.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct ClustersTile {
    pub status: TileStatus,
    pub healthy: u32,
    pub degraded: u32,
    pub unreachable: u32,
    /// Clusters that are not healthy, unreachable first.
    pub items: Vec<ClusterItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImageItem {
    pub image: String,
    pub image_id: String,
    pub risk_score: i64,
    pub scanned_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct ImagesTile {
    pub status: TileStatus,
    /// Images in the engines' inventories.
    pub images: u32,
    pub running: u32,
    /// Images by the decision of their latest scan.
    pub blocked: u32,
    pub warned: u32,
    pub allowed: u32,
    /// Blocked images, riskiest first.
    pub items: Vec<ImageItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ChangeItem {
    pub id: String,
    pub author: String,
    pub comment: String,
    pub keys: u32,
    pub created_at: String,
    pub state: ChangeState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct ConfigTile {
    pub status: TileStatus,
    /// The etcd connection whose team store is shown.
    #[serde(default)]
    pub connection_id: Option<String>,
    pub root: String,
    /// Change requests waiting for a review (not the user's own).
    pub waiting: u32,
    /// The user's own waiting for someone else's review.
    pub mine_waiting: u32,
    /// Approved, not yet published.
    pub approved: u32,
    pub items: Vec<ChangeItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ActivityItem {
    pub at: String,
    pub actor: String,
    pub platform: String,
    pub action: String,
    pub target: String,
    pub ok: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct ActivityTile {
    pub status: TileStatus,
    /// `team` (the team's trail in etcd) or `local` (this machine's log).
    pub trail: String,
    /// Newest first.
    pub items: Vec<ActivityItem>,
}

/// Every tile at once (from the cache), or one tile (refreshed live).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct Overview {
    pub at: String,
    /// Who "me" is: the team store's authenticated user, else the app's actor.
    pub me: String,
    pub vms: VmsTile,
    pub clusters: ClustersTile,
    pub images: ImagesTile,
    pub config: ConfigTile,
    pub activity: ActivityTile,
}

/// One refreshed tile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "tile", rename_all = "lowercase")]
pub enum TileUpdate {
    Vms(VmsTile),
    Clusters(ClustersTile),
    Images(ImagesTile),
    Config(ConfigTile),
    Activity(ActivityTile),
}

fn days_until(lease_end: &str, today: Date) -> Option<i64> {
    let end = crate::vms::validate::parse_date("lease end", lease_end).ok()?;
    Some((end - today).whole_days())
}

/// The VM figures: inventories (not templates) and the requests as `me` sees them.
pub fn vms_tile(mut status: TileStatus, store: &str, inventories: &[&Inventory], requests: &[VmRequest], me: &str, today: Date) -> VmsTile {
    let vms = inventories.iter().flat_map(|i| i.vms.iter()).filter(|v| !v.template);
    let (count, on) = vms.fold((0u32, 0u32), |(n, on), v| (n + 1, on + u32::from(v.powered_on())));
    let mut awaiting: Vec<&VmRequest> =
        requests.iter().filter(|r| matches!(r.state, State::PendingManager | State::PendingAdmin) && r.requester != me).collect();
    awaiting.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    let mut leases: Vec<(i64, &VmRequest)> = requests
        .iter()
        .filter(|r| r.state == State::Provisioned)
        .filter_map(|r| days_until(&r.spec.lease_end, today).map(|d| (d, r)))
        .filter(|(d, _)| (0..=LEASE_WINDOW_DAYS).contains(d))
        .collect();
    leases.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.spec.name.cmp(&b.1.spec.name)));
    if status.source.is_empty() {
        status.source = "cache".into();
    }
    VmsTile {
        status,
        store: store.into(),
        vms: count,
        powered_on: on,
        awaiting: awaiting.len() as u32,
        awaiting_items: awaiting
            .iter()
            .take(TILE_ITEMS)
            .map(|r| RequestItem {
                id: r.id.clone(),
                name: r.spec.name.clone(),
                department: r.spec.department.clone(),
                requester: r.requester.clone(),
                state: r.state,
                created_at: r.created_at.clone(),
            })
            .collect(),
        mine_open: requests.iter().filter(|r| r.requester == me && r.state.is_pending()).count() as u32,
        leases_ending: leases.len() as u32,
        lease_items: leases
            .iter()
            .take(TILE_ITEMS)
            .map(|(d, r)| LeaseItem {
                id: r.id.clone(),
                name: r.spec.name.clone(),
                department: r.spec.department.clone(),
                requester: r.requester.clone(),
                lease_end: r.spec.lease_end.clone(),
                days_left: i32::try_from(*d).unwrap_or(i32::MAX),
            })
            .collect(),
        failed: requests.iter().filter(|r| r.state == State::Failed).count() as u32,
    }
}

/// The cluster figures from each connection's health (connection id -> its contexts).
pub fn clusters_tile(status: TileStatus, health: &[(String, Vec<ClusterHealth>)]) -> ClustersTile {
    let mut t = ClustersTile { status, ..Default::default() };
    let mut items = Vec::new();
    for (conn, list) in health {
        for h in list {
            match h.verdict {
                Verdict::Healthy => t.healthy += 1,
                Verdict::Degraded => t.degraded += 1,
                Verdict::Unreachable => t.unreachable += 1,
            }
            if h.verdict != Verdict::Healthy {
                items.push(ClusterItem {
                    connection_id: conn.clone(),
                    context: h.context.clone(),
                    verdict: h.verdict,
                    reason: h.findings.first().map(|f| f.message.clone()).unwrap_or_default(),
                });
            }
        }
    }
    let rank = |v: Verdict| match v {
        Verdict::Unreachable => 0,
        Verdict::Degraded => 1,
        Verdict::Healthy => 2,
    };
    items.sort_by(|a, b| rank(a.verdict).cmp(&rank(b.verdict)).then_with(|| a.context.cmp(&b.context)));
    items.truncate(TILE_ITEMS);
    t.items = items;
    t
}

/// The image figures: inventories' counts and the latest scan decision of each image.
pub fn images_tile(status: TileStatus, images: u32, running: u32, latest: &[(String, String, String, i64, String)]) -> ImagesTile {
    let mut t = ImagesTile { status, images, running, ..Default::default() };
    let mut blocked = Vec::new();
    for (image, image_id, decision, risk, at) in latest {
        match decision.as_str() {
            "BLOCK" => {
                t.blocked += 1;
                blocked.push(ImageItem { image: image.clone(), image_id: image_id.clone(), risk_score: *risk, scanned_at: at.clone() });
            }
            "WARN" => t.warned += 1,
            _ => t.allowed += 1,
        }
    }
    blocked.sort_by(|a, b| b.risk_score.cmp(&a.risk_score).then_with(|| a.image.cmp(&b.image)));
    blocked.truncate(TILE_ITEMS);
    t.items = blocked;
    t
}

/// The change requests as `me` sees them.
pub fn config_tile(status: TileStatus, connection_id: Option<String>, root: &str, changes: &[ChangeView], me: &str) -> ConfigTile {
    let pending: Vec<&ChangeView> = changes.iter().filter(|c| c.state == ChangeState::Pending).collect();
    let mut items: Vec<&ChangeView> = changes.iter().filter(|c| matches!(c.state, ChangeState::Pending | ChangeState::Approved)).collect();
    // Those waiting for me first, then the oldest.
    items.sort_by(|a, b| (a.author == me).cmp(&(b.author == me)).then_with(|| a.created_at.cmp(&b.created_at)));
    ConfigTile {
        status,
        connection_id,
        root: root.into(),
        waiting: pending.iter().filter(|c| c.author != me).count() as u32,
        mine_waiting: pending.iter().filter(|c| c.author == me).count() as u32,
        approved: changes.iter().filter(|c| c.state == ChangeState::Approved).count() as u32,
        items: items
            .into_iter()
            .take(TILE_ITEMS)
            .map(|c| ChangeItem {
                id: c.id.clone(),
                author: c.author.clone(),
                comment: c.comment.clone(),
                keys: c.ops.len() as u32,
                created_at: c.created_at.clone(),
                state: c.state,
            })
            .collect(),
    }
}

pub fn activity_from_local(status: TileStatus, entries: &[AuditEntry]) -> ActivityTile {
    ActivityTile {
        status,
        trail: "local".into(),
        items: entries
            .iter()
            .take(ACTIVITY_ITEMS)
            .map(|e| ActivityItem {
                at: e.at.clone(),
                actor: e.actor.clone(),
                platform: e.platform.clone(),
                action: e.action.clone(),
                target: e.target.clone(),
                ok: e.result == "ok",
            })
            .collect(),
    }
}

/// The newest entries of the team trail (given oldest first).
pub fn activity_from_team(status: TileStatus, entries: &[TrailEntry]) -> ActivityTile {
    ActivityTile {
        status,
        trail: "team".into(),
        items: entries
            .iter()
            .rev()
            .take(ACTIVITY_ITEMS)
            .map(|e| ActivityItem {
                at: e.entry.at.clone(),
                actor: e.entry.user.clone(),
                platform: e.entry.platform.clone(),
                action: e.entry.action.clone(),
                target: e.entry.target.clone(),
                ok: e.entry.result == "ok",
            })
            .collect(),
    }
}

/// Connections per platform kind (`vsphere`, `kubernetes`, ...).
pub type Counts = HashMap<&'static str, u32>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::model::{Finding, NodeSummary, Severity};
    use crate::vms::inventory::VmRow;
    use crate::vms::model::{RequestSpec, SnapshotSchedule};

    fn req(id: &str, requester: &str, state: State, lease_end: &str) -> VmRequest {
        let spec = RequestSpec {
            name: format!("vm-{id}"),
            template: "t".into(),
            cpu: 1,
            memory_gb: 1,
            disk_gb: 10,
            network: String::new(),
            folder: String::new(),
            resource_pool: String::new(),
            department: "qa".into(),
            purpose: "p".into(),
            lease_end: lease_end.into(),
            snapshot_schedule: SnapshotSchedule::None,
            customization_script: String::new(),
        };
        let created_at = format!("2026-12-0{}T00:00:00Z", id.len());
        VmRequest { created_at, ..VmRequest::for_test(id, spec, requester, state) }
    }

    #[test]
    fn vms_tile_counts_what_waits_for_me_and_leases_ending_this_week() {
        let today = time::macros::date!(2026 - 12 - 05);
        let rs = vec![
            req("a", "alice", State::PendingManager, "2027-01-01"),
            req("b", "me", State::PendingAdmin, "2027-01-01"), // mine: not waiting for me
            req("c", "bob", State::PendingAdmin, "2027-01-01"),
            req("d", "bob", State::Provisioned, "2026-12-05"), // ends today
            req("e", "bob", State::Provisioned, "2026-12-12"), // in 7 days
            req("f", "bob", State::Provisioned, "2026-12-13"), // in 8 days: not this week
            req("g", "bob", State::Provisioned, "2026-12-01"), // past: the lifecycle's business
            req("h", "me", State::Failed, "2027-01-01"),
        ];
        let inv = Inventory {
            vms: vec![VmRow { power: "poweredOn".into(), ..vm_row("vm-1") }, vm_row("vm-2"), VmRow { template: true, ..vm_row("vm-3") }],
            ..Default::default()
        };
        let t = vms_tile(TileStatus::new(1, "cache"), "local", &[&inv], &rs, "me", today);
        assert_eq!((t.vms, t.powered_on), (2, 1));
        assert_eq!(t.awaiting, 2);
        assert_eq!(t.awaiting_items.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(t.mine_open, 2, "b pending and h failed");
        assert_eq!(t.leases_ending, 2);
        assert_eq!(t.lease_items.iter().map(|l| (l.id.as_str(), l.days_left)).collect::<Vec<_>>(), [("d", 0), ("e", 7)]);
        assert_eq!(t.failed, 1);
    }

    fn vm_row(id: &str) -> VmRow {
        VmRow {
            id: id.into(),
            name: id.into(),
            power: "poweredOff".into(),
            template: false,
            tools: String::new(),
            cpu: 1,
            memory_mb: 1024,
            committed_bytes: 0,
            host: String::new(),
            datastores: vec![],
            folder: String::new(),
            pool: String::new(),
            annotation: String::new(),
            snapshots: vec![],
            boot_time: None,
        }
    }

    fn health(ctx: &str, verdict: Verdict, reason: Option<&str>) -> ClusterHealth {
        ClusterHealth {
            context: ctx.into(),
            verdict,
            version: None,
            latency_ms: None,
            nodes: NodeSummary::default(),
            findings: reason
                .map(|r| Finding { severity: Severity::Warning, kind: "node".into(), object: "node/n1".into(), message: r.into() })
                .into_iter()
                .collect(),
            checked_at: "t".into(),
            insecure_tls: false,
            error_code: None,
        }
    }

    #[test]
    fn clusters_tile_counts_by_verdict_and_lists_the_worst_first() {
        let t = clusters_tile(
            TileStatus::new(2, "cache"),
            &[
                ("c1".into(), vec![health("a", Verdict::Healthy, None), health("b", Verdict::Degraded, Some("node n1 NotReady"))]),
                ("c2".into(), vec![health("z", Verdict::Unreachable, Some("connection refused"))]),
            ],
        );
        assert_eq!((t.healthy, t.degraded, t.unreachable), (1, 1, 1));
        assert_eq!(t.items.iter().map(|i| i.context.as_str()).collect::<Vec<_>>(), ["z", "b"]);
        assert_eq!(t.items[1].reason, "node n1 NotReady");
    }

    #[test]
    fn images_tile_lists_blocked_by_risk() {
        let row = |i: &str, d: &str, r: i64| (i.to_string(), format!("sha256:{i}"), d.to_string(), r, "t".to_string());
        let t = images_tile(
            TileStatus::new(1, "cache"),
            4,
            2,
            &[row("a", "BLOCK", 10), row("b", "WARN", 5), row("c", "BLOCK", 40), row("d", "ALLOW", 0)],
        );
        assert_eq!((t.blocked, t.warned, t.allowed), (2, 1, 1));
        assert_eq!(t.items.iter().map(|i| i.image.as_str()).collect::<Vec<_>>(), ["c", "a"]);
    }
}
