//! The error the UI receives: a stable code, an actionable message, and the
//! chain of causes behind it for a "details" view (see docs/ipc.md).

use opsdeck_core::ErrorCode;
use serde::Serialize;

#[derive(Debug, Serialize, specta::Type)]
pub struct UiError {
    pub code: ErrorCode,
    pub message: String,
    /// The causes under `message`, outermost first (empty when it has none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl From<opsdeck_core::Error> for UiError {
    fn from(e: opsdeck_core::Error) -> Self {
        if matches!(e.code(), ErrorCode::Internal | ErrorCode::Storage | ErrorCode::Keychain) {
            tracing::error!(code = e.code().as_str(), "{e}");
        }
        UiError { code: e.code(), message: e.to_string(), details: opsdeck_core::error::causes(&e) }
    }
}

impl UiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        UiError { code: ErrorCode::InvalidInput, message: message.into(), details: Vec::new() }
    }
}

pub type UiResult<T> = Result<T, UiError>;
