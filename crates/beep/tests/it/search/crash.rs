//! The index is written in the transaction of its message, so a `kill -9`
//! in the middle of a burst of sends leaves index and messages in step; and
//! `beep admin reindex` rebuilds the same index from the messages.

use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::harness::{
    ChildServer, child_call as call, child_env, child_login, child_owner_with_channel,
};

async fn login(http: &reqwest::Client, server: &ChildServer) -> String {
    child_login(http, server, "indexer").await
}

/// Every message id of a channel, through history pages.
async fn history(
    http: &reqwest::Client,
    server: &ChildServer,
    token: &str,
    channel: &str,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut url = format!("/channels/{channel}/messages?limit=100");
        if let Some(b) = &before {
            url.push_str(&format!("&before={b}"));
        }
        let (s, v) = call(http.get(server.api(&url)).header("authorization", token)).await;
        assert_eq!(s, 200, "{v}");
        let page: Vec<String> = v
            .as_array()
            .expect("page")
            .iter()
            .map(|m| m["id"].as_str().expect("id").to_owned())
            .collect();
        if page.is_empty() {
            return ids;
        }
        before = page.last().cloned();
        ids.extend(page);
    }
}

/// `total_results` of a guild search for `content`, and the ids of a page.
async fn total(
    http: &reqwest::Client,
    server: &ChildServer,
    token: &str,
    guild: &str,
    content: &str,
) -> (u64, Vec<String>) {
    let (s, v) = call(
        http.get(server.api(&format!("/guilds/{guild}/messages/search")))
            .query(&[("content", content)])
            .header("authorization", token),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let ids = v["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|g| g[0]["id"].as_str().expect("id").to_owned())
        .collect();
    (v["total_results"].as_u64().expect("total"), ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_indexing_loses_nothing_and_reindex_rebuilds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = child_env();
    let mut server = env.spawn(dir.path());
    let http = reqwest::Client::new();
    let (token, guild, channel) =
        child_owner_with_channel(&http, &server, "indexer", "Indexed").await;

    // Eight senders; SIGKILL once 150 sends were acknowledged.
    let url = server.api(&format!("/channels/{channel}/messages"));
    let acked = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (http, url, token, acked) = (http.clone(), url.clone(), token.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let word = format!("w{t}x{i}");
                let body = json!({"content": format!("burst of éclairs {word}")});
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
                    .push((v["id"].as_str().expect("id").to_owned(), word));
            }
        }));
    }
    server
        .kill_9_during(tasks, || acked.lock().expect("lock").len() >= 150)
        .await;
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 150, "only {} acknowledged", acked.len());

    // After the restart the index holds exactly the messages.
    let mut again = env.spawn(dir.path());
    let token = login(&http, &again).await;
    let stored = history(&http, &again, &token, &channel).await;
    let (n, _) = total(&http, &again, &token, &guild, "eclair burst").await;
    assert_eq!(n, stored.len() as u64, "index and messages differ");
    for (id, word) in acked.iter().step_by(10) {
        assert!(stored.contains(id), "acknowledged message {id} lost");
        let (n, ids) = total(&http, &again, &token, &guild, word).await;
        assert_eq!((n, ids), (1, vec![id.clone()]), "{word}");
    }
    again.kill_9();

    // `beep admin reindex` rebuilds the same index.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beep"));
    cmd.args(["admin", "reindex", "--batch", "7", "--data-dir"])
        .arg(dir.path())
        .env_remove("BEEP_DATABASE_URL");
    for (k, v) in env.pairs() {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run beep admin reindex");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The guild's system messages count too: at least the channel's.
    let indexed: u64 = stdout
        .trim()
        .strip_prefix("indexed ")
        .and_then(|s| s.strip_suffix(" messages"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("output: {stdout}"));
    assert!(
        indexed >= stored.len() as u64,
        "{indexed} < {}",
        stored.len()
    );
    let third = env.spawn(dir.path());
    let token = login(&http, &third).await;
    let (n, _) = total(&http, &third, &token, &guild, "eclairs").await;
    assert_eq!(n, stored.len() as u64);
    let (word_id, word) = &acked[0];
    assert_eq!(
        total(&http, &third, &token, &guild, word).await,
        (1, vec![word_id.clone()])
    );
}
