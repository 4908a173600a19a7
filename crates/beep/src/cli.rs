//! Command-line interface: `serve`, `migrate`, `config check`, `admin ...`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use beep_store::UserPatch;
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config, Overrides};
use crate::{logging, server};

/// Beep: a self-hostable community chat platform.
#[derive(Debug, Parser)]
#[command(name = "beep", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: <data-dir>/beep.toml, if it exists).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (default ./beep-data; env BEEP_DATA_DIR).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; env BEEP_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Roles to run, comma-separated (default all): api, gateway, voice, worker.
        #[arg(long, value_delimiter = ',')]
        roles: Option<Vec<String>>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Administration tasks on the configured database.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// `beep config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective values, secrets redacted.
    Check,
    /// Print the default configuration as a `beep.toml` to start from.
    Example,
}

/// `beep admin ...`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// Mark the email address as verified.
        #[arg(long)]
        verified: bool,
        /// Make the account an instance administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Set a new password for an account (by username or email).
    ResetPassword {
        #[arg(long)]
        login: String,
        #[arg(long)]
        password: String,
    },
    /// Create a bot account and print its token (`Authorization: Bot <token>`).
    /// With `--owner`, the bot belongs to an application owned by that account
    /// (by username or email) and named `--name`.
    CreateBot {
        /// The bot's username (a bare bot, without an application).
        #[arg(long, required_unless_present = "owner")]
        username: Option<String>,
        /// The account owning the bot's application.
        #[arg(long, requires = "name")]
        owner: Option<String>,
        /// The application's name (the bot is named after it).
        #[arg(long)]
        name: Option<String>,
    },
    /// Generate a new token signing key in the keys directory; every node signs
    /// with it from its next start, and tokens signed by older keys stay valid.
    RotateKey,
    /// Rebuild the message search index from the messages, in batches, with a
    /// progress bar (needed once after upgrading to the search migration).
    Reindex {
        /// Messages per write transaction.
        #[arg(long, default_value_t = 5_000)]
        batch: u32,
    },
    /// Write a deterministic benchmark corpus: `--members` accounts (password
    /// `--password`) in each of `--guilds` guilds, and `--messages` messages over
    /// their text channels, in large batches; then a seed file for
    /// `beep-bench --seed`.
    Seed {
        #[command(flatten)]
        plan: crate::seed::SeedPlan,
        /// Where to write the seed file (default <data-dir>/seed.json).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn env_snapshot() -> Vec<(String, String)> {
    std::env::vars().collect()
}

/// Load the configuration with the command's flags applied.
pub fn load_config(global: &GlobalArgs, overrides: Overrides) -> anyhow::Result<Config> {
    let overrides = Overrides {
        data_dir: global.data_dir.clone(),
        ..overrides
    };
    let c = config::load(global.config.as_deref(), &overrides, &env_snapshot())?;
    if let Err(problems) = c.validate() {
        anyhow::bail!("invalid configuration:\n  - {}", problems.join("\n  - "));
    }
    Ok(c)
}

/// Run the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, roles } => {
            let c = load_config(
                &cli.global,
                Overrides {
                    listen,
                    roles,
                    ..Default::default()
                },
            )?;
            let telemetry = logging::init(
                &c.log.level,
                &c.log.format,
                &logging::container_id(&c.node.id),
                &c.otel.endpoint,
            )?;
            let (soft, hard) = crate::fdlimit::raise_to_hard_limit();
            tracing::info!(soft = ?soft, hard = ?hard, "open-file limit");
            let stop = server::shutdown_signal()?;
            let node = server::start(c).await?;
            let result = node.wait(stop).await;
            // The exporter's shutdown blocks while it flushes; keep it off the runtime.
            let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
            result
        }
        Command::Migrate => {
            let c = load_config(&cli.global, Overrides::default())?;
            server::ensure_data_dir(&c)?;
            let applied = beep_store::migrate(&server::store_config(&c))
                .await
                .context("migration failed")?;
            if applied.is_empty() {
                println!("database is up to date");
            }
            for name in applied {
                println!("applied {name}");
            }
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            let c = load_config(&cli.global, Overrides::default())?;
            server::resolve_roles(&c.roles)?;
            println!(
                "# configuration is valid; effective values:\n{}",
                c.redacted_toml()
            );
            Ok(())
        }
        Command::Config(ConfigCommand::Example) => {
            print!("{}", Config::default().redacted_toml());
            Ok(())
        }
        Command::Admin(cmd) => admin(&cli.global, cmd).await,
    }
}

async fn admin(global: &GlobalArgs, cmd: AdminCommand) -> anyhow::Result<()> {
    let c = load_config(global, Overrides::default())?;
    let services = server::open_services(&c).await?;
    let result = match cmd {
        AdminCommand::CreateUser {
            username,
            email,
            password,
            verified,
            admin,
        } => {
            let reg = beep_core::accounts::Registration {
                username,
                email,
                password,
                ..Default::default()
            };
            let local = beep_core::accounts::Client::default();
            let user = services
                .accounts
                .register(reg, &local)
                .await
                .map_err(describe)?;
            let patch = UserPatch {
                verified: Some(verified),
                admin: Some(admin),
                ..Default::default()
            };
            let user = services.store.update_user(user.id, &patch).await?;
            println!(
                "created user {} ({}){}",
                user.username,
                user.id,
                if user.admin { " as administrator" } else { "" }
            );
            Ok(())
        }
        AdminCommand::ResetPassword { login, password } => {
            let user = services
                .accounts
                .set_password_by_login(&login, password)
                .await
                .map_err(describe)?;
            println!(
                "password of {} ({}) reset; their sessions were ended",
                user.username, user.id
            );
            Ok(())
        }
        AdminCommand::CreateBot {
            username,
            owner: Some(owner),
            name,
        } => {
            let owner_user = services
                .accounts
                .find_by_login(&owner)
                .await
                .map_err(describe)?
                .ok_or_else(|| anyhow::anyhow!("no account {owner}"))?;
            let body = beep_types::v10::message::CreateApplication {
                name: name.or(username).unwrap_or_default(),
                description: None,
                bot_public: None,
            };
            let made = services
                .applications
                .create_for(owner_user.id, body)
                .await
                .map_err(describe)?;
            let bot = made
                .application
                .bot
                .as_ref()
                .map_or("?", |b| b.username.as_str());
            println!("created bot {bot} ({})", made.application.id);
            println!(
                "application {} owned by {}",
                made.application.id, owner_user.username
            );
            println!("token (shown once): {}", made.token);
            Ok(())
        }
        AdminCommand::CreateBot { username, .. } => {
            let username = username.unwrap_or_default();
            let (user, token) = services
                .accounts
                .create_bot(&username)
                .await
                .map_err(describe)?;
            println!("created bot {} ({})", user.username, user.id);
            println!("token (shown once): {token}");
            Ok(())
        }
        AdminCommand::RotateKey => {
            let dir = if c.auth.keys_dir.is_empty() {
                c.data_dir.join("keys")
            } else {
                c.auth.keys_dir.clone().into()
            };
            let path = beep_core::accounts::keys::generate_into(&dir).map_err(describe)?;
            println!(
                "new signing key {}; restart the nodes to sign with it",
                path.display()
            );
            Ok(())
        }
        AdminCommand::Reindex { batch } => {
            anyhow::ensure!((1..=100_000).contains(&batch), "--batch must be 1..=100000");
            let n = crate::reindex::run(&services.store, batch).await?;
            println!("indexed {n} messages");
            Ok(())
        }
        AdminCommand::Seed { mut plan, out } => {
            plan.out = out.unwrap_or_else(|| c.data_dir.join("seed.json"));
            crate::seed::run(&services, server::core_config(&c).password_hash, &plan).await
        }
    };
    services.store.close().await;
    result
}

/// A domain error as a CLI message, with its field errors.
fn describe(e: beep_core::Error) -> anyhow::Error {
    let mut msg = e.code.message().to_string();
    for (field, errs) in &e.fields {
        for fe in errs {
            msg.push_str(&format!("\n  {field}: {}", fe.message));
        }
    }
    if let Some(c) = &e.cause {
        msg.push_str(&format!("\n  cause: {c}"));
    }
    anyhow::anyhow!(msg)
}
