//! The backend facade used by both the desktop app and the CLI: connection
//! profiles (SQLite + keychain), connection tests, audit log, settings.
//! Every change it makes is written to the audit log.

mod bluegreen;
mod clusters;
mod config;
mod config_ops;
mod config_schema;
mod failover;
mod images;
mod images_fleet;
mod notify;
mod overview;
mod registries;
mod rollout;
mod showback;
mod suppressions;
mod team;
mod vm_rules;
mod vm_utilisation;
mod vms;
mod vms_delegation;
pub use images::{AdvisoryUpdate, Engine, ImageOutcome, ImageProgress};
pub use vms::{StoreChoice, VmSettings};

pub use bluegreen::{BlueGreenAt, BlueGreenEvent, BlueGreenStep, DeployOptions, DeployReport, KubeAccess, Smoke, StepState};
pub use config::EtcdSession;
pub use config_ops::{cluster_view, Bookmark, ClusterSettings, EtcdReach};
pub use failover::{CopyResult, FailbackReport, FailoverAt, FailoverOptions, FailoverPlan, FailoverReport};
pub use rollout::{ClusterRun, Outcome as RolloutOutcome, Phase as RolloutPhase, RolloutEvent, RolloutOptions, RolloutReport, WaveRun};
pub use team::ChangeList;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use crate::cache::audit::{self, AuditFilter, AuditPage, NewAuditEntry};
use crate::cache::settings::{self, Settings};
use crate::cache::Db;
use crate::connections::store::{self, StoredConnection};
use crate::connections::validate::validate_input;
use crate::connections::{Connection, ConnectionInput, TestOutcome};
use crate::connectors::{self, TEST_TIMEOUT};
use crate::error::{Error, Result};
use crate::paths;
use crate::secrets::{Keychain, Secret};

/// An audit line waits at most this long for the team's etcd.
const TEAM_AUDIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);
/// After the team's etcd failed to answer, audited changes skip it this long.
const TEAM_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// How to open the backend.
#[derive(Debug, Clone)]
pub struct BackendOptions {
    pub data_dir: PathBuf,
    /// Keychain service name (tests use a unique one).
    pub keychain_service: String,
    /// Recorded as the actor of audit entries.
    pub actor: String,
}

impl BackendOptions {
    /// Defaults: the OS data directory, the app's keychain service, the OS user.
    pub fn from_env() -> Result<Self> {
        Ok(BackendOptions {
            data_dir: paths::data_dir()?,
            keychain_service: std::env::var("OPSDECK_KEYCHAIN_SERVICE")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| crate::secrets::keychain::DEFAULT_SERVICE.to_string()),
            actor: os_user(),
        })
    }
}

/// The OS user name (from the user database, not the environment), the
/// default actor of audit entries.
pub fn os_user() -> String {
    whoami::username()
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub database: String,
    pub keychain: String,
}

#[derive(Clone)]
pub struct Backend {
    db: Db,
    keychain: Keychain,
    actor: String,
    data_dir: PathBuf,
    /// Connected etcd clients by connection id (cheap to clone, reused).
    etcd_clients: Arc<Mutex<HashMap<String, etcd_client::Client>>>,
    /// Logged-in vCenter sessions by connection id (reused).
    vim_sessions: Arc<Mutex<HashMap<String, crate::vms::vsphere::Vim>>>,
    /// Until when the team trail is known unreachable: audited changes do
    /// not each wait for it (offline use stays fast); they are marked locally.
    team_down_until: Arc<Mutex<Option<Instant>>>,
    /// Wakes the notification sender when something is queued.
    notify_wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").field("db", &self.db).field("actor", &self.actor).finish_non_exhaustive()
    }
}

fn secret_account(connection_id: &str) -> String {
    format!("connection/{connection_id}")
}

impl Backend {
    /// Saves a new record whose secret (if any) goes to the keychain under
    /// `account` first: `insert` gets the keychain reference to store, and a
    /// failed insert takes the secret back out (no orphan in the keychain).
    async fn insert_with_secret<F>(&self, account: &str, secret: Option<&str>, insert: impl FnOnce(Option<String>) -> F) -> Result<()>
    where
        F: std::future::Future<Output = Result<()>>,
    {
        let secret_ref = match secret {
            Some(s) => {
                self.keychain.set(account, s).await?;
                Some(account.to_string())
            }
            None => None,
        };
        let had_secret = secret_ref.is_some();
        if let Err(e) = insert(secret_ref).await {
            if had_secret {
                let _ = self.keychain.delete(account).await;
            }
            return Err(e);
        }
        Ok(())
    }
}

impl Backend {
    pub async fn open(options: BackendOptions) -> Result<Backend> {
        connectors::tls::install_crypto_provider();
        let db = Db::open(&paths::database_file(&options.data_dir)).await?;
        Ok(Backend {
            db,
            keychain: Keychain::new(options.keychain_service),
            actor: options.actor,
            data_dir: options.data_dir,
            etcd_clients: Arc::default(),
            vim_sessions: Arc::default(),
            team_down_until: Arc::default(),
            notify_wake: Arc::default(),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    pub fn info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            data_dir: self.data_dir.display().to_string(),
            database: self.db.path().display().to_string(),
            keychain: format!("{} (service \"{}\")", Keychain::backend(), self.keychain.service()),
        }
    }

    fn forget_client(&self, id: &str) {
        if let Ok(mut m) = self.etcd_clients.lock() {
            m.remove(id);
        }
        if let Ok(mut m) = self.vim_sessions.lock() {
            m.remove(id);
        }
    }

    /// Appends an audit entry: `Ok(detail)` for a success, `Err(error)` for
    /// a failure; to the local log, and to the team trail of the team store
    /// chosen in the settings, if any.
    pub(crate) async fn audit(&self, platform: &str, target: &str, action: &str, outcome: Result<String, &Error>) {
        self.audit_in(None, platform, target, action, outcome).await
    }

    /// [`Self::audit`] with the team store known (a VM store in use), so the
    /// entry goes to that team's trail.
    async fn audit_in(
        &self,
        team: Option<&crate::team::TeamStore>,
        platform: &str,
        target: &str,
        action: &str,
        outcome: Result<String, &Error>,
    ) {
        let (ok, detail) = match outcome {
            Ok(d) => (true, d),
            Err(e) => (false, e.to_string()),
        };
        let entry = NewAuditEntry { actor: &self.actor, platform, target, action, ok, detail: &detail };
        if let Err(e) = audit::append(&self.db, entry).await {
            // The change itself happened; losing its audit line must be visible.
            tracing::error!(error = %e, action, target, "writing the audit log failed");
        }
        let team_entry = crate::team::trail::NewEntry { platform, target, action, ok, detail: &detail };
        // Boxed: the etcd connect inside is a large future, and every audited call awaits this.
        if let Err(e) = Box::pin(self.team_append(team, team_entry)).await {
            tracing::error!(error = %e, action, target, "writing the team audit trail failed");
            let note = format!("the entry \"{action}\" on {target} did not reach the team audit trail: {e}");
            let failed =
                NewAuditEntry { actor: &self.actor, platform: "app", target, action: "audit.team_trail", ok: false, detail: &note };
            if let Err(e) = audit::append(&self.db, failed).await {
                tracing::error!(error = %e, "writing the audit log failed");
            }
        }
    }

    /// Appends to the team trail (of `team`, or of the settings' team store).
    async fn team_append(&self, team: Option<&crate::team::TeamStore>, e: crate::team::trail::NewEntry<'_>) -> Result<()> {
        let at = crate::cache::db::now_rfc3339();
        let down = self.team_down_until.lock().ok().and_then(|g| *g).is_some_and(|until| Instant::now() < until);
        if down {
            return Err(Error::Unreachable("the team's etcd did not answer a moment ago; not retried for a minute".into()));
        }
        let result = Box::pin(crate::error::with_timeout("the team audit trail", TEAM_AUDIT_TIMEOUT, async {
            let owned;
            let team = match team {
                Some(t) => t,
                None => match self.team_store(&self.vm_settings().await?.store).await? {
                    Some(t) => {
                        owned = t;
                        &owned
                    }
                    None => return Ok(()),
                },
            };
            if team.user().is_none() {
                // Auth is off (opted in): entries could not be attributed.
                return Ok(());
            }
            crate::team::trail::append(team, e, &at).await.map(|_| ())
        }))
        .await;
        if let Err(err) = &result {
            if matches!(err.code(), crate::ErrorCode::Unreachable | crate::ErrorCode::Timeout) {
                if let Ok(mut g) = self.team_down_until.lock() {
                    *g = Some(Instant::now() + TEAM_RETRY_AFTER);
                }
            }
        }
        result
    }

    // ---- connections -------------------------------------------------------

    pub async fn connections(&self) -> Result<Vec<Connection>> {
        Ok(store::list(&self.db).await?.into_iter().map(|s| s.connection).collect())
    }

    pub async fn connection(&self, id: &str) -> Result<Connection> {
        Ok(store::get(&self.db, id).await?.connection)
    }

    /// Finds a connection by id or, failing that, by name (the CLI takes either).
    pub async fn find_connection(&self, id_or_name: &str) -> Result<Connection> {
        match store::get(&self.db, id_or_name).await {
            Ok(s) => Ok(s.connection),
            Err(Error::NotFound(_)) => Ok(store::find_by_name(&self.db, id_or_name).await?.connection),
            Err(e) => Err(e),
        }
    }

    /// The secret of a connection, read from the keychain.
    pub async fn connection_secret(&self, id: &str) -> Result<Option<Secret>> {
        let stored = store::get(&self.db, id).await?;
        self.secret_of(&stored).await
    }

    async fn secret_of(&self, stored: &StoredConnection) -> Result<Option<Secret>> {
        match &stored.secret_ref {
            Some(account) => self.keychain.get(account).await,
            None => Ok(None),
        }
    }

    /// Creates or updates a profile. The secret goes to the keychain first, so
    /// the database never references a secret that was not stored.
    pub async fn save_connection(&self, input: ConnectionInput) -> Result<Connection> {
        let platform = input.spec.kind().as_str();
        let action = if input.id.is_some() { "connection.update" } else { "connection.create" };
        let target = input.name.trim().to_string();
        if let Some(id) = &input.id {
            self.forget_client(id);
        }
        let result = self.save_connection_inner(input).await;
        let summary =
            result.as_ref().map(|c| format!("{} ({})", c.spec.target(), if c.has_secret { "secret in keychain" } else { "no secret" }));
        self.audit(platform, &target, action, summary).await;
        result
    }

    async fn save_connection_inner(&self, input: ConnectionInput) -> Result<Connection> {
        let input = validate_input(input)?;
        match &input.id {
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                let (db, new_id, input) = (&self.db, &id, &input);
                self.insert_with_secret(&secret_account(&id), input.secret.as_deref(), |secret_ref| async move {
                    store::insert(db, new_id, &input.name, &input.spec, secret_ref.as_deref()).await
                })
                .await?;
                self.connection(&id).await
            }
            Some(id) => {
                let existing = store::get(&self.db, id).await?;
                let (was, now) = (existing.connection.spec.target(), input.spec.target());
                if existing.secret_ref.is_some() && input.secret.is_none() && !input.clear_secret && was != now {
                    // The stored password or token was given for the old
                    // target: it must not follow the profile to a new one.
                    return Err(Error::invalid(format!(
                        "connection \"{}\" now points at {now} (was {was}): enter its password or token again for the new target, or clear the stored one",
                        input.name
                    )));
                }
                let account = secret_account(id);
                let secret_ref = if input.clear_secret {
                    self.keychain.delete(&account).await?;
                    None
                } else if let Some(s) = &input.secret {
                    self.keychain.set(&account, s).await?;
                    Some(account)
                } else {
                    existing.secret_ref.clone()
                };
                store::update(&self.db, id, &input.name, &input.spec, secret_ref.as_deref()).await?;
                self.connection(id).await
            }
        }
    }

    /// Deletes a profile and its keychain secret.
    pub async fn delete_connection(&self, id: &str) -> Result<()> {
        let stored = store::get(&self.db, id).await?;
        self.forget_client(id);
        let c = &stored.connection;
        let result = async {
            if let Some(account) = &stored.secret_ref {
                self.keychain.delete(account).await?;
            }
            store::delete(&self.db, id).await
        }
        .await;
        self.audit(c.spec.kind().as_str(), &c.name, "connection.delete", result.as_ref().map(|_| c.spec.target())).await;
        result
    }

    /// Tests a profile against its server. A failed test is an `Ok` outcome
    /// with `ok: false`; `Err` means the test could not be run at all.
    pub async fn test_connection(&self, id: &str) -> Result<TestOutcome> {
        let stored = store::get(&self.db, id).await?;
        let started = Instant::now();
        let result = match self.secret_of(&stored).await {
            Ok(secret) => connectors::probe(&stored.connection.spec, secret.as_ref(), TEST_TIMEOUT).await,
            Err(e) => Err(e),
        };
        let latency_ms = started.elapsed().as_millis() as u64;
        let outcome = match &result {
            Ok(p) => TestOutcome {
                ok: true,
                version: Some(p.version.clone()),
                message: p.message.clone(),
                error_code: None,
                latency_ms,
                tested_at: crate::cache::db::now_rfc3339(),
                details: Vec::new(),
            },
            Err(e) => TestOutcome {
                ok: false,
                version: None,
                message: e.to_string(),
                error_code: Some(e.code()),
                latency_ms,
                tested_at: crate::cache::db::now_rfc3339(),
                details: crate::error::causes(e),
            },
        };
        store::set_last_test(&self.db, id, &outcome).await?;
        let c = &stored.connection;
        let detail = result.as_ref().map(|p| format!("{} in {latency_ms} ms", p.version));
        self.audit(c.spec.kind().as_str(), &c.name, "connection.test", detail).await;
        Ok(outcome)
    }

    /// Exports the profiles as JSON (for backup or sharing): never a secret,
    /// only whether one is stored.
    pub async fn export_connections(&self) -> Result<String> {
        let list = self.connections().await?;
        serde_json::to_string_pretty(&list).map_err(|e| Error::Internal(e.to_string()))
    }

    // ---- audit & settings --------------------------------------------------

    pub async fn audit_log(&self, filter: &AuditFilter) -> Result<AuditPage> {
        audit::list(&self.db, filter).await
    }

    pub async fn settings(&self) -> Result<Settings> {
        settings::load(&self.db).await
    }

    pub async fn set_settings(&self, s: Settings) -> Result<Settings> {
        let result = settings::store(&self.db, &s).await;
        let detail = result.as_ref().map(|_| format!("theme={}, language={}", s.theme, s.language));
        self.audit("app", "settings", "settings.update", detail).await;
        result?;
        Ok(s)
    }
}
