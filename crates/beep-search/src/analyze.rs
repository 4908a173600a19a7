//! The analyzer: text to tokens, the same way for what is indexed and for what
//! is searched.
//!
//! A token is a maximal run of letters and digits, folded: compatibility
//! decomposition (NFKD), combining marks dropped (so `é` is `e`), a few letters
//! that do not decompose spelled out (`ß` → `ss`, `œ` → `oe`, `ø` → `o`, ...),
//! lower case. Anything else separates tokens (spaces, punctuation, `'`, `_`).
//! Chinese, Japanese and Korean text has no spaces, so a run of CJK characters
//! is cut into overlapping bigrams (`東京都` → `東京`, `京都`), and the run's last
//! character is kept alone too, so every character of a run starts some token
//! and a one-character query finds it as a prefix.
//!
//! Each word token is also stemmed with Snowball English and Snowball French
//! (after folding, so a word typed with or without accents gives one stem).
//! The index keeps the three forms side by side, position by position.

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Longest token kept, in characters; a longer run is cut there.
pub const MAX_TOKEN_CHARS: usize = 64;

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));
static FRENCH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::French));

/// What a token is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A run of letters and digits of an alphabetic script.
    Word,
    /// Two adjacent CJK characters.
    CjkBigram,
    /// One CJK character: the last of a run, or a run of one.
    CjkUnigram,
}

/// One token of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The folded form.
    pub text: String,
    /// Where it comes from in the analyzed text, in bytes.
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

impl Token {
    /// The English stem (CJK tokens are their own stem).
    pub fn english(&self) -> String {
        match self.kind {
            Kind::Word => ENGLISH.stem(&self.text).into_owned(),
            _ => self.text.clone(),
        }
    }

    /// The French stem (CJK tokens are their own stem).
    pub fn french(&self) -> String {
        match self.kind {
            Kind::Word => FRENCH.stem(&self.text).into_owned(),
            _ => self.text.clone(),
        }
    }
}

/// Whether `c` belongs to a script written without spaces between words (Han,
/// Hiragana, Katakana, Hangul, with their extensions and half-width forms).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF       // Hangul Jamo
        | 0x2E80..=0x2FDF     // CJK radicals
        | 0x3040..=0x309F     // Hiragana
        | 0x30A0..=0x30FF     // Katakana
        | 0x3130..=0x318F     // Hangul compatibility Jamo
        | 0x31F0..=0x31FF     // Katakana phonetic extensions
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xAC00..=0xD7AF     // Hangul syllables
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF66..=0xFF9F     // half-width Katakana
        | 0x20000..=0x3134F   // CJK extensions B to G
    )
}

/// `s` folded: NFKD, no combining marks, a few letters spelled out, lower
/// case, letters and digits only.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'þ' | 'Þ' => out.push_str("th"),
            'ø' | 'Ø' => out.push('o'),
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            'ł' | 'Ł' => out.push('l'),
            'ı' => out.push('i'),
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// The class of a character for cutting runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Cjk,
    Other,
}

fn class(c: char) -> Class {
    if is_cjk(c) {
        Class::Cjk
    } else if c.is_alphanumeric() || is_combining_mark(c) {
        Class::Word
    } else {
        Class::Other
    }
}

/// The runs of word characters and of CJK characters, as byte ranges.
fn runs(text: &str) -> Vec<(usize, usize, Class)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, Class)> = None;
    for (i, c) in text.char_indices() {
        let k = class(c);
        match current {
            Some((_, ck)) if ck == k => {}
            Some((start, ck)) => {
                if ck != Class::Other {
                    out.push((start, i, ck));
                }
                current = Some((i, k));
            }
            None => current = Some((i, k)),
        }
    }
    if let Some((start, ck)) = current
        && ck != Class::Other
    {
        out.push((start, text.len(), ck));
    }
    out
}

/// Cut a folded token to [`MAX_TOKEN_CHARS`].
fn cut(mut s: String) -> String {
    if let Some((i, _)) = s.char_indices().nth(MAX_TOKEN_CHARS) {
        s.truncate(i);
    }
    s
}

/// The tokens of `text` as the index keeps them.
pub fn index_tokens(text: &str) -> Vec<Token> {
    tokens(text, true)
}

/// The tokens of a query word or phrase: a CJK run gives its bigrams only (a
/// run of one character gives that character, to be matched as a prefix).
pub fn query_tokens(text: &str) -> Vec<Token> {
    tokens(text, false)
}

fn tokens(text: &str, indexing: bool) -> Vec<Token> {
    let mut out = Vec::new();
    for (start, end, k) in runs(text) {
        let run = &text[start..end];
        if k == Class::Word {
            let folded = cut(fold(run));
            if !folded.is_empty() {
                out.push(Token {
                    text: folded,
                    start,
                    end,
                    kind: Kind::Word,
                });
            }
            continue;
        }
        // CJK: fold each character (half-width forms, compatibility ideographs).
        let chars: Vec<(usize, usize, String)> = run
            .char_indices()
            .map(|(i, c)| {
                let mut f = fold(c.encode_utf8(&mut [0; 4]));
                if f.is_empty() {
                    f.push(c);
                }
                (start + i, start + i + c.len_utf8(), f)
            })
            .collect();
        if chars.len() == 1 {
            let (s, e, f) = &chars[0];
            out.push(Token {
                text: f.clone(),
                start: *s,
                end: *e,
                kind: Kind::CjkUnigram,
            });
            continue;
        }
        for pair in chars.windows(2) {
            out.push(Token {
                text: format!("{}{}", pair[0].2, pair[1].2),
                start: pair[0].0,
                end: pair[1].1,
                kind: Kind::CjkBigram,
            });
        }
        if indexing && let Some((s, e, f)) = chars.last() {
            out.push(Token {
                text: f.clone(),
                start: *s,
                end: *e,
                kind: Kind::CjkUnigram,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &[Token]) -> Vec<&str> {
        t.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn folds_case_and_diacritics() {
        assert_eq!(fold("Café"), "cafe");
        assert_eq!(fold("ÉLÈVE"), "eleve");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("cœur"), "coeur");
        assert_eq!(fold("Ørsted"), "orsted");
        assert_eq!(fold("ﬁn"), "fin");
        assert_eq!(fold("naïve"), "naive");
    }

    #[test]
    fn words_split_on_punctuation() {
        let t = index_tokens("L'homme, c'est_ça! v1.2 e-mail");
        assert_eq!(
            texts(&t),
            ["l", "homme", "c", "est", "ca", "v1", "2", "e", "mail"]
        );
        assert_eq!(&"L'homme"[t[1].start..t[1].end], "homme");
    }

    #[test]
    fn cjk_runs_become_bigrams() {
        let t = index_tokens("東京都に行く");
        assert_eq!(texts(&t), ["東京", "京都", "都に", "に行", "行く", "く"]);
        let q = query_tokens("京都");
        assert_eq!(texts(&q), ["京都"]);
        let q = query_tokens("京");
        assert_eq!(q[0].kind, Kind::CjkUnigram);
        let t = index_tokens("hello世界 ok");
        assert_eq!(texts(&t), ["hello", "世界", "界", "ok"]);
    }

    #[test]
    fn stems_english_and_french() {
        let stem = |w: &str| {
            let t = &index_tokens(w)[0];
            (t.english(), t.french())
        };
        assert_eq!(stem("running").0, stem("runs").0);
        assert_eq!(stem("chevaux").1, stem("cheval").1);
        assert_eq!(stem("mangé").1, stem("manger").1);
        assert_eq!(stem("Élèves").1, stem("eleve").1);
    }

    #[test]
    fn long_runs_are_cut() {
        let long = "a".repeat(200);
        assert_eq!(index_tokens(&long)[0].text.len(), MAX_TOKEN_CHARS);
    }
}
