//! Registry connections of the Images workspace (issue 15 item 2): save,
//! remove and test them (audited), browse repositories and tags, and scan a
//! tag through the same path as `opsdeck scan REGISTRY/REPO:TAG`.

use std::time::Instant;

use super::Backend;
use crate::connections::TestOutcome;
use crate::error::{Error, Result};
use crate::scanner::image::oci::Platform;
use crate::scanner::policy::Policy;
use crate::scanner::policy_store;
use crate::scanner::registry::saved::{
    self, RegistryAuth, RegistryConnection, RegistryInput, RegistryListing, Stored, BROWSE_TIMEOUT, DEFAULT_PAGE, MAX_LISTED,
};
use crate::scanner::registry::{Client, Reference};
use crate::scanner::scan::{Progress, ScanReport};
use crate::secrets::Secret;

/// The audit log's platform of registry connections.
const PLATFORM: &str = "registry";

fn secret_account(id: &str) -> String {
    format!("registry/{id}")
}

impl Backend {
    pub async fn registry_connections(&self) -> Result<Vec<RegistryConnection>> {
        Ok(saved::list(&self.db).await?.into_iter().map(|s| s.connection).collect())
    }

    /// A registry connection by id or name.
    pub async fn registry_connection(&self, id_or_name: &str) -> Result<RegistryConnection> {
        Ok(saved::find(&self.db, id_or_name).await?.connection)
    }

    /// The saved connection whose URL names `host` (`host[:port]`), if any:
    /// how `opsdeck scan HOST/REPO:TAG` finds its credentials.
    pub async fn registry_connection_for_host(&self, host: &str) -> Result<Option<RegistryConnection>> {
        Ok(self.registry_connections().await?.into_iter().find(|c| c.host.eq_ignore_ascii_case(host)))
    }

    /// Creates or updates a registry connection; the password goes to the
    /// keychain first, so the database never names a secret that was not stored.
    pub async fn save_registry_connection(&self, input: RegistryInput) -> Result<RegistryConnection> {
        let action = if input.id.is_some() { "registry.update" } else { "registry.add" };
        let target = input.name.trim().to_string();
        let result = self.save_registry_inner(input).await;
        let summary = result.as_ref().map(|c| {
            let auth = match c.spec.auth {
                RegistryAuth::Anonymous => "anonymous".to_string(),
                RegistryAuth::Basic => format!("basic auth as {}", c.spec.username.as_deref().unwrap_or("")),
                RegistryAuth::Token => format!("token auth as {}", c.spec.username.as_deref().unwrap_or("")),
            };
            let secret = if c.has_secret { "password in keychain" } else { "no password" };
            format!("{} ({auth}, {secret})", c.spec.url)
        });
        self.audit(PLATFORM, &target, action, summary).await;
        result
    }

    async fn save_registry_inner(&self, input: RegistryInput) -> Result<RegistryConnection> {
        let input = saved::validate_input(input)?;
        let needs_secret = input.spec.auth != RegistryAuth::Anonymous;
        match &input.id {
            None => {
                if needs_secret && input.secret.is_none() {
                    return Err(Error::invalid("password: required for basic and token auth"));
                }
                let id = uuid::Uuid::new_v4().to_string();
                let (db, new_id, input) = (&self.db, &id, &input);
                self.insert_with_secret(&secret_account(&id), input.secret.as_deref(), |secret_ref| async move {
                    saved::insert(db, new_id, &input.name, &input.spec, secret_ref.as_deref()).await
                })
                .await?;
                self.registry_connection(&id).await
            }
            Some(id) => {
                let existing = saved::find(&self.db, id).await?;
                if existing.connection.id != *id {
                    return Err(Error::NotFound(format!("no registry connection with id {id}")));
                }
                let was = &existing.connection.spec;
                let moved = was.url != input.spec.url || was.username != input.spec.username;
                if needs_secret && input.secret.is_none() && (existing.secret_ref.is_none() || moved) {
                    // A stored password was given for the old URL and user: it does not follow them.
                    return Err(Error::invalid(format!(
                        "registry connection \"{}\": enter the password again for {} as {}",
                        input.name,
                        input.spec.url,
                        input.spec.username.as_deref().unwrap_or("")
                    )));
                }
                let account = secret_account(id);
                let secret_ref = if !needs_secret {
                    if existing.secret_ref.is_some() {
                        self.keychain.delete(&account).await?;
                    }
                    None
                } else if let Some(s) = &input.secret {
                    self.keychain.set(&account, s).await?;
                    Some(account)
                } else {
                    existing.secret_ref.clone()
                };
                saved::update(&self.db, id, &input.name, &input.spec, secret_ref.as_deref()).await?;
                self.registry_connection(id).await
            }
        }
    }

    /// Removes a registry connection and its keychain password.
    pub async fn delete_registry_connection(&self, id_or_name: &str) -> Result<()> {
        let stored = saved::find(&self.db, id_or_name).await?;
        let c = &stored.connection;
        let result = async {
            if let Some(account) = &stored.secret_ref {
                self.keychain.delete(account).await?;
            }
            saved::delete(&self.db, &c.id).await
        }
        .await;
        self.audit(PLATFORM, &c.name, "registry.remove", result.as_ref().map(|_| c.spec.url.clone())).await;
        result
    }

    async fn registry_password(&self, stored: &Stored) -> Result<Option<Secret>> {
        match &stored.secret_ref {
            Some(account) => match self.keychain.get(account).await? {
                Some(s) => Ok(Some(s)),
                None => Err(Error::Keychain(format!(
                    "the password of registry connection \"{}\" is missing from the keychain: enter it again",
                    stored.connection.name
                ))),
            },
            None => Ok(None),
        }
    }

    /// The client of a saved connection (its password read from the keychain).
    pub async fn registry_client(&self, id_or_name: &str) -> Result<(RegistryConnection, Client)> {
        let stored = saved::find(&self.db, id_or_name).await?;
        let password = self.registry_password(&stored).await?;
        let client = saved::client(&stored.connection.spec, password, BROWSE_TIMEOUT)?;
        Ok((stored.connection, client))
    }

    /// "Test connection" of a connection being edited (or saved: `secret:
    /// None` with an `id` uses the stored password): `/v2/` answers as a
    /// registry and accepts the credentials, and the catalog's first page is read.
    pub async fn test_registry_connection(&self, input: RegistryInput) -> Result<TestOutcome> {
        let input = saved::validate_input(input)?;
        let name = input.name.clone();
        let password = match (&input.secret, &input.id) {
            (Some(s), _) => Some(Secret::new(s.clone())),
            (None, Some(id)) => {
                let stored = saved::find(&self.db, id).await?;
                let same = stored.connection.spec.url == input.spec.url && stored.connection.spec.username == input.spec.username;
                if same {
                    self.registry_password(&stored).await?
                } else {
                    None
                }
            }
            (None, None) => None,
        };
        if input.spec.auth != RegistryAuth::Anonymous && password.is_none() {
            return Err(Error::invalid("password: required to test basic or token auth"));
        }
        let started = Instant::now();
        let result: Result<String> = async {
            let client = saved::client(&input.spec, password, BROWSE_TIMEOUT)?;
            client.ping().await?;
            let (repos, more) = client.catalog_page(None, 10).await?;
            Ok(match (repos.len(), more) {
                (0, _) => "registry/2.0 answered; the catalog lists no repository".to_string(),
                (n, false) => format!("registry/2.0 answered; {n} repositories"),
                (n, true) => format!("registry/2.0 answered; more than {n} repositories"),
            })
        }
        .await
        .map_err(|e| saved::explain(e, &name));
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let outcome = match &result {
            Ok(message) => TestOutcome {
                ok: true,
                version: Some("registry/2.0".into()),
                message: message.clone(),
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
        self.audit(PLATFORM, &name, "registry.test", result.as_ref().map(|m| format!("{}: {m}", input.spec.url))).await;
        Ok(outcome)
    }

    /// The repositories of a saved registry (`page_size` names per request; default 100).
    pub async fn registry_repositories(&self, id_or_name: &str, page_size: Option<u32>) -> Result<RegistryListing> {
        let (c, client) = self.registry_client(id_or_name).await?;
        saved::repositories(&client, page_size.unwrap_or(DEFAULT_PAGE), MAX_LISTED).await.map_err(|e| saved::explain(e, &c.name))
    }

    /// The tags of `repository` on a saved registry.
    pub async fn registry_tags(&self, id_or_name: &str, repository: &str, page_size: Option<u32>) -> Result<RegistryListing> {
        saved::validate_repository(repository)?;
        let (c, client) = self.registry_client(id_or_name).await?;
        saved::tags(&client, repository, page_size.unwrap_or(DEFAULT_PAGE), MAX_LISTED).await.map_err(|e| saved::explain(e, &c.name))
    }

    /// Scans `repository:tag` of a saved registry with the stored policy and
    /// the team's suppressions, as the app scans an engine's image; the scan
    /// itself is `opsdeck scan`'s (`scan_registry_image`), kept in the history.
    pub async fn scan_registry_tag(
        &self,
        id_or_name: &str,
        repository: &str,
        tag: &str,
        platform: Option<&str>,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(i64, ScanReport)> {
        saved::validate_repository(repository)?;
        saved::validate_tag(tag)?;
        let policy: Policy = policy_store::load(&self.db).await?;
        let (c, client) = self.registry_client(id_or_name).await?;
        let platform = match platform.or(c.spec.platform.as_deref()) {
            Some(p) => Platform::parse(p)?,
            None => Platform::host(),
        };
        let reference =
            Reference { registry: c.host.clone(), repository: repository.to_string(), tag: Some(tag.to_string()), digest: None };
        let (id, mut report) = Box::pin(self.scan_registry_image(&client, None, &reference, &platform, &policy, progress))
            .await
            .map_err(|e| saved::explain(e, &c.name))?;
        Box::pin(self.apply_team_suppressions(&mut report, &policy)).await;
        Ok((id, report))
    }
}
