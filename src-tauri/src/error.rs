//! The error the UI receives: a stable code and an actionable message
//! (see docs/ipc.md).

use opsdeck_core::ErrorCode;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct UiError {
    pub code: ErrorCode,
    pub message: String,
}

impl From<opsdeck_core::Error> for UiError {
    fn from(e: opsdeck_core::Error) -> Self {
        if matches!(e.code(), ErrorCode::Internal | ErrorCode::Storage | ErrorCode::Keychain) {
            tracing::error!(code = e.code().as_str(), "{e}");
        }
        UiError { code: e.code(), message: e.to_string() }
    }
}

impl UiError {
    pub fn invalid(message: impl Into<String>) -> Self {
        UiError { code: ErrorCode::InvalidInput, message: message.into() }
    }
}

pub type UiResult<T> = Result<T, UiError>;
