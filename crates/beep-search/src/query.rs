//! The query language of `content`, and highlighting.
//!
//! - Words are all required (AND), in any order: `cat food`.
//! - `"quoted phrases"` match adjacent words, in order.
//! - A word ending in `*` matches as a prefix of the unstemmed word: `conf*`
//!   finds `configuration`. There is no implicit prefix: `conf` finds only
//!   words whose stem is `conf`.
//! - One CJK character is always a prefix (it finds the bigrams it starts).
//! - A word the analyzer cuts in several tokens (`e-mail`, `l'homme`, `東京都`)
//!   is a phrase of them.
//!
//! A word matches a text word when their English stems are equal or their
//! French stems are equal (after folding case and diacritics). Nothing the user
//! writes is engine syntax: the backends quote every token.

use crate::analyze::{Kind, Token, index_tokens, query_tokens};

/// One token of a query term, in the three forms the index keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryToken {
    pub plain: String,
    pub english: String,
    pub french: String,
}

/// A word or phrase of the query: its tokens must be adjacent, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub tokens: Vec<QueryToken>,
    /// The last token matches as a prefix of an unstemmed token.
    pub prefix: bool,
}

/// A parsed `content`: every term must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
}

impl Query {
    /// Parse `content`. Parts that hold no letter or digit are dropped, so the
    /// result may have no terms.
    pub fn parse(content: &str) -> Query {
        let mut terms = Vec::new();
        let mut rest = content;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let (text, prefix, next) = if let Some(after) = rest.strip_prefix('"') {
                let end = after.find('"').unwrap_or(after.len());
                let next = after.get(end + 1..).unwrap_or("");
                (&after[..end], false, next)
            } else {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(rest.len());
                let word = &rest[..end];
                let bare = word.trim_end_matches('*');
                (bare, bare.len() < word.len(), &rest[end..])
            };
            rest = next;
            let tokens = query_tokens(text);
            let Some(last) = tokens.last() else {
                continue;
            };
            let prefix = prefix || last.kind == Kind::CjkUnigram;
            terms.push(Term {
                tokens: tokens.iter().map(query_token).collect(),
                prefix,
            });
        }
        Query { terms }
    }

    /// Whether there is nothing to match on text.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The parts of `text` that match a token of the query, as they are
    /// written there, in order of appearance and without repeats: what a client
    /// highlights. Phrase order is not checked here; every word of a matched
    /// phrase is marked.
    pub fn highlights(&self, text: &str) -> Vec<String> {
        if self.terms.is_empty() {
            return Vec::new();
        }
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for t in index_tokens(text) {
            if self.matches(&t) {
                match ranges.last_mut() {
                    Some(last) if t.start <= last.1 => last.1 = last.1.max(t.end),
                    _ => ranges.push((t.start, t.end)),
                }
            }
        }
        let mut out: Vec<String> = Vec::new();
        for (s, e) in ranges {
            let part = text[s..e].to_owned();
            if !out.contains(&part) {
                out.push(part);
            }
        }
        out
    }

    /// Whether an index token matches a token of some term.
    fn matches(&self, t: &Token) -> bool {
        let (en, fr) = (t.english(), t.french());
        self.terms.iter().any(|term| {
            term.tokens.iter().enumerate().any(|(i, q)| {
                if term.prefix && i + 1 == term.tokens.len() {
                    t.text.starts_with(&q.plain)
                } else {
                    q.english == en || q.french == fr
                }
            })
        })
    }
}

fn query_token(t: &Token) -> QueryToken {
    QueryToken {
        plain: t.text.clone(),
        english: t.english(),
        french: t.french(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_and_prefixes() {
        let q = Query::parse(r#"  Running "big  CAT" conf* "" ,,, "unclosed"#);
        assert_eq!(q.terms.len(), 4);
        assert_eq!(q.terms[0].tokens[0].english, "run");
        assert_eq!(q.terms[1].tokens.len(), 2);
        assert!(!q.terms[1].prefix);
        assert!(q.terms[2].prefix);
        assert_eq!(q.terms[2].tokens[0].plain, "conf");
        assert_eq!(q.terms[3].tokens[0].plain, "unclosed");
    }

    #[test]
    fn one_cjk_character_is_a_prefix() {
        let q = Query::parse("京");
        assert!(q.terms[0].prefix);
        let q = Query::parse("東京");
        assert!(!q.terms[0].prefix);
    }

    #[test]
    fn highlights_what_matched() {
        let q = Query::parse("run café conf*");
        assert_eq!(
            q.highlights("She RUNS to the Cafe; configuring runs."),
            ["RUNS", "Cafe", "configuring", "runs"]
        );
        let q = Query::parse("東京");
        assert_eq!(q.highlights("東京都"), ["東京"]);
        assert!(Query::parse("").highlights("anything").is_empty());
    }
}
