//! `beep admin seed`: a deterministic corpus for the history and search
//! benchmarks, written fast.
//!
//! `members` accounts (all with one known password, hashed once) are members of
//! each of `guilds` guilds; guild g is owned by account g mod `members` (so no
//! account runs into the per-account guild creation limits). `messages` messages are
//! spread round-robin over the guilds' text channels, each by a random member,
//! with 3 to 14 words drawn (Zipf-like: a few words are very common, most are
//! rare) from a fixed vocabulary of English and French words, accents included.
//! The same `--rng-seed` gives the same authors and contents; ids are snowflakes
//! one millisecond apart, ending a minute before the run, so history order is
//! insertion order.
//!
//! Accounts, guilds and memberships go through the normal store calls (their
//! writes are few). Messages go through [`BulkStore`](beep_store::bulk::BulkStore)
//! in batches generated on a separate thread while the previous batch is written.
//!
//! At the end a seed file (JSON) names the password, the accounts, and the guilds
//! with their channels, for `beep-bench --seed FILE`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use beep_core::Services;
use beep_core::accounts::names::Username;
use beep_core::accounts::password::PasswordHasherPool;
use beep_store::bulk::SeedMessage;
use beep_store::{NewMember, NewUser, StoreError};
use beep_types::snowflake::DISCORD_EPOCH_MS;
use beep_types::{ChannelId, GuildId, MessageId, Snowflake, UserId};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// What to generate (also the arguments of `beep admin seed`, but for `out`).
#[derive(Debug, Clone, clap::Args)]
pub struct SeedPlan {
    #[arg(long, default_value_t = 1)]
    pub guilds: usize,
    /// Accounts; every one is a member of every guild (guild g is owned by account g mod M).
    #[arg(long, default_value_t = 100)]
    pub members: usize,
    /// Messages in all, spread round-robin over the text channels.
    #[arg(long, default_value_t = 100_000)]
    pub messages: u64,
    /// Text channels per guild.
    #[arg(long, default_value_t = 1)]
    pub channels: usize,
    #[arg(long, default_value = "bench passphrase 42")]
    pub password: String,
    /// Usernames are `<prefix>_u<i>`.
    #[arg(long, default_value = "seed")]
    pub prefix: String,
    /// Seed of the random generator (same seed, same corpus).
    #[arg(long, default_value_t = 42)]
    pub rng_seed: u64,
    /// Messages per write transaction.
    #[arg(long, default_value_t = 50_000)]
    pub batch: usize,
    /// Where the seed file goes (the command line's `--out`, by default
    /// `<data-dir>/seed.json`).
    #[arg(skip)]
    pub out: PathBuf,
}

/// Largest sizes accepted, so a typo cannot fill the disk.
pub const MAX_GUILDS: usize = 10_000;
pub const MAX_MEMBERS: usize = 1_000_000;
pub const MAX_MESSAGES: u64 = 1_000_000_000;
pub const MAX_CHANNELS: usize = 50;

/// The seed file read by `beep-bench --seed`.
#[derive(Debug, Serialize)]
struct SeedFile {
    password: String,
    /// Usernames; every one is a member of every guild.
    users: Vec<String>,
    guilds: Vec<SeedGuild>,
    messages: u64,
    /// A few words of the vocabulary, common to rare, for search queries.
    query_words: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct SeedGuild {
    id: String,
    /// Username of the owner.
    owner: String,
    /// Text channels holding the seeded messages.
    channels: Vec<String>,
}

/// The words messages are made of, roughly most common first.
const VOCABULARY: &[&str] = &[
    "the",
    "a",
    "and",
    "to",
    "of",
    "is",
    "it",
    "in",
    "that",
    "you",
    "for",
    "on",
    "with",
    "this",
    "le",
    "la",
    "et",
    "les",
    "de",
    "un",
    "une",
    "est",
    "pour",
    "que",
    "dans",
    "pas",
    "avec",
    "message",
    "server",
    "channel",
    "today",
    "meeting",
    "release",
    "build",
    "test",
    "deploy",
    "bug",
    "fix",
    "review",
    "merge",
    "branch",
    "coffee",
    "lunch",
    "weekend",
    "music",
    "game",
    "river",
    "apple",
    "quantum",
    "violet",
    "harbor",
    "saffron",
    "glacier",
    "tempo",
    "meadow",
    "cobalt",
    "lantern",
    "orbit",
    "été",
    "café",
    "déjà",
    "très",
    "où",
    "élève",
    "français",
    "garçon",
    "noël",
    "hôpital",
    "forêt",
    "château",
    "crème",
    "brûlée",
    "naïve",
    "façade",
    "fenêtre",
    "bientôt",
    "réunion",
    "déploiement",
    "problème",
    "résolu",
    "mémoire",
    "écran",
    "clé",
    "requête",
    "réponse",
    "serveur",
    "salon",
    "données",
    "sécurité",
    "mise",
    "à",
    "jour",
    "zèbre",
    "œuvre",
    "cœur",
    "sœur",
    "bœuf",
    "straße",
    "naïveté",
    "piñata",
    "jalapeño",
    "smörgåsbord",
    "database",
    "index",
    "latency",
    "throughput",
    "memory",
    "socket",
    "gateway",
    "session",
    "token",
    "search",
    "history",
    "benchmark",
    "profile",
    "flamegraph",
    "cache",
    "queue",
    "thread",
    "async",
    "rust",
    "tokio",
    "sqlite",
    "postgres",
    "json",
    "websocket",
    "heartbeat",
    "guild",
    "member",
    "role",
    "permission",
    "invite",
    "emoji",
    "reaction",
    "pin",
    "thread",
    "voice",
    "video",
    "stream",
    "upload",
    "attachment",
    "embed",
    "webhook",
    "bot",
    "command",
    "aardvark",
    "zeppelin",
    "quokka",
    "narwhal",
    "axolotl",
    "pangolin",
    "okapi",
    "tardigrade",
    "xylophone",
    "kumquat",
    "fjord",
    "sphinx",
    "quixotic",
    "zephyr",
    "juxtapose",
    "mnemonic",
];

/// The i-th snowflake of the corpus: `base_ms + i`, worker 1023, sequence 0.
fn message_id(base_ms: u64, i: u64) -> MessageId {
    MessageId(Snowflake(
        ((base_ms + i - DISCORD_EPOCH_MS) << 22) | (1023 << 12),
    ))
}

/// One message's words.
fn content(rng: &mut ChaCha8Rng, out: &mut String) {
    out.clear();
    let n = rng.random_range(3..=14);
    for w in 0..n {
        // The cube of a uniform number favours the start of the list.
        let r: f64 = rng.random();
        let idx = ((r * r * r) * VOCABULARY.len() as f64) as usize;
        if w > 0 {
            out.push(' ');
        }
        out.push_str(VOCABULARY[idx.min(VOCABULARY.len() - 1)]);
    }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{msg:>9} [{bar:40}] {human_pos}/{human_len} ({per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}

/// Validate the plan's sizes.
pub fn check(plan: &SeedPlan) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=MAX_GUILDS).contains(&plan.guilds),
        "--guilds must be 1..={MAX_GUILDS}"
    );
    anyhow::ensure!(
        (1..=MAX_MEMBERS).contains(&plan.members),
        "--members must be 1..={MAX_MEMBERS}"
    );
    anyhow::ensure!(
        plan.messages <= MAX_MESSAGES,
        "--messages must be at most {MAX_MESSAGES}"
    );
    anyhow::ensure!(
        (1..=MAX_CHANNELS).contains(&plan.channels),
        "--channels must be 1..={MAX_CHANNELS}"
    );
    anyhow::ensure!(
        (1..=1_000_000).contains(&plan.batch),
        "--batch must be 1..=1000000"
    );
    let probe = format!("{}_u{}", plan.prefix, plan.members);
    Username::parse(&probe)
        .map_err(|_| anyhow::anyhow!("--prefix {:?} makes invalid usernames", plan.prefix))?;
    anyhow::ensure!(
        beep_core::accounts::names::password_length_ok(&plan.password),
        "--password has a length the server refuses"
    );
    Ok(())
}

/// Write the corpus and the seed file.
pub async fn run(
    services: &Services,
    hash_params: beep_core::accounts::password::HashParams,
    plan: &SeedPlan,
) -> anyhow::Result<()> {
    check(plan)?;
    let started = Instant::now();
    let store = services.store.clone();

    // Accounts: one password hash shared by all.
    let hash = PasswordHasherPool::new(hash_params, 1)
        .hash(plan.password.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e:?}"))?;
    let names: Vec<String> = (0..plan.members)
        .map(|i| format!("{}_u{i}", plan.prefix))
        .collect();
    let mut ids: Vec<UserId> = Vec::with_capacity(plan.members);
    let pb = bar(plan.members as u64, "accounts");
    let mut made = futures::stream::iter(names.iter().cloned().map(|name| {
        let (store, hash, ids_gen) = (store.clone(), hash.clone(), services.ids.clone());
        async move {
            let u =
                Username::parse(&name).map_err(|_| anyhow::anyhow!("invalid username {name}"))?;
            let email = format!("{}@seed.invalid", u.key);
            let new = NewUser {
                id: UserId(ids_gen.next()),
                username: u.display,
                username_key: u.key,
                username_skeleton: u.skeleton,
                email: Some(email.clone()),
                email_key: Some(email),
                password_hash: Some(hash),
                verified: true,
                locale: "en".into(),
                ..NewUser::default()
            };
            match store.insert_user(&new).await {
                Ok(u) => Ok(u.id),
                Err(StoreError::Conflict(_)) => anyhow::bail!(
                    "account {name} exists: seed an empty database or pick another --prefix"
                ),
                Err(e) => Err(e.into()),
            }
        }
    }))
    .buffered(256);
    while let Some(id) = made.next().await {
        ids.push(id?);
        pb.inc(1);
    }
    drop(made);
    pb.finish();
    // Guilds with their text channels, then the memberships.
    let mut guilds: Vec<(GuildId, Vec<ChannelId>)> = Vec::with_capacity(plan.guilds);
    let pb = bar(plan.guilds as u64, "guilds");
    for g in 0..plan.guilds {
        let owner = ids[g % ids.len()];
        let form = beep_core::guilds::forms::CreateGuild {
            name: format!("{} guild {g}", plan.prefix),
            ..Default::default()
        };
        let guild = services
            .guilds
            .create_guild(owner, form)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create a guild: {e:?}"))?;
        for c in 1..plan.channels {
            let form = serde_json::from_value(serde_json::json!({"name": format!("seed-{c}")}))?;
            services
                .guilds
                .create_channel(owner, guild.id, form, None)
                .await
                .map_err(|e| anyhow::anyhow!("cannot create a channel: {e:?}"))?;
        }
        let channels = services
            .guilds
            .channels(owner, guild.id)
            .await
            .map_err(|e| anyhow::anyhow!("cannot list channels: {e:?}"))?
            .into_iter()
            .filter(|c| c.kind == beep_types::v10::channel::ChannelType::Text)
            .map(|c| c.id)
            .collect::<Vec<_>>();
        anyhow::ensure!(!channels.is_empty(), "a new guild has no text channel");
        guilds.push((guild.id, channels));
        pb.inc(1);
    }
    pb.finish();
    let pairs: Vec<(GuildId, UserId)> = guilds
        .iter()
        .enumerate()
        .flat_map(|(i, (g, _))| {
            let owner = ids[i % ids.len()];
            ids.iter()
                .filter(move |u| **u != owner)
                .map(move |u| (*g, *u))
        })
        .collect();
    let pb = bar(pairs.len() as u64, "members");
    let mut joined = futures::stream::iter(pairs.into_iter().map(|(g, u)| {
        let store = store.clone();
        async move {
            let m = NewMember {
                guild_id: g,
                user_id: u,
                temporary: false,
            };
            store.add_member(&m, u32::MAX).await.map(|_| ())
        }
    }))
    .buffer_unordered(256);
    while let Some(r) = joined.next().await {
        r?;
        pb.inc(1);
    }
    drop(joined);
    pb.finish();

    // Messages: generated on their own thread, written batch by batch.
    let targets: Vec<(GuildId, ChannelId)> = guilds
        .iter()
        .flat_map(|(g, cs)| cs.iter().map(move |c| (*g, *c)))
        .collect();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let base_ms = now_ms - plan.messages - 60_000;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<SeedMessage>>(4);
    let (total, batch, rng_seed) = (plan.messages, plan.batch as u64, plan.rng_seed);
    let (gen_targets, gen_ids) = (targets.clone(), ids.clone());
    let generator = std::thread::Builder::new()
        .name("beep-seed-gen".into())
        .spawn(move || {
            let mut rng = ChaCha8Rng::seed_from_u64(rng_seed);
            let mut text = String::new();
            let mut i = 0u64;
            while i < total {
                let n = batch.min(total - i);
                let mut out = Vec::with_capacity(n as usize);
                for k in i..i + n {
                    let (g, c) = gen_targets[(k % gen_targets.len() as u64) as usize];
                    let author = gen_ids[rng.random_range(0..gen_ids.len())];
                    content(&mut rng, &mut text);
                    out.push(SeedMessage {
                        id: message_id(base_ms, k),
                        channel_id: c,
                        guild_id: Some(g),
                        author_id: author,
                        content: text.clone(),
                    });
                }
                i += n;
                if tx.blocking_send(out).is_err() {
                    return;
                }
            }
        })?;
    let pb = bar(plan.messages, "messages");
    let msg_started = Instant::now();
    let in_flight = if store.backend() == "postgres" { 4 } else { 2 };
    let mut writes = futures::stream::FuturesUnordered::new();
    let mut written = 0u64;
    loop {
        // Keep up to `in_flight` batches being written while the next is made.
        while writes.len() < in_flight {
            match rx.recv().await {
                Some(b) => {
                    let store = store.clone();
                    writes.push(async move { store.bulk_insert_messages(b).await });
                }
                None => break,
            }
        }
        match writes.next().await {
            Some(r) => {
                let n = r.context("bulk insert failed")?;
                written += n;
                pb.inc(n);
            }
            None => break,
        }
    }
    pb.finish();
    let _ = generator.join();
    let msg_secs = msg_started.elapsed().as_secs_f64().max(1e-6);
    store
        .finish_bulk_load()
        .await
        .context("refreshing the planner's statistics failed")?;

    let file = SeedFile {
        password: plan.password.clone(),
        users: names.clone(),
        guilds: guilds
            .iter()
            .enumerate()
            .map(|(i, (g, cs))| SeedGuild {
                id: g.to_string(),
                owner: names[i % names.len()].clone(),
                channels: cs.iter().map(|c| c.to_string()).collect(),
            })
            .collect(),
        messages: written,
        query_words: vec!["the", "message", "café", "réunion", "quantum", "zephyr"],
    };
    if let Some(dir) = plan.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&plan.out, serde_json::to_vec_pretty(&file)?)
        .with_context(|| format!("cannot write {}", plan.out.display()))?;
    println!(
        "seeded {} accounts, {} guilds ({} text channels), {} messages in {:.1} s \
         (messages: {:.0}/s); seed file {}",
        ids.len(),
        guilds.len(),
        targets.len(),
        written,
        started.elapsed().as_secs_f64(),
        written as f64 / msg_secs,
        plan.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_is_deterministic_and_ids_increase() {
        let mut a = ChaCha8Rng::seed_from_u64(7);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        let (mut x, mut y) = (String::new(), String::new());
        for _ in 0..100 {
            content(&mut a, &mut x);
            content(&mut b, &mut y);
            assert_eq!(x, y);
            let words = x.split(' ').count();
            assert!((3..=14).contains(&words), "{x}");
        }
        let base = 1_700_000_000_000;
        assert!(message_id(base, 1) > message_id(base, 0));
        assert_eq!(message_id(base, 5).0.timestamp_ms(), base + 5);
    }
}
