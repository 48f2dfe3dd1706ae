use std::fmt;

use crate::error::{Error, Result};

/// Default keychain service name; tests use their own to stay isolated.
pub const DEFAULT_SERVICE: &str = "dev.opsdeck.Opsdeck";

/// A secret value read from the keychain. Its `Debug` and `Display` never show
/// the value, so it cannot leak through a log line or an error message.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The OS keychain, scoped to one service name.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

fn keychain_error(action: &str, e: keyring::Error) -> Error {
    Error::Keychain(format!("{action} failed: {e}. Is a Secret Service provider (GNOME Keyring, KWallet) running and unlocked?"))
}

impl Keychain {
    pub fn new(service: impl Into<String>) -> Self {
        Keychain { service: service.into() }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Human name of the backing store, for the About box.
    pub fn backend() -> &'static str {
        if cfg!(target_os = "macos") {
            "macOS Keychain"
        } else if cfg!(windows) {
            "Windows Credential Manager"
        } else {
            "Secret Service (D-Bus)"
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(|e| keychain_error("opening the keychain", e))
    }

    /// Stores `secret` under `account`, replacing any previous value.
    pub async fn set(&self, account: &str, secret: &str) -> Result<()> {
        let entry = self.entry(account)?;
        let secret = secret.to_string();
        blocking(move || entry.set_password(&secret).map_err(|e| keychain_error("storing a secret", e))).await
    }

    /// The secret under `account`, or `None` when there is none.
    pub async fn get(&self, account: &str) -> Result<Option<Secret>> {
        let entry = self.entry(account)?;
        blocking(move || match entry.get_password() {
            Ok(v) => Ok(Some(Secret(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error("reading a secret", e)),
        })
        .await
    }

    /// Deletes the secret under `account`; deleting a missing one is not an error.
    pub async fn delete(&self, account: &str) -> Result<()> {
        let entry = self.entry(account)?;
        blocking(move || match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error("deleting a secret", e)),
        })
        .await
    }
}

/// Keychain calls block on D-Bus; keep them off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Internal(format!("keychain task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted_in_debug() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(s.expose(), "hunter2");
    }
}
