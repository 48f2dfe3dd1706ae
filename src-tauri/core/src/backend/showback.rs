//! Showback on the backend: the price list (in the team's etcd when the
//! request store is shared, else this machine's settings), set only when
//! valid and always audited, and the monthly cost of the VMs by VM,
//! department and owner (see [`crate::showback`]).

use std::time::Duration;

use etcd_client::{Compare, CompareOp, Txn, TxnOp};
use serde::{Deserialize, Serialize};

use super::Backend;
use crate::cache::db::now_rfc3339;
use crate::cache::settings;
use crate::error::{with_timeout, Error, Result};
use crate::showback::{self, CostEstimate, PriceList, Showback, StoredPriceList};
use crate::team::TeamStore;
use crate::vms::model::RequestSpec;
use crate::vms::store::RequestStore;

const LOCAL_KEY: &str = "vm_price_list";
const TIMEOUT: Duration = Duration::from_secs(10);

/// The price list as kept in the team store (`<root>showback/prices`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PriceRecord {
    list: PriceList,
    updated_at: String,
    updated_by: String,
}

/// The team store key of the price list.
pub fn price_key(team: &TeamStore) -> String {
    format!("{}showback/prices", team.root())
}

fn describe(l: &PriceList) -> String {
    let tiers: Vec<String> = l.tiers.iter().map(|t| format!("{} {}/GB ({})", t.name, t.disk_gb, t.datastores.join(" "))).collect();
    format!(
        "{} a month: {}/vCPU, {}/GB memory, {}/GB disk{}",
        l.currency,
        l.vcpu,
        l.memory_gb,
        l.disk_gb,
        if tiers.is_empty() { String::new() } else { format!("; tiers: {}", tiers.join("; ")) }
    )
}

impl Backend {
    /// The price list in force for `store`: the team's when the store is
    /// shared, else this machine's (zero prices until one is set).
    pub async fn price_list(&self, store: &dyn RequestStore) -> Result<StoredPriceList> {
        match store.team() {
            Some(team) => self.team_price_list(team).await,
            None => Ok(settings::load_json::<StoredPriceList>(&self.db, LOCAL_KEY).await?.unwrap_or_else(|| StoredPriceList {
                list: PriceList::default(),
                source: "local".into(),
                updated_at: None,
                updated_by: None,
                revision: 0,
            })),
        }
    }

    async fn team_price_list(&self, team: &TeamStore) -> Result<StoredPriceList> {
        let key = price_key(team);
        let mut c = team.client();
        let r = with_timeout("etcd (read the price list)", TIMEOUT, async {
            c.get(key.as_str(), None).await.map_err(|e| team.etcd_error("reading the price list", e, "the team's readers may read it"))
        })
        .await?;
        let Some(kv) = r.kvs().first() else {
            return Ok(StoredPriceList {
                list: PriceList::default(),
                source: "team".into(),
                updated_at: None,
                updated_by: None,
                revision: 0,
            });
        };
        let rec: PriceRecord = serde_json::from_slice(kv.value())
            .map_err(|e| Error::invalid(format!("the team's price list ({key}) is not an Opsdeck price list: {e}; set it again")))?;
        // What someone wrote around Opsdeck is checked like what is set here.
        let list = showback::validate(&rec.list).map_err(|e| Error::invalid(format!("the team's price list ({key}) is refused: {e}")))?;
        Ok(StoredPriceList {
            list,
            source: "team".into(),
            updated_at: Some(rec.updated_at),
            updated_by: Some(rec.updated_by),
            revision: kv.mod_revision(),
        })
    }

    /// Sets the price list of `store` if valid and, in the team store,
    /// unchanged since `expected_revision` (0 = not set yet) when given.
    /// Audited (the old and the new prices), refused or not.
    pub async fn set_price_list(
        &self,
        store: &dyn RequestStore,
        list: &PriceList,
        expected_revision: Option<i64>,
    ) -> Result<StoredPriceList> {
        let result = async {
            let list = showback::validate(list)?;
            let before = self.price_list(store).await.ok();
            let saved = match store.team() {
                Some(team) => self.put_team_price_list(team, &list, expected_revision).await?,
                None => {
                    let s = StoredPriceList {
                        list: list.clone(),
                        source: "local".into(),
                        updated_at: Some(now_rfc3339()),
                        updated_by: Some(self.actor.clone()),
                        revision: 0,
                    };
                    settings::store_json(&self.db, LOCAL_KEY, &s).await?;
                    s
                }
            };
            Ok::<_, Error>((before, saved))
        }
        .await;
        let summary = result.as_ref().map(|(before, saved)| {
            let was = before.as_ref().map_or_else(|| "none".to_string(), |b| describe(&b.list));
            format!("[{} price list] {} (was {was})", saved.source, describe(&saved.list))
        });
        self.audit_in(store.team(), "vsphere", "price list", "vm.price_list", summary).await;
        result.map(|(_, saved)| saved)
    }

    async fn put_team_price_list(&self, team: &TeamStore, list: &PriceList, expected: Option<i64>) -> Result<StoredPriceList> {
        let key = price_key(team);
        let by = team.user().map(String::from).unwrap_or_else(|| self.actor.clone());
        let rec = PriceRecord { list: list.clone(), updated_at: now_rfc3339(), updated_by: by.clone() };
        let value = crate::team::to_json(&rec, "the price list")?;
        let guard = match expected {
            Some(0) => vec![Compare::create_revision(key.as_str(), CompareOp::Equal, 0)],
            Some(rev) => vec![Compare::mod_revision(key.as_str(), CompareOp::Equal, rev)],
            None => vec![],
        };
        let txn = Txn::new().when(guard).and_then([TxnOp::put(key.as_str(), value, None)]);
        let mut c = team.client();
        let r = with_timeout("etcd (set the price list)", TIMEOUT, async {
            c.txn(txn).await.map_err(|e| {
                team.etcd_error(
                    "setting the price list",
                    e,
                    "only IT admins (opsdeck-vm-admin) may set it — ask one, or an etcd administrator",
                )
            })
        })
        .await?;
        if !r.succeeded() {
            return Err(Error::Conflict(
                "the price list was changed by someone else since you opened it: reload it, and set yours again if it still applies".into(),
            ));
        }
        Ok(StoredPriceList {
            list: list.clone(),
            source: "team".into(),
            updated_at: Some(rec.updated_at),
            updated_by: Some(by),
            revision: r.header().map_or(0, |h| h.revision()),
        })
    }

    /// The monthly cost of a request's size at today's prices (the form's estimate).
    pub async fn vm_estimate(&self, store: &dyn RequestStore, spec: &RequestSpec) -> Result<CostEstimate> {
        let prices = self.price_list(store).await?;
        Ok(showback::estimate(&prices.list, spec, &now_rfc3339()))
    }

    /// The estimate kept on a request being filed or edited: none when the
    /// price list cannot be read (a filing never fails for its estimate).
    pub(crate) async fn request_estimate(&self, store: &dyn RequestStore, spec: &RequestSpec) -> Option<CostEstimate> {
        match self.vm_estimate(store, spec).await {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::warn!("request {}: no cost estimate: {e}", spec.name);
                None
            }
        }
    }

    /// The showback report: the VMs of `vcenter` (its inventory read now
    /// when `live`, else the cached one), the store's requests and quotas,
    /// priced with the price list in force; one department when named.
    pub async fn vm_showback(
        &self,
        store: &dyn RequestStore,
        vcenter: Option<&str>,
        live: bool,
        department: Option<&str>,
    ) -> Result<Showback> {
        let prices = self.price_list(store).await?;
        let requests = self.vm_requests(store).await?;
        let quotas = store.quotas().await?;
        let inventory = match vcenter {
            Some(c) if live => Some((self.vm_inventory(c).await?, now_rfc3339())),
            Some(c) => self.cached_vm_inventory(c).await?.map(|s| (s.payload, s.fetched_at)),
            None => None,
        };
        let report = showback::report(&prices, inventory.as_ref().map(|(i, at)| (i, at.as_str())), &requests, &quotas, &now_rfc3339());
        Ok(match department {
            Some(d) => report.only_department(d),
            None => report,
        })
    }
}
