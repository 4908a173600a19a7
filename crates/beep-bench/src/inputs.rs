//! What a run can be given instead of making its own accounts: a seed file
//! written by `beep admin seed` (accounts with a known password, guilds and
//! channels holding a corpus), or a tokens file (one `Authorization` value per
//! line, for any Discord-compatible server).

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

/// The seed file of `beep admin seed`.
#[derive(Debug, Clone, Deserialize)]
pub struct Seed {
    pub password: String,
    /// Usernames; every one is a member of every guild.
    pub users: Vec<String>,
    pub guilds: Vec<SeedGuild>,
    /// Messages in the corpus.
    pub messages: u64,
    /// Words of the corpus, common to rare, for search queries.
    #[serde(default)]
    #[allow(dead_code)] // for the `search` scenario
    pub query_words: Vec<String>,
}

/// A seeded guild.
#[derive(Debug, Clone, Deserialize)]
pub struct SeedGuild {
    pub id: String,
    /// Its text channels holding the corpus.
    pub channels: Vec<String>,
}

impl Seed {
    /// Read and check a seed file.
    pub fn load(path: &Path) -> anyhow::Result<Seed> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read seed file {}", path.display()))?;
        let seed: Seed = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a seed file", path.display()))?;
        anyhow::ensure!(!seed.users.is_empty(), "the seed file names no account");
        anyhow::ensure!(
            seed.guilds.iter().any(|g| !g.channels.is_empty()),
            "the seed file names no channel"
        );
        Ok(seed)
    }

    /// Every seeded channel with its guild, in file order.
    pub fn channels(&self) -> Vec<(String, String)> {
        self.guilds
            .iter()
            .flat_map(|g| g.channels.iter().map(move |c| (g.id.clone(), c.clone())))
            .collect()
    }
}

/// Read a tokens file: one `Authorization` value per line (`Bot ...`, `Bearer
/// ...` or a bare token); blank lines and `#` comments are skipped.
pub fn load_tokens(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read tokens file {}", path.display()))?;
    let tokens: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    anyhow::ensure!(!tokens.is_empty(), "{} holds no token", path.display());
    Ok(tokens)
}

/// Raise this process's open-file limit to its hard limit (each session is a
/// socket); returns the soft limit now in force.
pub fn raise_nofile_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current != lim.maximum {
        lim.current = lim.maximum;
        let _ = setrlimit(Resource::Nofile, lim);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}
