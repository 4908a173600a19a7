//! Tests of what only the SQLite backend has: the group-commit writer, the
//! parameter numbering of shared SQL, and the migration bookkeeping. Behaviour
//! common to all backends is in `conformance`.

use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

use super::*;
use crate::migrations::SQLITE;
use crate::sql::{self, user_patch};
use crate::{StoreError, UserPatch};

fn config(dir: &tempfile::TempDir) -> SqliteConfig {
    SqliteConfig::new(dir.path().join("data").join("beep.db"))
}

async fn open_in(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&config(dir)).await.expect("open store")
}

/// Block the writer thread until the returned sender is used or dropped, so the
/// next submissions queue up and form one batch.
fn block_writer(store: &SqliteStore) -> mpsc::Sender<()> {
    let (release, wait) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let answer = store
        .writer
        .submit(move |_| {
            let _ = started_tx.send(());
            let _ = wait.recv();
            Ok(())
        })
        .expect("writer open");
    drop(answer);
    started_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("writer picked up the blocking job");
    release
}

fn insert_x(x: i64) -> impl FnOnce(&Connection) -> crate::Result<()> + Send + 'static {
    move |c| {
        c.execute("INSERT INTO t (x) VALUES (?1)", [x])?;
        Ok(())
    }
}

#[test]
fn shared_statements_number_parameters_in_order() {
    let c = Connection::open_in_memory().expect("in-memory database");
    // The whole schema: later migrations add columns these statements write.
    for m in SQLITE {
        c.execute_batch(m.sql)
            .unwrap_or_else(|e| panic!("{}: {e}", m.name));
    }
    let full_patch = UserPatch {
        username: Some(("A".into(), "a".into(), "a".into())),
        email: Some((None, None)),
        password_hash: Some(None),
        global_name: Some(None),
        first_name: Some(None),
        last_name: Some(None),
        avatar: Some(None),
        banner: Some(None),
        bio: Some(String::new()),
        locale: Some(String::new()),
        flags: Some(0),
        admin: Some(true),
        verified: Some(true),
        mfa_enabled: Some(true),
        totp_secret: Some(None),
        settings: Some(serde_json::json!({})),
    };
    let patch_sql = user_patch(1, &full_patch).expect("non-empty patch").sql;
    let all = sql::ALL.iter().chain(crate::sql_auth::ALL_SQLITE).copied();
    for text in all.chain([patch_sql.as_str()]) {
        let st = c.prepare(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(st.parameter_count() > 0, "{text}");
        for i in 1..=st.parameter_count() {
            assert_eq!(
                st.parameter_name(i),
                Some(format!("${i}").as_str()),
                "parameter {i} of `{text}` is out of order"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_job_is_rolled_back_alone_within_its_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_in(&dir).await;
    store
        .writer
        .write(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)")?))
        .await
        .expect("create table");
    let before = store.writer.commits();

    let release = block_writer(&store);
    let b = store.writer.submit(insert_x(1)).expect("queued");
    let c = store
        .writer
        .submit(|c| {
            c.execute("INSERT INTO t (x) VALUES (2)", [])?;
            Err::<(), _>(StoreError::Internal("job changed its mind".into()))
        })
        .expect("queued");
    let d = store.writer.submit(insert_x(3)).expect("queued");
    let e = store.writer.submit(insert_x(1)).expect("queued");
    drop(release);

    assert!(b.await.expect("answered").is_ok());
    assert!(matches!(
        c.await.expect("answered"),
        Err(StoreError::Internal(_))
    ));
    assert!(d.await.expect("answered").is_ok());
    assert!(matches!(
        e.await.expect("answered"),
        Err(StoreError::Conflict(_))
    ));
    // One commit for the blocking job, one for the four queued behind it.
    assert_eq!(store.writer.commits() - before, 2);

    let xs = store
        .readers
        .read(|c| {
            let mut st = c.prepare("SELECT x FROM t ORDER BY x")?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .expect("read");
    assert_eq!(xs, vec![1, 3]);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_job_does_not_stop_the_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_in(&dir).await;
    let panicked = store
        .writer
        .write(|_| -> crate::Result<()> { panic!("a job that panics on purpose") })
        .await;
    assert!(
        matches!(panicked, Err(StoreError::Internal(_))),
        "{panicked:?}"
    );
    store.ping().await.expect("the writer still works");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_commits_everything_queued() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = std::sync::Arc::new(open_in(&dir).await);
    store
        .writer
        .write(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER)")?))
        .await
        .expect("create table");

    let release = block_writer(&store);
    let queued: Vec<_> = (0..300)
        .map(|x| store.writer.submit(insert_x(x)).expect("queued"))
        .collect();
    let closing = tokio::spawn({
        let store = store.clone();
        async move { store.close().await }
    });
    // Wait until closing has begun, so nothing new is accepted.
    while store.writer.submit(insert_x(-1)).is_ok() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Note the probes above may have been accepted before closing began; they
    // are committed too, which is what close promises.
    drop(release);
    closing.await.expect("close finished");
    for rx in queued {
        rx.await
            .expect("answered")
            .expect("committed before close returned");
    }
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable(_))
    ));

    let reopened = open_in(&dir).await;
    let count = reopened
        .readers
        .read(|c| {
            Ok(c.query_row("SELECT count(*) FROM t WHERE x >= 0", [], |r| {
                r.get::<_, i64>(0)
            })?)
        })
        .await
        .expect("count");
    assert_eq!(count, 300);
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_reports_applied_migrations_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = migrate(&config(&dir)).await.expect("first migrate");
    let all: Vec<String> = SQLITE.iter().map(|m| m.name.to_owned()).collect();
    assert_eq!(first, all);
    assert_eq!(first[0], "0001_accounts");
    let second = migrate(&config(&dir)).await.expect("second migrate");
    assert!(second.is_empty(), "{second:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_migration_refuses_to_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    open_in(&dir).await.close().await;
    let c = Connection::open(config(&dir).path).expect("open file");
    c.execute(
        "UPDATE beep_migrations SET checksum = 'edited' WHERE version = 1",
        [],
    )
    .expect("tamper");
    drop(c);
    let Err(err) = SqliteStore::open(&config(&dir)).await else {
        panic!("an edited migration must refuse to open");
    };
    assert!(
        err.to_string().contains("changed after it was applied"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_is_in_wal_mode_with_foreign_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_in(&dir).await;
    let (mode, fk, sync) = store
        .writer
        .write(|c| {
            let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let fk: i64 = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
            let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
            Ok((mode, fk, sync))
        })
        .await
        .expect("pragmas");
    assert_eq!(mode, "wal");
    assert_eq!(fk, 1);
    assert_eq!(sync, 2, "synchronous=FULL by default");
    store.close().await;
}

/// Users from before migration 0011 (no folded names) get them when the store
/// opens.
#[tokio::test]
async fn member_search_names_are_folded_at_open() {
    use crate::UserStore;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open_in(&dir).await;
    let mut u = crate::conformance::new_user(1, "zoe");
    u.global_name = Some("Zoë 東京".into());
    store.insert_user(&u).await.expect("insert user");
    store
        .writer
        .write(|c| {
            Ok(c.execute_batch(
                "UPDATE users SET username_fold = NULL, global_name_fold = NULL; \
                 DELETE FROM backfills WHERE name = 'member_names'",
            )?)
        })
        .await
        .expect("forget the folded names");
    store.close().await;
    let folded = |store: SqliteStore| async move {
        let names = store
            .readers
            .read(|c| {
                Ok(c.query_row(
                    "SELECT username_fold, global_name_fold FROM users WHERE id = 1",
                    [],
                    |r| {
                        Ok((
                            r.get::<_, Option<String>>(0)?,
                            r.get::<_, Option<String>>(1)?,
                        ))
                    },
                )?)
            })
            .await
            .expect("folded names");
        store.close().await;
        names
    };
    assert_eq!(
        folded(open_in(&dir).await).await,
        (Some("zoe".to_owned()), Some("zoe東京".to_owned()))
    );
    // Once done, a backfill does not run (nor scan the tables) again.
    let store = open_in(&dir).await;
    store
        .writer
        .write(|c| {
            Ok(c.execute_batch("UPDATE users SET username_fold = NULL, global_name_fold = NULL")?)
        })
        .await
        .expect("forget the folded names");
    store.close().await;
    assert_eq!(folded(open_in(&dir).await).await, (None, None));
}

/// Messages indexed in an older format are indexed again, once, when the
/// store opens.
#[tokio::test]
async fn message_index_is_rebuilt_once_at_open() {
    use crate::search::{COUNT_CAP, MessageSearch, SearchOrder, SearchScope, SearchStore};
    let dir = tempfile::tempdir().expect("tempdir");
    let store: crate::DynStore = std::sync::Arc::new(open_in(&dir).await);
    let (alice, _, g, ch) = crate::conformance::messages::setup(&store).await;
    let mut m = crate::conformance::messages::new_message(5001, ch, g, alice);
    m.content = "backfilled words".into();
    store.insert_message(&m, None).await.expect("insert");
    store.close().await;
    let search = MessageSearch {
        scope: SearchScope::Guild(g),
        query: beep_search::Query::parse("backfilled"),
        authors: vec![],
        mentions: vec![],
        has: vec![],
        min_id: None,
        max_id: None,
        pinned: None,
        order: SearchOrder::Newest,
        offset: 0,
        limit: 25,
        count_cap: COUNT_CAP,
    };
    let total = |store: SqliteStore, search: MessageSearch| async move {
        let n = store.search_messages(&search).await.expect("search").total;
        store.close().await;
        n
    };
    // An index of another format: emptied here, with the backfill not done.
    let old = open_in(&dir).await;
    old.writer
        .write(|c| {
            Ok(c.execute_batch(
                "INSERT INTO message_search (message_search) VALUES ('delete-all'); \
                 DELETE FROM backfills WHERE name = 'message_index_v2'",
            )?)
        })
        .await
        .expect("forget the index");
    assert_eq!(total(old, search.clone()).await, 0);
    assert_eq!(total(open_in(&dir).await, search.clone()).await, 1);
}
