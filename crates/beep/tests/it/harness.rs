//! Test harness: real servers on random ports, in-process or as child processes,
//! on SQLite by default or on PostgreSQL when `BEEP_TEST_BACKEND=postgres`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use beep::config::Config;
use beep::server::{self, Running};
use serde_json::Value;

/// The PostgreSQL URL for tests, if PostgreSQL tests are wanted. Panics when CI
/// asks for PostgreSQL but gives no URL, so a missing service fails loudly.
pub fn postgres_url() -> Option<String> {
    match std::env::var("BEEP_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("CI").as_deref() == Ok("true")
            && std::env::var("BEEP_TEST_BACKEND").as_deref() == Ok("postgres") =>
        {
            panic!("CI=true and BEEP_TEST_BACKEND=postgres but BEEP_TEST_DATABASE_URL is not set")
        }
        _ => None,
    }
}

/// A fresh schema name for one test.
pub fn fresh_schema() -> String {
    format!("beep_it_{:016x}", rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// A configuration for a test node in `dir`: random port, quiet logs, and
/// PostgreSQL with a fresh schema when `BEEP_TEST_BACKEND=postgres`.
pub fn test_config(dir: &Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    c.log.level = "warn".into();
    // Tests register and log in many accounts from one address; the limits on
    // that are tested on their own, with these set back.
    c.auth.registrations_per_hour = 10_000;
    c.ratelimit.auth_per_minute = 10_000;
    if std::env::var("BEEP_TEST_BACKEND").as_deref() == Ok("postgres")
        && let Some(url) = postgres_url()
    {
        c.database.url = url;
        c.database.schema = fresh_schema();
        c.database.max_connections = 4;
    }
    c
}

/// The password [`TestServer::register`] and [`TestServer::user`] give accounts.
pub const PASSWORD: &str = "a sturdy passphrase";

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    /// Access token, for `Authorization`.
    pub token: String,
    pub refresh_token: String,
    pub name: String,
}

impl TestUser {
    /// The token as an `Option`, for the request helpers.
    pub fn auth(&self) -> Option<&str> {
        Some(&self.token)
    }
}

/// An in-process server with a client pointed at it.
pub struct TestServer {
    pub node: Option<Running>,
    pub base: String,
    pub http: reqwest::Client,
    pub _dir: tempfile::TempDir,
    /// The PostgreSQL schema of this node, when on PostgreSQL.
    pub schema: Option<String>,
}

impl TestServer {
    /// Start a server with the default test configuration.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Start a server after letting the test adjust its configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = test_config(dir.path());
        adjust(&mut c);
        let schema = (!c.database.schema.is_empty()).then(|| c.database.schema.clone());
        let node = server::start(c).await.expect("server starts");
        let base = format!("http://{}", node.addr);
        TestServer {
            node: Some(node),
            base,
            http: reqwest::Client::new(),
            _dir: dir,
            schema,
        }
    }

    /// `http://127.0.0.1:PORT/api/v10` + `path`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v10{}", self.base, path)
    }

    /// POST JSON to an API path; returns status and parsed body.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.api(path))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GET an absolute path on the server.
    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .expect("request")
    }

    /// Register a user and return its JSON.
    pub async fn register(&self, username: &str) -> Value {
        let (s, v) = self
            .post(
                "/auth/register",
                &serde_json::json!({"username": username, "email": format!("{username}@example.org"), "password": PASSWORD}),
            )
            .await;
        assert_eq!(s, 201, "register {username}: {v}");
        v
    }

    /// Send `method` to an API path with an optional token (sent as
    /// `Authorization: <token>`, verbatim: pass `"Bot ..."` or `"Bearer ..."` to
    /// choose a scheme) and an optional JSON body; returns status and parsed body
    /// (`Null` when empty or not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let r = self.send(method, path, token, body).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Like [`TestServer::call`], returning the whole response (headers included).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut rb = self.http.request(method, self.api(path));
        if let Some(t) = token {
            rb = rb.header("authorization", t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        rb.send().await.expect("request")
    }

    /// GET an API path.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    /// POST JSON to an API path with an optional token.
    pub async fn post_as(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// PATCH JSON to an API path.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::PATCH, path, token, Some(body))
            .await
    }

    /// PUT JSON to an API path.
    #[allow(dead_code)] // for the suites of other resources
    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, token, Some(body))
            .await
    }

    /// DELETE an API path.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, token, None).await
    }

    /// Log in with a login (username or email) and password; panics unless 200.
    pub async fn login(&self, login: &str, password: &str) -> Value {
        let (s, v) = self
            .post(
                "/auth/login",
                &serde_json::json!({"login": login, "password": password}),
            )
            .await;
        assert_eq!(s, 200, "login {login}: {v}");
        v
    }

    /// Register `name` (email `<name>@example.org`, password [`PASSWORD`]) and log
    /// in. Email verification is not required by the test configuration.
    pub async fn user(&self, name: &str) -> TestUser {
        let u = self.register(name).await;
        let v = self.login(name, PASSWORD).await;
        TestUser {
            id: u["id"].as_str().expect("user id").to_owned(),
            token: v["token"].as_str().expect("token").to_owned(),
            refresh_token: v["refresh_token"].as_str().unwrap_or_default().to_owned(),
            name: name.to_owned(),
        }
    }

    /// Stop the server gracefully.
    pub async fn stop(mut self) {
        if let Some(n) = self.node.take() {
            n.shutdown().await.expect("clean shutdown");
        }
    }
}

/// A free TCP port on 127.0.0.1 (racy by nature, fine for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The `beep` binary as a child process.
pub struct ChildServer {
    pub child: Child,
    pub addr: SocketAddr,
}

impl ChildServer {
    /// Spawn `beep serve` on `data_dir` with extra environment, and wait for /healthz.
    pub fn spawn(data_dir: &Path, env: &[(&str, &str)], stdout: Stdio) -> ChildServer {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_beep"));
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(addr.to_string());
        cmd.env_remove("BEEP_DATABASE_URL")
            .env("BEEP_LOG_LEVEL", "info");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdout(stdout)
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn beep");
        let s = ChildServer { child, addr };
        s.wait_healthy(Duration::from_secs(20));
        s
    }

    /// Block until `/healthz` answers 200.
    pub fn wait_healthy(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(mut s) =
                std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(200))
            {
                use std::io::{Read, Write};
                let _ =
                    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server on {} did not become healthy", self.addr);
    }

    /// Base URL of the API.
    pub fn api(&self, path: &str) -> String {
        format!("http://{}/api/v10{}", self.addr, path)
    }

    /// Send a signal with the `kill` command.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(ok.success());
    }
}

impl ChildServer {
    /// `kill -9` the server and reap it.
    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// Wait (at most 30 s) until `enough()` says the writers have had enough
    /// acknowledged, then `kill -9` the server in the middle of their burst and
    /// let the writers end.
    pub async fn kill_9_during(
        &mut self,
        writers: Vec<tokio::task::JoinHandle<()>>,
        enough: impl Fn() -> bool,
    ) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !enough() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.kill_9();
        for w in writers {
            let _ = w.await;
        }
    }
}

/// The environment of a child server in the crash tests: rate limits off, and
/// PostgreSQL with a fresh schema when `BEEP_TEST_BACKEND=postgres` (so every
/// restart of the same [`ChildEnv`] finds the same data).
pub struct ChildEnv(Vec<(&'static str, String)>);

/// See [`ChildEnv`].
pub fn child_env() -> ChildEnv {
    let mut env = vec![("BEEP_RATELIMIT_ENABLED", "false".to_owned())];
    if std::env::var("BEEP_TEST_BACKEND").as_deref() == Ok("postgres")
        && let Some(url) = postgres_url()
    {
        env.push(("BEEP_DATABASE_URL", url));
        env.push(("BEEP_DATABASE_SCHEMA", fresh_schema()));
    }
    ChildEnv(env)
}

impl ChildEnv {
    /// The variables, as [`ChildServer::spawn`] takes them.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// `beep serve` on `data_dir` with this environment, output dropped.
    pub fn spawn(&self, data_dir: &Path) -> ChildServer {
        ChildServer::spawn(data_dir, &self.pairs(), Stdio::null())
    }
}

/// A request to a child server: status and JSON body (`null` when none).
pub async fn child_call(rb: reqwest::RequestBuilder) -> (u16, Value) {
    let r = rb.send().await.expect("request");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Log `username` in on a child server; the access token.
pub async fn child_login(http: &reqwest::Client, server: &ChildServer, username: &str) -> String {
    let (s, v) = child_call(
        http.post(server.api("/auth/login"))
            .json(&serde_json::json!({"login": username, "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["token"].as_str().expect("token").to_owned()
}

/// On a child server: register and log in `username`, who creates a guild
/// named `guild_name`; the token, the guild id and its text channel's id.
pub async fn child_owner_with_channel(
    http: &reqwest::Client,
    server: &ChildServer,
    username: &str,
    guild_name: &str,
) -> (String, String, String) {
    let (s, v) = child_call(http.post(server.api("/auth/register")).json(
        &serde_json::json!({"username": username, "email": format!("{username}@example.org"), "password": PASSWORD}),
    ))
    .await;
    assert_eq!(s, 201, "{v}");
    let token = child_login(http, server, username).await;
    let (s, g) = child_call(
        http.post(server.api("/guilds"))
            .header("authorization", &token)
            .json(&serde_json::json!({"name": guild_name})),
    )
    .await;
    assert_eq!(s, 201, "{g}");
    let guild = g["id"].as_str().expect("guild").to_owned();
    let (_, chans) = child_call(
        http.get(server.api(&format!("/guilds/{guild}/channels")))
            .header("authorization", &token),
    )
    .await;
    let channel = chans
        .as_array()
        .expect("channels")
        .iter()
        .find(|c| c["type"] == 0)
        .expect("text channel")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (token, guild, channel)
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
