//! The REST calls the scenarios need, on Discord v10 paths (plus Beep's
//! `/auth/register` and `/auth/login` to make accounts).

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// A REST client for one base URL.
#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    base: String,
}

/// A logged-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub token: String,
}

impl Rest {
    /// A client for `target` (e.g. `http://127.0.0.1:8080`).
    pub fn new(target: &str) -> anyhow::Result<Rest> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()?;
        Ok(Rest {
            http,
            base: format!("{}/api/v10", target.trim_end_matches('/')),
        })
    }

    /// Send a request and parse the JSON answer; non-2xx is an error with the body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.header("authorization", t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!("{path}: HTTP {status}: {text}");
        }
        if text.is_empty() {
            Ok(Value::Null)
        } else {
            Ok(serde_json::from_str(&text)?)
        }
    }

    /// Register (if needed) and log in `username`.
    pub async fn account(&self, username: &str, password: &str) -> anyhow::Result<Account> {
        let reg = json!({"username": username, "email": format!("{username}@bench.invalid"), "password": password});
        // An existing account from an earlier run is fine: log in below.
        let _ = self
            .call(reqwest::Method::POST, "/auth/register", None, Some(&reg))
            .await;
        self.login(username, password).await
    }

    /// Log in an existing account.
    pub async fn login(&self, login: &str, password: &str) -> anyhow::Result<Account> {
        let body = json!({"login": login, "password": password});
        let v = self
            .call(reqwest::Method::POST, "/auth/login", None, Some(&body))
            .await?;
        let token = v["token"]
            .as_str()
            .context("login returned no token")?
            .to_string();
        Ok(Account { token })
    }

    /// Create a guild owned by `owner` and return (guild id, first text channel id).
    pub async fn guild(&self, owner: &Account, name: &str) -> anyhow::Result<(String, String)> {
        let g = self
            .call(
                reqwest::Method::POST,
                "/guilds",
                Some(&owner.token),
                Some(&json!({"name": name})),
            )
            .await?;
        let gid = g["id"].as_str().context("guild without id")?.to_string();
        let chans = self
            .call(
                reqwest::Method::GET,
                &format!("/guilds/{gid}/channels"),
                Some(&owner.token),
                None,
            )
            .await?;
        let cid = chans
            .as_array()
            .and_then(|a| a.iter().find(|c| c["type"] == 0))
            .and_then(|c| c["id"].as_str())
            .context("guild has no text channel")?
            .to_string();
        Ok((gid, cid))
    }

    /// Make `member` join the guild of `channel` through an invite made by `owner`.
    pub async fn join(
        &self,
        owner: &Account,
        channel: &str,
        member: &Account,
    ) -> anyhow::Result<()> {
        let inv = self
            .call(
                reqwest::Method::POST,
                &format!("/channels/{channel}/invites"),
                Some(&owner.token),
                Some(&json!({"max_age": 0})),
            )
            .await?;
        let code = inv["code"].as_str().context("invite without code")?;
        self.call(
            reqwest::Method::POST,
            &format!("/invites/{code}"),
            Some(&member.token),
            Some(&json!({})),
        )
        .await?;
        Ok(())
    }

    /// Post a message; returns its id.
    pub async fn send(
        &self,
        who: &Account,
        channel: &str,
        content: &str,
    ) -> anyhow::Result<String> {
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/channels/{channel}/messages"),
                Some(&who.token),
                Some(&json!({"content": content})),
            )
            .await?;
        Ok(v["id"].as_str().unwrap_or_default().to_string())
    }

    /// The gateway URL the server advertises.
    pub async fn gateway_url(&self, who: &Account) -> anyhow::Result<String> {
        let v = self
            .call(reqwest::Method::GET, "/gateway/bot", Some(&who.token), None)
            .await?;
        Ok(v["url"].as_str().context("no gateway url")?.to_string())
    }
}
