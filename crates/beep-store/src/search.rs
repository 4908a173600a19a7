//! Message search: the query form, the trait, and the full-text expressions of
//! both engines.
//!
//! The index is kept by the message writes themselves, in the same transaction
//! (SQLite: the FTS5 table `message_search`, rows keyed by message id, deleted
//! by a trigger, so cascades from channel and guild deletes reach it too;
//! PostgreSQL: a `tsvector` row in `message_search` with a GIN index, deleted
//! by its foreign key). What goes in is [`beep_search::Document`]: the same
//! analyzer for both backends, so both find the same messages.
//!
//! Every filter, the scope included, is a token of the document (see
//! `beep_search::document`), so a search and its count are answered by the
//! full-text engine alone; only `pinned` (which changes without an edit) reads
//! the message rows.

use async_trait::async_trait;

use beep_search::{Document, Has, MessageFields, Query, Term};
use beep_types::{ChannelId, GuildId, MessageId, UserId};

use crate::Result;
use crate::messages::{MessageRecord, NewMessage};

/// Where to search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchScope {
    /// Every channel of a guild.
    Guild(GuildId),
    /// These channels of a guild (none: nothing is found).
    Only {
        guild: GuildId,
        channels: Vec<ChannelId>,
    },
    /// Every channel of a guild but these (the cheaper form when a searcher
    /// reads most channels: the excluded ones are looked up only for the
    /// messages that match otherwise).
    Except {
        guild: GuildId,
        channels: Vec<ChannelId>,
    },
    /// A DM or group channel.
    Private(ChannelId),
}

impl SearchScope {
    /// The id whose [`beep_search::document::scope_prefix`] the text tokens
    /// of the messages in scope carry.
    fn prefix(&self) -> String {
        let id = match self {
            SearchScope::Guild(g)
            | SearchScope::Only { guild: g, .. }
            | SearchScope::Except { guild: g, .. } => g.as_i64(),
            SearchScope::Private(c) => c.as_i64(),
        };
        beep_search::document::scope_prefix(id)
    }
}

/// The order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrder {
    Newest,
    Oldest,
    MostRelevant,
    LeastRelevant,
}

/// A message search.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSearch {
    pub scope: SearchScope,
    /// The parsed `content`; may be empty.
    pub query: Query,
    /// Any of these authors (none: any author).
    pub authors: Vec<UserId>,
    /// Mentioning any of these users.
    pub mentions: Vec<UserId>,
    /// Having every one of these.
    pub has: Vec<Has>,
    /// Ids strictly above / below.
    pub min_id: Option<MessageId>,
    pub max_id: Option<MessageId>,
    pub pinned: Option<bool>,
    pub order: SearchOrder,
    pub offset: u32,
    pub limit: u32,
    /// Count matches exactly up to this many; beyond, the total is this
    /// number and not exact (see [`SearchPage::total_exact`]).
    pub count_cap: u32,
}

/// The usual count cap: Discord's deepest page ends at offset + limit =
/// 10,000, so every reachable page is within an exact count.
pub const COUNT_CAP: u32 = 10_000;

/// A page of results (by default: none, counted exactly).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// How many messages match in all, counted up to the search's
    /// `count_cap`: beyond it, the cap.
    pub total: u64,
    /// Whether `total` is the exact count (false: more than `count_cap` match).
    pub total_exact: bool,
    /// The page, in the order asked.
    pub messages: Vec<MessageRecord>,
}

impl Default for SearchPage {
    fn default() -> Self {
        SearchPage {
            total: 0,
            total_exact: true,
            messages: Vec::new(),
        }
    }
}

/// The search index.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// The messages matching `s` (their number, and the page asked for).
    async fn search_messages(&self, s: &MessageSearch) -> Result<SearchPage>;
    /// Empty the index (the first step of a rebuild).
    async fn clear_search_index(&self) -> Result<()>;
    /// Index again up to `limit` messages with ids above `after`, oldest first,
    /// in one transaction; returns the last id done, `None` when there were no
    /// more.
    async fn reindex_messages(
        &self,
        after: Option<MessageId>,
        limit: u32,
    ) -> Result<Option<MessageId>>;
    /// How many messages there are (the size of a rebuild).
    async fn count_messages(&self) -> Result<u64>;
    /// Rebuild the discovery index (the analyzed names and descriptions of
    /// every guild) in one transaction; returns how many guilds it holds.
    async fn reindex_guilds(&self) -> Result<u64>;
}

/// The index document of a new message.
pub(crate) fn new_message_document(m: &NewMessage) -> Document {
    let mentions: Vec<i64> = m.mention_users.iter().map(|u| u.as_i64()).collect();
    Document::of_message(&MessageFields {
        guild_id: m.guild_id.map(GuildId::as_i64),
        channel_id: m.channel_id.as_i64(),
        author_id: m.author_id.as_i64(),
        mention_users: &mentions,
        content: &m.content,
        embeds: &m.embeds,
        attachments: &m.attachments,
    })
}

/// The index document of a stored message.
pub(crate) fn message_document(m: &MessageRecord) -> Document {
    let mentions: Vec<i64> = m.mention_users.iter().map(|u| u.as_i64()).collect();
    Document::of_message(&MessageFields {
        guild_id: m.guild_id.map(GuildId::as_i64),
        channel_id: m.channel_id.as_i64(),
        author_id: m.author_id.as_i64(),
        mention_users: &mentions,
        content: &m.content,
        embeds: &m.embeds,
        attachments: &m.attachments,
    })
}

/// The index document of a bulk-loaded message (plain text, no mentions).
pub(crate) fn seed_document(m: &crate::bulk::SeedMessage) -> Document {
    Document::of_message(&MessageFields {
        guild_id: m.guild_id.map(GuildId::as_i64),
        channel_id: m.channel_id.as_i64(),
        author_id: m.author_id.as_i64(),
        mention_users: &[],
        content: &m.content,
        embeds: "[]",
        attachments: "[]",
    })
}

/// The meta tokens every result must have, as groups of alternatives. The
/// scope needs no token when the search has words (they carry it, see
/// [`SearchScope::prefix`]), except to pick some of a guild's channels.
fn meta_groups(s: &MessageSearch) -> Vec<Vec<String>> {
    use beep_search::document::{author_token, channel_token, guild_token, mention_token};
    let mut groups = Vec::new();
    let words = !s.query.terms.is_empty();
    match &s.scope {
        SearchScope::Guild(g) | SearchScope::Except { guild: g, .. } if !words => {
            groups.push(vec![guild_token(g.as_i64())]);
        }
        SearchScope::Private(c) if !words => groups.push(vec![channel_token(c.as_i64())]),
        SearchScope::Only { channels, .. } => {
            groups.push(channels.iter().map(|c| channel_token(c.as_i64())).collect());
        }
        _ => {}
    }
    if !s.authors.is_empty() {
        groups.push(s.authors.iter().map(|a| author_token(a.as_i64())).collect());
    }
    if !s.mentions.is_empty() {
        groups.push(
            s.mentions
                .iter()
                .map(|u| mention_token(u.as_i64()))
                .collect(),
        );
    }
    for h in &s.has {
        groups.push(vec![h.token()]);
    }
    groups
}

/// The meta tokens no result may have (the channels an `Except` scope leaves
/// out).
fn excluded(s: &MessageSearch) -> Vec<String> {
    match &s.scope {
        SearchScope::Except { channels, .. } => channels
            .iter()
            .map(|c| beep_search::document::channel_token(c.as_i64()))
            .collect(),
        _ => Vec::new(),
    }
}

/// An FTS5 string: tokens never hold `"`, but quote it the FTS5 way anyway.
fn fts5_string(tokens: &[&str]) -> String {
    format!("\"{}\"", tokens.join(" ").replace('"', "\"\""))
}

/// The FTS5 `MATCH` expression of a search (columns `plain`, `english`,
/// `french`, `meta`).
pub(crate) fn fts5_match(s: &MessageSearch) -> String {
    let prefix = s.scope.prefix();
    let mut parts: Vec<String> = meta_groups(s)
        .into_iter()
        .map(|alts| {
            let alts: Vec<String> = alts.iter().map(|t| fts5_string(&[t])).collect();
            format!("meta : ({})", alts.join(" OR "))
        })
        .collect();
    for term in &s.query.terms {
        parts.push(fts5_term(term, &prefix));
    }
    let all = parts.join(" AND ");
    let out = excluded(s);
    if out.is_empty() {
        return all;
    }
    let out: Vec<String> = out.iter().map(|t| fts5_string(&[t])).collect();
    format!("({all}) NOT meta : ({})", out.join(" OR "))
}

fn fts5_term(term: &Term, prefix: &str) -> String {
    let scoped = |pick: &dyn Fn(&beep_search::QueryToken) -> &str| -> Vec<String> {
        term.tokens
            .iter()
            .map(|t| format!("{prefix}{}", pick(t)))
            .collect()
    };
    let strs = |v: &[String]| fts5_string(&v.iter().map(String::as_str).collect::<Vec<_>>());
    if term.prefix {
        return format!("plain : {} *", strs(&scoped(&|t| &t.plain)));
    }
    let en = scoped(&|t| &t.english);
    let fr = scoped(&|t| &t.french);
    if en == fr {
        // One phrase over both columns reads its posting list once, not twice.
        return format!("{{english french}} : {}", strs(&en));
    }
    format!("(english : {} OR french : {})", strs(&en), strs(&fr))
}

/// The lexeme prefix of each column in the PostgreSQL `tsvector`.
const PG_COLUMNS: [&str; 4] = ["p.", "e.", "f.", "x."];

/// A quoted `tsvector`/`tsquery` lexeme.
fn pg_lexeme(column: usize, token: &str) -> String {
    let text = format!("{}{}", PG_COLUMNS[column], token);
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// The `tsvector` literal of a document: every column's tokens with their
/// lexeme prefix and positions (positions above 16383 share the last one, as
/// PostgreSQL keeps them).
pub(crate) fn pg_tsvector(d: &Document) -> String {
    let mut lexemes: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (column, text) in d.columns().into_iter().enumerate() {
        for (i, token) in text.split(' ').filter(|t| !t.is_empty()).enumerate() {
            let positions = lexemes.entry(pg_lexeme(column, token)).or_default();
            let pos = (i + 1).min(16383);
            if positions.last() != Some(&pos) {
                positions.push(pos);
            }
        }
    }
    let mut out = String::new();
    for (lexeme, positions) in lexemes {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&lexeme);
        out.push(':');
        let list: Vec<String> = positions.iter().map(|p| p.to_string()).collect();
        out.push_str(&list.join(","));
    }
    out
}

/// The `tsquery` text of a search.
pub(crate) fn pg_tsquery(s: &MessageSearch) -> String {
    let prefix = s.scope.prefix();
    let mut parts: Vec<String> = meta_groups(s)
        .into_iter()
        .map(|alts| {
            let alts: Vec<String> = alts.iter().map(|t| pg_lexeme(3, t)).collect();
            format!("({})", alts.join(" | "))
        })
        .collect();
    for term in &s.query.terms {
        parts.push(pg_term(term, &prefix));
    }
    let out = excluded(s);
    if !out.is_empty() {
        let out: Vec<String> = out.iter().map(|t| pg_lexeme(3, t)).collect();
        parts.push(format!("!({})", out.join(" | ")));
    }
    parts.join(" & ")
}

fn pg_term(term: &Term, prefix: &str) -> String {
    let phrase = |column: usize, pick: &dyn Fn(&beep_search::QueryToken) -> &str| {
        let n = term.tokens.len();
        let lexemes: Vec<String> = term
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let l = pg_lexeme(column, &format!("{prefix}{}", pick(t)));
                if term.prefix && i + 1 == n {
                    format!("{l}:*")
                } else {
                    l
                }
            })
            .collect();
        format!("({})", lexemes.join(" <-> "))
    };
    if term.prefix {
        return phrase(0, &|t| &t.plain);
    }
    format!(
        "({} | {})",
        phrase(1, &|t| &t.english),
        phrase(2, &|t| &t.french)
    )
}

// SQL text.

pub(crate) const SQLITE_INDEX: &str = "INSERT INTO message_search \
     (rowid, plain, english, french, meta) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const SQLITE_UNINDEX: &str = "DELETE FROM message_search WHERE rowid = $1";
pub(crate) const SQLITE_CLEAR: &str =
    "INSERT INTO message_search (message_search) VALUES ('delete-all')";
pub(crate) const PG_INDEX: &str = "INSERT INTO message_search (message_id, doc) \
     VALUES ($1, CAST($2 AS TEXT)::tsvector) \
     ON CONFLICT (message_id) DO UPDATE SET doc = excluded.doc";
pub(crate) const PG_INDEX_MANY: &str = "INSERT INTO message_search (message_id, doc) \
     SELECT id, CAST(d AS tsvector) FROM UNNEST($1::BIGINT[], $2::TEXT[]) AS t (id, d) \
     ON CONFLICT (message_id) DO UPDATE SET doc = excluded.doc";
pub(crate) const PG_CLEAR: &str = "TRUNCATE message_search";
pub(crate) const COUNT_MESSAGES: &str = "SELECT COUNT(*) FROM messages";
/// A batch of a rebuild, oldest first.
pub(crate) const MESSAGES_AFTER: &str = "SELECT id, channel_id, guild_id, author_id, \
     mention_users, content, embeds, attachments FROM messages WHERE id > $1 ORDER BY id LIMIT $2";

/// A row of [`MESSAGES_AFTER`], as plain values.
pub(crate) struct IndexRow {
    pub id: i64,
    pub channel_id: i64,
    pub guild_id: Option<i64>,
    pub author_id: i64,
    pub mention_users: String,
    pub content: String,
    pub embeds: String,
    pub attachments: String,
}

impl IndexRow {
    /// Its index document.
    pub(crate) fn document(&self) -> Document {
        let mentions: Vec<i64> = crate::messages::id_list::<UserId>(&self.mention_users)
            .iter()
            .map(|u| u.as_i64())
            .collect();
        Document::of_message(&MessageFields {
            guild_id: self.guild_id,
            channel_id: self.channel_id,
            author_id: self.author_id,
            mention_users: &mentions,
            content: &self.content,
            embeds: &self.embeds,
            attachments: &self.attachments,
        })
    }
}

/// The `WHERE` clause of a SQLite search after the `MATCH`: id bounds as
/// `$2`, `$3`, the pinned filter, which reads the message rows.
pub(crate) fn sqlite_filters(pinned: Option<bool>) -> &'static str {
    match pinned {
        None => "rowid > $2 AND rowid < $3",
        Some(true) => {
            "rowid > $2 AND rowid < $3 AND rowid IN \
             (SELECT id FROM messages WHERE pinned_at IS NOT NULL)"
        }
        Some(false) => {
            "rowid > $2 AND rowid < $3 AND rowid NOT IN \
             (SELECT id FROM messages WHERE pinned_at IS NOT NULL)"
        }
    }
}

/// The same for PostgreSQL, on `message_search s`.
pub(crate) fn pg_filters(pinned: Option<bool>) -> &'static str {
    match pinned {
        None => "s.message_id > $2 AND s.message_id < $3",
        Some(true) => {
            "s.message_id > $2 AND s.message_id < $3 AND EXISTS (SELECT 1 FROM messages m \
             WHERE m.id = s.message_id AND m.pinned_at IS NOT NULL)"
        }
        Some(false) => {
            "s.message_id > $2 AND s.message_id < $3 AND NOT EXISTS (SELECT 1 FROM messages m \
             WHERE m.id = s.message_id AND m.pinned_at IS NOT NULL)"
        }
    }
}

/// The id bounds of a search as an open interval.
pub(crate) fn id_bounds(s: &MessageSearch) -> (i64, i64) {
    (
        s.min_id.map_or(i64::MIN, |m| m.as_i64()),
        s.max_id.map_or(i64::MAX, |m| m.as_i64()),
    )
}

/// Whether the search can match nothing (no channel in scope).
pub(crate) fn is_void(s: &MessageSearch) -> bool {
    matches!(&s.scope, SearchScope::Only { channels, .. } if channels.is_empty())
}

/// The total of a count taken up to `cap + 1` rows: `(total, exact)`.
pub(crate) fn capped_total(counted: i64, cap: u32) -> (u64, bool) {
    let counted = u64::try_from(counted).unwrap_or(0);
    if counted > u64::from(cap) {
        (u64::from(cap), false)
    } else {
        (counted, true)
    }
}

/// Put fetched messages in the order of `ids`.
pub(crate) fn in_order(ids: &[i64], mut found: Vec<MessageRecord>) -> Vec<MessageRecord> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(i) = found.iter().position(|m| m.id.as_i64() == *id) {
            out.push(found.swap_remove(i));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(content: &str) -> MessageSearch {
        MessageSearch {
            scope: SearchScope::Guild(GuildId::from_i64(1)),
            query: Query::parse(content),
            authors: vec![UserId::from_i64(2), UserId::from_i64(3)],
            mentions: vec![],
            has: vec![Has::Link],
            min_id: None,
            max_id: None,
            pinned: None,
            order: SearchOrder::Newest,
            offset: 0,
            limit: 25,
            count_cap: COUNT_CAP,
        }
    }

    #[test]
    fn fts5_expressions_quote_everything() {
        assert_eq!(
            fts5_match(&search(r#"Running "big cat" conf*"#)),
            "meta : (\"a2\" OR \"a3\") AND meta : (\"hlink\") AND \
             (english : \"s1srun\" OR french : \"s1srunning\") AND \
             {english french} : \"s1sbig s1scat\" AND plain : \"s1sconf\" *"
        );
        // Without words the scope is a token; an `Except` scope excludes.
        let mut s = search("");
        s.scope = SearchScope::Except {
            guild: GuildId::from_i64(1),
            channels: vec![ChannelId::from_i64(5), ChannelId::from_i64(6)],
        };
        assert_eq!(
            fts5_match(&s),
            "(meta : (\"g1\") AND meta : (\"a2\" OR \"a3\") AND meta : (\"hlink\")) \
             NOT meta : (\"c5\" OR \"c6\")"
        );
        s.scope = SearchScope::Private(ChannelId::from_i64(9));
        s.query = Query::parse("hi");
        s.authors.clear();
        s.has.clear();
        assert_eq!(fts5_match(&s), "{english french} : \"s9shi\"");
    }

    #[test]
    fn tsqueries_quote_everything() {
        assert_eq!(
            pg_tsquery(&search("big conf*")),
            "('x.a2' | 'x.a3') & ('x.hlink') & (('e.s1sbig') | ('f.s1sbig')) & ('p.s1sconf':*)"
        );
        let mut s = search("big");
        s.scope = SearchScope::Only {
            guild: GuildId::from_i64(1),
            channels: vec![ChannelId::from_i64(5)],
        };
        s.authors.clear();
        s.has.clear();
        assert_eq!(pg_tsquery(&s), "('x.c5') & (('e.s1sbig') | ('f.s1sbig'))");
        s.scope = SearchScope::Except {
            guild: GuildId::from_i64(1),
            channels: vec![ChannelId::from_i64(5)],
        };
        assert_eq!(pg_tsquery(&s), "(('e.s1sbig') | ('f.s1sbig')) & !('x.c5')");
    }

    #[test]
    fn tsvectors_keep_positions() {
        let d = Document {
            plain: "a b a".into(),
            english: "a b a".into(),
            french: "a b a".into(),
            meta: "g1".into(),
        };
        assert_eq!(
            pg_tsvector(&d),
            "'e.a':1,3 'e.b':2 'f.a':1,3 'f.b':2 'p.a':1,3 'p.b':2 'x.g1':1"
        );
    }
}
