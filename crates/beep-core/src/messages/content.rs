//! What a message may contain: content length in Unicode scalar values, nonces,
//! embeds within Discord's limits, flags a client may set. Pure functions that
//! collect every problem into one `Invalid Form Body`.

use beep_types::v10::message::{Embed, message_flags};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::guilds::forms::Problems;

/// Longest content, in Unicode scalar values (Rust `char`s): an astral emoji
/// counts once, as a person would count it.
pub const MAX_CONTENT_CHARS: usize = 4000;
/// Longest string nonce.
pub const MAX_NONCE_CHARS: usize = 25;
/// Most embeds on one message.
pub const MAX_EMBEDS: usize = 10;
/// Most characters in all the texts of all the embeds of one message.
pub const MAX_EMBED_TOTAL: usize = 6000;

/// Check content; `None` stays `None` (no content given).
pub fn content(p: &mut Problems, value: Option<&str>) -> Option<String> {
    let value = value?;
    if value.chars().count() > MAX_CONTENT_CHARS {
        p.add(
            "content",
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {MAX_CONTENT_CHARS} or fewer in length."),
        );
    }
    Some(value.to_owned())
}

/// Check a nonce (a string of at most 25 characters or an integer) and return
/// the JSON text it is stored as.
pub fn nonce(p: &mut Problems, value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.chars().count() <= MAX_NONCE_CHARS => {
            Some(Value::String(s.clone()).to_string())
        }
        Value::String(_) => {
            p.add(
                "nonce",
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_NONCE_CHARS} or fewer in length."),
            );
            None
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => {
            p.add(
                "nonce",
                "BASE_TYPE_INVALID",
                "Must be a string or an integer.",
            );
            None
        }
    }
}

/// Check flags against the bits a client may set.
pub fn flags(p: &mut Problems, value: Option<u64>, settable: u64) -> Option<u64> {
    let v = value?;
    if v & !settable != 0 {
        p.add(
            "flags",
            "MESSAGE_FLAGS_INVALID",
            "Contains flags that cannot be set.",
        );
    }
    Some(v & settable)
}

/// The flags a client may set when sending.
pub const CREATE_FLAGS: u64 = message_flags::SETTABLE_ON_CREATE;
/// The flags an author may change when editing.
pub const EDIT_FLAGS: u64 = message_flags::SETTABLE_ON_EDIT;

/// Check embeds (at most 10, Discord's per-field and total limits, http(s) URLs)
/// and return them as stored: `type` set to `rich`.
pub fn embeds(p: &mut Problems, list: Vec<Embed>) -> Vec<Embed> {
    if list.len() > MAX_EMBEDS {
        p.add(
            "embeds",
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {MAX_EMBEDS} or fewer in length."),
        );
        return list;
    }
    let mut total = 0;
    let out: Vec<Embed> = list
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            total += embed(p, &format!("embeds.{i}"), &e);
            e.kind = Some("rich".into());
            e
        })
        .collect();
    if total > MAX_EMBED_TOTAL {
        p.add(
            "embeds",
            "MAX_EMBED_SIZE_EXCEEDED",
            format!("Embed size exceeds maximum size of {MAX_EMBED_TOTAL}"),
        );
    }
    out
}

/// Check one embed; returns how many characters its texts hold.
fn embed(p: &mut Problems, at: &str, e: &Embed) -> usize {
    let mut total = 0;
    let mut text =
        |p: &mut Problems, field: &str, v: Option<&str>, max: usize, required: bool| match v {
            Some(v) => {
                let n = v.chars().count();
                total += n;
                if n > max {
                    p.add(
                        format!("{at}.{field}"),
                        "BASE_TYPE_MAX_LENGTH",
                        format!("Must be {max} or fewer in length."),
                    );
                } else if required && v.trim().is_empty() {
                    p.add(
                        format!("{at}.{field}"),
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    );
                }
            }
            None if required => {
                p.add(
                    format!("{at}.{field}"),
                    "BASE_TYPE_REQUIRED",
                    "This field is required",
                );
            }
            None => {}
        };
    text(p, "title", e.title.as_deref(), 256, false);
    text(p, "description", e.description.as_deref(), 4096, false);
    if let Some(f) = &e.footer {
        text(p, "footer.text", Some(&f.text), 2048, false);
        url(p, &format!("{at}.footer.icon_url"), f.icon_url.as_deref());
    }
    if let Some(a) = &e.author {
        text(p, "author.name", Some(&a.name), 256, false);
        url(p, &format!("{at}.author.url"), a.url.as_deref());
        url(p, &format!("{at}.author.icon_url"), a.icon_url.as_deref());
    }
    if let Some(fields) = &e.fields {
        if fields.len() > 25 {
            p.add(
                format!("{at}.fields"),
                "BASE_TYPE_MAX_LENGTH",
                "Must be 25 or fewer in length.",
            );
        }
        for (i, f) in fields.iter().enumerate() {
            text(p, &format!("fields.{i}.name"), Some(&f.name), 256, true);
            text(p, &format!("fields.{i}.value"), Some(&f.value), 1024, true);
        }
    }
    if let Some(pr) = &e.provider {
        text(p, "provider.name", pr.name.as_deref(), 256, false);
        url(p, &format!("{at}.provider.url"), pr.url.as_deref());
    }
    url(p, &format!("{at}.url"), e.url.as_deref());
    for (field, media) in [
        ("image", &e.image),
        ("thumbnail", &e.thumbnail),
        ("video", &e.video),
    ] {
        if let Some(m) = media {
            url(p, &format!("{at}.{field}.url"), Some(&m.url));
        }
    }
    if e.color.is_some_and(|c| c > 0xFF_FF_FF) {
        p.add(
            format!("{at}.color"),
            "NUMBER_TYPE_MAX",
            "int value should be <= 16777215.",
        );
    }
    total
}

/// A URL in an embed: `http`, `https` or `attachment`, at most 2048 characters,
/// no spaces or control characters.
fn url(p: &mut Problems, field: &str, v: Option<&str>) {
    let Some(v) = v else { return };
    if !is_url(v, &["http://", "https://", "attachment://"]) {
        p.add(field, "URL_TYPE_INVALID_URL", "Not a well formed URL.");
    }
}

/// Whether `v` is a plausible URL with one of these schemes.
pub fn is_url(v: &str, schemes: &[&str]) -> bool {
    let lower = v.to_ascii_lowercase();
    v.len() <= 2048
        && schemes
            .iter()
            .any(|s| lower.starts_with(s) && lower.len() > s.len())
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Embeds as stored (a JSON array).
pub fn embeds_json(list: &[Embed]) -> Result<String> {
    serde_json::to_string(list).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use beep_types::v10::message::{EmbedField, EmbedMedia};

    use super::*;

    fn check<T>(f: impl FnOnce(&mut Problems) -> T) -> (T, Result<(), Error>) {
        let mut p = Problems::new();
        let v = f(&mut p);
        (v, p.finish())
    }

    #[test]
    fn content_counts_scalar_values_not_bytes() {
        let crabs = "🦀".repeat(MAX_CONTENT_CHARS);
        assert!(
            crabs.len() > MAX_CONTENT_CHARS * 3,
            "astral: four bytes each"
        );
        assert!(check(|p| content(p, Some(&crabs))).1.is_ok());
        let over = format!("{crabs}a");
        let e = check(|p| content(p, Some(&over))).1.expect_err("4001");
        assert!(e.fields.contains_key("content"));
    }

    #[test]
    fn nonces_are_short_strings_or_integers() {
        assert_eq!(
            check(|p| nonce(p, Some(&Value::from("abc")))).0.as_deref(),
            Some("\"abc\"")
        );
        assert_eq!(
            check(|p| nonce(p, Some(&Value::from(123)))).0.as_deref(),
            Some("123")
        );
        assert!(
            check(|p| nonce(p, Some(&Value::from("x".repeat(26)))))
                .1
                .is_err()
        );
        assert!(check(|p| nonce(p, Some(&Value::from(1.5)))).1.is_err());
        assert!(check(|p| nonce(p, Some(&serde_json::json!({})))).1.is_err());
        assert_eq!(check(|p| nonce(p, None)).0, None);
    }

    #[test]
    fn embeds_keep_discords_limits() {
        let ok = Embed {
            title: Some("t".into()),
            fields: Some(vec![EmbedField {
                name: "n".into(),
                value: "v".into(),
                inline: false,
            }]),
            image: Some(EmbedMedia {
                url: "https://x.test/a.png".into(),
                proxy_url: None,
                height: None,
                width: None,
            }),
            ..Default::default()
        };
        let (out, r) = check(|p| embeds(p, vec![ok.clone()]));
        assert!(r.is_ok());
        assert_eq!(out[0].kind.as_deref(), Some("rich"));
        let long = Embed {
            title: Some("x".repeat(257)),
            ..Default::default()
        };
        let e = check(|p| embeds(p, vec![long])).1.expect_err("title");
        assert!(e.fields.contains_key("embeds.0.title"), "{e:?}");
        let js = Embed {
            url: Some("javascript:alert(1)".into()),
            ..Default::default()
        };
        assert!(check(|p| embeds(p, vec![js])).1.is_err());
        assert!(check(|p| embeds(p, vec![Embed::default(); 11])).1.is_err());
        let big = Embed {
            description: Some("x".repeat(4000)),
            ..Default::default()
        };
        let e = check(|p| embeds(p, vec![big.clone(), big]))
            .1
            .expect_err("total");
        assert!(e.fields.contains_key("embeds"), "{e:?}");
    }

    #[test]
    fn only_settable_flags_pass() {
        assert_eq!(check(|p| flags(p, Some(4), CREATE_FLAGS)).0, Some(4));
        assert!(check(|p| flags(p, Some(1), CREATE_FLAGS)).1.is_err());
    }
}
