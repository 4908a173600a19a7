//! Acknowledged messages survive `kill -9`: concurrent senders, SIGKILL in the
//! middle of the burst, restart on the same data, every acknowledged message
//! is in the history.

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{ChildServer, PASSWORD, fresh_schema, postgres_url};

async fn call(rb: reqwest::RequestBuilder) -> (u16, Value) {
    let r = rb.send().await.expect("request");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(&str, String)> = vec![("BEEP_RATELIMIT_ENABLED", "false".into())];
    if std::env::var("BEEP_TEST_BACKEND").as_deref() == Ok("postgres")
        && let Some(url) = postgres_url()
    {
        env.push(("BEEP_DATABASE_URL", url));
        env.push(("BEEP_DATABASE_SCHEMA", fresh_schema()));
    }
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = ChildServer::spawn(dir.path(), &env_ref, Stdio::null());
    let http = reqwest::Client::new();
    let (s, v) =
        call(http.post(server.api("/auth/register")).json(
            &json!({"username": "writer", "email": "writer@example.org", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = call(
        http.post(server.api("/auth/login"))
            .json(&json!({"login": "writer", "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().expect("token").to_owned();
    let (s, g) = call(
        http.post(server.api("/guilds"))
            .header("authorization", &token)
            .json(&json!({"name": "Durable"})),
    )
    .await;
    assert_eq!(s, 201, "{g}");
    let gid = g["id"].as_str().expect("guild").to_owned();
    let (_, chans) = call(
        http.get(server.api(&format!("/guilds/{gid}/channels")))
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

    let url = server.api(&format!("/channels/{channel}/messages"));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (http, url, token, acked) = (http.clone(), url.clone(), token.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let body = json!({"content": format!("t{t} m{i}"), "nonce": format!("{t}-{i}")});
                let Ok(r) = http
                    .post(&url)
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
                let Ok(v) = r.json::<Value>().await else {
                    return;
                };
                acked
                    .lock()
                    .expect("lock")
                    .push(v["id"].as_str().expect("id").to_owned());
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().expect("lock").len() < 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut server = server;
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 200,
        "only {} messages acknowledged",
        acked.len()
    );

    let again = ChildServer::spawn(dir.path(), &env_ref, Stdio::null());
    let (s, v) = call(
        http.post(again.api("/auth/login"))
            .json(&json!({"login": "writer", "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().expect("token").to_owned();
    let mut stored = HashSet::new();
    let mut before: Option<String> = None;
    loop {
        let q = match &before {
            Some(b) => format!("?limit=100&before={b}"),
            None => "?limit=100".into(),
        };
        let (s, page) = call(
            http.get(again.api(&format!("/channels/{channel}/messages{q}")))
                .header("authorization", &token),
        )
        .await;
        assert_eq!(s, 200, "{page}");
        let page = page.as_array().expect("page").clone();
        let Some(last) = page.last() else { break };
        before = last["id"].as_str().map(str::to_owned);
        stored.extend(
            page.iter()
                .filter_map(|m| m["id"].as_str().map(str::to_owned)),
        );
    }
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged messages lost: {lost:?}",
        lost.len(),
        acked.len()
    );
    drop(again);
}
