//! Usernames, emails and passwords: parsed once, so an accepted value is valid by
//! construction.

use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// A valid username: NFKC-normalized, 2–32 characters, no control, bidi or
/// zero-width characters, no `@`, `#`, `:` or backticks (they break mentions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    /// As the user chose it, normalized.
    pub display: String,
    /// Case-folded form used for uniqueness.
    pub key: String,
    /// Confusable skeleton used to refuse look-alikes of existing names.
    pub skeleton: String,
}

/// Why a username was refused; the text goes into the field error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    Length,
    Characters,
}

fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{061C}'
        | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
        | '\u{FE00}'..='\u{FE0F}')
}

impl Username {
    /// Parse a username as typed.
    pub fn parse(raw: &str) -> Result<Username, NameProblem> {
        let display: String = raw.trim().nfkc().collect();
        let len = display.chars().count();
        if !(2..=32).contains(&len) {
            return Err(NameProblem::Length);
        }
        let bad = display.chars().any(|c| {
            c.is_control()
                || c.is_whitespace() && c != ' '
                || is_invisible_or_bidi(c)
                || matches!(c, '@' | '#' | ':' | '`')
        });
        if bad || display.contains("  ") || display == "everyone" || display == "here" {
            return Err(NameProblem::Characters);
        }
        let key: String = display.to_lowercase().nfkc().collect();
        let skeleton: String = skeleton(&key).collect::<String>().to_lowercase();
        Ok(Username {
            display,
            key,
            skeleton,
        })
    }
}

/// A syntactically valid email address, with its lower-cased uniqueness key.
pub fn parse_email(raw: &str) -> Option<(String, String)> {
    let email = raw.trim();
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = email.rsplit_once('@')?;
    if local.is_empty()
        || local.len() > 64
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || local.contains('@')
    {
        return None;
    }
    Some((email.to_string(), email.to_lowercase()))
}

/// Password length rule: 8–128 characters (never truncated).
pub fn password_length_ok(p: &str) -> bool {
    (8..=128).contains(&p.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_folds() {
        let u = Username::parse("  Ａlice ").expect("valid"); // fullwidth A
        assert_eq!(u.display, "Alice");
        assert_eq!(u.key, "alice");
    }

    #[test]
    fn refuses_bad_lengths_and_characters() {
        assert_eq!(Username::parse("a"), Err(NameProblem::Length));
        assert_eq!(Username::parse(&"x".repeat(33)), Err(NameProblem::Length));
        assert!(
            Username::parse(&"é".repeat(32)).is_ok(),
            "length counts characters, not bytes"
        );
        for bad in [
            "ali\u{200B}ce",
            "ab\u{202E}cd",
            "a@b",
            "a#b",
            "tab\tname",
            "everyone",
        ] {
            assert_eq!(
                Username::parse(bad),
                Err(NameProblem::Characters),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn confusables_share_a_skeleton() {
        let latin = Username::parse("paypal").expect("valid");
        let cyrillic = Username::parse("pаypаl").expect("valid"); // Cyrillic а
        assert_ne!(latin.key, cyrillic.key);
        assert_eq!(latin.skeleton, cyrillic.skeleton);
    }

    #[test]
    fn emails() {
        assert_eq!(
            parse_email("Bob@Example.org"),
            Some(("Bob@Example.org".into(), "bob@example.org".into()))
        );
        for bad in ["bob", "@x.org", "bob@", "bob@x", "a b@x.org", "bob@.org"] {
            assert!(parse_email(bad).is_none(), "{bad}");
        }
    }
}
