//! `beep-bench` — a load generator that speaks only the public protocol (REST v10
//! and the gateway), so the same run can target Beep or any Discord-compatible
//! server. Prints a table, or one JSON line of figures with `--json`.

mod gateway;
mod inputs;
mod rest;
mod scenarios;
mod stats;

use std::time::Duration;

use clap::{Parser, Subcommand};

/// Command line.
#[derive(Debug, Parser)]
#[command(name = "beep-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
    /// Base URL of the server.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    target: String,
    /// Seconds each measurement runs.
    #[arg(long, global = true, default_value_t = 10.0)]
    duration: f64,
    /// Concurrent clients.
    #[arg(long, global = true, default_value_t = 32)]
    concurrency: usize,
    /// Print one JSON line instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Fail (exit 1) if any request failed; used by the CI smoke runs.
    #[arg(long, global = true)]
    fail_on_errors: bool,
    /// Seed file of `beep admin seed`: `history` and `search` use its corpus.
    #[arg(long, global = true)]
    seed: Option<std::path::PathBuf>,
    /// File of `Authorization` values, one per line, used instead of registering
    /// accounts (for servers without `/auth/register`).
    #[arg(long, global = true)]
    tokens: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Sustained POST /channels/{id}/messages.
    Send {
        /// Total messages per second (default: as fast as possible).
        #[arg(long)]
        rate: Option<f64>,
    },
    /// Gateway sessions receiving messages posted at a fixed rate.
    Fanout {
        #[arg(long, default_value_t = 100)]
        members: usize,
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
    },
    /// Open and hold many identified sessions.
    Sessions {
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// Server pid, to report its RSS growth per session.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// GET the newest 50 messages of a channel.
    History {
        /// Messages to post first (ignored with --channel).
        #[arg(long, default_value_t = 200)]
        messages: usize,
        /// Use this existing channel (with --token) instead of making one.
        #[arg(long, requires = "token")]
        channel: Option<String>,
        /// Authorization header value for --channel.
        #[arg(long)]
        token: Option<String>,
    },
    /// Message search queries over a generated corpus.
    Search {
        #[arg(long, default_value_t = 200)]
        messages: usize,
    },
    /// Logins per second.
    Login,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let run = format!(
        "b{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
            % 0xffffff
    );
    let nofile = inputs::raise_nofile_limit();
    let seed = match cli.seed.as_deref().map(inputs::Seed::load).transpose() {
        Ok(s) => s.map(std::sync::Arc::new),
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let tokens = match cli.tokens.as_deref().map(inputs::load_tokens).transpose() {
        Ok(t) => t.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let o = scenarios::Opts {
        target: cli.target.clone(),
        duration: Duration::from_secs_f64(cli.duration.max(0.1)),
        concurrency: cli.concurrency,
        password: "bench passphrase 42".into(),
        prefix: run,
        seed,
        tokens: std::sync::Arc::new(tokens),
        token_cursor: Default::default(),
        nofile,
    };
    let result = match cli.scenario {
        Scenario::Send { rate } => scenarios::send(&o, rate).await,
        Scenario::Fanout { members, rate } => scenarios::fanout(&o, members, rate).await,
        Scenario::Sessions { count, server_pid } => {
            scenarios::sessions(&o, count, server_pid).await
        }
        Scenario::History {
            messages,
            channel,
            token,
        } => scenarios::history(&o, messages, channel.zip(token).map(|(c, t)| (t, c))).await,
        Scenario::Search { messages } => scenarios::search(&o, messages).await,
        Scenario::Login => scenarios::login(&o).await,
    };
    match result {
        Ok(report) => {
            report.print(cli.json);
            let errors = report.get("errors").and_then(|v| v.as_u64()).unwrap_or(0);
            if cli.fail_on_errors && errors > 0 {
                eprintln!("error: {errors} requests failed");
                return std::process::ExitCode::FAILURE;
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
