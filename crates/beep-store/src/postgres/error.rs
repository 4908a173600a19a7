//! How PostgreSQL and pool errors become [`StoreError`]s.

use std::error::Error as _;

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::StoreError;
use crate::sql::{UNKNOWN_FIELD, conflict_field_by_name};

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            return from_sqlstate(db.code(), db.constraint(), || db.to_string());
        }
        // Without a server error, the connection itself failed: refused, reset,
        // timed out or closed under us.
        let mut source = e.source();
        while let Some(s) = source {
            if s.is::<std::io::Error>() {
                return StoreError::Unavailable(e.to_string());
            }
            source = s.source();
        }
        if e.is_closed() {
            return StoreError::Unavailable(e.to_string());
        }
        StoreError::Internal(e.to_string())
    }
}

impl From<PoolError> for StoreError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Backend(e) => e.into(),
            PoolError::Closed => super::closed(),
            PoolError::Timeout(_) | PoolError::PostCreateHook(_) => {
                StoreError::Unavailable(format!("PostgreSQL pool: {e}"))
            }
            PoolError::NoRuntimeSpecified => StoreError::Internal(e.to_string()),
        }
    }
}

/// The error for a server error with this SQLSTATE and, for constraint
/// violations, this constraint (or index) name.
fn from_sqlstate(
    code: &SqlState,
    constraint: Option<&str>,
    message: impl FnOnce() -> String,
) -> StoreError {
    if *code == SqlState::UNIQUE_VIOLATION {
        return StoreError::Conflict(constraint.map_or(UNKNOWN_FIELD, conflict_field_by_name));
    }
    // The only foreign keys point at the owner of a record (a session's user): a
    // missing owner is a missing record.
    if *code == SqlState::FOREIGN_KEY_VIOLATION {
        return StoreError::NotFound;
    }
    let class = code.code().get(..2).unwrap_or_default();
    // 08: connection exception, 28: bad credentials, 53: out of resources (too many
    // connections, disk full), 57: shutting down or restarting, 3D000: no such
    // database. None of these is the caller's fault, and all may pass.
    if matches!(class, "08" | "28" | "53" | "57") || *code == SqlState::INVALID_CATALOG_NAME {
        return StoreError::Unavailable(message());
    }
    StoreError::Internal(message())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(code: &str, constraint: Option<&str>) -> StoreError {
        from_sqlstate(&SqlState::from_code(code), constraint, || code.to_owned())
    }

    #[test]
    fn unique_violations_name_the_field() {
        assert!(matches!(
            map("23505", Some("users_username_key_uniq")),
            StoreError::Conflict("username")
        ));
        assert!(matches!(
            map("23505", Some("users_email_key_uniq")),
            StoreError::Conflict("email")
        ));
        assert!(matches!(
            map("23505", Some("users_pkey")),
            StoreError::Conflict("id")
        ));
        assert!(matches!(
            map("23505", Some("sessions_pkey")),
            StoreError::Conflict("id")
        ));
        assert!(matches!(
            map("23505", None),
            StoreError::Conflict(UNKNOWN_FIELD)
        ));
    }

    #[test]
    fn other_codes_are_classified() {
        assert!(matches!(map("23503", None), StoreError::NotFound));
        assert!(matches!(map("57P01", None), StoreError::Unavailable(_)));
        assert!(matches!(map("53300", None), StoreError::Unavailable(_)));
        assert!(matches!(map("08006", None), StoreError::Unavailable(_)));
        assert!(matches!(map("3D000", None), StoreError::Unavailable(_)));
        assert!(matches!(map("42P01", None), StoreError::Internal(_)));
        assert!(matches!(map("40001", None), StoreError::Internal(_)));
    }
}
