//! The team plane: what a team shares in its etcd, enforced by etcd users
//! and roles rather than trusted. Under one root (default `/opsdeck/`):
//! - `vms/`: the VM request store ([`crate::vms::store::etcd`]);
//! - `audit/`: the team's hash-chained audit trail ([`trail`]);
//! - `config/`: change requests on protected config prefixes ([`changes`]);
//! - `images/suppressions/`: accepted risks of image scans ([`suppressions`]).
//!
//! [`roles`] makes the etcd roles that let each user write only their own
//! keys; docs/team-trust.md is the threat model.

pub mod chain;
pub mod changes;
pub mod roles;
pub mod suppressions;
pub mod trail;

use etcd_client::Client;

use crate::error::{Error, Result};
use crate::vms::store::Trust;

pub const DEFAULT_ROOT: &str = "/opsdeck/";

/// A team record as stored (JSON); `what` names it in the (internal) error.
pub fn to_json<T: serde::Serialize>(v: &T, what: &str) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Internal(format!("cannot serialise {what}: {e}")))
}

pub fn validate_root(root: &str) -> Result<()> {
    if !root.starts_with('/') || !root.ends_with('/') || root.len() < 2 {
        return Err(Error::invalid(format!("team store prefix \"{root}\": must start and end with '/', e.g. {DEFAULT_ROOT}")));
    }
    Ok(())
}

/// An etcd connection opened as the team store: the client, the root
/// prefix, and who it is authenticated as.
#[derive(Clone)]
pub struct TeamStore {
    client: Client,
    root: String,
    user: Option<String>,
    label: String,
}

impl TeamStore {
    /// `user` is the authenticated etcd user of the connection. A store
    /// without one (auth disabled on the etcd) is refused unless
    /// `allow_no_auth`: there, anyone could write anything as anyone.
    pub fn new(client: Client, root: &str, user: Option<String>, label: &str, allow_no_auth: bool) -> Result<TeamStore> {
        validate_root(root)?;
        if user.is_none() && !allow_no_auth {
            return Err(Error::invalid(format!(
                "the etcd connection \"{label}\" has no user: a team store needs etcd authentication, or nothing stops anyone approving as anyone. \
                 Enable auth on the etcd and give the connection a user, or opt in explicitly (--allow-no-auth / the setting) for a trial"
            )));
        }
        Ok(TeamStore { client, root: root.into(), user, label: label.into() })
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// An etcd error of `what`, classified; a refusal names the user and
    /// says what to ask for (`hint`).
    pub fn etcd_error(&self, what: &str, e: etcd_client::Error, hint: &str) -> Error {
        match crate::connectors::etcd::classify(e, &self.label, self.user()) {
            Error::Forbidden(m) => {
                Error::Forbidden(format!("{what}: etcd refused it for user \"{}\" ({m}); {hint}", self.user().unwrap_or("none")))
            }
            other => other,
        }
    }

    pub fn trust(&self) -> Trust {
        if self.user.is_some() {
            Trust::Shared
        } else {
            Trust::SharedNoAuth
        }
    }
}
