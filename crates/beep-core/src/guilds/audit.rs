//! The audit log: building entries' change lists, and reading the log.

use std::collections::BTreeSet;

use beep_store::AuditQuery;
use beep_types::v10::guild::{AuditLog, AuditLogEvent};
use beep_types::{GuildId, Permissions, Snowflake, UserId};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{Guilds, convert};
use crate::accounts::public_user;
use crate::error::{Error, Result};

/// The `changes` of one entry: `{key, old_value, new_value}` for every field that
/// changed, leaving out a side that is `null`, as Discord does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes(Vec<Value>);

impl Changes {
    /// No changes.
    pub fn new() -> Changes {
        Changes::default()
    }

    /// Record `key` going from `old` to `new`, if they differ.
    pub fn diff<T: Serialize + PartialEq>(mut self, key: &str, old: &T, new: &T) -> Changes {
        if old != new {
            self.push(key, to_json(old), to_json(new));
        }
        self
    }

    /// Record `key` set to `new` (a creation).
    pub fn set<T: Serialize>(mut self, key: &str, new: &T) -> Changes {
        self.push(key, Value::Null, to_json(new));
        self
    }

    /// Record `key` going away from `old` (a deletion).
    pub fn unset<T: Serialize>(mut self, key: &str, old: &T) -> Changes {
        self.push(key, to_json(old), Value::Null);
        self
    }

    /// Record a raw change.
    pub fn raw(mut self, key: &str, old: Value, new: Value) -> Changes {
        self.push(key, old, new);
        self
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push(&mut self, key: &str, old: Value, new: Value) {
        let mut change = Map::new();
        change.insert("key".into(), Value::String(key.to_owned()));
        if !old.is_null() {
            change.insert("old_value".into(), old);
        }
        if !new.is_null() {
            change.insert("new_value".into(), new);
        }
        self.0.push(Value::Object(change));
    }

    /// The JSON stored with the entry; `None` when empty.
    pub fn into_json(self) -> Option<Value> {
        (!self.0.is_empty()).then_some(Value::Array(self.0))
    }
}

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The `{id, name}` list Discord puts in `$add` and `$remove` role changes.
pub(crate) fn role_refs(roles: &[&beep_store::RoleRecord]) -> Value {
    Value::Array(
        roles
            .iter()
            .map(|r| json!({"id": r.id.to_string(), "name": r.name}))
            .collect(),
    )
}

/// What `GET /guilds/{id}/audit-logs` asks for.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct AuditLogQuery {
    /// Only entries made by this user.
    pub user_id: Option<UserId>,
    /// Only entries of this action type.
    pub action_type: Option<u16>,
    /// Only entries older than this entry id.
    #[param(value_type = Option<String>)]
    pub before: Option<Snowflake>,
    /// Only entries newer than this entry id.
    #[param(value_type = Option<String>)]
    pub after: Option<Snowflake>,
    /// 1..=100, default 50.
    pub limit: Option<u32>,
}

impl Guilds {
    /// `GET /guilds/{id}/audit-logs`: needs `VIEW_AUDIT_LOG`.
    pub async fn audit_log(
        &self,
        actor: UserId,
        guild: GuildId,
        q: AuditLogQuery,
    ) -> Result<AuditLog> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::VIEW_AUDIT_LOG)?;
        let limit = q.limit.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return Err(Error::field(
                "limit",
                "NUMBER_TYPE_MAX",
                "Must be between 1 and 100.",
            ));
        }
        let entries = self
            .store
            .audit_log(
                guild,
                &AuditQuery {
                    user_id: q.user_id,
                    action_type: q.action_type.map(i64::from),
                    before: q.before,
                    after: q.after,
                    limit,
                },
            )
            .await?;
        // The users entries refer to: who acted, and members acted upon.
        let mut user_ids: BTreeSet<UserId> = entries.iter().filter_map(|e| e.user_id).collect();
        for e in &entries {
            let about_member = [
                AuditLogEvent::MEMBER_KICK,
                AuditLogEvent::MEMBER_BAN_ADD,
                AuditLogEvent::MEMBER_BAN_REMOVE,
                AuditLogEvent::MEMBER_UPDATE,
                AuditLogEvent::MEMBER_ROLE_UPDATE,
            ]
            .iter()
            .any(|a| i64::from(a.0) == e.action_type);
            if about_member && let Some(id) = e.target_id.as_deref().and_then(|t| t.parse().ok()) {
                user_ids.insert(id);
            }
        }
        let mut users = Vec::with_capacity(user_ids.len());
        for id in user_ids {
            if let Some(u) = self.store.user(id).await? {
                users.push(public_user(&u));
            }
        }
        Ok(AuditLog {
            audit_log_entries: entries.iter().map(convert::audit_entry).collect(),
            users,
            ..AuditLog::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_leave_out_null_sides() {
        let c = Changes::new()
            .diff("name", &"a", &"b")
            .diff("same", &1, &1)
            .diff("topic", &Some("t"), &None::<&str>)
            .set("id", &"5")
            .into_json()
            .expect("changes");
        assert_eq!(
            c,
            json!([
                {"key": "name", "old_value": "a", "new_value": "b"},
                {"key": "topic", "old_value": "t"},
                {"key": "id", "new_value": "5"}
            ])
        );
        assert_eq!(Changes::new().diff("x", &1, &1).into_json(), None);
    }
}
