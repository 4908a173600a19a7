//! The discovery index: public guilds by the words of their name and
//! description, analyzed by `beep-search` like messages (case and diacritics
//! folded, English and French stems, CJK bigrams).
//!
//! The store writes a guild's index entry itself, in the transaction that
//! creates the guild or changes its name or description (triggers cannot run
//! the analyzer). SQLite keeps it in the contentless FTS5 table `guild_search`
//! (rowid = guild id, four columns: name and description, English and French
//! stems; a trigger deletes the row with the guild); PostgreSQL in the
//! `guilds.discovery` `tsvector` (`e.`/`f.` lexeme prefixes, name weighted A,
//! description B). Guilds created before migration `0010_search_directory`
//! have no entry; the store adds the missing ones when it opens, and
//! `beep admin reindex` rebuilds them all.
//!
//! The query keeps discovery's syntax (words, `"phrases"`, `or`, `-word`, see
//! [`crate::guilds`]); each word or phrase is analyzed into tokens and matches
//! when its English or its French stems are adjacent in the name or the
//! description. A lone CJK character matches as a prefix, as in message search.

use beep_search::{Document, Query, Term};

use crate::guilds::{SearchGroup, search_groups, search_terms};

/// The analyzed columns of a guild: name English, name French, description
/// English, description French.
pub(crate) fn columns(name: &str, description: Option<&str>) -> [String; 4] {
    let n = Document::of_text(name);
    let d = Document::of_text(description.unwrap_or(""));
    [n.english, n.french, d.english, d.french]
}

/// The analyzed terms of a parsed query: for every alternative, the terms that
/// must match and those that must not. `None` when nothing can match.
fn analyzed(query: &str) -> Option<Vec<(Vec<Term>, Vec<Term>)>> {
    let term = |words: &[String]| -> Option<Term> {
        Query::parse(&format!("\"{}\"", words.join(" ")))
            .terms
            .into_iter()
            .next()
    };
    let groups: Vec<(Vec<Term>, Vec<Term>)> = search_groups(&search_terms(query))
        .iter()
        .filter_map(|g: &SearchGroup| {
            let all: Vec<Term> = g.all.iter().filter_map(|ws| term(ws)).collect();
            let none: Vec<Term> = g
                .none
                .iter()
                .filter_map(|w| term(std::slice::from_ref(w)))
                .collect();
            (!all.is_empty()).then_some((all, none))
        })
        .collect();
    (!groups.is_empty()).then_some(groups)
}

/// An FTS5 string: tokens never hold `"`, but quote it the FTS5 way anyway.
fn fts5_string(tokens: &[&str]) -> String {
    format!("\"{}\"", tokens.join(" ").replace('"', "\"\""))
}

fn fts5_term(t: &Term) -> String {
    let star = if t.prefix { " *" } else { "" };
    let en: Vec<&str> = t.tokens.iter().map(|t| t.english.as_str()).collect();
    let fr: Vec<&str> = t.tokens.iter().map(|t| t.french.as_str()).collect();
    format!(
        "({{name_english description_english}} : {}{star} OR \
         {{name_french description_french}} : {}{star})",
        fts5_string(&en),
        fts5_string(&fr)
    )
}

/// The FTS5 `MATCH` expression of a discovery query; `None` when nothing can match.
pub(crate) fn fts5_match(query: &str) -> Option<String> {
    let groups = analyzed(query)?;
    let alternatives: Vec<String> = groups
        .iter()
        .map(|(all, none)| {
            let mut q = all.iter().map(fts5_term).collect::<Vec<_>>().join(" AND ");
            for n in none {
                q = format!("({q}) NOT {}", fts5_term(n));
            }
            format!("({q})")
        })
        .collect();
    Some(alternatives.join(" OR "))
}

/// A quoted `tsvector`/`tsquery` lexeme.
fn pg_lexeme(prefix: &str, token: &str) -> String {
    let text = format!("{prefix}{token}");
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// The `tsvector` literal of a guild: name tokens at positions 1.. weighted A,
/// description tokens after a gap (so no phrase spans both) weighted B.
pub(crate) fn pg_tsvector(name: &str, description: Option<&str>) -> String {
    let [ne, nf, de, df] = columns(name, description);
    let mut lexemes: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let name_len = ne.split(' ').filter(|t| !t.is_empty()).count();
    let mut add = |text: &str, prefix: &str, start: usize, weight: char| {
        for (i, token) in text.split(' ').filter(|t| !t.is_empty()).enumerate() {
            let pos = (start + i).min(16383);
            let list = lexemes.entry(pg_lexeme(prefix, token)).or_default();
            let entry = format!("{pos}{weight}");
            if !list.contains(&entry) && list.len() < 256 {
                list.push(entry);
            }
        }
    };
    add(&ne, "e.", 1, 'A');
    add(&nf, "f.", 1, 'A');
    add(&de, "e.", name_len + 2, 'B');
    add(&df, "f.", name_len + 2, 'B');
    let parts: Vec<String> = lexemes
        .into_iter()
        .map(|(l, p)| format!("{l}:{}", p.join(",")))
        .collect();
    parts.join(" ")
}

fn pg_term(t: &Term) -> String {
    let phrase = |prefix: &str, pick: &dyn Fn(&beep_search::QueryToken) -> &str| {
        let n = t.tokens.len();
        let ls: Vec<String> = t
            .tokens
            .iter()
            .enumerate()
            .map(|(i, tok)| {
                let l = pg_lexeme(prefix, pick(tok));
                if t.prefix && i + 1 == n {
                    format!("{l}:*")
                } else {
                    l
                }
            })
            .collect();
        format!("({})", ls.join(" <-> "))
    };
    format!(
        "({} | {})",
        phrase("e.", &|t| &t.english),
        phrase("f.", &|t| &t.french)
    )
}

/// The `tsquery` text of a discovery query; `None` when nothing can match.
pub(crate) fn pg_tsquery(query: &str) -> Option<String> {
    let groups = analyzed(query)?;
    let alternatives: Vec<String> = groups
        .iter()
        .map(|(all, none)| {
            let mut parts: Vec<String> = all.iter().map(pg_term).collect();
            parts.extend(none.iter().map(|n| format!("!{}", pg_term(n))));
            format!("({})", parts.join(" & "))
        })
        .collect();
    Some(alternatives.join(" | "))
}

// SQL text.

pub(crate) const SQLITE_UNINDEX: &str = "DELETE FROM guild_search WHERE rowid = $1";
pub(crate) const SQLITE_INDEX: &str = "INSERT INTO guild_search \
     (rowid, name_english, name_french, description_english, description_french) \
     VALUES ($1, $2, $3, $4, $5)";
pub(crate) const SQLITE_CLEAR: &str =
    "INSERT INTO guild_search (guild_search) VALUES ('delete-all')";
/// SQLite: guilds without an index entry (all after a clear).
pub(crate) const SQLITE_UNINDEXED: &str = "SELECT id, name, description FROM guilds \
     WHERE id NOT IN (SELECT rowid FROM guild_search)";
pub(crate) const PG_INDEX: &str =
    "UPDATE guilds SET discovery = CAST($2 AS TEXT)::tsvector WHERE id = $1";
pub(crate) const PG_UNINDEXED: &str =
    "SELECT id, name, description FROM guilds WHERE discovery IS NULL";
pub(crate) const PG_ALL: &str = "SELECT id, name, description FROM guilds";
// Writing the index.

/// SQLite: (re)write the entry of a guild, inside the caller's transaction.
pub(crate) fn sqlite_index(
    c: &rusqlite::Connection,
    id: i64,
    name: &str,
    description: Option<&str>,
) -> crate::Result<()> {
    let [ne, nf, de, df] = columns(name, description);
    c.prepare_cached(SQLITE_UNINDEX)?.execute([id])?;
    c.prepare_cached(SQLITE_INDEX)?
        .execute(rusqlite::params![id, ne, nf, de, df])?;
    Ok(())
}

/// SQLite: write the entries of the guilds that have none (every guild when
/// `all`, which clears the index first); returns how many were written.
pub(crate) fn sqlite_rebuild(c: &rusqlite::Connection, all: bool) -> crate::Result<u64> {
    if all {
        c.execute(SQLITE_CLEAR, [])?;
    }
    let guilds: Vec<(i64, String, Option<String>)> = c
        .prepare(SQLITE_UNINDEXED)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, name, description) in &guilds {
        sqlite_index(c, *id, name, description.as_deref())?;
    }
    Ok(guilds.len() as u64)
}

/// PostgreSQL: (re)write the entry of a guild, inside the caller's transaction.
pub(crate) async fn pg_index<C: deadpool_postgres::GenericClient>(
    c: &C,
    id: i64,
    name: &str,
    description: Option<&str>,
) -> crate::Result<()> {
    let doc = pg_tsvector(name, description);
    let st = c.prepare_cached(PG_INDEX).await?;
    c.execute(&st, &[&id, &doc]).await?;
    Ok(())
}

/// PostgreSQL: write the entries of the guilds that have none (every guild
/// when `all`); returns how many were written.
pub(crate) async fn pg_rebuild<C: deadpool_postgres::GenericClient>(
    c: &C,
    all: bool,
) -> crate::Result<u64> {
    let rows = c
        .query(if all { PG_ALL } else { PG_UNINDEXED }, &[])
        .await?;
    for r in &rows {
        let (id, name, description): (i64, String, Option<String>) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        pg_index(c, id, &name, description.as_deref()).await?;
    }
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_analyzed() {
        let m = fts5_match("Café").expect("a match");
        assert!(m.contains("\"cafe\""), "{m}");
        assert!(fts5_match("-x").is_none());
        let q = pg_tsquery("a or \"b c\" -d").expect("a query");
        assert!(q.contains(" | ") && q.contains('!'), "{q}");
        let v = pg_tsvector("Café", Some("It's"));
        assert!(v.contains("'e.cafe':1A"), "{v}");
    }
}
