//! Wiring of the gateway role and of the event bus between nodes: NATS when
//! `nats.url` is set, the in-process bus otherwise.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use beep_core::Services;
use beep_gateway::directory::Directory;
use beep_gateway::http::{self, Discovery};
use beep_gateway::nats::NatsBus;
use beep_gateway::services::ServicesDirectory;
use beep_gateway::{Gateway, GatewayConfig};
use beep_http::AppState;

use crate::config::Config;

/// The NATS bus of a clustered node; `None` on a single node.
pub async fn event_bus(c: &Config) -> anyhow::Result<Option<Arc<NatsBus>>> {
    if c.nats.url.is_empty() {
        return Ok(None);
    }
    let bus = NatsBus::connect(&c.nats.url, &c.nats.subject_prefix, 16_384).await?;
    tracing::info!(prefix = %c.nats.subject_prefix, "event bus: NATS");
    Ok(Some(bus))
}

/// What the gateway role adds to a node.
pub struct GatewayRole {
    /// The running gateway, when this node has the role.
    pub gateway: Option<Gateway>,
    /// Routes under `/api/v{9,10}`: discovery (with the `api` role) and presence
    /// (with the `gateway` role).
    pub api_routes: Router<AppState>,
    /// The WebSocket endpoint (with the `gateway` role).
    pub root_routes: Router<AppState>,
}

/// Start the gateway role if `roles` has it, and give the routes it adds.
pub async fn gateway_role(
    c: &Config,
    services: &Services,
    nats: Option<&Arc<NatsBus>>,
    roles: &[&str],
    public_url: &str,
) -> anyhow::Result<GatewayRole> {
    let url = c.gateway.url_for(public_url);
    let privileged = c
        .gateway
        .bot_privileged()
        .map_err(|bad| anyhow::anyhow!("gateway.bot_privileged_intents: unknown {bad:?}"))?;
    let discovery = roles
        .contains(&"api")
        .then(|| Discovery { url: url.clone() });
    if !roles.contains(&"gateway") {
        return Ok(GatewayRole {
            gateway: None,
            api_routes: http::api_routes(discovery, None),
            root_routes: Router::new(),
        });
    }
    let dir: Arc<dyn Directory> = Arc::new(ServicesDirectory::new(services.clone(), privileged));
    let g = &c.gateway;
    let node = if c.node.id.is_empty() {
        format!("w{}-{}", c.node.worker_id, std::process::id())
    } else {
        c.node.id.clone()
    };
    let cfg = GatewayConfig {
        resume_url: if g.resume_url.is_empty() {
            url.clone()
        } else {
            g.resume_url.clone()
        },
        url,
        heartbeat_interval_ms: g.heartbeat_interval_ms,
        resume_window_secs: g.resume_window_secs,
        resume_buffer: g.resume_buffer,
        max_pending: g.max_pending,
        revalidate_secs: g.revalidate_secs,
        coalesce: std::time::Duration::from_millis(g.coalesce_ms),
        write_timeout_secs: g.write_timeout_secs,
        drain_timeout_secs: g.drain_timeout_secs,
        node,
    };
    let gateway = Gateway::new(dir, services.bus.clone(), cfg);
    if let Some(n) = nats {
        gateway
            .share_presence(n.client().clone(), &c.nats.subject_prefix)
            .await
            .context("cannot share presence through NATS")?;
        gateway
            .join_cluster(n.clone())
            .await
            .context("cannot start session handoff over NATS")?;
    }
    gateway.start();
    Ok(GatewayRole {
        api_routes: http::api_routes(discovery, Some(gateway.clone())),
        root_routes: http::socket_routes(gateway.clone()),
        gateway: Some(gateway),
    })
}
