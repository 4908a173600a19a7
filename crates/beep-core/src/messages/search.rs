//! Message search: `GET /guilds/{id}/messages/search` and
//! `GET /channels/{id}/messages/search`, on Discord's user-API shape.
//!
//! Results come only from channels the searcher can read now: the readable set
//! is computed with the permission engine from the guild state (roles,
//! overwrites, the member's roles, a timeout) at every search, and handed to
//! the store as the search's scope, so hidden channels are neither returned
//! nor counted in `total_results`. The query language is `beep_search::Query`.

use beep_search::{Has, Query};
use beep_store::ChannelRecord;
use beep_store::search::{MessageSearch, SearchOrder, SearchScope};
use beep_types::v10::channel::ChannelType;
use beep_types::{ChannelId, ErrorCode, GuildId, MessageId, Permissions, Snowflake, UserId};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

use super::Messages;
use super::access::permissions_in;
use super::render::ReactionScope;
use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::guilds::forms::Problems;

/// Largest `content`, in characters (Discord: 1024).
pub const MAX_CONTENT_CHARS: usize = 1024;
/// Largest page (Discord: 25), also the default.
pub const MAX_LIMIT: u32 = 25;
/// Largest `offset` (Discord: 9975, so that offset + limit ≤ 10,000).
pub const MAX_OFFSET: u32 = 9975;
/// Most `author_id` or `mentions` values (Discord: 100).
pub const MAX_USERS: usize = 100;
/// Most `channel_id` values (Discord: 500).
pub const MAX_CHANNELS: usize = 500;
/// Most `has` values.
pub const MAX_HAS: usize = 12;

/// The query parameters of a search, as `(name, value)` pairs in the order
/// given (several `author_id=` make a list). Unknown names are ignored, as
/// Discord does.
#[derive(Debug, Clone, Default)]
pub struct SearchParams(pub Vec<(String, String)>);

/// `{total_results, messages: [[message]]}`. Each message is Discord's
/// message object with `hit: true` and Beep's `highlights`: the parts of its
/// content that matched `content`, as written there.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// How many messages match, counted exactly up to 10,000 (every page
    /// reachable with `offset` ≤ 9975); beyond, 10,000 (as Discord, whose
    /// count is approximate, this is not the exact number).
    pub total_results: u64,
    /// Beep: whether `total_results` is exact (false: more than 10,000 match).
    pub total_results_exact: bool,
    /// One array per hit, holding the message (Discord once added context
    /// messages around it; it no longer does).
    #[schema(value_type = Vec<Vec<Object>>)]
    pub messages: Vec<Vec<Value>>,
    /// Always false: Beep's index is kept with the messages.
    pub doing_deep_historical_index: bool,
}

/// A checked search, before its scope is known.
struct Checked {
    query: Query,
    authors: Vec<UserId>,
    mentions: Vec<UserId>,
    has: Vec<Has>,
    channels: Vec<ChannelId>,
    min_id: Option<MessageId>,
    max_id: Option<MessageId>,
    pinned: Option<bool>,
    order: SearchOrder,
    offset: u32,
    limit: u32,
}

impl SearchParams {
    /// Every value of `name`.
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name || k.strip_suffix("[]") == Some(name))
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `name`.
    fn one<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.all(name).last()
    }

    /// Check every parameter; every problem is reported at once as `Invalid
    /// Form Body` naming its field.
    fn check(&self) -> Result<Checked> {
        let mut p = Problems::new();
        let content = self.one("content").unwrap_or("");
        if content.chars().count() > MAX_CONTENT_CHARS {
            p.add(
                "content",
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_CONTENT_CHARS} or fewer in length."),
            );
        }
        let authors = ids::<UserId>(&mut p, "author_id", self.all("author_id"), MAX_USERS);
        let mentions = ids::<UserId>(&mut p, "mentions", self.all("mentions"), MAX_USERS);
        let channels = ids::<ChannelId>(&mut p, "channel_id", self.all("channel_id"), MAX_CHANNELS);
        let mut has = Vec::new();
        for (i, raw) in self.all("has").enumerate() {
            if i == MAX_HAS {
                p.add(
                    "has",
                    "BASE_TYPE_MAX_LENGTH",
                    format!("Must be {MAX_HAS} or fewer in length."),
                );
                break;
            }
            match Has::parse(raw) {
                Some(h) if !has.contains(&h) => has.push(h),
                Some(_) => {}
                None => p.add(
                    format!("has.{i}"),
                    "BASE_TYPE_CHOICES",
                    "Value must be one of ('link', 'embed', 'file', 'image', 'video', 'sound').",
                ),
            }
        }
        let min_id = one_id(&mut p, "min_id", self.one("min_id"));
        let max_id = one_id(&mut p, "max_id", self.one("max_id"));
        let pinned = match self.one("pinned") {
            None => None,
            Some("true" | "True" | "1") => Some(true),
            Some("false" | "False" | "0") => Some(false),
            Some(raw) => {
                p.add(
                    "pinned",
                    "BASE_TYPE_BOOLEAN",
                    format!("Value \"{raw}\" is not a valid boolean."),
                );
                None
            }
        };
        let relevance = match self.one("sort_by") {
            None | Some("timestamp") => false,
            Some("relevance") => true,
            Some(_) => {
                p.add(
                    "sort_by",
                    "BASE_TYPE_CHOICES",
                    "Value must be one of ('timestamp', 'relevance').",
                );
                false
            }
        };
        let ascending = match self.one("sort_order") {
            None | Some("desc") => false,
            Some("asc") => true,
            Some(_) => {
                p.add(
                    "sort_order",
                    "BASE_TYPE_CHOICES",
                    "Value must be one of ('asc', 'desc').",
                );
                false
            }
        };
        let offset = number(&mut p, "offset", self.one("offset"), 0, MAX_OFFSET, 0);
        let limit = number(&mut p, "limit", self.one("limit"), 1, MAX_LIMIT, MAX_LIMIT);
        p.finish()?;
        let order = match (relevance, ascending) {
            (false, false) => SearchOrder::Newest,
            (false, true) => SearchOrder::Oldest,
            (true, false) => SearchOrder::MostRelevant,
            (true, true) => SearchOrder::LeastRelevant,
        };
        Ok(Checked {
            query: Query::parse(content),
            authors,
            mentions,
            has,
            channels,
            min_id,
            max_id,
            pinned,
            order,
            offset,
            limit,
        })
    }
}

/// A list of ids, each a snowflake, at most `max`.
fn ids<'a, T: From<Snowflake> + PartialEq>(
    p: &mut Problems,
    field: &str,
    values: impl Iterator<Item = &'a str>,
    max: usize,
) -> Vec<T> {
    let mut out = Vec::new();
    for (i, raw) in values.enumerate() {
        if i == max {
            p.add(
                field,
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {max} or fewer in length."),
            );
            break;
        }
        match raw.parse::<Snowflake>() {
            Ok(s) => {
                let id = T::from(s);
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            Err(_) => p.add(
                format!("{field}.{i}"),
                "NUMBER_TYPE_COERCE",
                format!("Value \"{raw}\" is not snowflake."),
            ),
        }
    }
    out
}

fn one_id(p: &mut Problems, field: &str, raw: Option<&str>) -> Option<MessageId> {
    let raw = raw?;
    match raw.parse::<MessageId>() {
        Ok(id) => Some(id),
        Err(_) => {
            p.add(
                field,
                "NUMBER_TYPE_COERCE",
                format!("Value \"{raw}\" is not snowflake."),
            );
            None
        }
    }
}

fn number(
    p: &mut Problems,
    field: &str,
    raw: Option<&str>,
    min: u32,
    max: u32,
    default: u32,
) -> u32 {
    let Some(raw) = raw else {
        return default;
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if (i64::from(min)..=i64::from(max)).contains(&n) => n as u32,
        Ok(_) => {
            p.add(
                field,
                "NUMBER_TYPE_OUT_OF_RANGE",
                format!("Must be between {min} and {max}."),
            );
            default
        }
        Err(_) => {
            p.add(
                field,
                "NUMBER_TYPE_COERCE",
                format!("Value \"{raw}\" is not int."),
            );
            default
        }
    }
}

/// Whether a channel holds messages one can search.
fn holds_messages(c: &ChannelRecord) -> bool {
    c.kind != ChannelType::Folder
}

const READ: Permissions = Permissions::VIEW_CHANNEL.union(Permissions::READ_MESSAGE_HISTORY);

impl Messages {
    /// `GET /guilds/{id}/messages/search`: messages of the guild's channels the
    /// searcher can read. A non-member gets `Unknown Guild`.
    pub async fn search_guild(
        &self,
        me: &Principal,
        guild: GuildId,
        params: &SearchParams,
    ) -> Result<SearchResults> {
        let readable = self.readable_channels(me.user_id, guild).await?;
        let checked = params.check()?;
        let scope = if checked.channels.is_empty() {
            let (open, hidden): (Vec<_>, Vec<_>) = readable.iter().partition(|(_, r)| *r);
            let ids = |list: Vec<&(ChannelId, bool)>| list.into_iter().map(|(c, _)| *c).collect();
            if hidden.is_empty() {
                // Every channel is readable: the guild alone says it.
                SearchScope::Guild(guild)
            } else if hidden.len() <= open.len() {
                SearchScope::Except {
                    guild,
                    channels: ids(hidden),
                }
            } else {
                SearchScope::Only {
                    guild,
                    channels: ids(open),
                }
            }
        } else {
            SearchScope::Only {
                guild,
                channels: checked
                    .channels
                    .iter()
                    .copied()
                    .filter(|c| readable.iter().any(|(r, ok)| r == c && *ok))
                    .collect(),
            }
        };
        self.run_search(me, scope, checked, true).await
    }

    /// `GET /channels/{id}/messages/search`: messages of one channel. A channel
    /// the searcher cannot view is `Unknown Channel`; without
    /// `READ_MESSAGE_HISTORY` nothing is found (as history is empty).
    pub async fn search_channel(
        &self,
        me: &Principal,
        channel: ChannelId,
        params: &SearchParams,
    ) -> Result<SearchResults> {
        let access = self.message_access(me.user_id, channel).await?;
        let checked = params.check()?;
        if !access.holds(Permissions::READ_MESSAGE_HISTORY) {
            return Ok(SearchResults {
                total_results: 0,
                total_results_exact: true,
                messages: Vec::new(),
                doing_deep_historical_index: false,
            });
        }
        let in_guild = access.guild_id().is_some();
        let scope = match access.guild_id() {
            Some(guild) => SearchScope::Only {
                guild,
                channels: vec![channel],
            },
            None => SearchScope::Private(channel),
        };
        self.run_search(me, scope, checked, in_guild).await
    }

    async fn run_search(
        &self,
        me: &Principal,
        scope: SearchScope,
        c: Checked,
        in_guild: bool,
    ) -> Result<SearchResults> {
        let search = MessageSearch {
            scope,
            query: c.query,
            authors: c.authors,
            mentions: c.mentions,
            has: c.has,
            min_id: c.min_id,
            max_id: c.max_id,
            pinned: c.pinned,
            order: c.order,
            offset: c.offset,
            limit: c.limit,
            count_cap: beep_store::search::COUNT_CAP,
        };
        let page = self.store.search_messages(&search).await?;
        let mut rendered = self
            .render
            .many(&page.messages, me.user_id, ReactionScope::None)
            .await?;
        let blank = self.blanks_content(me, in_guild).await?;
        if blank {
            for m in &mut rendered {
                super::history::blank_content(m, me);
            }
        }
        let mut messages = Vec::with_capacity(rendered.len());
        for (record, msg) in page.messages.iter().zip(rendered) {
            // A blanked message shows no highlights (they would tell what it said).
            let blanked = blank && msg.content.is_empty();
            let mut v = serde_json::to_value(&msg).map_err(Error::internal)?;
            if let Value::Object(map) = &mut v {
                if let Some(g) = record.guild_id {
                    map.insert("guild_id".into(), Value::String(g.to_string()));
                }
                map.insert("hit".into(), Value::Bool(true));
                let marks = if blanked {
                    Vec::new()
                } else {
                    search.query.highlights(&record.content)
                };
                map.insert(
                    "highlights".into(),
                    Value::Array(marks.into_iter().map(Value::String).collect()),
                );
            }
            messages.push(vec![v]);
        }
        Ok(SearchResults {
            total_results: page.total,
            total_results_exact: page.total_exact,
            messages,
            doing_deep_historical_index: false,
        })
    }

    /// Every channel of `guild` that holds messages, with whether `user` can
    /// read it now (view it and read its history). `Unknown Guild` when the
    /// user is not a member.
    async fn readable_channels(
        &self,
        user: UserId,
        guild: GuildId,
    ) -> Result<Vec<(ChannelId, bool)>> {
        let unknown = || Error::new(ErrorCode::UnknownGuild);
        let generation = self.cache.generation();
        let member = match self.cache.member(guild, user) {
            Some(m) => m,
            None => {
                let m = Arc::new(self.store.member(guild, user).await?.ok_or_else(unknown)?);
                self.cache.put_member(generation, m.clone());
                m
            }
        };
        let state = match self.cache.guild(guild) {
            Some(x) => x,
            None => {
                let record = self.store.guild(guild).await?.ok_or_else(unknown)?;
                let roles = self.store.roles(guild).await?;
                let x = Arc::new((record, roles));
                self.cache.put_guild(generation, x.clone());
                x
            }
        };
        let layout = self.store.channel_layout(guild).await?;
        Ok(layout
            .channels
            .iter()
            .filter(|c| holds_messages(c))
            .map(|c| {
                let perms = permissions_in(&state.0, &state.1, &member, c);
                (c.id, perms.contains(READ))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> SearchParams {
        SearchParams(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<String> {
        match params(pairs).check() {
            Ok(_) => Vec::new(),
            Err(e) => e.fields.keys().cloned().collect(),
        }
    }

    #[test]
    fn defaults_and_lists() {
        let c = params(&[("author_id", "1"), ("author_id", "2"), ("has", "link")])
            .check()
            .expect("valid");
        assert_eq!(c.authors.len(), 2);
        assert_eq!(c.limit, 25);
        assert_eq!(c.offset, 0);
        assert_eq!(c.order, SearchOrder::Newest);
        assert_eq!(c.has, vec![Has::Link]);
        let c = params(&[("sort_by", "relevance"), ("sort_order", "asc")])
            .check()
            .expect("valid");
        assert_eq!(c.order, SearchOrder::LeastRelevant);
    }

    #[test]
    fn bad_values_name_their_field() {
        assert_eq!(fields(&[("limit", "0")]), ["limit"]);
        assert_eq!(fields(&[("limit", "26")]), ["limit"]);
        assert_eq!(fields(&[("offset", "9976")]), ["offset"]);
        assert_eq!(fields(&[("offset", "-1")]), ["offset"]);
        assert_eq!(fields(&[("sort_by", "date")]), ["sort_by"]);
        assert_eq!(fields(&[("sort_order", "up")]), ["sort_order"]);
        assert_eq!(fields(&[("author_id", "x")]), ["author_id.0"]);
        assert_eq!(fields(&[("has", "cat")]), ["has.0"]);
        assert_eq!(fields(&[("pinned", "maybe")]), ["pinned"]);
        assert_eq!(fields(&[("min_id", "-5")]), ["min_id"]);
        let long = "a".repeat(MAX_CONTENT_CHARS + 1);
        assert_eq!(fields(&[("content", &long)]), ["content"]);
        let many: Vec<(String, String)> = (0..=MAX_USERS)
            .map(|i| ("mentions".to_owned(), i.to_string()))
            .collect();
        assert!(SearchParams(many).check().is_err());
    }
}
