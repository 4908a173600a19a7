//! What the index keeps of a message: its text in three aligned forms, and its
//! filterable facts as tokens.
//!
//! `plain`, `english` and `french` hold one token per position of the text
//! (folded words, their English stems, their French stems), so a phrase is a
//! run of adjacent positions in any of them. `meta` holds the facts filters ask
//! about, one token each: `g<guild>`, `c<channel>`, `a<author>`, `m<user>` per
//! mentioned user and `h<kind>` per [`Has`]. Putting them in the index lets the
//! full-text engine answer a whole search, counting included, from its own
//! posting lists without reading a message row.

use serde_json::Value;

use crate::analyze::{Kind, index_tokens};

/// Something a message has, as Discord's `has` filter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Has {
    Link,
    Embed,
    File,
    Image,
    Video,
    Sound,
}

impl Has {
    /// Every kind, in Discord's order.
    pub const ALL: [Has; 6] = [
        Has::Link,
        Has::Embed,
        Has::File,
        Has::Image,
        Has::Video,
        Has::Sound,
    ];

    /// Discord's name of it.
    pub fn name(self) -> &'static str {
        match self {
            Has::Link => "link",
            Has::Embed => "embed",
            Has::File => "file",
            Has::Image => "image",
            Has::Video => "video",
            Has::Sound => "sound",
        }
    }

    /// The kind Discord calls `name`.
    pub fn parse(name: &str) -> Option<Has> {
        Has::ALL.into_iter().find(|h| h.name() == name)
    }

    /// Its token in `meta`.
    pub fn token(self) -> String {
        format!("h{}", self.name())
    }
}

/// The meta token of a guild.
pub fn guild_token(id: i64) -> String {
    format!("g{id}")
}

/// The meta token of a channel.
pub fn channel_token(id: i64) -> String {
    format!("c{id}")
}

/// The meta token of an author.
pub fn author_token(id: i64) -> String {
    format!("a{id}")
}

/// The meta token of a mentioned user.
pub fn mention_token(id: i64) -> String {
    format!("m{id}")
}

/// The prefix of every text token of a message: the id of its guild, or of
/// its channel for a DM or group. A search of a guild asks for its prefixed
/// words, so the engine walks only that guild's postings of each word instead
/// of intersecting them with the guild's `g` token, whose posting list holds
/// every message of the guild. Digits between two letters: one scope's tokens
/// can never be another's.
pub fn scope_prefix(id: i64) -> String {
    format!("s{id}s")
}

/// The parts of a message the index is built from.
#[derive(Debug, Clone, Copy)]
pub struct MessageFields<'a> {
    pub guild_id: Option<i64>,
    pub channel_id: i64,
    pub author_id: i64,
    pub mention_users: &'a [i64],
    pub content: &'a str,
    /// A JSON array of embed objects.
    pub embeds: &'a str,
    /// A JSON array of stored attachments (with `content_type`).
    pub attachments: &'a str,
}

/// One message as the index keeps it: space-separated tokens per column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub plain: String,
    pub english: String,
    pub french: String,
    pub meta: String,
}

impl Document {
    /// The document of a message: its content and the titles and descriptions
    /// of its embeds as text; its guild, channel, author, mentions and what it
    /// has as meta tokens.
    pub fn of_message(m: &MessageFields<'_>) -> Document {
        let embeds: Vec<Value> = serde_json::from_str(m.embeds).unwrap_or_default();
        let attachments: Vec<Value> = serde_json::from_str(m.attachments).unwrap_or_default();
        let mut text = m.content.to_owned();
        for e in &embeds {
            for key in ["title", "description"] {
                if let Some(s) = e.get(key).and_then(Value::as_str) {
                    text.push('\n');
                    text.push_str(s);
                }
            }
        }
        let mut doc = Document::of_text(&text);
        let prefix = scope_prefix(m.guild_id.unwrap_or(m.channel_id));
        for column in [&mut doc.plain, &mut doc.english, &mut doc.french] {
            *column = prefixed(column, &prefix);
        }
        let mut meta = Vec::new();
        if let Some(g) = m.guild_id {
            meta.push(guild_token(g));
        }
        meta.push(channel_token(m.channel_id));
        meta.push(author_token(m.author_id));
        for u in m.mention_users {
            meta.push(mention_token(*u));
        }
        for h in has(m.content, &embeds, &attachments) {
            meta.push(h.token());
        }
        doc.meta = meta.join(" ");
        doc
    }

    /// The three text columns of `text`; `meta` empty.
    pub fn of_text(text: &str) -> Document {
        let tokens = index_tokens(text);
        let mut doc = Document::default();
        for (i, t) in tokens.iter().enumerate() {
            if i > 0 {
                doc.plain.push(' ');
                doc.english.push(' ');
                doc.french.push(' ');
            }
            doc.plain.push_str(&t.text);
            if t.kind == Kind::Word {
                doc.english.push_str(&t.english());
                doc.french.push_str(&t.french());
            } else {
                doc.english.push_str(&t.text);
                doc.french.push_str(&t.text);
            }
        }
        doc
    }

    /// The columns in order: plain, english, french, meta.
    pub fn columns(&self) -> [&str; 4] {
        [&self.plain, &self.english, &self.french, &self.meta]
    }
}

/// Every space-separated token of `column` behind `prefix`.
fn prefixed(column: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(column.len() + column.len() / 3 * prefix.len());
    if column.is_empty() {
        return out;
    }
    // Positions stay aligned across the columns: every piece is prefixed.
    for (i, token) in column.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(prefix);
        out.push_str(token);
    }
    out
}

/// What a message has: a link in its content, embeds, attachments, and images,
/// videos or sounds among its attachments (or image and video embeds).
fn has(content: &str, embeds: &[Value], attachments: &[Value]) -> Vec<Has> {
    let mut out = Vec::new();
    let lower = content.to_ascii_lowercase();
    if lower.contains("http://") || lower.contains("https://") {
        out.push(Has::Link);
    }
    if !embeds.is_empty() {
        out.push(Has::Embed);
    }
    if !attachments.is_empty() {
        out.push(Has::File);
    }
    let types: Vec<&str> = attachments
        .iter()
        .filter_map(|a| a.get("content_type").and_then(Value::as_str))
        .collect();
    let embed_types: Vec<&str> = embeds
        .iter()
        .filter_map(|e| e.get("type").and_then(Value::as_str))
        .collect();
    if types.iter().any(|t| t.starts_with("image/"))
        || embed_types.iter().any(|t| matches!(*t, "image" | "gifv"))
    {
        out.push(Has::Image);
    }
    if types.iter().any(|t| t.starts_with("video/")) || embed_types.contains(&"video") {
        out.push(Has::Video);
    }
    if types.iter().any(|t| t.starts_with("audio/")) {
        out.push(Has::Sound);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_stay_aligned() {
        let d = Document::of_text("Running chevaux 東京");
        assert_eq!(d.plain, "running chevaux 東京 京");
        let n = |s: &str| s.split(' ').count();
        assert_eq!(n(&d.plain), n(&d.english));
        assert_eq!(n(&d.plain), n(&d.french));
        assert!(d.english.starts_with("run "));
    }

    #[test]
    fn meta_lists_the_facts() {
        let d = Document::of_message(&MessageFields {
            guild_id: Some(1),
            channel_id: 2,
            author_id: 3,
            mention_users: &[4],
            content: "see https://example.com",
            embeds: r#"[{"type":"image","title":"A cat"}]"#,
            attachments: r#"[{"content_type":"audio/ogg"}]"#,
        });
        assert_eq!(d.meta, "g1 c2 a3 m4 hlink hembed hfile himage hsound");
        assert!(d.plain.ends_with("s1sa s1scat"), "{}", d.plain);
    }

    #[test]
    fn text_tokens_carry_their_scope() {
        let fields = |guild_id| MessageFields {
            guild_id,
            channel_id: 22,
            author_id: 3,
            mention_users: &[],
            content: "Running home",
            embeds: "[]",
            attachments: "[]",
        };
        let d = Document::of_message(&fields(Some(7)));
        assert_eq!(d.plain, "s7srunning s7shome");
        assert_eq!(d.english, "s7srun s7shome");
        // A DM or group: its channel is the scope.
        let d = Document::of_message(&fields(None));
        assert_eq!(d.plain, "s22srunning s22shome");
        let d = Document::of_message(&MessageFields {
            content: "",
            ..fields(Some(7))
        });
        assert_eq!((d.plain.as_str(), d.french.as_str()), ("", ""));
    }
}
