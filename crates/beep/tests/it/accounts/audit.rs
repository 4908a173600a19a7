//! Audit lines: a real `beep serve` process logs what happened to accounts as JSON
//! lines with `action` and `user`, and hands out codes in the log without SMTP.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{ChildServer, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_events_are_audit_log_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = ChildServer::spawn(dir.path(), &[], Stdio::piped());
    let stdout = server.child.stdout.take().expect("stdout");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().expect("lock").push(line);
        }
    });
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value, token: Option<String>| {
        let mut rb = http.post(server.api(path)).json(&body);
        if let Some(t) = token {
            rb = rb.header("authorization", t);
        }
        rb.send()
    };
    let r = post(
        "/auth/register",
        json!({"username": "audrey", "email": "audrey@example.org", "password": PASSWORD}),
        None,
    )
    .await
    .expect("register");
    let id = r.json::<Value>().await.expect("json")["id"].clone();
    let r = post(
        "/auth/login",
        json!({"login": "audrey", "password": "wrong password"}),
        None,
    )
    .await
    .expect("login");
    assert_eq!(r.status(), 401);
    let r = post(
        "/auth/login",
        json!({"login": "audrey", "password": PASSWORD}),
        None,
    )
    .await
    .expect("login");
    let token = r.json::<Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let r = post("/auth/logout", json!({}), Some(token))
        .await
        .expect("logout");
    assert_eq!(r.status(), 204);

    server.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    reader.join().expect("reader");
    let parsed: Vec<Value> = lines
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for action in [
        "USER_CREATED",
        "VERIFICATION_SENT",
        "LOGIN_FAILED",
        "LOGIN",
        "LOGOUT",
    ] {
        let line = parsed
            .iter()
            .find(|v| v["action"] == action)
            .unwrap_or_else(|| panic!("no {action} line in {parsed:#?}"));
        assert_eq!(line["user"], id, "{action}: {line}");
    }
    // Without SMTP the code goes to the log, where an operator can read it.
    let mail = parsed
        .iter()
        .find(|v| v["to"] == "audrey@example.org")
        .expect("mail logged");
    assert!(
        mail["body"]
            .as_str()
            .is_some_and(|b| b.contains("verification code"))
    );
    // Passwords never reach the log.
    assert!(
        !lines
            .lock()
            .expect("lock")
            .iter()
            .any(|l| l.contains(PASSWORD))
    );
}
