//! How SQLite errors become [`StoreError`]s.

use rusqlite::ErrorCode;
use rusqlite::ffi;

use crate::StoreError;
use crate::sql::{UNKNOWN_FIELD, conflict_field_by_column, conflict_field_by_name};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, message) => match (f.code, f.extended_code) {
                (
                    ErrorCode::ConstraintViolation,
                    ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
                ) => StoreError::Conflict(message.as_deref().map_or(UNKNOWN_FIELD, conflict_field)),
                // The only foreign keys point at the owner of a record (a session's
                // user): a missing owner is a missing record.
                (ErrorCode::ConstraintViolation, ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => {
                    StoreError::NotFound
                }
                (
                    ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::CannotOpen
                    | ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::ReadOnly,
                    _,
                ) => StoreError::Unavailable(e.to_string()),
                _ => StoreError::Internal(e.to_string()),
            },
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

/// The field named by an SQLite unique-constraint message, e.g.
/// `UNIQUE constraint failed: users.username_key` or
/// `UNIQUE constraint failed: index 'users_username_key_uniq'`.
fn conflict_field(message: &str) -> &'static str {
    let Some(what) = message.strip_prefix("UNIQUE constraint failed: ") else {
        return UNKNOWN_FIELD;
    };
    if let Some(index) = what
        .strip_prefix("index '")
        .and_then(|s| s.strip_suffix('\''))
    {
        return conflict_field_by_name(index);
    }
    // A multi-column key lists every column; the first one names it well enough.
    let first = what.split(", ").next().unwrap_or(what);
    match first.split_once('.') {
        Some((table, column)) => conflict_field_by_column(table, column),
        None => UNKNOWN_FIELD,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_messages_name_the_field() {
        assert_eq!(
            conflict_field("UNIQUE constraint failed: users.username_key"),
            "username"
        );
        assert_eq!(
            conflict_field("UNIQUE constraint failed: users.email_key"),
            "email"
        );
        assert_eq!(
            conflict_field("UNIQUE constraint failed: sessions.id"),
            "id"
        );
        assert_eq!(
            conflict_field("UNIQUE constraint failed: index 'users_email_key_uniq'"),
            "email"
        );
        assert_eq!(
            conflict_field("UNIQUE constraint failed: users.username_key, users.id"),
            "username"
        );
        assert_eq!(conflict_field("something else"), UNKNOWN_FIELD);
        assert_eq!(
            conflict_field("UNIQUE constraint failed: other.thing"),
            UNKNOWN_FIELD
        );
    }

    #[test]
    fn real_violations_map_to_conflict_and_not_found() {
        let c = rusqlite::Connection::open_in_memory().expect("in-memory database");
        c.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE users (id INTEGER PRIMARY KEY, username_key TEXT NOT NULL, email_key TEXT);
             CREATE UNIQUE INDEX users_username_key_uniq ON users (username_key);
             CREATE UNIQUE INDEX users_email_key_uniq ON users (email_key) WHERE email_key IS NOT NULL;
             CREATE TABLE sessions (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));
             INSERT INTO users VALUES (1, 'a', 'a@x');",
        )
        .expect("schema");
        let err = |sql: &str| StoreError::from(c.execute(sql, []).expect_err("must fail"));
        assert!(matches!(
            err("INSERT INTO users VALUES (2, 'a', NULL)"),
            StoreError::Conflict("username")
        ));
        assert!(matches!(
            err("INSERT INTO users VALUES (2, 'b', 'a@x')"),
            StoreError::Conflict("email")
        ));
        assert!(matches!(
            err("INSERT INTO users VALUES (1, 'c', NULL)"),
            StoreError::Conflict("id")
        ));
        assert!(matches!(
            err("INSERT INTO sessions VALUES (1, 99)"),
            StoreError::NotFound
        ));
        assert!(matches!(
            err("INSERT INTO nowhere VALUES (1)"),
            StoreError::Internal(_)
        ));
    }
}
