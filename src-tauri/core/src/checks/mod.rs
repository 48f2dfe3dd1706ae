//! Headless checks for CI pipelines (`opsdeck check`): a declarative list
//! of connectivity, authentication, version, list and round-trip checks per
//! platform, run concurrently with a limit and a timeout each.
//!
//! - `spec`: the checks file and its validation (no secrets in it);
//! - `run`: target resolution and the concurrent runner;
//! - `roundtrip`: the list and create/read/remove checks per platform.

pub mod roundtrip;
pub mod run;
pub mod spec;

pub use run::{run, CheckResult};
pub use spec::{CheckFile, CheckKind};
