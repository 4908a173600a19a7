//! The conformance suite: the one set of behaviours every storage backend must
//! show. Each case is a public `async fn` taking a fresh, empty store and
//! panicking with a clear message when the backend gets something wrong.
//!
//! A test binary runs the whole suite against one backend with
//! [`conformance_tests!`](crate::conformance_tests), once per backend:
//!
//! ```ignore
//! mod sqlite { beep_store::conformance_tests!(crate::store::sqlite_store); }
//! mod postgres { beep_store::conformance_tests!(crate::store::postgres_store); }
//! ```
//!
//! The factory is an `async fn() -> Option<F>` where `F: Fixture`: `None` skips the
//! case (backend not configured), and the fixture is torn down after the case even
//! when it fails. A plain [`DynStore`] is a fixture whose teardown closes it.

use std::future::Future;

use beep_types::{SessionId, UserId};
use chrono::{DateTime, Utc};

use crate::{DynStore, NewSession, NewUser, Result, StoreError};

mod auth;
mod bulk;
mod files;
mod guilds;
mod guilds_channels;
mod guilds_members;
mod lifecycle;
pub(crate) mod messages;
mod messages_hooks;
mod notifications;
mod search;
mod sessions;
mod social;
mod users;

pub use auth::{
    auth_codes_consume_once_and_purge, auth_codes_issue_and_count_attempts, backup_codes_work_once,
    bot_tokens_set_replace_and_cascade, rate_limit_gcra_steps,
    rate_limit_is_atomic_under_concurrency,
};
pub use bulk::messages_bulk_insert;
pub use files::{
    files_deletion_queue_claims_and_leases, files_queued_with_accounts,
    files_queued_with_deleted_guilds, files_queued_with_deleted_messages,
    files_quota_is_atomic_under_concurrency, files_quota_records_and_releases,
};
pub use guilds::{
    audit_log_filters_and_pages, guilds_create_limits, guilds_create_with_defaults,
    guilds_delete_cascades, guilds_discovery_analyzer, guilds_discovery_search,
    guilds_of_user_pages, guilds_update_and_transfer, roles_lifecycle,
};
pub use guilds_channels::{
    channels_delete_subtree, channels_layout_versioning, channels_overwrites,
};
pub use guilds_members::{
    bans_lifecycle, invites_create_list_delete, invites_join, invites_last_use_is_taken_once,
    members_join_list_search, members_search_folds, members_update_roles_and_remove,
};
pub use lifecycle::{close_rejects_later_calls, concurrent_writes_all_land, ping_works};
pub use messages::{
    messages_insert_and_read, messages_nonce_replay, messages_nonce_replay_is_atomic,
    messages_pages, messages_purge_author_since, messages_update_and_delete, pins_limit_and_notice,
    reactions_lifecycle, read_states_counts,
};
pub use messages_hooks::{applications_and_bot_roles, webhooks_lifecycle};
pub use notifications::{
    notification_settings_round_trip, notifications_channel_read,
    notifications_digest_and_presence, notifications_list_and_read, receipts_positions,
};
pub use search::{
    search_counts_up_to_cap, search_filters_and_orders, search_follows_edits_and_deletes,
    search_matches_text, search_reindex_rebuilds,
};
pub use sessions::{
    sessions_lifecycle, sessions_revoke_all_except_one, sessions_rotate_refresh_compare_and_swap,
};
pub use social::{
    direct_messages_index, phones_unique_and_discoverable, private_channels_lifecycle,
    relationships_compare_and_set, relationships_erase_dm, relationships_limit_per_user,
};
pub use users::{
    totp_step_is_monotonic_under_concurrency, users_delete_cascades_sessions, users_insert_and_get,
    users_patch_conflict, users_patch_sets_and_clears_nullable, users_skeleton_lookup,
    users_unique_email, users_unique_username_case_key,
};

/// The single list of cases. It feeds both [`CASES`] and [`conformance_tests!`],
/// so the two cannot drift apart.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($then:ident ! ( $($args:tt)* )) => {
        $crate::$then! { $($args)* [
            users_insert_and_get
            users_unique_username_case_key
            users_unique_email
            users_patch_sets_and_clears_nullable
            users_patch_conflict
            users_skeleton_lookup
            totp_step_is_monotonic_under_concurrency
            users_delete_cascades_sessions
            sessions_lifecycle
            sessions_rotate_refresh_compare_and_swap
            sessions_revoke_all_except_one
            concurrent_writes_all_land
            close_rejects_later_calls
            ping_works
            bot_tokens_set_replace_and_cascade
            auth_codes_issue_and_count_attempts
            auth_codes_consume_once_and_purge
            backup_codes_work_once
            rate_limit_gcra_steps
            rate_limit_is_atomic_under_concurrency
            guilds_create_with_defaults
            guilds_create_limits
            guilds_update_and_transfer
            guilds_delete_cascades
            guilds_of_user_pages
            guilds_discovery_search
            guilds_discovery_analyzer
            roles_lifecycle
            audit_log_filters_and_pages
            channels_layout_versioning
            channels_delete_subtree
            channels_overwrites
            members_join_list_search
            members_search_folds
            members_update_roles_and_remove
            bans_lifecycle
            invites_create_list_delete
            invites_join
            invites_last_use_is_taken_once
            messages_insert_and_read
            messages_pages
            messages_nonce_replay
            messages_nonce_replay_is_atomic
            messages_update_and_delete
            messages_purge_author_since
            pins_limit_and_notice
            reactions_lifecycle
            read_states_counts
            webhooks_lifecycle
            messages_bulk_insert
            applications_and_bot_roles
            relationships_compare_and_set
            relationships_limit_per_user
            relationships_erase_dm
            private_channels_lifecycle
            direct_messages_index
            phones_unique_and_discoverable
            notifications_list_and_read
            notifications_channel_read
            notifications_digest_and_presence
            notification_settings_round_trip
            receipts_positions
            files_quota_records_and_releases
            files_quota_is_atomic_under_concurrency
            files_queued_with_deleted_messages
            files_queued_with_deleted_guilds
            files_queued_with_accounts
            files_deletion_queue_claims_and_leases
            search_matches_text
            search_filters_and_orders
            search_counts_up_to_cap
            search_follows_edits_and_deletes
            search_reindex_rebuilds
        ] }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_names {
    ([$($case:ident)*]) => {
        &[$(stringify!($case)),*]
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ($factory:path; [$($case:ident)*]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(fixture) = $factory().await else {
                    return;
                };
                $crate::conformance::run(fixture, $crate::conformance::$case).await;
            }
        )*
    };
}

/// One `#[tokio::test]` per conformance case, each getting a fresh fixture from
/// `$factory` (an `async fn() -> Option<impl Fixture>`; `None` skips the test).
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread`
/// features.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::__conformance_cases!(__conformance_test_fns!($factory;));
    };
}

/// The names of every case, in the order [`conformance_tests!`] declares them.
pub const CASES: &[&str] = crate::__conformance_cases!(__conformance_names!());

/// What a factory hands the suite: a store, and how to clean up after a case.
pub trait Fixture: Send + 'static {
    /// The store under test.
    fn store(&self) -> DynStore;
    /// Release what the case used (close the store, drop a schema, delete files).
    /// Runs even when the case failed.
    fn teardown(self) -> impl Future<Output = ()> + Send;
}

impl Fixture for DynStore {
    fn store(&self) -> DynStore {
        self.clone()
    }

    async fn teardown(self) {
        self.close().await;
    }
}

/// Run one case on the fixture's store, tear the fixture down, then report the
/// case's panic if it had one.
pub async fn run<F, C, Fut>(fixture: F, case: C)
where
    F: Fixture,
    C: FnOnce(DynStore) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(case(fixture.store())).await;
    fixture.teardown().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the case did not finish: {e}"),
        }
    }
}

/// The value of a call that must succeed.
#[track_caller]
fn ok<T>(r: Result<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: expected success, got {e:?}"),
    }
}

/// Check that a call failed with `Conflict(field)`.
#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(r: Result<T>, field: &str, what: &str) {
    match r {
        Err(StoreError::Conflict(f)) if f == field => {}
        other => panic!("{what}: expected Conflict({field:?}), got {other:?}"),
    }
}

/// Check that a call failed with `NotFound`.
#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(r: Result<T>, what: &str) {
    match r {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

/// Check that a call failed with `Unavailable`.
#[track_caller]
fn assert_unavailable<T: std::fmt::Debug>(r: Result<T>, what: &str) {
    match r {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("{what}: expected Unavailable, got {other:?}"),
    }
}

/// Check that a stored time lies between two instants, at millisecond precision.
#[track_caller]
fn assert_between(t: DateTime<Utc>, before: DateTime<Utc>, after: DateTime<Utc>, what: &str) {
    assert_eq!(
        t.timestamp_subsec_nanos() % 1_000_000,
        0,
        "{what}: stored times keep whole milliseconds, got {t:?}"
    );
    let (t, lo, hi) = (
        t.timestamp_millis(),
        before.timestamp_millis(),
        after.timestamp_millis(),
    );
    assert!(
        lo <= t && t <= hi,
        "{what}: {t} ms is not between {lo} and {hi} ms"
    );
}

/// A user with everything derived from `name`: key and skeleton lower-cased,
/// email `name@example.com`.
pub(crate) fn new_user(id: i64, name: &str) -> NewUser {
    let key = name.to_lowercase();
    NewUser {
        id: UserId::from_i64(id),
        username: name.to_owned(),
        username_key: key.clone(),
        username_skeleton: key.clone(),
        email: Some(format!("{name}@example.com")),
        email_key: Some(format!("{key}@example.com")),
        password_hash: Some(format!("hash-of-{name}")),
        locale: "en-US".into(),
        ..NewUser::default()
    }
}

/// A session of `user` with refresh hash `hash`.
fn new_session(id: i64, user: i64, hash: &str) -> NewSession {
    NewSession {
        id: SessionId::from_i64(id),
        user_id: UserId::from_i64(user),
        device: format!("device-{id}"),
        ip: "192.0.2.1".into(),
        refresh_hash: hash.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_listed_once_each() {
        assert!(CASES.len() >= 14 + 17, "{}", CASES.len());
        let mut sorted = CASES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), CASES.len());
        assert_eq!(CASES[0], "users_insert_and_get");
    }
}
