//! `GET /users/@me/guilds/settings` and `PATCH /users/@me/guilds/{guild_id}/settings`
//! on Discord's shape; `@me` as the guild means direct conversations.

use beep_store::notifications::{ChannelOverrideRecord, Mute, NotificationSettingsRecord};
use beep_types::v10::channel::Timestamp;
use beep_types::v10::notification::{
    ChannelOverride, MuteConfig, MuteConfigPatch, UserGuildSettings, UserGuildSettingsPatch,
};
use beep_types::{ChannelId, ErrorCode, GuildId};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Notifications;
use super::rules::level;
use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::events::{Audience, Event};
use crate::guilds::forms::Problems;

/// Most channel overrides in one settings object.
pub const MAX_OVERRIDES: usize = 500;

impl Notifications {
    /// `GET /users/@me/guilds/settings`: every settings object `me` changed.
    pub async fn all_settings(&self, me: &Principal) -> Result<Vec<UserGuildSettings>> {
        let list = self.store.all_notification_settings(me.user_id).await?;
        Ok(list.iter().map(wire).collect())
    }

    /// `PATCH /users/@me/guilds/{guild_id}/settings` (`guild` `None`: `@me`).
    pub async fn patch_settings(
        &self,
        me: &Principal,
        guild: Option<GuildId>,
        patch: UserGuildSettingsPatch,
    ) -> Result<UserGuildSettings> {
        if let Some(g) = guild
            && self.store.member(g, me.user_id).await?.is_none()
        {
            return Err(Error::new(ErrorCode::UnknownGuild));
        }
        let mut s = self
            .store
            .notification_settings(me.user_id, guild)
            .await?
            .unwrap_or_else(|| NotificationSettingsRecord::default_for(me.user_id, guild));
        let mut p = Problems::new();
        if let Some(l) = patch.message_notifications
            && check_level(&mut p, "message_notifications", l)
        {
            s.message_notifications = l;
        }
        apply_mute(
            &mut p,
            "",
            &mut s.mute,
            patch.muted,
            patch.mute_config.as_ref(),
        );
        if let Some(v) = patch.suppress_everyone {
            s.suppress_everyone = v;
        }
        if let Some(v) = patch.suppress_roles {
            s.suppress_roles = v;
        }
        let changes = match &patch.channel_overrides {
            Some(v) => overrides_of(&mut p, v),
            None => Vec::new(),
        };
        p.finish()?;
        for (channel, body) in changes {
            self.check_channel(me, guild, channel).await?;
            let at = format!("channel_overrides.{channel}");
            let idx = match s
                .channel_overrides
                .iter()
                .position(|o| o.channel_id == channel)
            {
                Some(i) => i,
                None => {
                    s.channel_overrides.push(ChannelOverrideRecord {
                        channel_id: channel,
                        message_notifications: level::INHERIT,
                        mute: Mute::default(),
                    });
                    s.channel_overrides.len() - 1
                }
            };
            let o = &mut s.channel_overrides[idx];
            let mut p = Problems::new();
            if let Some(l) = body.get("message_notifications") {
                match l.as_i64() {
                    Some(l) if check_level(&mut p, &format!("{at}.message_notifications"), l) => {
                        o.message_notifications = l;
                    }
                    Some(_) => {}
                    None => p.add(
                        format!("{at}.message_notifications"),
                        "NUMBER_TYPE_COERCE",
                        "Value is not int.",
                    ),
                }
            }
            let muted = match body.get("muted") {
                None => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => {
                    p.add(
                        format!("{at}.muted"),
                        "BOOLEAN_TYPE_COERCE",
                        "Value is not bool.",
                    );
                    None
                }
            };
            let config: Option<Option<MuteConfigPatch>> = match body.get("mute_config") {
                None => None,
                Some(Value::Null) => Some(None),
                Some(v) => match serde_json::from_value(v.clone()) {
                    Ok(c) => Some(Some(c)),
                    Err(_) => {
                        p.add(
                            format!("{at}.mute_config"),
                            "DICT_TYPE_CONVERT",
                            "Only dictionaries may be used in a DictType",
                        );
                        None
                    }
                },
            };
            apply_mute(
                &mut p,
                &format!("{at}."),
                &mut o.mute,
                muted,
                config.as_ref(),
            );
            p.finish()?;
        }
        if s.channel_overrides.len() > MAX_OVERRIDES {
            return Err(Error::field(
                "channel_overrides",
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_OVERRIDES} or fewer in length."),
            ));
        }
        // Overrides that say nothing any more are dropped, as on Discord.
        s.channel_overrides
            .retain(|o| o.message_notifications != level::INHERIT || o.mute.muted);
        s.channel_overrides.sort_by_key(|o| o.channel_id);
        let saved = self.store.put_notification_settings(&s).await?;
        let out = wire(&saved);
        self.bus.publish(Event {
            name: "USER_GUILD_SETTINGS_UPDATE",
            data: serde_json::to_value(&out).unwrap_or_default(),
            audience: Audience::Users(vec![me.user_id]),
            intent: None,
        });
        Ok(out)
    }

    /// An override must name a channel of the guild (or, for `@me`, a private
    /// channel `me` is in).
    async fn check_channel(
        &self,
        me: &Principal,
        guild: Option<GuildId>,
        channel: ChannelId,
    ) -> Result<()> {
        let ok = match guild {
            Some(g) => self
                .store
                .guild_channel(channel)
                .await?
                .is_some_and(|c| c.guild_id == g),
            None => self.store.recipients(channel).await?.contains(&me.user_id),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::UnknownChannel))
        }
    }
}

fn check_level(p: &mut Problems, at: &str, l: i64) -> bool {
    if (level::ALL..=level::INHERIT).contains(&l) {
        return true;
    }
    p.add(
        at,
        "BASE_TYPE_CHOICES",
        "Value must be one of {0, 1, 2, 3}.",
    );
    false
}

/// Apply `muted` and `mute_config` to a mute. Unmuting clears the end.
fn apply_mute(
    p: &mut Problems,
    prefix: &str,
    mute: &mut Mute,
    muted: Option<bool>,
    config: Option<&Option<MuteConfigPatch>>,
) {
    if let Some(m) = muted {
        mute.muted = m;
        if !m {
            mute.end_at = None;
            mute.window = None;
        }
    }
    match config {
        None => {}
        Some(None) => {
            mute.end_at = None;
            mute.window = None;
        }
        Some(Some(c)) => {
            mute.window = c.selected_time_window;
            mute.end_at = match c.end_time.as_deref() {
                None => None,
                Some(t) => match DateTime::parse_from_rfc3339(t) {
                    Ok(t) => Some(t.with_timezone(&Utc)),
                    Err(_) => {
                        p.add(
                            format!("{prefix}mute_config.end_time"),
                            "DATE_TIME_TYPE_INVALID",
                            "Could not interpret the value as a date and time.",
                        );
                        None
                    }
                },
            };
        }
    }
}

/// `(channel, override body)` pairs from a list of `{channel_id, ...}` or a
/// map from channel id to override.
fn overrides_of(p: &mut Problems, v: &Value) -> Vec<(ChannelId, serde_json::Map<String, Value>)> {
    let mut out = Vec::new();
    let mut add = |p: &mut Problems, at: String, id: Option<&str>, body: &Value| {
        let Some(obj) = body.as_object() else {
            p.add(
                at,
                "DICT_TYPE_CONVERT",
                "Only dictionaries may be used in a DictType",
            );
            return;
        };
        let id = id.map(str::to_owned).or_else(|| {
            obj.get("channel_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        match id
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|n| *n > 0 && *n <= i64::MAX as u64)
        {
            Some(n) => out.push((ChannelId(beep_types::Snowflake(n)), obj.clone())),
            None => p.add(
                format!("{at}.channel_id"),
                "NUMBER_TYPE_COERCE",
                "Value is not snowflake.",
            ),
        }
    };
    match v {
        Value::Array(list) if list.len() <= MAX_OVERRIDES => {
            for (i, o) in list.iter().enumerate() {
                add(p, format!("channel_overrides.{i}"), None, o);
            }
        }
        Value::Object(map) if map.len() <= MAX_OVERRIDES => {
            for (k, o) in map {
                add(p, format!("channel_overrides.{k}"), Some(k), o);
            }
        }
        Value::Array(_) | Value::Object(_) => p.add(
            "channel_overrides",
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {MAX_OVERRIDES} or fewer in length."),
        ),
        _ => p.add(
            "channel_overrides",
            "BASE_TYPE_BAD_TYPE",
            "Must be a list or a dictionary.",
        ),
    }
    out
}

fn mute_config(m: &Mute) -> Option<MuteConfig> {
    (m.muted && (m.end_at.is_some() || m.window.is_some())).then(|| MuteConfig {
        end_time: m.end_at.map(Timestamp),
        selected_time_window: m.window,
    })
}

/// The settings object clients read. A mute whose end passed shows as over.
pub(crate) fn wire(s: &NotificationSettingsRecord) -> UserGuildSettings {
    let now = Utc::now();
    UserGuildSettings {
        guild_id: s.guild_id,
        message_notifications: s.message_notifications,
        muted: s.mute.active(now),
        mute_config: mute_config(&s.mute).filter(|_| s.mute.active(now)),
        suppress_everyone: s.suppress_everyone,
        suppress_roles: s.suppress_roles,
        mobile_push: true,
        hide_muted_channels: false,
        mute_scheduled_events: false,
        notify_highlights: 0,
        flags: 0,
        channel_overrides: s
            .channel_overrides
            .iter()
            .map(|o| ChannelOverride {
                channel_id: o.channel_id,
                muted: o.mute.active(now),
                mute_config: mute_config(&o.mute).filter(|_| o.mute.active(now)),
                message_notifications: o.message_notifications,
                collapsed: false,
            })
            .collect(),
        version: s.version,
    }
}
