//! Building the PostgreSQL connection pool (with an optional schema) and running
//! migrations.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use super::PostgresConfig;
use crate::migrations::{self, Applied};
use crate::{Result, StoreError};

/// How long opening one connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a call may wait for a free connection before failing with `Unavailable`.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// A pool of connections to `config.url`; with `config.schema`, the schema is
/// created if missing and every connection's `search_path` points at it.
pub(super) async fn pool(config: &PostgresConfig) -> Result<Pool> {
    let mut pg: tokio_postgres::Config = config
        .url
        .parse()
        .map_err(|e| StoreError::Internal(format!("invalid PostgreSQL URL: {e}")))?;
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(CONNECT_TIMEOUT);
    }
    if let Some(schema) = &config.schema {
        check_schema_name(schema)?;
        create_schema(&pg, schema).await?;
        // Setting it at connection start-up (rather than with SET after connecting)
        // means no pooled connection can ever run with another search path.
        let options = match pg.get_options() {
            Some(existing) if !existing.is_empty() => {
                format!("{existing} -c search_path={schema}")
            }
            _ => format!("-c search_path={schema}"),
        };
        pg.options(options);
    }
    let manager = Manager::from_config(
        pg,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(config.max_connections.max(1))
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(CONNECT_TIMEOUT))
        .wait_timeout(Some(WAIT_TIMEOUT))
        .build()
        .map_err(|e| StoreError::Internal(format!("cannot build the PostgreSQL pool: {e}")))
}

/// Schema names are plain lower-case identifiers, so they need no quoting in the
/// start-up options.
fn check_schema_name(schema: &str) -> Result<()> {
    let mut chars = schema.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if starts_well && rest_ok && schema.len() <= 63 {
        Ok(())
    } else {
        Err(StoreError::Internal(format!(
            "invalid PostgreSQL schema name {schema:?}: use lower-case letters, digits and _"
        )))
    }
}

/// `CREATE SCHEMA IF NOT EXISTS` on a connection of its own.
async fn create_schema(pg: &tokio_postgres::Config, schema: &str) -> Result<()> {
    let (client, connection) = pg.connect(NoTls).await?;
    let driver = tokio::spawn(connection);
    let created = client
        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .await;
    drop(client);
    let _ = driver.await;
    match created {
        Ok(()) => Ok(()),
        // Two stores racing to create the same schema: the loser sees a unique
        // violation on the catalog, and the schema exists all the same.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Apply the pending migrations in one transaction; returns their names.
///
/// A transaction-scoped advisory lock, keyed by the schema, lets several nodes
/// start at once: one migrates, the others wait and then find nothing to do.
pub(super) async fn migrate(pool: &Pool) -> Result<Vec<String>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let schema: Option<String> = tx
        .query_one("SELECT current_schema()", &[])
        .await?
        .try_get(0)?;
    let Some(schema) = schema else {
        return Err(StoreError::Internal(
            "no schema on the search_path exists to create tables in".into(),
        ));
    };
    let lock = migrations::fnv1a(format!("beep_migrations:{schema}").into_bytes()) as i64;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS beep_migrations (
             version    BIGINT      PRIMARY KEY,
             name       TEXT        NOT NULL,
             checksum   TEXT        NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL
         )",
    )
    .await?;
    let applied = tx
        .query("SELECT version, name, checksum FROM beep_migrations", &[])
        .await?
        .iter()
        .map(|r| {
            Ok(Applied {
                version: r.try_get(0)?,
                name: r.try_get(1)?,
                checksum: r.try_get(2)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let pending = migrations::pending(migrations::POSTGRES, &applied)?;
    let mut names = Vec::with_capacity(pending.len());
    for m in pending {
        tx.batch_execute(m.sql)
            .await
            .map_err(|e| StoreError::Internal(format!("migration {} failed: {e}", m.name)))?;
        tx.execute(
            "INSERT INTO beep_migrations (version, name, checksum, applied_at) \
             VALUES ($1, $2, $3, $4)",
            &[
                &m.version,
                &m.name,
                &migrations::checksum(m.sql),
                &crate::sql::now(),
            ],
        )
        .await?;
        names.push(m.name.to_owned());
    }
    tx.commit().await?;
    for name in &names {
        tracing::info!(migration = %name, schema = %schema, "applied PostgreSQL migration");
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(check_schema_name("beep").is_ok());
        assert!(check_schema_name("beep_test_0af3").is_ok());
        assert!(check_schema_name("_x").is_ok());
        assert!(check_schema_name("").is_err());
        assert!(check_schema_name("1abc").is_err());
        assert!(check_schema_name("Beep").is_err());
        assert!(check_schema_name("a b").is_err());
        assert!(check_schema_name("a\"; DROP").is_err());
        assert!(check_schema_name(&"a".repeat(64)).is_err());
    }
}
