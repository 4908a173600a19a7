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
    if std::env::var("BEEP_TEST_BACKEND").as_deref() == Ok("postgres")
        && let Some(url) = postgres_url()
    {
        c.database.url = url;
        c.database.schema = fresh_schema();
        c.database.max_connections = 4;
    }
    c
}

/// An in-process server with a client pointed at it.
pub struct TestServer {
    pub node: Option<Running>,
    pub base: String,
    pub http: reqwest::Client,
    pub _dir: tempfile::TempDir,
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
        let node = server::start(c).await.expect("server starts");
        let base = format!("http://{}", node.addr);
        TestServer {
            node: Some(node),
            base,
            http: reqwest::Client::new(),
            _dir: dir,
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
                &serde_json::json!({"username": username, "email": format!("{username}@example.org"), "password": "a sturdy passphrase"}),
            )
            .await;
        assert_eq!(s, 201, "register {username}: {v}");
        v
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

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
