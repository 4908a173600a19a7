//! Link previews: find the links of a message, fetch each page safely, and turn its
//! OpenGraph / Twitter card tags (and what a YouTube, Spotify or X link says by
//! itself) into a Discord embed object.
//!
//! The fetch guards against SSRF: http and https only; every host is resolved once
//! by our resolver, which refuses the whole answer if any address is not public,
//! and the connection goes to those checked addresses; IP literals are checked the
//! same way; redirects are followed by hand (at most 5), each hop checked again;
//! at most 1 MiB is read, within 5 seconds, and only HTML is parsed. Hosts in the
//! allowlist skip the address check (for tests and intranet deployments).

mod guard;
pub mod opengraph;
mod providers;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest13 as reqwest;
use serde_json::Value;
use url::Url;

pub use guard::is_public;

use crate::error::{FilesError, Result};

/// Settings of the preview fetcher.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewConfig {
    /// Fetch previews at all.
    pub enabled: bool,
    /// Hosts (`name` or `name:port`, IP literals included) exempt from the address
    /// check, e.g. `127.0.0.1` for a test page. Empty by default.
    pub allowlist: Vec<String>,
    /// Most bytes of a page read.
    pub max_bytes: usize,
    /// Whole-fetch time limit.
    pub timeout: Duration,
    /// Most redirects followed.
    pub max_redirects: usize,
    /// Most links of one message previewed.
    pub max_links: usize,
}

impl Default for PreviewConfig {
    fn default() -> Self {
        PreviewConfig {
            enabled: true,
            allowlist: Vec::new(),
            max_bytes: 1024 * 1024,
            timeout: Duration::from_secs(5),
            max_redirects: 5,
            max_links: 5,
        }
    }
}

/// Why a preview was not made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PreviewError {
    /// The URL or an address it leads to is not allowed.
    #[error("refused: {0}")]
    Refused(String),
    /// The page could not be fetched or is not something previewable.
    #[error("fetch failed: {0}")]
    Fetch(String),
}

/// A resolver that refuses non-public answers (unless the host is allowlisted).
struct GuardedResolver {
    allowlist: Arc<Vec<String>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let allowed = self.allowlist.iter().any(|a| a == &host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if !allowed && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to a non-public address {}", bad.ip()).into());
            }
            let it: Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

/// Fetches pages and makes embeds.
#[derive(Clone)]
pub struct Previewer {
    config: PreviewConfig,
    client: reqwest::Client,
    allowlist: Arc<Vec<String>>,
}

impl std::fmt::Debug for Previewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Previewer")
            .field("config", &self.config)
            .finish()
    }
}

impl Previewer {
    /// A previewer with its own HTTP client (no proxy, no automatic redirects).
    pub fn new(config: PreviewConfig) -> Result<Previewer> {
        let allowlist: Arc<Vec<String>> = Arc::new(
            config
                .allowlist
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
        );
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent("Mozilla/5.0 (compatible; Beep link preview)")
            .dns_resolver(Arc::new(GuardedResolver {
                allowlist: allowlist.clone(),
            }))
            .build()
            .map_err(|e| FilesError::Internal(format!("preview client: {e}")))?;
        Ok(Previewer {
            config,
            client,
            allowlist,
        })
    }

    fn allowlisted(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let with_port = url.port().map(|p| format!("{host}:{p}"));
        self.allowlist
            .iter()
            .any(|a| *a == host || Some(a) == with_port.as_ref())
    }

    /// Check a URL before connecting: scheme, credentials, and IP literals (names
    /// are checked by the resolver).
    fn check(&self, url: &Url) -> std::result::Result<(), PreviewError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(PreviewError::Refused(format!("scheme {}", url.scheme())));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(PreviewError::Refused("credentials in URL".into()));
        }
        let host = match url.host() {
            Some(h) => h,
            None => return Err(PreviewError::Refused("no host".into())),
        };
        let ip: Option<IpAddr> = match host {
            url::Host::Ipv4(v4) => Some(v4.into()),
            url::Host::Ipv6(v6) => Some(v6.into()),
            url::Host::Domain(d) => {
                if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") {
                    // Never ask a resolver what "localhost" is.
                    Some(IpAddr::from([127, 0, 0, 1]))
                } else {
                    None
                }
            }
        };
        if let Some(ip) = ip
            && !is_public(ip)
            && !self.allowlisted(url)
        {
            return Err(PreviewError::Refused(format!("address {ip} is not public")));
        }
        Ok(())
    }

    /// Fetch `url` and make its embed; `Ok(None)` when the page has nothing to show.
    pub async fn preview(&self, url: &str) -> std::result::Result<Option<Value>, PreviewError> {
        let url = Url::parse(url).map_err(|e| PreviewError::Refused(format!("bad URL: {e}")))?;
        let page = match tokio::time::timeout(self.config.timeout, self.fetch(url.clone())).await {
            Ok(r) => r,
            Err(_) => Err(PreviewError::Fetch("timed out".into())),
        };
        match page {
            Ok(html) => Ok(providers::embed(
                &url,
                html.as_deref().map(opengraph::parse).as_ref(),
            )),
            Err(PreviewError::Fetch(e)) if providers::known(&url) => {
                tracing::debug!(%url, error = %e, "preview fetch failed; using the link alone");
                Ok(providers::embed(&url, None))
            }
            Err(e) => Err(e),
        }
    }

    /// The HTML of the page at `url` (following checked redirects), or `None` when
    /// the final answer is not HTML.
    async fn fetch(&self, mut url: Url) -> std::result::Result<Option<String>, PreviewError> {
        for _hop in 0..=self.config.max_redirects {
            self.check(&url)?;
            let resp = self
                .client
                .get(url.clone())
                .header("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
                .send()
                .await
                .map_err(|e| {
                    let msg = error_chain(&e);
                    if msg.contains("non-public address") {
                        PreviewError::Refused(msg)
                    } else {
                        PreviewError::Fetch(msg)
                    }
                })?;
            if resp.status().is_redirection() {
                let Some(loc) = resp.headers().get("location").and_then(|l| l.to_str().ok()) else {
                    return Err(PreviewError::Fetch("redirect without Location".into()));
                };
                url = url
                    .join(loc)
                    .map_err(|e| PreviewError::Fetch(format!("bad redirect: {e}")))?;
                continue;
            }
            if !resp.status().is_success() {
                return Err(PreviewError::Fetch(format!("status {}", resp.status())));
            }
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            if !(ct.starts_with("text/html") || ct.starts_with("application/xhtml+xml")) {
                return Ok(None);
            }
            return self.read_bounded(resp).await.map(Some);
        }
        Err(PreviewError::Fetch("too many redirects".into()))
    }

    /// At most `max_bytes` of the body; the rest is never read.
    async fn read_bounded(
        &self,
        mut resp: reqwest::Response,
    ) -> std::result::Result<String, PreviewError> {
        let max = self.config.max_bytes;
        let mut buf: Vec<u8> = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| PreviewError::Fetch(error_chain(&e)))?
        {
            let room = max.saturating_sub(buf.len());
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if buf.len() >= max {
                break;
            }
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Previews for the links of a message (at most `max_links`), skipping the
    /// links that fail. The caller checks EMBED_LINKS and SUPPRESS_EMBEDS.
    pub async fn previews_for(&self, content: &str) -> Vec<Value> {
        if !self.config.enabled {
            return Vec::new();
        }
        let mut out = Vec::new();
        for link in extract_urls(content, self.config.max_links) {
            match self.preview(&link).await {
                Ok(Some(e)) => out.push(e),
                Ok(None) => {}
                Err(e) => tracing::debug!(url = %link, error = %e, "no preview"),
            }
        }
        out
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// The `http(s)://` links of a message, in order, without duplicates, leaving out
/// links wrapped in `<...>` (Discord's way to suppress one preview).
pub fn extract_urls(content: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = content;
    while let Some(pos) = rest.find("http") {
        let before = rest[..pos].chars().last();
        let tail = &rest[pos..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        let candidate = tail[..end].trim_end_matches(['.', ',', ')', '!', '?', ';', ':']);
        rest = &tail[end.max(4)..];
        if !(candidate.starts_with("http://") || candidate.starts_with("https://")) {
            continue;
        }
        if before == Some('<') {
            continue;
        }
        if Url::parse(candidate).is_ok() && !out.iter().any(|u| u == candidate) {
            out.push(candidate.to_string());
            if out.len() >= max {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_links_and_honours_angle_brackets() {
        let v = extract_urls(
            "see https://a.example/x, and <https://b.example/> or http://c.example/p?q=1. https://a.example/x",
            5,
        );
        assert_eq!(v, vec!["https://a.example/x", "http://c.example/p?q=1"]);
        assert!(extract_urls("no links here, httpfoo", 5).is_empty());
    }

    #[tokio::test]
    async fn refuses_private_targets_before_connecting() {
        let p = Previewer::new(PreviewConfig::default()).expect("client");
        for u in [
            "http://127.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://localhost:8080/",
            "http://10.0.0.1/",
            "file:///etc/passwd",
            "gopher://x/",
            "http://user:pw@example.org/",
        ] {
            let r = p.preview(u).await;
            assert!(matches!(r, Err(PreviewError::Refused(_))), "{u}: {r:?}");
        }
    }
}
