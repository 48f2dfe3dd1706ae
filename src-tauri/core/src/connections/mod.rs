//! Connection profiles: the model, its validation, and the SQLite store.

pub mod model;
pub mod store;
pub mod validate;

pub use model::{Connection, ConnectionInput, ConnectionSpec, Kind, TestOutcome, TlsFiles};
