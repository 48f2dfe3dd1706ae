//! The library's error type. Every variant says what went wrong and, where it
//! can, what the user should do about it. `ErrorCode` is the stable, serialisable
//! category the UI and the CLI switch on.

use serde::{Deserialize, Serialize};

/// Stable error categories shared by the UI (see docs/ipc.md) and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    NotFound,
    Unreachable,
    Auth,
    Forbidden,
    Tls,
    Timeout,
    Keychain,
    Storage,
    Unsupported,
    /// Someone else changed the object first (two approvers, a stale revision).
    Conflict,
    /// The user stopped the operation (a cancelled scan, a closed view).
    Cancelled,
    /// The server answered something that is not the expected protocol (a
    /// plain HTTP server where etcd's gRPC was expected, a proxy's page).
    Protocol,
    /// A write was sent and its answer lost (a timeout, a cut connection):
    /// it may or may not have been applied, and reading it back could not tell.
    OutcomeUnknown,
    Internal,
}

impl ErrorCode {
    /// Every code, in the order of the docs (the UI gets this list generated).
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::InvalidInput,
        ErrorCode::NotFound,
        ErrorCode::Unreachable,
        ErrorCode::Auth,
        ErrorCode::Forbidden,
        ErrorCode::Tls,
        ErrorCode::Timeout,
        ErrorCode::Keychain,
        ErrorCode::Storage,
        ErrorCode::Unsupported,
        ErrorCode::Conflict,
        ErrorCode::Cancelled,
        ErrorCode::Protocol,
        ErrorCode::OutcomeUnknown,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::Auth => "auth",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Tls => "tls",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Keychain => "keychain",
            ErrorCode::Storage => "storage",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Protocol => "protocol",
            ErrorCode::OutcomeUnknown => "outcome_unknown",
            ErrorCode::Internal => "internal",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NotFound(String),
    /// The remote service could not be reached (refused, DNS, socket missing).
    #[error("{0}")]
    Unreachable(String),
    /// The remote service rejected the credentials.
    #[error("{0}")]
    Auth(String),
    /// Authenticated, but not allowed (RBAC, etcd roles).
    #[error("{0}")]
    Forbidden(String),
    /// Certificate verification or TLS handshake failure.
    #[error("{0}")]
    Tls(String),
    #[error("{what} did not answer within {secs} s")]
    Timeout { what: String, secs: u64 },
    /// A stream (an export, a watch) that started and then went quiet for
    /// longer than its idle period: says what stalled and what to do.
    #[error("{what} stalled: nothing received for {secs} s; {advice}")]
    Stalled { what: String, secs: u64, advice: String },
    #[error("OS keychain: {0}")]
    Keychain(String),
    #[error("local database: {0}")]
    Storage(String),
    #[error("{0}")]
    Unsupported(String),
    /// Someone else changed the object first; reload and decide again.
    #[error("{0}")]
    Conflict(String),
    /// The user stopped it; nothing failed.
    #[error("{0}")]
    Cancelled(String),
    #[error("{0}")]
    Internal(String),
    /// A failure of a remote call, classified from the library's typed error,
    /// which is kept as the source (the "details" the UI and CLI show).
    #[error("{message}")]
    Remote {
        code: ErrorCode,
        message: String,
        #[source]
        source: BoxError,
    },
}

/// Any error a library returns, kept as a cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Unreachable(_) => ErrorCode::Unreachable,
            Error::Auth(_) => ErrorCode::Auth,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::Tls(_) => ErrorCode::Tls,
            Error::Timeout { .. } | Error::Stalled { .. } => ErrorCode::Timeout,
            Error::Keychain(_) => ErrorCode::Keychain,
            Error::Storage(_) => ErrorCode::Storage,
            Error::Unsupported(_) => ErrorCode::Unsupported,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Cancelled(_) => ErrorCode::Cancelled,
            Error::Remote { code, .. } => *code,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidInput(msg.into())
    }

    /// The same error (same category) with `more` appended to its message.
    pub fn and(self, more: &str) -> Self {
        let add = |m: String| format!("{m}; {more}");
        match self {
            Error::InvalidInput(m) => Error::InvalidInput(add(m)),
            Error::NotFound(m) => Error::NotFound(add(m)),
            Error::Unreachable(m) => Error::Unreachable(add(m)),
            Error::Auth(m) => Error::Auth(add(m)),
            Error::Forbidden(m) => Error::Forbidden(add(m)),
            Error::Tls(m) => Error::Tls(add(m)),
            Error::Timeout { what, secs } => Error::Timeout { what: format!("{what} ({more})"), secs },
            Error::Stalled { what, secs, advice } => Error::Stalled { what, secs, advice: add(advice) },
            Error::Keychain(m) => Error::Keychain(add(m)),
            Error::Storage(m) => Error::Storage(add(m)),
            Error::Unsupported(m) => Error::Unsupported(add(m)),
            Error::Conflict(m) => Error::Conflict(add(m)),
            Error::Cancelled(m) => Error::Cancelled(add(m)),
            Error::Remote { code, message, source } => Error::Remote { code, message: add(message), source },
            Error::Internal(m) => Error::Internal(add(m)),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Storage(format!("migrating the database failed: {e}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `fut` with a deadline; a late answer becomes [`Error::Timeout`] naming `what`.
pub async fn with_timeout<T>(
    what: impl Into<String>,
    limit: std::time::Duration,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout { what: what.into(), secs: limit.as_secs().max(1) }),
    }
}

/// The messages of `e`'s causes (its `source()` chain), outermost first,
/// skipping any that repeat the text above them.
pub fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut above = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !above.contains(&text) {
            out.push(text.clone());
        }
        above = text;
        next = cause.source();
    }
    out
}
