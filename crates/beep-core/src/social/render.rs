//! Records → Discord's JSON: relationship objects and private channel objects
//! (as one recipient sees them: `recipients` lists the others).

use beep_store::social::{PrivateChannelRecord, RelationshipKind, RelationshipRecord};
use beep_types::{MessageId, UserId};
use chrono::SecondsFormat;
use serde_json::{Value, json};

use crate::guilds::convert;

/// A relationship object: `{id, type, nickname, user, since}`.
pub(super) fn relationship(r: &RelationshipRecord) -> Value {
    json!({
        "id": r.target.id,
        "type": r.kind.code(),
        "nickname": null,
        "user": convert::user(&r.target),
        "since": r.since.to_rfc3339_opts(SecondsFormat::Millis, true),
    })
}

/// The `d` of RELATIONSHIP_REMOVE: `{id, type}` of the row that went away.
pub(super) fn relationship_removed(target: UserId, kind: RelationshipKind) -> Value {
    json!({"id": target, "type": kind.code(), "nickname": null})
}

/// A DM (type 1) or group (type 3) object as `viewer` sees it.
pub(super) fn private_channel(
    c: &PrivateChannelRecord,
    viewer: UserId,
    last_message_id: Option<MessageId>,
    pinned: Option<bool>,
) -> Value {
    let recipients: Vec<Value> = c
        .recipients
        .iter()
        .filter(|r| r.id != viewer)
        .map(|r| serde_json::to_value(convert::user(r)).unwrap_or(Value::Null))
        .collect();
    let mut v = json!({
        "id": c.id,
        "type": c.kind,
        "last_message_id": last_message_id,
        "flags": 0,
        "recipients": recipients,
    });
    if c.kind == 3 {
        v["name"] = json!(c.name);
        v["icon"] = json!(c.icon);
        v["owner_id"] = json!(c.owner_id);
    }
    if let Some(p) = pinned {
        // Beep's own field: the conversation is pinned in the viewer's list.
        v["pinned"] = json!(p);
    }
    v
}
