//! SQL text shared by both backends, and the pieces of mapping that do not depend
//! on a driver.
//!
//! Both dialects accept `$1`-style parameters, `TRUE`/`FALSE`, `RETURNING` and
//! `CAST(.. AS BIGINT)`, so every statement here runs unchanged on SQLite and
//! PostgreSQL. One rule keeps that safe: SQLite numbers `$N` parameters in order of
//! first appearance, so each statement must mention `$1`, `$2`, ... in that order
//! (a unit test in `sqlite` checks every statement below).

use chrono::{DateTime, Utc};

use crate::UserPatch;

/// The columns of `users`, in the order the row decoders read them.
macro_rules! user_columns {
    () => {
        "id, username, username_key, username_skeleton, email, email_key, password_hash, \
         global_name, first_name, last_name, avatar, banner, bio, locale, flags, bot, system, \
         admin, verified, mfa_enabled, totp_secret, totp_last_step, settings, created_at"
    };
}

/// The columns of `sessions`, in the order the row decoders read them.
macro_rules! session_columns {
    () => {
        "id, user_id, device, ip, refresh_hash, previous_refresh_hash, created_at, \
         last_seen_at, revoked"
    };
}

pub(crate) const USER_COLUMNS: &str = user_columns!();

pub(crate) const INSERT_USER: &str = concat!(
    "INSERT INTO users (id, username, username_key, username_skeleton, email, email_key, \
     password_hash, global_name, first_name, last_name, avatar, bot, admin, verified, locale, \
     created_at, username_fold, global_name_fold) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
     RETURNING ",
    user_columns!()
);
pub(crate) const USER_BY_ID: &str =
    concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
pub(crate) const USER_BY_USERNAME_KEY: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE username_key = $1"
);
pub(crate) const USER_BY_EMAIL_KEY: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE email_key = $1"
);
pub(crate) const USERNAMES_WITH_SKELETON: &str =
    "SELECT username FROM users WHERE username_skeleton = $1 ORDER BY id LIMIT $2";
pub(crate) const USER_EXISTS: &str = "SELECT 1 FROM users WHERE id = $1";
pub(crate) const ADVANCE_TOTP_STEP: &str =
    "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1";
pub(crate) const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

pub(crate) const INSERT_SESSION: &str = concat!(
    "INSERT INTO sessions (id, user_id, device, ip, refresh_hash, created_at, last_seen_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ",
    session_columns!()
);
pub(crate) const SESSION_BY_ID: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE id = $1"
);
pub(crate) const SESSIONS_OF_USER: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE user_id = $1 AND revoked = FALSE ORDER BY created_at DESC, id DESC"
);
pub(crate) const SESSION_EXISTS: &str = "SELECT 1 FROM sessions WHERE id = $1";
pub(crate) const TOUCH_SESSION: &str =
    "UPDATE sessions SET ip = $1, last_seen_at = $2 WHERE id = $3";
pub(crate) const ROTATE_REFRESH: &str = "UPDATE sessions \
     SET previous_refresh_hash = refresh_hash, refresh_hash = $1 \
     WHERE id = $2 AND refresh_hash = $3 AND revoked = FALSE";
pub(crate) const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked = TRUE WHERE id = $1 AND revoked = FALSE";
pub(crate) const REVOKE_USER_SESSIONS: &str = "UPDATE sessions SET revoked = TRUE \
     WHERE user_id = $1 AND revoked = FALSE AND (CAST($2 AS BIGINT) IS NULL OR id <> $2)";

/// Every fixed statement, for the parameter-order test.
#[cfg(test)]
pub(crate) const ALL: &[&str] = &[
    INSERT_USER,
    USER_BY_ID,
    USER_BY_USERNAME_KEY,
    USER_BY_EMAIL_KEY,
    USERNAMES_WITH_SKELETON,
    USER_EXISTS,
    ADVANCE_TOTP_STEP,
    DELETE_USER,
    INSERT_SESSION,
    SESSION_BY_ID,
    SESSIONS_OF_USER,
    SESSION_EXISTS,
    TOUCH_SESSION,
    ROTATE_REFRESH,
    REVOKE_SESSION,
    REVOKE_USER_SESSIONS,
];

/// A value bound into a dynamically built statement; each backend converts it to
/// its driver's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Text(Option<String>),
    Int(i64),
    Bool(bool),
    Json(serde_json::Value),
}

/// An `UPDATE users ... RETURNING` built from a patch; `values` bind `$1..$n`, the
/// last one being the user id.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PatchSql {
    pub sql: String,
    pub values: Vec<Value>,
}

/// The statement applying `patch` to user `id`, or `None` when the patch is empty.
///
/// Columns always come in the same order, so a given set of fields always yields
/// the same text and the prepared-statement caches stay small.
pub(crate) fn user_patch(id: i64, patch: &UserPatch) -> Option<PatchSql> {
    let mut sets: Vec<(&'static str, Value)> = Vec::new();
    if let Some((username, key, skeleton)) = &patch.username {
        sets.push(("username", Value::Text(Some(username.clone()))));
        sets.push(("username_key", Value::Text(Some(key.clone()))));
        sets.push(("username_skeleton", Value::Text(Some(skeleton.clone()))));
        let fold = beep_search::fold(username);
        sets.push(("username_fold", Value::Text(Some(fold))));
    }
    if let Some((email, key)) = &patch.email {
        sets.push(("email", Value::Text(email.clone())));
        sets.push(("email_key", Value::Text(key.clone())));
    }
    let nullable = [
        ("password_hash", &patch.password_hash),
        ("global_name", &patch.global_name),
        ("first_name", &patch.first_name),
        ("last_name", &patch.last_name),
        ("avatar", &patch.avatar),
        ("banner", &patch.banner),
    ];
    for (column, value) in nullable {
        if let Some(v) = value {
            sets.push((column, Value::Text(v.clone())));
        }
    }
    if let Some(v) = &patch.global_name {
        let fold = beep_search::fold(v.as_deref().unwrap_or(""));
        sets.push(("global_name_fold", Value::Text(Some(fold))));
    }
    if let Some(v) = &patch.bio {
        sets.push(("bio", Value::Text(Some(v.clone()))));
    }
    if let Some(v) = &patch.locale {
        sets.push(("locale", Value::Text(Some(v.clone()))));
    }
    if let Some(v) = patch.flags {
        sets.push(("flags", Value::Int(v)));
    }
    let flags = [
        ("admin", patch.admin),
        ("verified", patch.verified),
        ("mfa_enabled", patch.mfa_enabled),
    ];
    for (column, value) in flags {
        if let Some(v) = value {
            sets.push((column, Value::Bool(v)));
        }
    }
    if let Some(v) = &patch.totp_secret {
        sets.push(("totp_secret", Value::Text(v.clone())));
    }
    if let Some(v) = &patch.settings {
        sets.push(("settings", Value::Json(v.clone())));
    }
    if sets.is_empty() {
        return None;
    }

    let assignments: Vec<String> = sets
        .iter()
        .enumerate()
        .map(|(i, (column, _))| format!("{column} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE users SET {} WHERE id = ${} RETURNING {USER_COLUMNS}",
        assignments.join(", "),
        sets.len() + 1
    );
    let mut values: Vec<Value> = sets.into_iter().map(|(_, v)| v).collect();
    values.push(Value::Int(id));
    Some(PatchSql { sql, values })
}

/// Now, truncated to whole milliseconds: the precision both backends keep.
pub(crate) fn now() -> DateTime<Utc> {
    truncate_to_ms(Utc::now())
}

/// A time truncated to whole milliseconds.
pub(crate) fn truncate_to_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// A unique index or key, and the field name callers see in `Conflict`.
struct UniqueKey {
    table: &'static str,
    column: &'static str,
    /// The index or constraint name, as PostgreSQL reports it.
    name: &'static str,
    field: &'static str,
}

/// Every unique key of the schema. Both migrations name their indexes alike.
const UNIQUE_KEYS: &[UniqueKey] = &[
    UniqueKey {
        table: "users",
        column: "username_key",
        name: "users_username_key_uniq",
        field: "username",
    },
    UniqueKey {
        table: "users",
        column: "email_key",
        name: "users_email_key_uniq",
        field: "email",
    },
    UniqueKey {
        table: "users",
        column: "id",
        name: "users_pkey",
        field: "id",
    },
    UniqueKey {
        table: "sessions",
        column: "id",
        name: "sessions_pkey",
        field: "id",
    },
    UniqueKey {
        table: "bot_tokens",
        column: "token_hash",
        name: "bot_tokens_token_hash_uniq",
        field: "token",
    },
    UniqueKey {
        table: "backup_codes",
        column: "user_id",
        name: "backup_codes_hash_uniq",
        field: "backup_code",
    },
];

/// The field reported for a unique key this table does not know yet.
pub(crate) const UNKNOWN_FIELD: &str = "unique";

/// The conflicting field for a violated index or constraint name.
pub(crate) fn conflict_field_by_name(name: &str) -> &'static str {
    UNIQUE_KEYS
        .iter()
        .find(|k| k.name == name)
        .map_or(UNKNOWN_FIELD, |k| k.field)
}

/// The conflicting field for a violated `table.column`.
pub(crate) fn conflict_field_by_column(table: &str, column: &str) -> &'static str {
    UNIQUE_KEYS
        .iter()
        .find(|k| k.table == table && k.column == column)
        .map_or(UNKNOWN_FIELD, |k| k.field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_patch_builds_nothing() {
        assert_eq!(user_patch(1, &UserPatch::default()), None);
    }

    #[test]
    fn patch_numbers_parameters_in_order_and_ends_with_id() {
        let patch = UserPatch {
            email: Some((None, None)),
            bio: Some("hi".into()),
            verified: Some(true),
            ..UserPatch::default()
        };
        let built = user_patch(42, &patch).expect("non-empty patch");
        assert!(
            built.sql.starts_with(
                "UPDATE users SET email = $1, email_key = $2, bio = $3, verified = $4 WHERE id = $5 RETURNING id,"
            ),
            "{}",
            built.sql
        );
        assert_eq!(
            built.values,
            vec![
                Value::Text(None),
                Value::Text(None),
                Value::Text(Some("hi".into())),
                Value::Bool(true),
                Value::Int(42),
            ]
        );
    }

    #[test]
    fn set_to_null_differs_from_leave_alone() {
        let clear = UserPatch {
            avatar: Some(None),
            ..UserPatch::default()
        };
        let built = user_patch(1, &clear).expect("clearing is a change");
        assert_eq!(built.values[0], Value::Text(None));
        let leave = UserPatch {
            avatar: None,
            ..UserPatch::default()
        };
        assert_eq!(user_patch(1, &leave), None);
    }

    #[test]
    fn conflict_names_map_to_fields() {
        assert_eq!(
            conflict_field_by_name("users_username_key_uniq"),
            "username"
        );
        assert_eq!(conflict_field_by_name("users_email_key_uniq"), "email");
        assert_eq!(conflict_field_by_name("sessions_pkey"), "id");
        assert_eq!(conflict_field_by_name("something_else"), UNKNOWN_FIELD);
        assert_eq!(
            conflict_field_by_column("users", "username_key"),
            "username"
        );
        assert_eq!(conflict_field_by_column("users", "email_key"), "email");
        assert_eq!(conflict_field_by_column("users", "id"), "id");
        assert_eq!(
            conflict_field_by_column("sessions", "email_key"),
            UNKNOWN_FIELD
        );
    }

    #[test]
    fn truncation_keeps_milliseconds_only() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("valid time");
        assert_eq!(truncate_to_ms(t).timestamp_subsec_nanos(), 123_000_000);
    }
}
