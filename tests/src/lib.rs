//! Test support for Opsdeck's integration and end-to-end tests.
//!
//! Real services only: each is started by the project's own script under
//! `scripts/services/` (the same scripts a developer runs by hand), on free
//! loopback ports with its own run directory, and stopped when the handle is
//! dropped, at process exit, or by a watchdog if the test process is killed.

pub mod app;
pub mod backend;
pub mod bench;
pub mod clusters;
pub mod etcdkv;
pub mod faults;
pub mod fleet;
pub mod images;
pub mod junit;
pub mod lang;
pub mod notify;
pub mod osv;
pub mod procfs;
pub mod service;
pub mod vms;
pub mod workloads;
pub mod workspace;

pub use service::Service;

/// Deterministic pseudo-random bytes (xorshift64): binary values for tests.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
