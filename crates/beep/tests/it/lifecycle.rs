//! The binary as an operator runs it: configuration, roles, logs, signals, and
//! durability of acknowledged writes across `kill -9`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddrV4;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::ChildServer;

fn beep(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beep"));
    cmd.args(args).env_remove("BEEP_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run beep")
}

#[test]
fn config_check_redacts_and_unknown_keys_fail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf8");
    std::fs::write(
        dir.path().join("beep.toml"),
        "listen = \"127.0.0.1:9999\"\n",
    )
    .expect("write");
    let out = beep(
        &["config", "check", "--data-dir", d],
        &[
            ("BEEP_DATABASE_URL", "postgres://beep:topsecret@db/beep"),
            ("BEEP_NODE__WORKER_ID", "12"),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("127.0.0.1:9999"), "file applied: {text}");
    assert!(text.contains("worker_id = 12"), "env applied: {text}");
    assert!(!text.contains("topsecret"), "secret leaked: {text}");

    std::fs::write(dir.path().join("beep.toml"), "[database]\nurl_typo = 1\n").expect("write");
    let out = beep(&["config", "check", "--data-dir", d], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("url_typo"));
}

#[test]
fn unavailable_roles_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf8");
    let out = beep(
        &[
            "serve",
            "--data-dir",
            d,
            "--roles",
            "api,voice",
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("role `voice` is not available"), "{err}");
}

#[test]
fn migrate_then_admin_create_user_share_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("utf8");
    let out = beep(&["migrate", "--data-dir", d], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied"));
    let out = beep(&["migrate"], &[("BEEP_DATA_DIR", d)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    let out = beep(
        &[
            "admin",
            "create-user",
            "--username",
            "root",
            "--email",
            "root@example.org",
            "--password",
            "a sturdy passphrase",
            "--admin",
            "--verified",
        ],
        &[("BEEP_DATA_DIR", d)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("as administrator"));
    let out = beep(
        &[
            "admin",
            "reset-password",
            "--data-dir",
            d,
            "--login",
            "ROOT",
            "--password",
            "another sturdy one",
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn logs_are_json_lines_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = ChildServer::spawn(dir.path(), &[("BEEP_NODE__ID", "node-7")], Stdio::piped());
    let stdout = server.child.stdout.take().expect("stdout");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().expect("lock").push(line);
        }
    });
    let resp = ureq_get(&format!("http://{}/api/v10/missing", server.addr));
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    server.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = server.child.try_wait().expect("wait") {
            break st;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
    reader.join().expect("reader");
    let lines = lines.lock().expect("lock");
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    for v in &parsed {
        for key in ["level", "timestamp", "service", "container_id", "message"] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
        assert_eq!(v["container_id"], "node-7");
    }
    let access = parsed
        .iter()
        .find(|v| v["path"] == "/api/v10/missing")
        .expect("access log line");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["status"], 404);
    assert_eq!(access["service"], "api");
    assert!(
        access["latency_ms"].is_number() && access["request_id"].is_string(),
        "{access}"
    );
    assert!(
        parsed.iter().any(|v| v["message"] == "stopped"),
        "no clean stop logged"
    );
}

/// A tiny blocking HTTP GET, so this test needs no second runtime.
fn ureq_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').expect("path");
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut buf = String::new();
    s.read_to_string(&mut buf).expect("read");
    buf
}

/// Many users update their profiles as fast as they can, each one writing an
/// increasing version; the server is SIGKILLed in the middle of the burst and
/// restarted, and every user's stored version must be at least the last one the
/// server acknowledged to them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = crate::harness::child_env();
    let mut server = env.spawn(dir.path());
    let http = reqwest::Client::new();

    // Accounts first (each costs an argon2 hash), then the burst of cheap writes.
    let mut users = Vec::new();
    for u in 0..24 {
        let name = format!("writer{u}");
        let body = json!({"username": name, "email": format!("{name}@example.org"), "password": crate::harness::PASSWORD});
        let r = http
            .post(server.api("/auth/register"))
            .json(&body)
            .send()
            .await
            .expect("register");
        assert_eq!(r.status(), 201);
        let login = json!({"login": name, "password": crate::harness::PASSWORD});
        let v: Value = http
            .post(server.api("/auth/login"))
            .json(&login)
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        users.push(v["token"].as_str().expect("token").to_string());
    }

    let acked: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new(vec![0; users.len()]));
    let total = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (u, token) in users.iter().enumerate() {
        let (http, url, acked, total, token) = (
            http.clone(),
            server.api("/users/@me"),
            acked.clone(),
            total.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for version in 1u64.. {
                let body = json!({"bio": format!("version {version}")});
                let Ok(r) = http
                    .patch(&url)
                    .header("authorization", &token)
                    .json(&body)
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() != 200 {
                    return;
                }
                acked.lock().expect("lock")[u] = version;
                total.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    server
        .kill_9_during(tasks, || {
            total.load(std::sync::atomic::Ordering::Relaxed) >= 500
        })
        .await;
    let acked = acked.lock().expect("lock").clone();
    let n = total.load(std::sync::atomic::Ordering::Relaxed);
    assert!(n >= 500, "only {n} writes acknowledged before the kill");

    // The node restarts on the same data; the sessions and every acknowledged
    // version are there.
    let again = env.spawn(dir.path());
    for (u, token) in users.iter().enumerate() {
        let r = http
            .get(again.api("/users/@me"))
            .header("authorization", token)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200, "session of writer{u} lost");
        let v: Value = r.json().await.expect("json");
        let stored: u64 = v["bio"]
            .as_str()
            .and_then(|b| b.strip_prefix("version "))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            stored >= acked[u],
            "writer{u}: acknowledged version {} but found {stored}",
            acked[u]
        );
    }
    drop(again);
}

/// One request received by the fake-free OTLP collector below.
struct Received {
    path: String,
    content_type: String,
    body: Vec<u8>,
}

/// A minimal OTLP/HTTP receiver: accepts POSTs, records them, answers 200.
fn start_collector() -> (SocketAddrV4, Arc<Mutex<Vec<Received>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = match listener.local_addr().expect("addr") {
        std::net::SocketAddr::V4(a) => a,
        other => panic!("unexpected {other}"),
    };
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            let (head_end, content_length) = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break (None, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..pos]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (Some(pos + 4), len);
                }
            };
            let Some(start) = head_end else { continue };
            while buf.len() < start + content_length {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..start]).to_string();
            let path = head
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let content_type = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-type:")
                        .map(|v| v.trim().to_string())
                })
                .unwrap_or_default();
            let body = buf[start..].to_vec();
            sink.lock().expect("lock").push(Received {
                path,
                content_type,
                body,
            });
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (addr, got)
}

#[test]
fn traces_are_exported_over_otlp_when_configured() {
    let (collector, got) = start_collector();
    let dir = tempfile::tempdir().expect("tempdir");
    let endpoint = format!("http://{collector}");
    let mut server = ChildServer::spawn(
        dir.path(),
        &[("BEEP_OTEL_ENDPOINT", &endpoint)],
        Stdio::null(),
    );
    let resp = ureq_get(&format!("http://{}/api/v10/traced/route", server.addr));
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    // Shutdown flushes the batch exporter.
    server.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(15);
    while server.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    let got = got.lock().expect("lock");
    let traces: Vec<&Received> = got.iter().filter(|r| r.path == "/v1/traces").collect();
    assert!(!traces.is_empty(), "no OTLP export received");
    assert!(
        traces
            .iter()
            .all(|r| r.content_type == "application/x-protobuf")
    );
    let all: Vec<u8> = traces.iter().flat_map(|r| r.body.clone()).collect();
    let text = String::from_utf8_lossy(&all);
    assert!(text.contains("beep"), "service name missing");
    assert!(
        text.contains("/api/v10/traced/route"),
        "request span missing"
    );
}
