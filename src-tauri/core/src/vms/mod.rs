//! The VMs workspace: self-service VM requests with quotas and an approval
//! chain, provisioning on vSphere, lifecycle (snapshots, leases) and
//! compliance.
//!
//! - `model`: the request and its states; `validate`: the form rules;
//!   `quota`: department quotas; `workflow`: submit / approve / reject.
//! - `store`: where requests live (local SQLite or shared etcd).
//! - `inventory`: vCenter objects in one retrieval per type; `vsphere`: the
//!   calls and task waits; `live`: WaitForUpdatesEx while a view is open;
//!   `placement`: host and datastore choice; `ipam`: IPv4 settings per
//!   network and the addresses held; `guest`: guest customization and the
//!   wait for the guest to report it.
//! - `provision`: approved request -> VM; `lifecycle`: snapshots and leases;
//!   `compliance`: the report.

pub mod compliance;
pub mod delegation;
pub mod escalation;
pub mod guest;
pub mod inventory;
pub mod ipam;
pub mod lifecycle;
pub mod live;
pub mod model;
pub mod placement;
pub mod provision;
pub mod quota;
pub mod reclaim;
pub mod rules;
pub mod store;
pub mod utilisation;
pub mod validate;
pub mod vsphere;
pub mod workflow;

pub use model::*;
