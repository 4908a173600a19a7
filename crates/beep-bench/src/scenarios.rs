//! The scenarios. Each sets up what it needs over the public API, runs for the
//! asked duration, and returns a report of figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use hdrhistogram::Histogram;
use reqwest::Method;
use serde_json::json;
use tokio::sync::Mutex;

use crate::gateway;
use crate::inputs::Seed;
use crate::rest::{Account, Rest};
use crate::stats::{Report, histogram, ms};

/// Options shared by every scenario.
#[derive(Debug, Clone)]
pub struct Opts {
    pub target: String,
    pub duration: Duration,
    pub concurrency: usize,
    pub password: String,
    /// Prefix of the accounts this run creates, unique per run.
    pub prefix: String,
    /// A corpus written by `beep admin seed`, for `history` and `search`.
    pub seed: Option<Arc<Seed>>,
    /// `Authorization` values to use instead of registering accounts.
    pub tokens: Arc<Vec<String>>,
    /// The next of `tokens` to hand out.
    pub token_cursor: Arc<AtomicUsize>,
    /// This process's open-file limit (after raising it to the hard limit).
    pub nofile: u64,
}

impl Opts {
    /// The next given token, if a tokens file was given (they are reused in turn
    /// when a run needs more accounts than the file holds).
    fn given_token(&self) -> Option<Account> {
        if self.tokens.is_empty() {
            return None;
        }
        let i = self.token_cursor.fetch_add(1, Ordering::Relaxed) % self.tokens.len();
        Some(Account {
            token: self.tokens[i].clone(),
        })
    }
}

/// The account `name` (registered and logged in), or the next given token.
async fn account(rest: &Rest, o: &Opts, name: &str) -> anyhow::Result<Account> {
    match o.given_token() {
        Some(a) => Ok(a),
        None => rest.account(name, &o.password).await,
    }
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// `n` accounts named `<prefix>_<role><i>`, created concurrently.
async fn accounts(rest: &Rest, o: &Opts, role: &str, n: usize) -> anyhow::Result<Vec<Account>> {
    if !o.tokens.is_empty() {
        return Ok((0..n).filter_map(|_| o.given_token()).collect());
    }
    let mut tasks = Vec::new();
    for i in 0..n {
        let (rest, name, pw) = (
            rest.clone(),
            format!("{}_{role}{i}", o.prefix),
            o.password.clone(),
        );
        tasks.push(tokio::spawn(async move { rest.account(&name, &pw).await }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await??);
    }
    Ok(out)
}

/// An owner, a guild, its first text channel, and `n` members who joined it.
async fn guild_with_members(
    rest: &Rest,
    o: &Opts,
    n: usize,
) -> anyhow::Result<(Account, String, Vec<Account>)> {
    let owner = account(rest, o, &format!("{}_owner", o.prefix)).await?;
    let (_guild, channel) = rest.guild(&owner, &format!("{} bench", o.prefix)).await?;
    let members = accounts(rest, o, "m", n).await?;
    for m in &members {
        rest.join(&owner, &channel, m).await?;
    }
    Ok((owner, channel, members))
}

/// Sustained message sends by `concurrency` clients; with `rate`, at that many
/// messages per second in total instead of as fast as possible.
pub async fn send(o: &Opts, rate: Option<f64>) -> anyhow::Result<Report> {
    let rest = Rest::new(&o.target)?;
    let senders = o.concurrency.clamp(1, 64);
    let (_owner, channel, members) = guild_with_members(&rest, o, senders).await?;
    let sent = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + o.duration;
    let mut tasks = Vec::new();
    for (i, m) in members.into_iter().enumerate() {
        let (rest, channel, sent, errors) =
            (rest.clone(), channel.clone(), sent.clone(), errors.clone());
        let per_task = rate.map(|r| Duration::from_secs_f64(senders as f64 / r.max(0.001)));
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            let mut tick = per_task.map(tokio::time::interval);
            let mut n = 0u64;
            while Instant::now() < deadline {
                if let Some(t) = tick.as_mut() {
                    t.tick().await;
                }
                let t0 = Instant::now();
                match rest.send(&m, &channel, &format!("bench {i} {n}")).await {
                    Ok(_) => {
                        let _ = h.record(t0.elapsed().as_micros() as u64);
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += 1;
            }
            h
        }));
    }
    let mut h = histogram();
    for t in tasks {
        h.add(t.await?)?;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut r = Report::new("send");
    r.add(
        "msgs_per_s",
        (sent.load(Ordering::Relaxed) as f64 / secs).round(),
    )
    .add("p50_ms", ms(&h, 0.5))
    .add("p99_ms", ms(&h, 0.99))
    .add("errors", errors.load(Ordering::Relaxed))
    .add("clients", senders as u64);
    Ok(r)
}

/// `members` gateway sessions in one guild; senders post `rate` messages/s; every
/// receiver measures send-to-receipt latency from the timestamp in the content.
pub async fn fanout(o: &Opts, members: usize, rate: f64) -> anyhow::Result<Report> {
    let rest = Rest::new(&o.target)?;
    // Sessions are spread over a few accounts (an account may hold many sessions).
    let users = members.clamp(1, 16);
    let (owner, channel, accts) = guild_with_members(&rest, o, users).await?;
    let url = rest.gateway_url(&owner).await?;
    let latencies = gateway::Latencies::new();
    let errors = Arc::new(AtomicU64::new(0));
    let mut conns = Vec::new();
    for i in 0..members {
        let acct = &accts[i % accts.len()];
        let sink = gateway::Sink::FanoutLatency(latencies.clone());
        match gateway::connect(&url, Some(gateway::loopback(i)), &acct.token, sink).await {
            Ok(task) => conns.push(task),
            Err(_) => {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let start = Instant::now();
    let deadline = start + o.duration;
    let sender = accts[0].clone();
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let mut tick = tokio::time::interval(interval);
    let mut sends = Vec::new();
    while Instant::now() < deadline {
        tick.tick().await;
        let (rest, channel, sender, errors) = (
            rest.clone(),
            channel.clone(),
            sender.clone(),
            errors.clone(),
        );
        sends.push(tokio::spawn(async move {
            if rest
                .send(&sender, &channel, &format!("fanout {}", now_micros()))
                .await
                .is_err()
            {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for s in sends {
        let _ = s.await;
    }
    // Let the backlog drain: wait until nothing arrived for 300 ms (at most
    // 10 s more), and measure up to the last arrival, so the figure is what
    // the server sustained rather than what was offered.
    let mut last = (latencies.count.load(Ordering::Relaxed), Instant::now());
    let drain_until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let n = latencies.count.load(Ordering::Relaxed);
        if n != last.0 {
            last = (n, Instant::now());
        } else if last.1.elapsed() >= Duration::from_millis(300) {
            break;
        }
    }
    let secs = last.1.duration_since(start).as_secs_f64().max(0.001);
    for c in &conns {
        c.abort();
    }
    let delivered = latencies.count.load(Ordering::Relaxed);
    let h = latencies
        .hist
        .lock()
        .map_err(|_| anyhow::anyhow!("a receiver panicked"))?
        .clone();
    let mut r = Report::new("fanout");
    r.add("sessions", conns.len() as u64)
        .add("offered_per_s", (rate * conns.len() as f64).round())
        .add("delivered_per_s", (delivered as f64 / secs).round())
        .add("p50_ms", ms(&h, 0.5))
        .add("p99_ms", ms(&h, 0.99))
        .add("max_ms", (h.max() as f64 / 10.0).round() / 100.0)
        .add("errors", errors.load(Ordering::Relaxed));
    Ok(r)
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmRSS:")
}

/// The soft open-file limit of process `pid`, from `/proc/PID/limits`.
fn fd_limit(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = s.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Open and hold `count` identified sessions, from source addresses spread over
/// 127.0.0.0/8 (each address has its own ephemeral port range). With the
/// server's pid, its RSS growth per session is measured from `/proc`.
pub async fn sessions(o: &Opts, count: usize, server_pid: Option<u32>) -> anyhow::Result<Report> {
    // Each session is one socket here (and one on the server).
    let headroom = 256;
    if count as u64 + headroom > o.nofile {
        anyhow::bail!(
            "{count} sessions need about {} open files, but this process may open {} \
             (the hard limit; raise it with `ulimit -Hn` as root, or LimitNOFILE=)",
            count as u64 + headroom,
            o.nofile
        );
    }
    let server_limit = server_pid.and_then(fd_limit);
    if let Some(limit) = server_limit
        && count as u64 + 64 > limit
    {
        eprintln!("warning: the server may open {limit} files; {count} sessions will not all fit");
    }
    let rest = Rest::new(&o.target)?;
    let (owner, _channel, accts) = guild_with_members(&rest, o, 4).await?;
    let url = rest.gateway_url(&owner).await?;
    // Settle, so the baseline does not include the set-up's transient memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server_pid.and_then(rss_kib);
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let conns = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..o.concurrency.clamp(1, 256) {
        let (url, accts, errors, conns, next, first_error) = (
            url.clone(),
            accts.clone(),
            errors.clone(),
            conns.clone(),
            next.clone(),
            first_error.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= count {
                    return;
                }
                let token = &accts[i % accts.len()].token;
                match gateway::connect(&url, Some(gateway::loopback(i)), token, gateway::Sink::None)
                    .await
                {
                    Ok(task) => conns.lock().await.push(task),
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let mut f = first_error.lock().unwrap_or_else(|p| p.into_inner());
                        if f.is_none() {
                            *f = Some(format!("{e:#}"));
                        }
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    let connect_secs = start.elapsed().as_secs_f64();
    // Hold them, so the server's memory settles.
    tokio::time::sleep(o.duration.min(Duration::from_secs(10))).await;
    let after = server_pid.and_then(rss_kib);
    let open = conns.lock().await.len();
    let mut r = Report::new("sessions");
    r.add("sessions", open as u64)
        .add("connect_per_s", (open as f64 / connect_secs).round());
    if let (Some(b), Some(a)) = (before, after)
        && open > 0
    {
        r.add(
            "rss_per_session_kib",
            ((a.saturating_sub(b)) as f64 / open as f64 * 100.0).round() / 100.0,
        )
        .add("server_rss_before_kib", b)
        .add("server_rss_after_kib", a);
    }
    if let Some(limit) = server_limit {
        r.add("server_fd_limit", limit);
    }
    r.add("errors", errors.load(Ordering::Relaxed));
    if let Some(e) = first_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        eprintln!("first session error: {e}");
    }
    for c in conns.lock().await.iter() {
        c.abort();
    }
    Ok(r)
}

/// The report of a `hammer` run of requests: rate, median and 99th percentile
/// latency, errors.
fn requests_report(scenario: &str, n: u64, errors: u64, h: &Histogram<u64>, secs: f64) -> Report {
    let mut r = Report::new(scenario);
    r.add("req_per_s", (n as f64 / secs).round())
        .add("p50_ms", ms(h, 0.5))
        .add("p99_ms", ms(h, 0.99))
        .add("errors", errors);
    r
}

/// Run `f` from `concurrency` tasks until the deadline; returns (requests, errors, histogram).
async fn hammer<F, Fut>(o: &Opts, f: F) -> anyhow::Result<(u64, u64, Histogram<u64>, f64)>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let f = Arc::new(f);
    let start = Instant::now();
    let deadline = start + o.duration;
    let errors = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..o.concurrency.max(1) {
        let (f, errors, done) = (f.clone(), errors.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                match f(w, n).await {
                    Ok(()) => {
                        let _ = h.record(t0.elapsed().as_micros() as u64);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += 1;
            }
            h
        }));
    }
    let mut h = histogram();
    for t in tasks {
        h.add(t.await?)?;
    }
    Ok((
        done.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
        h,
        start.elapsed().as_secs_f64(),
    ))
}

/// GET of the newest 50 messages of a channel holding `messages` messages; with
/// a seed file, of the seeded channels in turn (their corpus is the size).
pub async fn history(
    o: &Opts,
    messages: usize,
    channel: Option<(String, String)>,
) -> anyhow::Result<Report> {
    let rest = Rest::new(&o.target)?;
    if let (Some(seed), None) = (&o.seed, &channel) {
        return history_seeded(o, &rest, seed).await;
    }
    let (token, channel) = match channel {
        Some(c) => c,
        None => {
            let (owner, channel, _) = guild_with_members(&rest, o, 0).await?;
            for i in 0..messages {
                rest.send(&owner, &channel, &format!("history filler {i}"))
                    .await?;
            }
            (owner.token, channel)
        }
    };
    let (rest2, token2, path) = (
        rest.clone(),
        token.clone(),
        format!("/channels/{channel}/messages?limit=50"),
    );
    let (n, errors, h, secs) = hammer(o, move |_, _| {
        let (rest, token, path) = (rest2.clone(), token2.clone(), path.clone());
        async move {
            rest.call(Method::GET, &path, Some(&token), None).await?;
            Ok(())
        }
    })
    .await?;
    Ok(requests_report("history", n, errors, &h, secs))
}

/// `history` over a seeded corpus: the seed's owner reads the newest 50 of
/// every seeded channel in turn.
async fn history_seeded(o: &Opts, rest: &Rest, seed: &Seed) -> anyhow::Result<Report> {
    let owner = rest.login(&seed.users[0], &seed.password).await?;
    let paths: Arc<Vec<String>> = Arc::new(
        seed.channels()
            .into_iter()
            .map(|(_, c)| format!("/channels/{c}/messages?limit=50"))
            .collect(),
    );
    let rest2 = rest.clone();
    let (n, errors, h, secs) = hammer(o, move |w, n| {
        let (rest, token) = (rest2.clone(), owner.token.clone());
        let path = paths[(w + n as usize) % paths.len()].clone();
        async move {
            let v = rest.call(Method::GET, &path, Some(&token), None).await?;
            anyhow::ensure!(
                v.as_array().is_some_and(|a| !a.is_empty()),
                "empty history page"
            );
            Ok(())
        }
    })
    .await?;
    let mut r = requests_report("history", n, errors, &h, secs);
    r.add("stored_messages", seed.messages);
    Ok(r)
}

const WORDS: &[&str] = &[
    "apple", "river", "quantum", "violet", "harbor", "saffron", "glacier", "tempo", "meadow",
    "cobalt", "lantern", "orbit",
];

/// A mix of search queries over a generated corpus of `messages` messages.
pub async fn search(o: &Opts, messages: usize) -> anyhow::Result<Report> {
    let rest = Rest::new(&o.target)?;
    if let Some(seed) = &o.seed {
        return search_seeded(o, &rest, seed).await;
    }
    let owner = rest
        .account(&format!("{}_owner", o.prefix), &o.password)
        .await?;
    let (guild, channel) = rest.guild(&owner, &format!("{} search", o.prefix)).await?;
    for i in 0..messages {
        let a = WORDS[i % WORDS.len()];
        let b = WORDS[(i * 7 + 3) % WORDS.len()];
        rest.send(&owner, &channel, &format!("{a} and {b} number {i}"))
            .await?;
    }
    let (rest2, token) = (rest.clone(), owner.token.clone());
    let (n, errors, h, secs) = hammer(o, move |w, n| {
        let (rest, token, guild) = (rest2.clone(), token.clone(), guild.clone());
        async move {
            let q = WORDS[(w + n as usize) % WORDS.len()];
            rest.call(
                Method::GET,
                &format!("/guilds/{guild}/messages/search?content={q}"),
                Some(&token),
                None,
            )
            .await?;
            Ok(())
        }
    })
    .await?;
    Ok(requests_report("search", n, errors, &h, secs))
}

/// `search` over a seeded corpus: the seed's owner searches its first guild
/// for two-word queries, every pair of the seed's query words in turn (from
/// two very common words to two rare ones), newest first, 25 a page, with the
/// exact `total_results` each time.
async fn search_seeded(o: &Opts, rest: &Rest, seed: &Seed) -> anyhow::Result<Report> {
    let owner = rest.login(&seed.users[0], &seed.password).await?;
    let guild = seed
        .guilds
        .first()
        .context("the seed file names no guild")?
        .id
        .clone();
    let words = &seed.query_words;
    anyhow::ensure!(
        words.len() >= 2,
        "the seed file has fewer than two query words"
    );
    let mut queries = Vec::new();
    for (i, a) in words.iter().enumerate() {
        for b in &words[i + 1..] {
            queries.push(format!("{a} {b}"));
        }
    }
    let paths: Arc<Vec<String>> = Arc::new(
        queries
            .iter()
            .map(|q| {
                let mut url = reqwest::Url::parse("http://x/").expect("static url");
                url.query_pairs_mut().append_pair("content", q);
                format!(
                    "/guilds/{guild}/messages/search?{}",
                    url.query().unwrap_or("")
                )
            })
            .collect(),
    );
    let totals = Arc::new(AtomicU64::new(0));
    let (rest2, totals2) = (rest.clone(), totals.clone());
    let (n, errors, h, secs) = hammer(o, move |w, n| {
        let (rest, token, totals) = (rest2.clone(), owner.token.clone(), totals2.clone());
        let path = paths[(w + n as usize) % paths.len()].clone();
        async move {
            let v = rest.call(Method::GET, &path, Some(&token), None).await?;
            let total = v["total_results"]
                .as_u64()
                .context("no total_results in the answer")?;
            totals.fetch_add(total, Ordering::Relaxed);
            Ok(())
        }
    })
    .await?;
    let mut r = requests_report("search", n, errors, &h, secs);
    r.add("stored_messages", seed.messages)
        .add("queries", queries.len())
        .add(
            "mean_total_results",
            (totals.load(Ordering::Relaxed) as f64 / n.max(1) as f64).round(),
        );
    Ok(r)
}

/// Logins per second.
pub async fn login(o: &Opts) -> anyhow::Result<Report> {
    let rest = Rest::new(&o.target)?;
    let users = accounts(&rest, o, "l", o.concurrency.clamp(1, 16)).await?;
    let names: Vec<String> = (0..users.len())
        .map(|i| format!("{}_l{i}", o.prefix))
        .collect();
    let (rest2, pw) = (rest.clone(), o.password.clone());
    let (n, errors, h, secs) = hammer(o, move |w, _| {
        let (rest, name, pw) = (rest2.clone(), names[w % names.len()].clone(), pw.clone());
        async move {
            let v = rest
                .call(
                    Method::POST,
                    "/auth/login",
                    None,
                    Some(&json!({"login": name, "password": pw})),
                )
                .await?;
            v["token"].as_str().context("no token")?;
            Ok(())
        }
    })
    .await?;
    let mut r = Report::new("login");
    r.add("logins_per_s", ((n as f64 / secs) * 10.0).round() / 10.0)
        .add("p99_ms", ms(&h, 0.99))
        .add("errors", errors);
    Ok(r)
}
