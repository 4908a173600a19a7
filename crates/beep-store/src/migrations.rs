//! The migrations of both backends, embedded in the binary, and the checks that
//! decide which of them still have to run.
//!
//! Each backend records what it applied in `beep_migrations(version, name,
//! checksum, applied_at)`. A migration that was applied and has since been edited
//! (its checksum changed), or one the database knows but this binary does not
//! (a newer Beep ran there), stops the store from opening: running on a schema we
//! cannot vouch for would be worse than not starting.

use crate::{Result, StoreError};

/// One forward-only schema change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// Position in the sequence; the file name starts with it.
    pub version: i64,
    /// The file name without `.sql`, e.g. `0001_accounts`.
    pub name: &'static str,
    /// The SQL, run as one batch inside a transaction.
    pub sql: &'static str,
}

/// A row of `beep_migrations`.
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    pub version: i64,
    pub name: String,
    pub checksum: String,
}

/// The SQLite migrations, in order.
pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_accounts",
        sql: include_str!("../migrations/sqlite/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        name: "0002_auth",
        sql: include_str!("../migrations/sqlite/0002_auth.sql"),
    },
    Migration {
        version: 3,
        name: "0003_guilds",
        sql: include_str!("../migrations/sqlite/0003_guilds.sql"),
    },
    Migration {
        version: 4,
        name: "0004_messages",
        sql: include_str!("../migrations/sqlite/0004_messages.sql"),
    },
    Migration {
        version: 5,
        name: "0005_messages_by_author",
        sql: include_str!("../migrations/sqlite/0005_messages_by_author.sql"),
    },
    Migration {
        version: 6,
        name: "0006_social",
        sql: include_str!("../migrations/sqlite/0006_social.sql"),
    },
    Migration {
        version: 7,
        name: "0007_notifications",
        sql: include_str!("../migrations/sqlite/0007_notifications.sql"),
    },
    Migration {
        version: 8,
        name: "0008_search",
        sql: include_str!("../migrations/sqlite/0008_search.sql"),
    },
    Migration {
        version: 9,
        name: "0009_file_lifecycle",
        sql: include_str!("../migrations/sqlite/0009_file_lifecycle.sql"),
    },
    Migration {
        version: 10,
        name: "0010_search_directory",
        sql: include_str!("../migrations/sqlite/0010_search_directory.sql"),
    },
    Migration {
        version: 11,
        name: "0011_member_search",
        sql: include_str!("../migrations/sqlite/0011_member_search.sql"),
    },
    Migration {
        version: 12,
        name: "0012_backfills",
        sql: include_str!("../migrations/sqlite/0012_backfills.sql"),
    },
];

/// The PostgreSQL migrations, in order. Same versions and names as [`SQLITE`].
pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_accounts",
        sql: include_str!("../migrations/postgres/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        name: "0002_auth",
        sql: include_str!("../migrations/postgres/0002_auth.sql"),
    },
    Migration {
        version: 3,
        name: "0003_guilds",
        sql: include_str!("../migrations/postgres/0003_guilds.sql"),
    },
    Migration {
        version: 4,
        name: "0004_messages",
        sql: include_str!("../migrations/postgres/0004_messages.sql"),
    },
    Migration {
        version: 5,
        name: "0005_messages_by_author",
        sql: include_str!("../migrations/postgres/0005_messages_by_author.sql"),
    },
    Migration {
        version: 6,
        name: "0006_social",
        sql: include_str!("../migrations/postgres/0006_social.sql"),
    },
    Migration {
        version: 7,
        name: "0007_notifications",
        sql: include_str!("../migrations/postgres/0007_notifications.sql"),
    },
    Migration {
        version: 8,
        name: "0008_search",
        sql: include_str!("../migrations/postgres/0008_search.sql"),
    },
    Migration {
        version: 9,
        name: "0009_file_lifecycle",
        sql: include_str!("../migrations/postgres/0009_file_lifecycle.sql"),
    },
    Migration {
        version: 10,
        name: "0010_search_directory",
        sql: include_str!("../migrations/postgres/0010_search_directory.sql"),
    },
    Migration {
        version: 11,
        name: "0011_member_search",
        sql: include_str!("../migrations/postgres/0011_member_search.sql"),
    },
    Migration {
        version: 12,
        name: "0012_backfills",
        sql: include_str!("../migrations/postgres/0012_backfills.sql"),
    },
];

/// A stable fingerprint of a migration's text: 64-bit FNV-1a in hex.
///
/// Carriage returns are ignored so that a checkout with CRLF line endings does not
/// look like an edited migration. This detects edits, it is not a security measure.
pub(crate) fn checksum(sql: &str) -> String {
    format!("{:016x}", fnv1a(sql.bytes().filter(|&b| b != b'\r')))
}

/// 64-bit FNV-1a over a byte stream.
pub(crate) fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The embedded migrations not applied yet, in order, after checking that every
/// applied one is known and unchanged.
pub(crate) fn pending<'a>(
    embedded: &'a [Migration],
    applied: &[Applied],
) -> Result<Vec<&'a Migration>> {
    for a in applied {
        let Some(m) = embedded.iter().find(|m| m.version == a.version) else {
            return Err(StoreError::Internal(format!(
                "the database has migration {} ({}) which this binary does not know; \
                 it was probably migrated by a newer Beep",
                a.version, a.name
            )));
        };
        let sum = checksum(m.sql);
        if sum != a.checksum {
            return Err(StoreError::Internal(format!(
                "migration {} was changed after it was applied (checksum {} in the database, \
                 {} in this binary); refusing to start",
                m.name, a.checksum, sum
            )));
        }
    }
    Ok(embedded
        .iter()
        .filter(|m| applied.iter().all(|a| a.version != m.version))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(m: &Migration) -> Applied {
        Applied {
            version: m.version,
            name: m.name.to_owned(),
            checksum: checksum(m.sql),
        }
    }

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(*b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn checksum_ignores_carriage_returns() {
        assert_eq!(checksum("a;\r\nb;\r\n"), checksum("a;\nb;\n"));
        assert_ne!(checksum("a;\nb;\n"), checksum("a;\nc;\n"));
    }

    #[test]
    fn both_backends_have_the_same_sequence() {
        let names = |ms: &[Migration]| ms.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES));
        for (i, m) in SQLITE.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "versions are dense and start at 1");
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
        }
    }

    #[test]
    fn fresh_database_runs_everything() {
        let todo = pending(SQLITE, &[]).expect("fresh database is fine");
        assert_eq!(todo.len(), SQLITE.len());
    }

    #[test]
    fn up_to_date_database_runs_nothing() {
        let done: Vec<_> = SQLITE.iter().map(applied).collect();
        assert!(pending(SQLITE, &done).expect("unchanged").is_empty());
    }

    #[test]
    fn edited_migration_is_refused() {
        let mut done: Vec<_> = SQLITE.iter().map(applied).collect();
        done[0].checksum = "0000000000000000".into();
        let err = pending(SQLITE, &done).expect_err("edited migration must be refused");
        assert!(
            err.to_string().contains("changed after it was applied"),
            "{err}"
        );
    }

    #[test]
    fn unknown_migration_is_refused() {
        let done = vec![Applied {
            version: 9999,
            name: "9999_future".into(),
            checksum: "x".into(),
        }];
        let err = pending(SQLITE, &done).expect_err("unknown migration must be refused");
        assert!(err.to_string().contains("newer Beep"), "{err}");
    }
}
