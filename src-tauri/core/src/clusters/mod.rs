//! The Clusters workspace: health of Kubernetes clusters. A snapshot of the
//! objects that matter is read from the API server ([`fetch`]), evaluated into
//! findings and a verdict ([`findings`]), per context, all contexts at once
//! ([`health`]).
//!
//! Status: snapshot-based health (issue 4, first part). Live updates through
//! watches, the SQLite cache of the last snapshot, drill-down views and apply
//! come next.

pub mod apply;
pub mod bluegreen;
pub mod capacity;
pub mod details;
pub mod failover;
pub mod fetch;
pub mod findings;
pub mod fleet;
pub mod health;
pub mod history;
pub mod hooks;
pub mod live;
pub mod model;
pub mod readiness;
pub mod review;
pub mod rollout;

pub use model::*;
