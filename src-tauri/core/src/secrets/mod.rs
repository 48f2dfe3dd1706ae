//! Secrets live only in the OS keychain (Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows) through the `keyring` crate. The
//! database stores only the account name of the entry (a "secret reference").

pub mod keychain;

pub use keychain::{Keychain, Secret};
