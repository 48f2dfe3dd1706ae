//! The local SQLite cache: database, audit log, settings and inventory snapshots.

pub mod audit;
pub mod db;
pub mod settings;
pub mod snapshots;

pub use db::Db;
