//! Exit codes a pipeline can gate on (README "CLI exit codes" and the
//! EXIT STATUS section of opsdeck(1) list [`TABLE`]).

/// Everything ran and passed.
pub const OK: u8 = 0;
/// Ran, but something tested failed (a connection test, a check).
pub const FAILED: u8 = 1;
/// Bad usage or invalid input (clap also uses 2).
pub const USAGE: u8 = 2;
/// The local backend failed (database, keychain), or standard output could not be written (a full disk).
pub const INTERNAL: u8 = 3;
/// A remote service could not be reached, or closed the connection.
pub const UNREACHABLE: u8 = 4;
/// A remote service did not answer in time, or a stream from it stalled.
pub const TIMEOUT: u8 = 5;
/// A remote service refused our credentials or certificate (TLS).
pub const AUTH: u8 = 6;
/// A remote service answered something that is not its protocol.
pub const PROTOCOL: u8 = 7;
/// A write was sent and its answer lost; reading it back could not tell
/// whether it was applied.
pub const OUTCOME_UNKNOWN: u8 = 8;
/// Stopped by SIGINT before everything ran (128 + SIGINT, as shells report it).
pub const STOPPED: u8 = 130;
/// Stopped by SIGTERM before everything ran (128 + SIGTERM); same handling as [`STOPPED`].
pub const TERMINATED: u8 = 143;
/// Standard output is a pipe whose reader has gone (`opsdeck health | head`):
/// the process stops quietly with 128 + SIGPIPE, the status a shell reports
/// for `ls | head` when SIGPIPE ends `ls`. SIGPIPE itself stays ignored (the
/// process writes to sockets too), so this is an exit, not a signal.
pub const BROKEN_PIPE: u8 = 141;

/// Every exit code with its meaning, for the manual page.
pub const TABLE: &[(u8, &str)] = &[
    (OK, "success"),
    (
        FAILED,
        "something tested failed (a connection test, a check, a health or scan gate, an etcd alarm or no leader in config cluster), a conflict, or an operation a role or rule forbids",
    ),
    (USAGE, "bad usage or invalid input"),
    (INTERNAL, "local failure (database, keychain), or standard output could not be written"),
    (UNREACHABLE, "a remote service could not be reached (refused, unknown host) or closed the connection"),
    (TIMEOUT, "a remote service did not answer in time, or a stream from it stalled (a frozen server)"),
    (AUTH, "a remote service refused the credentials (401, wrong password) or the certificate (TLS)"),
    (PROTOCOL, "a remote service answered something that is not its protocol (a web server or proxy at that address)"),
    (
        OUTCOME_UNKNOWN,
        "a write was sent and its answer lost, and reading it back could not tell whether it was applied: check before retrying",
    ),
    (
        STOPPED,
        "stopped by SIGINT: opsdeck check before every check ran (running ones finished and cleaned up, reports written); opsdeck config import after the batch in flight (report written: --resume REPORT continues); opsdeck vm provision at a safe point (what was in flight recorded, lock released: run it again to resume); opsdeck rollout at a safe point (no new wave starts; rolled back with --auto-rollback, otherwise --rollback ID offered); opsdeck scan at once (the image in flight is neither cached nor recorded)",
    ),
    (TERMINATED, "stopped by SIGTERM (a cancelled pipeline job): handled as for SIGINT (130)"),
    (BROKEN_PIPE, "standard output was closed by its reader (e.g. piped into head): stopped quietly, as SIGPIPE ends ls"),
];

/// Exit code for a library error.
pub fn for_error(e: &opsdeck_core::Error) -> u8 {
    for_code(e.code())
}

/// Exit code for an error class.
pub fn for_code(code: opsdeck_core::ErrorCode) -> u8 {
    use opsdeck_core::ErrorCode::*;
    match code {
        InvalidInput | NotFound => USAGE,
        Storage | Keychain | Internal => INTERNAL,
        Unreachable => UNREACHABLE,
        Timeout => TIMEOUT,
        Auth | Tls => AUTH,
        Protocol => PROTOCOL,
        OutcomeUnknown => OUTCOME_UNKNOWN,
        // Refused by a rule (a role, separation of duties), as before.
        Forbidden | Conflict | Unsupported | Cancelled => FAILED,
    }
}
