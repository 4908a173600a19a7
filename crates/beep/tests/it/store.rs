//! The storage conformance suite, once per backend: SQLite always, PostgreSQL when
//! `BEEP_TEST_DATABASE_URL` names a database (and it must when `CI=true`).
//!
//! Every case gets a fresh store: a new SQLite file in its own temporary directory,
//! or a new PostgreSQL schema `beep_test_<random hex>` dropped afterwards.

use beep_store::conformance::Fixture;
use beep_store::postgres::PostgresConfig;
use beep_store::sqlite::SqliteConfig;
use beep_store::{DynStore, StoreConfig};

mod sqlite {
    beep_store::conformance_tests!(crate::store::sqlite_store);
}

mod postgres {
    beep_store::conformance_tests!(crate::store::postgres_store);
}

/// A store on a fresh SQLite file; the directory goes away after the case.
pub struct SqliteFixture {
    store: DynStore,
    dir: tempfile::TempDir,
}

impl Fixture for SqliteFixture {
    fn store(&self) -> DynStore {
        self.store.clone()
    }

    async fn teardown(self) {
        self.store.close().await;
        drop(self.dir);
    }
}

/// A fresh SQLite store in a temporary directory.
pub async fn sqlite_store() -> Option<SqliteFixture> {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let config = StoreConfig::Sqlite(SqliteConfig::new(dir.path().join("beep.db")));
    let store = beep_store::open(&config)
        .await
        .expect("open a fresh SQLite store");
    Some(SqliteFixture { store, dir })
}

/// A store on a throwaway PostgreSQL schema, dropped after the case.
pub struct PostgresFixture {
    store: DynStore,
    url: String,
    schema: String,
}

impl Fixture for PostgresFixture {
    fn store(&self) -> DynStore {
        self.store.clone()
    }

    async fn teardown(self) {
        self.store.close().await;
        // Best effort: a leftover schema is harmless, only untidy.
        match tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                let driver = tokio::spawn(connection);
                let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema);
                if let Err(e) = client.batch_execute(&sql).await {
                    eprintln!("could not drop test schema {}: {e}", self.schema);
                }
                drop(client);
                let _ = driver.await;
            }
            Err(e) => eprintln!("could not drop test schema {}: {e}", self.schema),
        }
    }
}

/// A fresh PostgreSQL store in a new schema of `BEEP_TEST_DATABASE_URL`, or `None`
/// (the test is skipped) when that is unset outside CI.
pub async fn postgres_store() -> Option<PostgresFixture> {
    let url = std::env::var("BEEP_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let Some(url) = url else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "BEEP_TEST_DATABASE_URL is not set but CI=true: the PostgreSQL conformance \
                 suite must run in CI"
            );
        }
        println!("skipped: BEEP_TEST_DATABASE_URL not set");
        return None;
    };
    let schema = format!("beep_test_{:016x}", rand::random::<u64>());
    let config = StoreConfig::Postgres(PostgresConfig {
        url: url.clone(),
        schema: Some(schema.clone()),
        // Tests run in parallel; keep each one's share of the server small.
        max_connections: 4,
    });
    let store = beep_store::open(&config)
        .await
        .unwrap_or_else(|e| panic!("open PostgreSQL store in schema {schema}: {e}"));
    Some(PostgresFixture { store, url, schema })
}
