//! Member search on the search analyzer: usernames, global names and nicks are
//! matched by prefix after `beep_search::fold` (case and diacritics folded,
//! punctuation dropped, CJK kept), so "zoe" finds "Zoë" and "東" finds "東京".
//!
//! The store writes the folded forms itself, in the transaction that writes
//! the name: `users.username_fold` and `users.global_name_fold` with the user,
//! `members.nick_key` with the nick (triggers cannot run the analyzer). Rows
//! from before migration `0011_member_search` hold NULL; the store folds them
//! when it opens, and `beep admin reindex` folds them all again.

/// The folded query; `None` when a non-empty query folds to nothing (only
/// punctuation or symbols), which finds nobody.
pub(crate) fn folded_query(query: &str) -> Option<String> {
    let folded = beep_search::fold(query);
    (folded.is_empty() == query.is_empty()).then_some(folded)
}

const USERS: &str = "SELECT id, username, global_name FROM users";
const UNFOLDED_USERS: &str =
    "SELECT id, username, global_name FROM users WHERE username_fold IS NULL";
const SET_USER: &str = "UPDATE users SET username_fold = $1, global_name_fold = $2 WHERE id = $3";
const NICKS: &str = "SELECT guild_id, user_id, nick FROM members WHERE nick IS NOT NULL";
const UNFOLDED_NICKS: &str =
    "SELECT guild_id, user_id, nick FROM members WHERE nick IS NOT NULL AND nick_key IS NULL";
const SET_NICK: &str = "UPDATE members SET nick_key = $1 WHERE guild_id = $2 AND user_id = $3";

fn fold_user(username: &str, global_name: Option<&str>) -> (String, String) {
    (
        beep_search::fold(username),
        beep_search::fold(global_name.unwrap_or("")),
    )
}

/// SQLite: fold the names that have no folded form (all when `all`), inside
/// the writer's transaction; returns how many rows were written.
pub(crate) fn sqlite_rebuild(c: &rusqlite::Connection, all: bool) -> crate::Result<u64> {
    let users: Vec<(i64, String, Option<String>)> = c
        .prepare(if all { USERS } else { UNFOLDED_USERS })?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut set = c.prepare_cached(SET_USER)?;
    for (id, username, global_name) in &users {
        let (u, g) = fold_user(username, global_name.as_deref());
        set.execute(rusqlite::params![u, g, id])?;
    }
    let nicks: Vec<(i64, i64, String)> = c
        .prepare(if all { NICKS } else { UNFOLDED_NICKS })?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut set = c.prepare_cached(SET_NICK)?;
    for (guild, user, nick) in &nicks {
        set.execute(rusqlite::params![beep_search::fold(nick), guild, user])?;
    }
    Ok((users.len() + nicks.len()) as u64)
}

/// PostgreSQL: fold the names that have no folded form (all when `all`);
/// returns how many rows were written.
pub(crate) async fn pg_rebuild<C: deadpool_postgres::GenericClient>(
    c: &C,
    all: bool,
) -> crate::Result<u64> {
    let users = c
        .query(if all { USERS } else { UNFOLDED_USERS }, &[])
        .await?;
    let set = c.prepare_cached(SET_USER).await?;
    for r in &users {
        let (id, username, global_name): (i64, String, Option<String>) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let (u, g) = fold_user(&username, global_name.as_deref());
        c.execute(&set, &[&u, &g, &id]).await?;
    }
    let nicks = c
        .query(if all { NICKS } else { UNFOLDED_NICKS }, &[])
        .await?;
    let set = c.prepare_cached(SET_NICK).await?;
    for r in &nicks {
        let (guild, user, nick): (i64, i64, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        c.execute(&set, &[&beep_search::fold(&nick), &guild, &user])
            .await?;
    }
    Ok((users.len() + nicks.len()) as u64)
}

#[cfg(test)]
mod tests {
    use super::folded_query;

    #[test]
    fn queries_are_folded() {
        assert_eq!(folded_query("ZOË").as_deref(), Some("zoe"));
        assert_eq!(folded_query("").as_deref(), Some(""));
        assert_eq!(folded_query("%_"), None);
        assert_eq!(folded_query("東").as_deref(), Some("東"));
    }
}
