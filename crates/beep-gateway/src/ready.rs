//! The snapshots a session receives: READY after IDENTIFY, one GUILD_CREATE per
//! guild, and GUILD_MEMBERS_CHUNK answers to REQUEST_GUILD_MEMBERS.

use std::sync::Arc;

use beep_types::{GuildId, Intents, UserId};
use serde_json::{Value, json};

use crate::directory::{Account, GuildSnapshot, MemberQuery};
use crate::hub::Hub;
use crate::protocol::{self, Status};
use crate::session::{Dispatch, Session};

/// Members per GUILD_MEMBERS_CHUNK (Discord's chunk size).
pub const CHUNK_SIZE: usize = 1000;

/// The `d` of READY.
pub fn ready_payload(
    s: &Session,
    account: &Account,
    guilds: &[GuildId],
    resume_url: &str,
    shard: Option<[u32; 2]>,
) -> Value {
    let unavailable: Vec<Value> = guilds
        .iter()
        .filter(|g| protocol::shard_of(**g, s.shard[1]) == s.shard[0])
        .map(|g| json!({"id": g, "unavailable": true}))
        .collect();
    let mut d = json!({
        "v": 10,
        "user": account.user,
        "guilds": unavailable,
        "session_id": &*s.id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "private_channels": account.private_channels,
        "relationships": account.relationships,
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
        "_trace": ["beep-gateway"],
    });
    if let Some(app) = &account.application {
        d["application"] = app.clone();
    }
    if let Some(sh) = shard {
        d["shard"] = json!(sh);
    }
    if !s.bot() {
        d["user_settings"] = account.settings.clone();
        d["read_state"] = json!([]);
        d["user_guild_settings"] = json!([]);
    }
    d
}

/// READY's `presences`: the friends of a person who are not offline (bots have
/// no friends).
pub async fn friend_presences(hub: &Hub, s: &Session) -> Vec<Value> {
    if s.bot() {
        return Vec::new();
    }
    match hub.dir.friends(s.user()).await {
        Ok(friends) => friends
            .into_iter()
            .filter_map(|u| presence_of(hub, u, None))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The presence object of a member, if it should be listed (not offline).
fn presence_of(hub: &Hub, user: UserId, guild: Option<GuildId>) -> Option<Value> {
    let v = hub.presence.get(user);
    if v.status == Status::Offline {
        return None;
    }
    let mut p = json!({
        "user": {"id": user},
        "status": v.status.as_str(),
        "activities": v.activities,
        "client_status": v.client_status,
    });
    if let Some(g) = guild {
        p["guild_id"] = json!(g);
    }
    Some(p)
}

fn member_user_id(m: &Value) -> Option<UserId> {
    protocol::id_of(&m["user"]["id"]).map(UserId)
}

/// The `d` of GUILD_CREATE for one session.
pub async fn guild_create(
    hub: &Arc<Hub>,
    s: &Session,
    guild: GuildId,
    snap: GuildSnapshot,
) -> Value {
    let GuildSnapshot {
        guild: mut g,
        channels,
        mut members,
        member_count,
        joined_at,
        voice_states,
    } = snap;
    let me = s.user();
    if members.is_empty() || !members.iter().any(|m| member_user_id(m) == Some(me)) {
        // The session's own member object is always there, as on Discord.
        if let Ok(mut mine) = hub
            .dir
            .guild_members(guild, &MemberQuery::Ids(vec![me]))
            .await
        {
            members.append(&mut mine);
        }
    }
    let with_presences = s.intents.contains(Intents::GUILD_PRESENCES) || !s.bot();
    let presences: Vec<Value> = if with_presences {
        let ids: Vec<UserId> = members.iter().filter_map(member_user_id).collect();
        let hidden = hub.presence_hidden(me, &ids).await;
        ids.into_iter()
            .filter(|u| !hidden.contains(u))
            .filter_map(|u| presence_of(hub, u, None))
            .collect()
    } else {
        Vec::new()
    };
    if let Some(o) = g.as_object_mut() {
        o.insert("joined_at".into(), joined_at);
        o.insert(
            "large".into(),
            json!(member_count > u64::from(s.large_threshold)),
        );
        o.insert("unavailable".into(), json!(false));
        o.insert("member_count".into(), json!(member_count));
        o.insert("voice_states".into(), json!(voice_states));
        o.insert("members".into(), json!(members));
        o.insert("channels".into(), json!(channels));
        o.insert("threads".into(), json!([]));
        o.insert("presences".into(), json!(presences));
        o.insert("stage_instances".into(), json!([]));
        o.insert("guild_scheduled_events".into(), json!([]));
        o.insert("soundboard_sounds".into(), json!([]));
        o.entry("stickers").or_insert_with(|| json!([]));
        o.entry("emojis").or_insert_with(|| json!([]));
    }
    g
}

/// Answer a member request with GUILD_MEMBERS_CHUNK dispatches (at least one).
pub fn send_member_chunks(
    hub: &Arc<Hub>,
    s: &Session,
    guild: GuildId,
    members: Vec<Value>,
    query: &MemberQuery,
    presences: Option<&std::collections::HashSet<UserId>>,
    nonce: Option<&str>,
) {
    let not_found: Vec<UserId> = match query {
        MemberQuery::Ids(ids) => ids
            .iter()
            .filter(|id| !members.iter().any(|m| member_user_id(m) == Some(**id)))
            .copied()
            .collect(),
        MemberQuery::Prefix { .. } => Vec::new(),
    };
    let chunks: Vec<&[Value]> = if members.is_empty() {
        vec![&[]]
    } else {
        members.chunks(CHUNK_SIZE).collect()
    };
    let count = chunks.len();
    let limits = hub.limits();
    // Discord limits nonces to 32 bytes; longer ones are not echoed.
    let nonce = nonce.filter(|n| n.len() <= 32);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut d = json!({
            "guild_id": guild,
            "members": chunk,
            "chunk_index": i,
            "chunk_count": count,
        });
        if i == 0 && matches!(query, MemberQuery::Ids(_)) {
            d["not_found"] = json!(not_found);
        }
        if let Some(hidden) = presences {
            let p: Vec<Value> = chunk
                .iter()
                .filter_map(member_user_id)
                .filter(|u| !hidden.contains(u))
                .filter_map(|u| presence_of(hub, u, None))
                .collect();
            d["presences"] = json!(p);
        }
        if let Some(n) = nonce {
            d["nonce"] = json!(n);
        }
        s.push(Dispatch::json("GUILD_MEMBERS_CHUNK", &d), limits);
    }
}
