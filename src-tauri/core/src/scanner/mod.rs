//! Images workspace: read an image's layers (streamed from Docker), find its OS
//! and installed packages, match them against a local OSV advisory database
//! with each ecosystem's version ordering, and decide BLOCK / WARN / ALLOW.
//!
//! - `image`: streamed `docker save` reading, layers applied with whiteouts,
//!   hostile tar entries rejected.
//! - `packages`: os-release, dpkg, apk and rpm databases → installed packages.
//! - `versions`: dpkg, apk and rpm version ordering.
//! - `advisories`: OSV import into SQLite and matching.

pub mod advisories;
pub mod assess;
pub mod budget;
pub mod engine;
pub mod fleet;
pub mod gate;
pub mod history;
pub mod image;
pub mod input;
pub mod layer_cache;
pub mod packages;
pub mod policy;
pub mod policy_store;
pub mod provenance;
pub mod registry;
pub mod rematch;
pub mod reports;
pub mod scan;
pub mod versions;
