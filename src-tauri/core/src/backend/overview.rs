//! The Overview on the backend (see [`crate::overview`]): every tile from
//! this machine's cache in one call, then each tile read live on its own,
//! within [`TILE_TIMEOUT`] and stopped when its caller cancels.
//!
//! What lives only in a remote store (the team's requests, change requests
//! and trail in etcd) is cached here after each live read (snapshots under
//! the etcd connection, scope `overview-<tile>`), so the next start shows it
//! at once too.

use std::time::Duration;

use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use super::vms::StoreChoice;
use super::Backend;
use crate::cache::audit::{self, AuditFilter};
use crate::cache::db::now_rfc3339;
use crate::cache::snapshots;
use crate::connections::{Connection, ConnectionSpec, Kind};
use crate::error::{with_timeout, Error, Result};
use crate::overview::{self, ActivityTile, ClustersTile, ConfigTile, ImagesTile, Overview, TileName, TileStatus, TileUpdate, VmsTile};
use crate::vms::inventory::Inventory;
use crate::vms::store::local::LocalStore;
use crate::vms::workflow;

/// A live tile gives up after this long (its cached figures stay shown).
pub const TILE_TIMEOUT: Duration = Duration::from_secs(20);

fn scope(tile: TileName) -> String {
    format!("overview-{}", tile.as_str())
}

fn of_kind(conns: &[Connection], kind: Kind) -> Vec<&Connection> {
    conns.iter().filter(|c| c.spec.kind() == kind).collect()
}

/// `Name: message` for a tile's problem list.
fn problem(c: &Connection, e: &Error) -> String {
    format!("{}: {e}", c.name)
}

impl Backend {
    /// Who "me" is on the Overview: the team store's etcd user when the
    /// request store is shared (what etcd authenticates), else the app's actor.
    async fn overview_me(&self, conns: &[Connection], choice: &StoreChoice) -> String {
        if let StoreChoice::Etcd { connection_id, .. } = choice {
            if let Some(ConnectionSpec::Etcd { username: Some(u), .. }) = conns.iter().find(|c| &c.id == connection_id).map(|c| &c.spec) {
                return u.clone();
            }
        }
        self.actor.clone()
    }

    /// The etcd connection the Config and Activity tiles read: the team
    /// store's when the VM settings name one, else the first etcd connection.
    fn team_connection<'a>(conns: &'a [Connection], choice: &StoreChoice) -> Option<&'a Connection> {
        match choice {
            StoreChoice::Etcd { connection_id, .. } => conns.iter().find(|c| &c.id == connection_id),
            StoreChoice::Local => of_kind(conns, Kind::Etcd).into_iter().next(),
        }
    }

    /// Every tile from this machine's cache: no network, answers at once.
    pub async fn overview_cached(&self) -> Result<Overview> {
        let conns = self.connections().await?;
        let choice = self.vm_settings().await.map(|s| s.store).unwrap_or_default();
        let me = self.overview_me(&conns, &choice).await;
        let (vms, clusters, images, config, activity) = tokio::try_join!(
            self.vms_tile_cached(&conns, &choice, &me),
            self.clusters_tile_cached(&conns),
            self.images_tile_cached(&conns),
            self.remote_tile_cached::<ConfigTile>(&conns, &choice, TileName::Config),
            self.activity_tile_cached(&conns, &choice),
        )?;
        let mut config = config.unwrap_or_default();
        config.status.connections = of_kind(&conns, Kind::Etcd).len() as u32;
        if config.status.source.is_empty() {
            config.status.source = "none".into();
        }
        Ok(Overview { at: now_rfc3339(), me, vms, clusters, images, config, activity })
    }

    /// One tile read live now, within [`TILE_TIMEOUT`]; `cancel` stops it
    /// (the user left the Overview) with [`Error::Cancelled`].
    pub async fn overview_tile(&self, tile: TileName, cancel: &CancellationToken) -> Result<TileUpdate> {
        let work = with_timeout(format!("the Overview's {} tile", tile.as_str()), TILE_TIMEOUT, self.overview_tile_live(tile));
        tokio::select! {
            _ = cancel.cancelled() => Err(Error::Cancelled(format!("the Overview's {} tile was no longer shown", tile.as_str()))),
            r = work => r,
        }
    }

    async fn overview_tile_live(&self, tile: TileName) -> Result<TileUpdate> {
        let conns = self.connections().await?;
        let choice = self.vm_settings().await.map(|s| s.store).unwrap_or_default();
        Ok(match tile {
            TileName::Vms => {
                let me = self.overview_me(&conns, &choice).await;
                TileUpdate::Vms(self.vms_tile_live(&conns, &choice, &me).await?)
            }
            TileName::Clusters => TileUpdate::Clusters(self.clusters_tile_live(&conns).await),
            TileName::Images => TileUpdate::Images(self.images_tile_live(&conns).await?),
            TileName::Config => {
                let me = self.overview_me(&conns, &choice).await;
                TileUpdate::Config(Box::pin(self.config_tile_live(&conns, &choice, &me)).await?)
            }
            TileName::Activity => TileUpdate::Activity(self.activity_tile_live(&conns, &choice).await?),
        })
    }

    // ---- VMs ---------------------------------------------------------------

    async fn cached_inventories(&self, vcenters: &[&Connection], status: &mut TileStatus) -> Result<Vec<Inventory>> {
        let mut out = Vec::new();
        for c in vcenters {
            match self.cached_vm_inventory(&c.id).await? {
                Some(s) => {
                    status.seen(&s.fetched_at);
                    out.push(s.payload);
                }
                None => status.problems.push(format!("{}: not read yet", c.name)),
            }
        }
        Ok(out)
    }

    async fn vms_tile_cached(&self, conns: &[Connection], choice: &StoreChoice, me: &str) -> Result<VmsTile> {
        let vcenters = of_kind(conns, Kind::Vsphere);
        let mut status = TileStatus::new(vcenters.len() as u32, "cache");
        if vcenters.is_empty() {
            status.source = "none".into();
            return Ok(VmsTile { status, store: store_kind(choice).into(), ..Default::default() });
        }
        // The team's requests were cached with the tile at its last live read.
        if matches!(choice, StoreChoice::Etcd { .. }) {
            if let Some(t) = self.remote_tile_cached::<VmsTile>(conns, choice, TileName::Vms).await? {
                return Ok(VmsTile { status: TileStatus { connections: vcenters.len() as u32, ..t.status }, ..t });
            }
        }
        let invs = self.cached_inventories(&vcenters, &mut status).await?;
        let requests = match choice {
            StoreChoice::Local => workflow::list(&LocalStore::new(self.db.clone())).await?,
            StoreChoice::Etcd { .. } => {
                status.problems.push("the team's requests have not been read yet".into());
                Vec::new()
            }
        };
        let refs: Vec<&Inventory> = invs.iter().collect();
        Ok(overview::vms_tile(status, store_kind(choice), &refs, &requests, me, time::OffsetDateTime::now_utc().date()))
    }

    async fn vms_tile_live(&self, conns: &[Connection], choice: &StoreChoice, me: &str) -> Result<VmsTile> {
        let vcenters = of_kind(conns, Kind::Vsphere);
        let mut status = TileStatus::new(vcenters.len() as u32, "live");
        if vcenters.is_empty() {
            status.source = "none".into();
            return Ok(VmsTile { status, store: store_kind(choice).into(), ..Default::default() });
        }
        let reads = join_all(vcenters.iter().map(|c| self.vm_inventory(&c.id))).await;
        let mut invs = Vec::new();
        let now = now_rfc3339();
        for (c, r) in vcenters.iter().zip(reads) {
            match r {
                Ok(inv) => {
                    status.seen(&now);
                    invs.push(inv);
                }
                Err(e) => {
                    status.problems.push(problem(c, &e));
                    if let Some(s) = self.cached_vm_inventory(&c.id).await? {
                        status.seen(&s.fetched_at);
                        invs.push(s.payload);
                    }
                }
            }
        }
        let requests = match self.vm_store(choice).await {
            Ok(store) => match workflow::list(store.as_ref()).await {
                Ok(r) => r,
                Err(e) => return self.vms_stale(conns, choice, me, format!("request store: {e}")).await,
            },
            Err(e) => return self.vms_stale(conns, choice, me, format!("request store: {e}")).await,
        };
        let refs: Vec<&Inventory> = invs.iter().collect();
        let tile = overview::vms_tile(status, store_kind(choice), &refs, &requests, me, time::OffsetDateTime::now_utc().date());
        if matches!(choice, StoreChoice::Etcd { .. }) {
            self.remote_tile_put(conns, choice, TileName::Vms, &tile).await;
        }
        Ok(tile)
    }

    /// The cached tile with the reason the live one could not be read.
    async fn vms_stale(&self, conns: &[Connection], choice: &StoreChoice, me: &str, why: String) -> Result<VmsTile> {
        let mut t = self.vms_tile_cached(conns, choice, me).await?;
        t.status.problems.push(why);
        Ok(t)
    }

    // ---- Clusters ----------------------------------------------------------

    async fn clusters_tile_cached(&self, conns: &[Connection]) -> Result<ClustersTile> {
        let kubes = of_kind(conns, Kind::Kubernetes);
        let mut status = TileStatus::new(kubes.len() as u32, if kubes.is_empty() { "none" } else { "cache" });
        let mut health = Vec::new();
        for c in &kubes {
            match self.cached_cluster_health(&c.id).await? {
                Some(s) => {
                    status.seen(&s.fetched_at);
                    health.push((c.id.clone(), s.payload));
                }
                None => status.problems.push(format!("{}: not checked yet", c.name)),
            }
        }
        Ok(overview::clusters_tile(status, &health))
    }

    async fn clusters_tile_live(&self, conns: &[Connection]) -> ClustersTile {
        let kubes = of_kind(conns, Kind::Kubernetes);
        let mut status = TileStatus::new(kubes.len() as u32, if kubes.is_empty() { "none" } else { "live" });
        // Each connection checks its contexts in parallel, each within its own deadline.
        let reads = join_all(kubes.iter().map(|c| self.cluster_health(&c.id))).await;
        let now = now_rfc3339();
        let mut health = Vec::new();
        for (c, r) in kubes.iter().zip(reads) {
            match r {
                Ok(h) => {
                    status.seen(&now);
                    health.push((c.id.clone(), h));
                }
                Err(e) => status.problems.push(problem(c, &e)),
            }
        }
        overview::clusters_tile(status, &health)
    }

    // ---- Images ------------------------------------------------------------

    /// The latest scan of every image: image, id, decision, risk, when.
    async fn latest_scans(&self) -> Result<Vec<(String, String, String, i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT image, image_id, decision, risk_score, scanned_at FROM image_scans s
             WHERE id = (SELECT MAX(id) FROM image_scans t WHERE t.image_id = s.image_id)",
        )
        .fetch_all(self.db.pool())
        .await?)
    }

    async fn images_tile_cached(&self, conns: &[Connection]) -> Result<ImagesTile> {
        let engines = of_kind(conns, Kind::Docker);
        let mut status = TileStatus::new(engines.len() as u32, if engines.is_empty() { "none" } else { "cache" });
        let (mut images, mut running) = (0u32, 0u32);
        for c in &engines {
            match self.cached_image_inventory(&c.id).await? {
                Some(s) => {
                    status.seen(&s.fetched_at);
                    images += s.payload.images.len() as u32;
                    running += s.payload.containers.iter().filter(|c| c.state == "running").count() as u32;
                }
                None => status.problems.push(format!("{}: not read yet", c.name)),
            }
        }
        Ok(overview::images_tile(status, images, running, &self.latest_scans().await?))
    }

    async fn images_tile_live(&self, conns: &[Connection]) -> Result<ImagesTile> {
        let engines = of_kind(conns, Kind::Docker);
        let mut status = TileStatus::new(engines.len() as u32, if engines.is_empty() { "none" } else { "live" });
        let reads = join_all(engines.iter().map(|c| self.image_inventory(&c.id))).await;
        let now = now_rfc3339();
        let (mut images, mut running) = (0u32, 0u32);
        for (c, r) in engines.iter().zip(reads) {
            let inv = match r {
                Ok(inv) => {
                    status.seen(&now);
                    Some(inv)
                }
                Err(e) => {
                    status.problems.push(problem(c, &e));
                    self.cached_image_inventory(&c.id).await?.map(|s| {
                        status.seen(&s.fetched_at);
                        s.payload
                    })
                }
            };
            if let Some(inv) = inv {
                images += inv.images.len() as u32;
                running += inv.containers.iter().filter(|c| c.state == "running").count() as u32;
            }
        }
        Ok(overview::images_tile(status, images, running, &self.latest_scans().await?))
    }

    // ---- Config ------------------------------------------------------------

    async fn config_tile_live(&self, conns: &[Connection], choice: &StoreChoice, me: &str) -> Result<ConfigTile> {
        let etcds = of_kind(conns, Kind::Etcd).len() as u32;
        let Some(c) = Self::team_connection(conns, choice) else {
            return Ok(ConfigTile { status: TileStatus::new(etcds, "none"), ..Default::default() });
        };
        let root = self.team_root_for(&c.id).await?;
        let read = Box::pin(async {
            let s = Box::pin(self.etcd_session(&c.id)).await?;
            Box::pin(self.change_overview(&s, &root)).await
        })
        .await;
        match read {
            Ok(list) => {
                let mut status = TileStatus::new(etcds, "live");
                status.seen(&now_rfc3339());
                let tile = overview::config_tile(status, Some(c.id.clone()), &root, &list.changes, me);
                self.remote_tile_put(conns, choice, TileName::Config, &tile).await;
                Ok(tile)
            }
            Err(e) => {
                let mut t = self.remote_tile_cached::<ConfigTile>(conns, choice, TileName::Config).await?.unwrap_or_else(|| ConfigTile {
                    status: TileStatus::new(etcds, "none"),
                    connection_id: Some(c.id.clone()),
                    root: root.clone(),
                    ..Default::default()
                });
                t.status.connections = etcds;
                t.status.problems.push(problem(c, &e));
                Ok(t)
            }
        }
    }

    // ---- Activity ----------------------------------------------------------

    async fn local_activity(&self) -> Result<ActivityTile> {
        let page = audit::list(&self.db, &AuditFilter { limit: overview::ACTIVITY_ITEMS as u32, ..Default::default() }).await?;
        let mut status = TileStatus::new(1, "live");
        if let Some(e) = page.entries.first() {
            status.seen(&e.at);
        }
        Ok(overview::activity_from_local(status, &page.entries))
    }

    async fn activity_tile_cached(&self, conns: &[Connection], choice: &StoreChoice) -> Result<ActivityTile> {
        if matches!(choice, StoreChoice::Etcd { .. }) {
            if let Some(t) = self.remote_tile_cached::<ActivityTile>(conns, choice, TileName::Activity).await? {
                return Ok(t);
            }
        }
        self.local_activity().await
    }

    async fn activity_tile_live(&self, conns: &[Connection], choice: &StoreChoice) -> Result<ActivityTile> {
        if !matches!(choice, StoreChoice::Etcd { .. }) {
            return self.local_activity().await;
        }
        let read = async {
            let team = self.team_store(choice).await?.ok_or_else(|| Error::Internal("no team store".into()))?;
            crate::team::trail::read(&team).await
        }
        .await;
        match read {
            Ok(report) => {
                let mut status = TileStatus::new(1, "live");
                status.seen(&now_rfc3339());
                if !report.intact() {
                    status.problems.push(format!("the team trail's hash chain is broken in {} place(s): see Audit", report.breaks.len()));
                }
                let tile = overview::activity_from_team(status, &report.entries);
                self.remote_tile_put(conns, choice, TileName::Activity, &tile).await;
                Ok(tile)
            }
            Err(e) => {
                let mut t = match self.remote_tile_cached::<ActivityTile>(conns, choice, TileName::Activity).await? {
                    Some(t) => t,
                    None => self.local_activity().await?,
                };
                t.status.problems.push(format!("team trail: {e}"));
                Ok(t)
            }
        }
    }

    // ---- the cache of remote tiles -------------------------------------------

    async fn remote_tile_cached<T: serde::de::DeserializeOwned + HasStatus>(
        &self,
        conns: &[Connection],
        choice: &StoreChoice,
        tile: TileName,
    ) -> Result<Option<T>> {
        let Some(c) = Self::team_connection(conns, choice) else { return Ok(None) };
        Ok(snapshots::get::<T>(&self.db, &c.id, &scope(tile)).await?.map(|s| {
            let mut t = s.payload;
            t.status_mut().source = "cache".into();
            t
        }))
    }

    /// Keeps a live tile for the next start (a cache: a failure to write it is not the tile's).
    async fn remote_tile_put<T: serde::Serialize>(&self, conns: &[Connection], choice: &StoreChoice, tile: TileName, t: &T) {
        if let Some(c) = Self::team_connection(conns, choice) {
            if let Err(e) = snapshots::put(&self.db, &c.id, &scope(tile), t).await {
                tracing::warn!("caching the Overview's {} tile: {e}", tile.as_str());
            }
        }
    }
}

fn store_kind(choice: &StoreChoice) -> &'static str {
    match choice {
        StoreChoice::Local => "local",
        StoreChoice::Etcd { .. } => "etcd",
    }
}

/// A tile's status, for the cache code.
pub trait HasStatus {
    fn status_mut(&mut self) -> &mut TileStatus;
}

macro_rules! has_status {
    ($($t:ty),*) => {$(impl HasStatus for $t { fn status_mut(&mut self) -> &mut TileStatus { &mut self.status } })*};
}
has_status!(VmsTile, ClustersTile, ImagesTile, ConfigTile, ActivityTile);
