//! Exit codes a pipeline can gate on.

/// Everything ran and passed.
pub const OK: u8 = 0;
/// Ran, but something tested failed (a connection test, a check).
pub const FAILED: u8 = 1;
/// Bad usage or invalid input (clap also uses 2).
pub const USAGE: u8 = 2;
/// The local backend failed (database, keychain).
pub const INTERNAL: u8 = 3;
/// Stopped by SIGINT/SIGTERM before everything ran (128 + SIGINT, as shells report it).
pub const STOPPED: u8 = 130;

/// Exit code for a library error.
pub fn for_error(e: &opsdeck_core::Error) -> u8 {
    use opsdeck_core::ErrorCode::*;
    match e.code() {
        InvalidInput | NotFound => USAGE,
        Storage | Keychain | Internal => INTERNAL,
        _ => FAILED,
    }
}
