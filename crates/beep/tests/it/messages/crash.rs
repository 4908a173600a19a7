//! Acknowledged messages survive `kill -9`: concurrent senders, SIGKILL in the
//! middle of the burst, restart on the same data, every acknowledged message
//! is in the history.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::harness::{child_call as call, child_env, child_login, child_owner_with_channel};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = child_env();
    let mut server = env.spawn(dir.path());
    let http = reqwest::Client::new();
    let (token, _, channel) = child_owner_with_channel(&http, &server, "writer", "Durable").await;

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
    server
        .kill_9_during(tasks, || acked.lock().expect("lock").len() >= 200)
        .await;
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 200,
        "only {} messages acknowledged",
        acked.len()
    );

    let again = env.spawn(dir.path());
    let token = child_login(&http, &again, "writer").await;
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
