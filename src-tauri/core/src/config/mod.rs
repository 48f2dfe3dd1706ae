//! The Config workspace over etcd v3: a lazily paged key tree, reads with
//! format detection, guarded writes that never lose an update, history from
//! etcd revisions, prefix comparison and copy, export/import, and watches.
//!
//! Functions here take an `etcd_client::Client` and know nothing of profiles,
//! the keychain or the audit log: [`crate::backend`] adds those.

pub mod cluster;
pub mod compare;
pub mod format;
pub mod fuzzy;
pub mod history;
pub mod import_run;
pub mod keys;
pub mod model;
pub mod outcome;
pub mod paging;
pub mod promote;
pub mod read;
pub mod relocate;
pub mod schema;
pub mod search;
pub mod split;
pub mod stream;
pub mod transfer;
pub mod tree;
pub mod watch;
pub mod window;
pub mod write;

pub use model::*;

use crate::error::Error;

/// Maps an etcd error for the Config workspace (names the etcd endpoint set).
pub(crate) fn etcd_err(e: etcd_client::Error) -> Error {
    crate::connectors::etcd::classify(e, "etcd", None)
}

/// etcd's default `--max-txn-ops`: operations per transaction branch.
pub const MAX_TXN_OPS: usize = 128;
