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
pub const AVAILABLE_ROLES: &[&str] = &["api"];

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
    ensure_data_dir(c)?;
    let store: DynStore = beep_store::open(&store_config(c))
        .await
        .context("cannot open the database")?;
    let core = CoreConfig {
        worker_id: c.node.worker_id,
        ..CoreConfig::default()
    };
    Services::new(store, &core).map_err(|e| anyhow::anyhow!("{e:?}"))
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
    let services = open_services(&config).await?;
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
        services: services.clone(),
        config: Arc::new(HttpConfig {
            json_body_bytes: config.limits.json_body_bytes,
            json_depth: config.limits.json_depth,
            public_url,
        }),
        metrics: metrics_handle(),
    };
    let app = beep_http::router(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let store = services.store.clone();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
            info!("shutting down: no new connections, finishing in-flight requests");
        })
        .await
        .context("HTTP server failed")?;
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

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("SIGINT received"),
        _ = term => info!("SIGTERM received"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn roles_expand_and_refuse() {
        assert_eq!(resolve_roles(&s(&["all"])).expect("all"), vec!["api"]);
        assert_eq!(resolve_roles(&s(&["api,api"])).expect("dedup"), vec!["api"]);
        let e = resolve_roles(&s(&["gateway"])).expect_err("not yet");
        assert!(e.to_string().contains("not available"), "{e}");
        let e = resolve_roles(&s(&["bogus"])).expect_err("unknown");
        assert!(e.to_string().contains("unknown role"), "{e}");
        assert!(resolve_roles(&s(&[""])).is_err());
    }
}
