//! Wiring one node: open the store, build the services, start the roles asked
//! for, and stop them in order on shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use beep_core::{CoreConfig, Services};
use beep_http::{AppState, HttpConfig};
use beep_store::{DynStore, StoreConfig};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::info;

use crate::config::Config;

/// Roles a process can be asked to run (SPEC §1.3).
pub const KNOWN_ROLES: &[&str] = &["api", "gateway", "voice", "worker"];
/// Roles this build implements; the others are refused until their issues land.
pub const AVAILABLE_ROLES: &[&str] = &["api", "gateway"];

/// Expand and check `--roles`: `all` means every available role.
pub fn resolve_roles(asked: &[String]) -> anyhow::Result<Vec<&'static str>> {
    let mut out: Vec<&'static str> = Vec::new();
    for raw in asked
        .iter()
        .flat_map(|r| r.split(','))
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        if raw == "all" {
            for r in AVAILABLE_ROLES {
                if !out.contains(r) {
                    out.push(r);
                }
            }
            continue;
        }
        let Some(known) = KNOWN_ROLES.iter().find(|k| **k == raw) else {
            anyhow::bail!(
                "unknown role `{raw}`; roles are: {}",
                KNOWN_ROLES.join(", ")
            );
        };
        if !AVAILABLE_ROLES.contains(known) {
            anyhow::bail!(
                "role `{raw}` is not available in this version of Beep yet; available roles: {}",
                AVAILABLE_ROLES.join(", ")
            );
        }
        if !out.contains(known) {
            out.push(known);
        }
    }
    if out.is_empty() {
        anyhow::bail!(
            "no role to run; give --roles with at least one of: {}",
            AVAILABLE_ROLES.join(", ")
        );
    }
    Ok(out)
}

/// The storage configuration the node's configuration asks for.
pub fn store_config(c: &Config) -> StoreConfig {
    if c.database.url.is_empty() {
        StoreConfig::Sqlite(beep_store::sqlite::SqliteConfig {
            readers: c.database.sqlite_readers,
            synchronous: if c.database.sqlite_synchronous == "normal" {
                beep_store::sqlite::Synchronous::Normal
            } else {
                beep_store::sqlite::Synchronous::Full
            },
            ..beep_store::sqlite::SqliteConfig::new(c.data_dir.join("beep.db"))
        })
    } else {
        StoreConfig::Postgres(beep_store::postgres::PostgresConfig {
            url: c.database.url.clone(),
            schema: (!c.database.schema.is_empty()).then(|| c.database.schema.clone()),
            max_connections: c.database.max_connections,
        })
    }
}

/// Create the data directory (needed even on PostgreSQL for keys and files).
pub fn ensure_data_dir(c: &Config) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(&c.data_dir)
        .with_context(|| format!("cannot create data directory {}", c.data_dir.display()))?;
    Ok(c.data_dir.clone())
}

/// Open the store and the services over it (used by `serve` and `admin`).
pub async fn open_services(c: &Config) -> anyhow::Result<Services> {
    open_services_with_bus(c, None).await
}

/// Like [`open_services`], over a given event bus (a cluster's) instead of the
/// in-process one.
pub async fn open_services_with_bus(
    c: &Config,
    bus: Option<Arc<dyn beep_core::events::EventBus>>,
) -> anyhow::Result<Services> {
    ensure_data_dir(c)?;
    let store: DynStore = beep_store::open(&store_config(c))
        .await
        .context("cannot open the database")?;
    let core = core_config(c);
    let services = match bus {
        Some(bus) => Services::with_bus(store, &core, bus),
        None => Services::new(store, &core),
    }
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    // New bot applications start with the privileged intents of the setting.
    let privileged = c
        .gateway
        .bot_privileged()
        .map_err(|bad| anyhow::anyhow!("gateway.bot_privileged_intents: unknown {bad:?}"))?;
    services
        .applications
        .set_default_flags(beep_core::applications::flags_for(privileged));
    Ok(services)
}

/// The domain's settings from the node's configuration.
pub fn core_config(c: &Config) -> CoreConfig {
    use beep_core::ratelimit::Quota;
    use beep_core::{KeySource, RateLimitBackend};
    let a = &c.auth;
    let keys = if !a.keys.is_empty() {
        KeySource::Pems(a.keys.clone())
    } else if a.keys_dir.is_empty() {
        KeySource::Dir(c.data_dir.join("keys"))
    } else {
        KeySource::Dir(a.keys_dir.clone().into())
    };
    let rate_limits = match (c.ratelimit.enabled, c.ratelimit.backend.as_str()) {
        (false, _) => RateLimitBackend::Off,
        (true, "database") => RateLimitBackend::Shared,
        (true, "auto") if !c.database.url.is_empty() => RateLimitBackend::Shared,
        _ => RateLimitBackend::Memory,
    };
    CoreConfig {
        worker_id: c.node.worker_id,
        password_hash: beep_core::accounts::password::HashParams {
            memory_kib: a.argon2_memory_kib,
            iterations: a.argon2_iterations,
            parallelism: a.argon2_parallelism,
        },
        auth: beep_core::accounts::AuthSettings {
            // Tokens must verify on every node, so the issuer is the public URL
            // only when one is configured (all nodes then share it).
            issuer: if c.public_url.is_empty() {
                "beep".into()
            } else {
                c.public_base_url()
            },
            access_ttl: Duration::from_secs(a.access_token_ttl_secs),
            refresh_ttl: Duration::from_secs(a.session_idle_days * 24 * 3600),
            require_email_verification: a.require_email_verification,
            login_failures: Quota::strict(a.max_failed_logins, Duration::from_secs(15 * 60)),
            registrations: Quota::per(a.registrations_per_hour, Duration::from_secs(3600)),
            ..Default::default()
        },
        keys,
        mail: beep_core::mail::MailSettings {
            smtp_url: c.smtp.url.clone(),
            from: c.smtp.from.clone(),
            timeout: Duration::from_secs(c.smtp.timeout_secs),
        },
        rate_limits,
        files: files_config(c),
        file_lifecycle: lifecycle_settings(c),
        guilds: c.guilds.limits(),
        social: c.social.limits(),
        notifications: beep_core::notifications::NotificationConfig {
            digest_delay: Duration::from_secs(c.notifications.digest_delay_secs.max(1)),
            // Worker ids are unique among running nodes: a fine lease name.
            node: format!("w{}", c.node.worker_id),
        },
        ..CoreConfig::default()
    }
}

/// Quotas, the file deletion worker and the orphan sweeper from `[files]`.
pub fn lifecycle_settings(c: &Config) -> beep_core::file_lifecycle::LifecycleSettings {
    let f = &c.files;
    beep_core::file_lifecycle::LifecycleSettings {
        user_quota_bytes: f.user_quota_bytes,
        deletion_poll: Duration::from_millis(f.deletion_poll_ms),
        retry_base: Duration::from_millis(f.deletion_retry_base_ms),
        retry_max: Duration::from_secs(f.deletion_retry_max_secs),
        lease: Duration::from_secs(f.deletion_lease_secs),
        sweep_interval: Duration::from_secs(f.sweep_interval_secs),
        orphan_grace: Duration::from_secs(f.orphan_grace_secs),
    }
}

/// The files service's settings: `<data_dir>/files`, or the S3 bucket when one is set.
pub fn files_config(c: &Config) -> beep_files::FilesConfig {
    let (f, s) = (&c.files, &c.s3);
    let storage = if s.bucket.is_empty() {
        beep_files::StorageConfig::Local(c.data_dir.join("files"))
    } else {
        beep_files::StorageConfig::S3(beep_files::S3Settings {
            endpoint: s.endpoint.clone(),
            bucket: s.bucket.clone(),
            region: s.region.clone(),
            access_key_id: s.access_key_id.clone(),
            secret_access_key: s.secret_access_key.clone(),
            path_style: s.path_style,
        })
    };
    beep_files::FilesConfig {
        storage,
        signing_key: f.signing_key.clone(),
        key_file: c.data_dir.join("files-signing.key"),
        url_ttl_secs: f.url_ttl_secs,
        max_upload_bytes: f.max_upload_bytes,
        max_files: f.max_files,
        max_avatar_bytes: f.max_avatar_bytes,
        image: beep_files::ImageLimits {
            max_pixels: f.max_image_pixels,
            ..Default::default()
        },
        preview: beep_files::PreviewConfig {
            enabled: f.preview_enabled,
            allowlist: f.preview_allowlist.clone(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The process-wide Prometheus recorder (installed once, shared by every server a
/// test process starts).
fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ];
            let batch = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("batch_size".into()), &batch)
                })
                .ok()?
                .install_recorder()
                .ok()?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        })
        .clone()
}

/// A node that is running; dropping it does not stop it, [`Running::shutdown`] does.
pub struct Running {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    /// The services, for tests that inspect state directly.
    pub services: Services,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stop accepting, finish in-flight requests, flush the store, and return.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("server task failed")?
    }

    /// Wait until the server stops by itself (it only does on error).
    pub async fn wait(
        self,
        stop_signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        stop_signal.await;
        self.shutdown().await
    }
}

/// Start a node with `config` and return once it accepts connections.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let started = Instant::now();
    let roles = resolve_roles(&config.roles)?;
    let nats = crate::gateway_role::event_bus(&config).await?;
    let bus = nats
        .clone()
        .map(|n| n as Arc<dyn beep_core::events::EventBus>);
    let services = open_services_with_bus(&config, bus).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let public_url = if config.public_url.is_empty() {
        format!("http://{addr}")
    } else {
        config.public_base_url()
    };
    let state = AppState {
        services: Arc::new(services.clone()),
        config: Arc::new(HttpConfig {
            json_body_bytes: config.limits.json_body_bytes,
            json_depth: config.limits.json_depth,
            public_url,
            trust_forwarded_for: config.node.trust_forwarded_for,
            route_limits: beep_http::ratelimit::RouteLimits {
                enabled: config.ratelimit.enabled,
                per_second: config.ratelimit.per_second,
                auth_per_minute: config.ratelimit.auth_per_minute,
            },
        }),
        metrics: metrics_handle(),
    };
    let gw = crate::gateway_role::gateway_role(
        &config,
        &services,
        nats.as_ref(),
        &roles,
        &state.config.public_url,
    )
    .await?;
    let app = beep_http::router_with(state, roles.contains(&"api"), gw.api_routes, gw.root_routes);
    let gateway = gw.gateway;
    let (stop, stopped) = oneshot::channel::<()>();
    let store = services.store.clone();
    let maintenance = spawn_maintenance(services.clone());
    // Every node empties the file deletion queue and sweeps orphans (claims are
    // leased, so nodes never take the same entry).
    let file_worker = services.file_lifecycle.spawn();
    // The missed-mention digest runs where the API does.
    let digest = (roles.contains(&"api") || roles.contains(&"worker"))
        .then(|| services.notifications.digest_worker().spawn());
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
            if let Some(g) = &gateway {
                // Clients are told to reconnect (RECONNECT) before the listener
                // closes, so they move to another node without losing events.
                g.drain().await;
            }
            info!("shutting down: no new connections, finishing in-flight requests");
        })
        .await
        .context("HTTP server failed")?;
        maintenance.abort();
        file_worker.abort();
        if let Some(d) = digest {
            d.abort();
        }
        store.close().await;
        info!("stopped");
        Ok(())
    });
    info!(
        listen = %addr,
        roles = %roles.join(","),
        backend = services.store.backend(),
        startup_ms = started.elapsed().as_millis() as u64,
        "beep is ready"
    );
    Ok(Running {
        addr,
        services,
        stop,
        task,
    })
}

/// Purge expired one-time codes and full rate-limit buckets every five minutes.
fn spawn_maintenance(services: Services) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            if let Err(e) = services.accounts.maintenance().await {
                tracing::warn!(cause = ?e, "maintenance failed; will retry");
            }
        }
    })
}

/// Resolves on SIGTERM or SIGINT.
///
/// The handlers are installed when this function is called, not when the future is
/// first polled, so a signal that arrives while the node is still starting is not
/// lost (nor does it kill the process with the default action).
pub fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot install the SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => info!("SIGINT received"),
            _ = term.recv() => info!("SIGTERM received"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn roles_expand_and_refuse() {
        assert_eq!(
            resolve_roles(&s(&["all"])).expect("all"),
            vec!["api", "gateway"]
        );
        assert_eq!(resolve_roles(&s(&["api,api"])).expect("dedup"), vec!["api"]);
        let e = resolve_roles(&s(&["voice"])).expect_err("not yet");
        assert!(e.to_string().contains("not available"), "{e}");
        let e = resolve_roles(&s(&["bogus"])).expect_err("unknown");
        assert!(e.to_string().contains("unknown role"), "{e}");
        assert!(resolve_roles(&s(&[""])).is_err());
    }
}
