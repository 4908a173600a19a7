//! The emoji of a reaction route: a Unicode emoji known to the Unicode emoji
//! list (through the `emojis` crate, so skin tones, ZWJ sequences and flags are
//! all recognised without a home-made regex), or a custom emoji as `name:id`.

use beep_store::messages::EmojiKey;
use beep_types::v10::message::PartialEmoji;
use beep_types::{EmojiId, ErrorCode, Snowflake};

use crate::error::{Error, Result};

/// The variation selector that asks for emoji presentation.
const VS16: char = '\u{FE0F}';

/// Parse the `{emoji}` of a reaction route (already percent-decoded).
///
/// Unicode emojis are normalised to the list's fully-qualified form, so "❤" and
/// "❤️" are one reaction. Custom emojis are `name:id` (Discord's route form; an
/// `a:` prefix for animated ones is accepted too). Anything else is `Unknown Emoji`.
pub fn parse(raw: &str) -> Result<EmojiKey> {
    if let Some(key) = custom(raw) {
        return Ok(key);
    }
    let found = emojis::get(raw)
        .or_else(|| emojis::get(&format!("{raw}{VS16}")))
        .or_else(|| emojis::get(&raw.replace(VS16, "")));
    match found {
        Some(e) => Ok(EmojiKey {
            key: e.as_str().to_owned(),
            id: None,
            name: e.as_str().to_owned(),
            animated: false,
        }),
        None => Err(Error::new(ErrorCode::UnknownEmoji)),
    }
}

/// A custom emoji `name:id` or `a:name:id`.
fn custom(raw: &str) -> Option<EmojiKey> {
    let (animated, rest) = match raw.strip_prefix("a:") {
        Some(rest) if rest.contains(':') => (true, rest),
        _ => (false, raw),
    };
    let (name, id) = rest.split_once(':')?;
    let name_ok = (2..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let id_ok = !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit());
    if !name_ok || !id_ok {
        return None;
    }
    let id: i64 = id.parse().ok().filter(|v| *v > 0)?;
    Some(EmojiKey {
        key: id.to_string(),
        id: Some(id),
        name: name.to_owned(),
        animated,
    })
}

/// The emoji as messages and events show it.
pub fn partial(e: &EmojiKey) -> PartialEmoji {
    PartialEmoji {
        id: e.id.map(|i| EmojiId(Snowflake::from_i64(i))),
        name: Some(e.name.clone()),
        animated: e.animated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_emojis_are_known_including_sequences() {
        for e in ["🔥", "👍🏽", "🏳️‍🌈", "🇫🇷", "❤️", "👨‍👩‍👧"]
        {
            let k = parse(e).unwrap_or_else(|_| panic!("{e} is an emoji"));
            assert_eq!(k.id, None);
            assert_eq!(k.key, k.name);
        }
        assert_eq!(
            parse("❤").map(|k| k.key).ok(),
            parse("❤️").map(|k| k.key).ok(),
            "one heart"
        );
    }

    #[test]
    fn text_is_not_an_emoji() {
        for bad in [
            "",
            "a",
            "fire",
            ":fire:",
            "🔥🔥",
            "x🔥",
            "<script>",
            "%F0%9F%94%A5",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn custom_emojis_are_name_and_id() {
        let k = parse("blob:123").expect("custom");
        assert_eq!(
            (k.key.as_str(), k.id, k.name.as_str(), k.animated),
            ("123", Some(123), "blob", false)
        );
        assert!(parse("a:dance:77").expect("animated").animated);
        for bad in [
            "b:1",
            "blob:",
            "blob:x",
            "bl ob:1",
            "blob:-1",
            "blob:0",
            "blob:99999999999999999999",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
