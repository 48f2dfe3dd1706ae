pub mod advisories;
pub mod apply;
pub mod audit;
pub mod bluegreen;
pub mod check;
pub mod config;
pub mod config_cluster;
pub mod config_import;
pub mod config_promote;
pub mod config_schema;
pub mod connections;
pub mod docs;
pub mod failover;
pub mod fleet;
pub mod health;
pub mod notify;
pub mod registry;
pub mod rollout;
pub mod scan;
pub mod scan_inputs;
pub mod vm;

use opsdeck_core::{Backend, BackendOptions, Result};

/// Opens the backend with the default options, overriding the data directory.
pub async fn open_backend(data_dir: Option<std::path::PathBuf>) -> Result<Backend> {
    let mut options = BackendOptions::from_env()?;
    if let Some(d) = data_dir {
        options.data_dir = d;
    }
    Backend::open(options).await
}
