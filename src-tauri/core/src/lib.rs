//! Opsdeck's backend library: connectors (etcd, Docker, Kubernetes, vSphere),
//! the local SQLite cache, the OS keychain, and the workflows built on them.
//! It holds no Tauri types: the desktop app and the `opsdeck` CLI both use it.

pub mod backend;
pub mod cache;
pub mod checks;
pub mod clusters;
pub mod config;
pub mod connections;
pub mod connectors;
pub mod error;
pub mod notify;
pub mod overview;
pub mod paths;
pub mod scanner;
pub mod secrets;
pub mod showback;
pub mod team;
pub mod vms;

pub use backend::{Backend, BackendOptions};
pub use error::{Error, ErrorCode, Result};
