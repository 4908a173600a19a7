//! Errors of the files service, each mapped to one code of the error table.

use beep_types::ErrorCode;

/// A failure of the files service.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The upload (or data URI) is larger than its kind allows.
    #[error("file larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The bytes are not acceptable for this use; `field` names the form field.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// No such file, or a URL that is expired.
    #[error("not found")]
    NotFound,
    /// A signature that does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// The uploader's storage quota would be exceeded.
    #[error("storage quota exceeded")]
    QuotaExceeded,
    /// The object store failed.
    #[error("object storage: {0}")]
    Storage(String),
    /// Anything else that should not happen.
    #[error("internal: {0}")]
    Internal(String),
}

/// Result of the files service.
pub type Result<T, E = FilesError> = std::result::Result<T, E>;

impl FilesError {
    /// An invalid-input error on `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FilesError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The code of the error table this failure is reported with.
    pub fn code(&self) -> ErrorCode {
        match self {
            FilesError::TooLarge { .. } | FilesError::QuotaExceeded => ErrorCode::PayloadTooLarge,
            FilesError::Invalid { .. } => ErrorCode::InvalidFormBody,
            FilesError::NotFound => ErrorCode::NotFound,
            FilesError::BadSignature => ErrorCode::MissingAccess,
            FilesError::Storage(_) => ErrorCode::Unavailable,
            FilesError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<object_store::Error> for FilesError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => FilesError::NotFound,
            other => FilesError::Storage(other.to_string()),
        }
    }
}
