//! The domain error: one [`ErrorCode`] from the table in `beep-types`, optional
//! field errors, and an internal cause that is logged but never sent to a client.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::Location;

use beep_store::StoreError;
use beep_types::{ErrorCode, FieldError};

/// An error any service can return; the HTTP layer and the gateway render it.
pub struct Error {
    pub code: ErrorCode,
    /// Field errors by dotted path (`username`, `recipients.0`).
    pub fields: BTreeMap<String, Vec<FieldError>>,
    /// For 429s: seconds until the caller may retry.
    pub retry_after: Option<f64>,
    /// For 429s from a rate-limit bucket: its state, for the `X-RateLimit-*` headers.
    pub rate_limit: Option<Box<crate::ratelimit::Decision>>,
    /// The internal cause, for the log only.
    pub cause: Option<String>,
    /// Where the error was made.
    pub location: &'static Location<'static>,
}

/// Result of a domain call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with just a code.
    #[track_caller]
    pub fn new(code: ErrorCode) -> Self {
        Error {
            code,
            fields: BTreeMap::new(),
            retry_after: None,
            rate_limit: None,
            cause: None,
            location: Location::caller(),
        }
    }

    /// A 500 whose cause goes to the log.
    #[track_caller]
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Error::new(ErrorCode::Internal);
        e.cause = Some(cause.to_string());
        e
    }

    /// A 400 Invalid Form Body with one field error.
    #[track_caller]
    pub fn field(path: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidFormBody).and_field(path, code, message)
    }

    /// Add a field error.
    pub fn and_field(
        mut self,
        path: impl Into<String>,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        self.fields
            .entry(path.into())
            .or_default()
            .push(FieldError {
                code: code.to_string(),
                message: message.into(),
            });
        self
    }

    /// A 429 with the time to wait.
    #[track_caller]
    pub fn rate_limited(retry_after: f64) -> Self {
        let mut e = Error::new(ErrorCode::RateLimited);
        e.retry_after = Some(retry_after);
        e
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} at {}", self.code, self.location)?;
        if let Some(c) = &self.cause {
            write!(f, ": {c}")?;
        }
        if !self.fields.is_empty() {
            write!(f, " {:?}", self.fields)?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.message())
    }
}

impl std::error::Error for Error {}

impl From<beep_files::FilesError> for Error {
    #[track_caller]
    fn from(e: beep_files::FilesError) -> Self {
        let cause = e.to_string();
        let mut err = match e {
            beep_files::FilesError::Invalid { field, reason } => {
                Error::field(field, "BASE_TYPE_INVALID", reason)
            }
            other => Error::new(other.code()),
        };
        err.cause = Some(cause);
        err
    }
}

impl From<StoreError> for Error {
    #[track_caller]
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(c) => {
                let mut err = Error::new(ErrorCode::Unavailable);
                err.cause = Some(c);
                err
            }
            other => Error::internal(other),
        }
    }
}
