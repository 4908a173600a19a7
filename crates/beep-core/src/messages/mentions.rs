//! Mentions: what a message's content mentions (`<@id>`, `<@!id>`, `<@&role>`,
//! `<#channel>`, `@everyone`, `@here`), and which of those `allowed_mentions`
//! lets through. Pure functions; the service checks existence and permissions.
//!
//! Text inside code (``` fences and `inline` spans) mentions nobody, as Discord's
//! clients render it literally.

use beep_types::v10::message::AllowedMentions;
use beep_types::{ChannelId, RoleId, Snowflake, UserId};

use crate::error::{Error, Result};

/// What the content names, each id once, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub users: Vec<UserId>,
    pub roles: Vec<RoleId>,
    pub channels: Vec<ChannelId>,
    /// `@everyone` or `@here` appears.
    pub everyone: bool,
}

/// Most ids of one kind taken from one message; the rest are plain text.
pub const MAX_PARSED: usize = 100;

/// The mentions in `content`, outside code.
pub fn parse(content: &str) -> Parsed {
    let mut out = Parsed::default();
    for text in outside_code(content) {
        scan(text, &mut out);
    }
    out
}

/// The parts of `content` that are not code: fenced blocks (```) first, then
/// inline spans (`) within what is left. An unclosed fence or span is text.
fn outside_code(content: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    for (i, chunk) in split_closed(content, "```").into_iter().enumerate() {
        if i % 2 == 0 {
            for (j, inner) in split_closed(chunk, "`").into_iter().enumerate() {
                if j % 2 == 0 {
                    parts.push(inner);
                }
            }
        }
    }
    parts
}

/// Split on `delim`, but only at delimiters that pair up: an odd last one stays
/// in the text (so "a ``` b" has no code). Even indexes are text, odd ones code.
fn split_closed<'a>(s: &'a str, delim: &str) -> Vec<&'a str> {
    let mut pieces: Vec<&str> = s.split(delim).collect();
    if pieces.len().is_multiple_of(2) {
        // An odd number of delimiters: the last one opens nothing, so the last
        // two pieces are one stretch of text.
        pieces.pop();
        if let Some(prev) = pieces.pop() {
            let start = prev.as_ptr() as usize - s.as_ptr() as usize;
            pieces.push(&s[start..]);
        }
    }
    pieces
}

/// Add the mentions of one stretch of text.
fn scan(text: &str, out: &mut Parsed) {
    if text.contains("@everyone") || text.contains("@here") {
        out.everyone = true;
    }
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('>') else { break };
        let inner = &rest[..end];
        if let Some(id) = inner.strip_prefix("@&").and_then(snowflake) {
            push(&mut out.roles, RoleId(id));
        } else if let Some(id) = inner
            .strip_prefix("@!")
            .or_else(|| inner.strip_prefix('@'))
            .and_then(snowflake)
        {
            push(&mut out.users, UserId(id));
        } else if let Some(id) = inner.strip_prefix('#').and_then(snowflake) {
            push(&mut out.channels, ChannelId(id));
        } else {
            // Not a mention: look again from just after this `<`.
            continue;
        }
        rest = &rest[end + 1..];
    }
}

fn push<T: PartialEq>(list: &mut Vec<T>, v: T) {
    if list.len() < MAX_PARSED && !list.contains(&v) {
        list.push(v);
    }
}

/// A snowflake written as digits only (no sign, at most 20 digits, not zero).
fn snowflake(s: &str) -> Option<Snowflake> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u64 = s.parse().ok()?;
    (v > 0 && v <= i64::MAX as u64).then_some(Snowflake(v))
}

/// What `allowed_mentions` lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// Every parsed user, or only these.
    pub users: Filter<UserId>,
    pub roles: Filter<RoleId>,
    pub everyone: bool,
    /// Whether a reply mentions the author of the message replied to.
    pub replied_user: bool,
}

/// A mention filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter<T> {
    All,
    Only(Vec<T>),
}

impl<T: PartialEq + Copy> Filter<T> {
    /// The ids of `parsed` this filter lets through.
    pub fn apply(&self, parsed: &[T]) -> Vec<T> {
        match self {
            Filter::All => parsed.to_vec(),
            Filter::Only(ids) => parsed.iter().copied().filter(|p| ids.contains(p)).collect(),
        }
    }
}

/// Most ids in `allowed_mentions.users` or `.roles`.
pub const MAX_ALLOWED_IDS: usize = 100;

/// Read `allowed_mentions`: absent lets everything through (replies mention the
/// replied user); present lets through only what it names. Refuses unknown parse
/// types, lists over 100 ids, and a kind both in `parse` and listed by id.
pub fn allowed(am: Option<&AllowedMentions>) -> Result<Allowed> {
    let Some(am) = am else {
        return Ok(Allowed {
            users: Filter::All,
            roles: Filter::All,
            everyone: true,
            replied_user: true,
        });
    };
    let parse = am.parse.clone().unwrap_or_default();
    let mut problems: Option<Error> = None;
    let mut add = |path: String, code: &str, msg: String| {
        problems = Some(match problems.take() {
            Some(e) => e.and_field(path, code, msg),
            None => Error::field(path, code, msg),
        });
    };
    for (i, p) in parse.iter().enumerate() {
        if !matches!(p.as_str(), "users" | "roles" | "everyone") {
            add(
                format!("allowed_mentions.parse.{i}"),
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').".into(),
            );
        }
    }
    let parse_users = parse.iter().any(|p| p == "users");
    let parse_roles = parse.iter().any(|p| p == "roles");
    let users = am.users.clone().unwrap_or_default();
    let roles = am.roles.clone().unwrap_or_default();
    for (field, n, parsed) in [
        ("users", users.len(), parse_users),
        ("roles", roles.len(), parse_roles),
    ] {
        if n > MAX_ALLOWED_IDS {
            add(
                format!("allowed_mentions.{field}"),
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_ALLOWED_IDS} or fewer in length."),
            );
        }
        if parsed && n > 0 {
            add(
                "allowed_mentions".into(),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                format!("parse:[\"{field}\"] and {field}: [ids...] are mutually exclusive."),
            );
        }
    }
    if let Some(e) = problems {
        return Err(e);
    }
    Ok(Allowed {
        users: if parse_users {
            Filter::All
        } else {
            Filter::Only(users)
        },
        roles: if parse_roles {
            Filter::All
        } else {
            Filter::Only(roles)
        },
        everyone: parse.iter().any(|p| p == "everyone"),
        replied_user: am.replied_user.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(v: u64) -> UserId {
        UserId(Snowflake(v))
    }

    #[test]
    fn every_form_is_parsed_once_in_order() {
        let p = parse("hi <@12> and <@!34> <@12> <@&56> in <#78> @here");
        assert_eq!(p.users, vec![u(12), u(34)]);
        assert_eq!(p.roles, vec![RoleId(Snowflake(56))]);
        assert_eq!(p.channels, vec![ChannelId(Snowflake(78))]);
        assert!(p.everyone);
        assert!(parse("@everyone").everyone);
        assert!(!parse("everyone here").everyone);
    }

    #[test]
    fn malformed_mentions_are_text() {
        let p = parse("<@> <@-1> <@abc> <@0> <@99999999999999999999999> <@1 2> <<@5>> <@&> <#>");
        assert_eq!(p.users, vec![u(5)]);
        assert!(p.roles.is_empty() && p.channels.is_empty());
        assert_eq!(parse("<@9223372036854775808>").users, vec![], "beyond i64");
        assert_eq!(parse("<@").users, vec![]);
    }

    #[test]
    fn code_mentions_nobody() {
        let p = parse("`<@1>` ```\n@everyone <@2>\n``` <@3>");
        assert_eq!(p.users, vec![u(3)]);
        assert!(!p.everyone);
        assert_eq!(
            parse("a ` <@4>").users,
            vec![u(4)],
            "an unpaired backtick is text"
        );
        assert_eq!(
            parse("``` <@5>").users,
            vec![u(5)],
            "an unpaired fence is text"
        );
    }

    #[test]
    fn parsing_is_bounded() {
        let many: String = (1..=300).map(|i| format!("<@{i}>")).collect();
        assert_eq!(parse(&many).users.len(), MAX_PARSED);
    }

    #[test]
    fn absent_allowed_mentions_allow_everything() {
        let a = allowed(None).expect("ok");
        assert_eq!(a.users, Filter::All);
        assert!(a.everyone && a.replied_user);
    }

    #[test]
    fn present_allowed_mentions_allow_what_they_name() {
        let am = AllowedMentions {
            parse: Some(vec!["roles".into()]),
            users: Some(vec![u(1)]),
            roles: None,
            replied_user: None,
        };
        let a = allowed(Some(&am)).expect("ok");
        assert_eq!(a.users.apply(&[u(1), u(2)]), vec![u(1)]);
        assert_eq!(a.roles, Filter::All);
        assert!(!a.everyone && !a.replied_user);
        let none = allowed(Some(&AllowedMentions::default())).expect("ok");
        assert!(none.users.apply(&[u(1)]).is_empty());
    }

    #[test]
    fn contradictions_and_unknown_types_are_refused() {
        let am = AllowedMentions {
            parse: Some(vec!["users".into(), "bogus".into()]),
            users: Some(vec![u(1)]),
            roles: None,
            replied_user: None,
        };
        let e = allowed(Some(&am)).expect_err("refused");
        assert!(e.fields.contains_key("allowed_mentions"), "{e:?}");
        assert!(e.fields.contains_key("allowed_mentions.parse.1"), "{e:?}");
        let too_many = AllowedMentions {
            users: Some((1..=101).map(u).collect()),
            ..Default::default()
        };
        assert!(allowed(Some(&too_many)).is_err());
    }
}
