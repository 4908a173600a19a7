//! The lifecycle of stored files (issue 7) through the front door: deleting a
//! message (alone, in bulk, purged by a ban), a channel or an account deletes
//! its objects; a store that fails is retried until the objects are gone; the
//! orphan sweeper removes what nothing references past the grace period; and
//! per-user quotas refuse uploads past them, are freed by deletes and survive a
//! restart.
//!
//! Every scenario runs on the local folder and on S3 (moto, started by
//! `.ci/s3-server.sh`; skipped with a message when none is configured outside
//! CI). On S3 the node talks to moto through a TCP proxy the test can cut, so a
//! storage failure is a real refused connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use beep::config::Config;
use beep_files::{Storage, StorageConfig};
use beep_types::ChannelId;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::guilds::{make_guild, str_of};
use crate::harness::{TestServer, TestUser, test_config};

/// Where a scenario's objects live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Local,
    S3,
}

/// A running node, its storage as the test sees it (straight, never through
/// the proxy), and the proxy's switch on S3.
struct Env {
    s: TestServer,
    config: Config,
    direct: Storage,
    proxy: Option<Proxy>,
}

/// The S3 server of the test run, or `None` (skip) outside CI.
fn s3_endpoint() -> Option<String> {
    match std::env::var("BEEP_TEST_S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true but BEEP_TEST_S3_ENDPOINT is not set: run `eval \"$(.ci/s3-server.sh start)\"`"
            )
        }
        _ => {
            eprintln!("SKIPPED files_lifecycle on S3: no S3 server (set BEEP_TEST_S3_ENDPOINT)");
            None
        }
    }
}

/// Fast workers for tests: deletions polled every 50 ms and retried after
/// 100 ms (at most 400 ms), the sweeper off unless a scenario turns it on.
fn fast(c: &mut Config) {
    c.files.deletion_poll_ms = 50;
    c.files.deletion_retry_base_ms = 100;
    c.files.deletion_retry_max_secs = 1;
    c.files.sweep_interval_secs = 0;
}

/// Start a node on `backend`, or `None` when S3 is not available.
async fn start(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<Env> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = test_config(dir.path());
    fast(&mut c);
    adjust(&mut c);
    let (direct, proxy) = match backend {
        Backend::Local => {
            let direct = Storage::open(&StorageConfig::Local(dir.path().join("files")))
                .expect("local storage");
            (direct, None)
        }
        Backend::S3 => {
            let endpoint = s3_endpoint()?;
            let bucket = format!(
                "beep-life-{}",
                crate::harness::fresh_schema().replace('_', "-")
            );
            let r = reqwest::Client::new()
                .put(format!("{endpoint}/{bucket}"))
                .send()
                .await
                .expect("S3 server reachable");
            assert!(r.status().is_success(), "create bucket: {}", r.status());
            let upstream = endpoint
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string();
            let proxy = Proxy::start(upstream).await;
            let settings = |endpoint: String| beep_files::S3Settings {
                endpoint,
                bucket: bucket.clone(),
                region: "us-east-1".into(),
                access_key_id: "beep-test".into(),
                secret_access_key: "beep-test-secret".into(),
                path_style: true,
            };
            let direct =
                Storage::open(&StorageConfig::S3(settings(endpoint.clone()))).expect("s3 storage");
            let via = settings(format!("http://{}", proxy.addr));
            c.s3.endpoint = via.endpoint;
            c.s3.bucket = via.bucket;
            c.s3.region = via.region;
            c.s3.access_key_id = via.access_key_id;
            c.s3.secret_access_key = via.secret_access_key;
            c.s3.path_style = true;
            (direct, Some(proxy))
        }
    };
    let node = beep::server::start(c.clone()).await.expect("server starts");
    let s = TestServer {
        base: format!("http://{}", node.addr),
        node: Some(node),
        http: reqwest::Client::new(),
        schema: (!c.database.schema.is_empty()).then(|| c.database.schema.clone()),
        _dir: dir,
    };
    Some(Env {
        s,
        config: c,
        direct,
        proxy,
    })
}

impl Env {
    /// Stop the node and start it again on the same data, database and bucket.
    async fn restart(&mut self) {
        if let Some(n) = self.s.node.take() {
            n.shutdown().await.expect("clean shutdown");
        }
        let node = beep::server::start(self.config.clone())
            .await
            .expect("server restarts");
        self.s.base = format!("http://{}", node.addr);
        self.s.node = Some(node);
    }

    fn services(&self) -> &beep_core::Services {
        &self.s.node.as_ref().expect("running").services
    }

    /// Keys stored under `prefix`, read straight from the store.
    async fn keys(&self, prefix: &str) -> Vec<String> {
        self.direct.list(prefix).await.expect("list")
    }

    /// Wait until nothing is stored under `prefix` and the queue is empty.
    async fn wait_gone(&self, prefix: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let keys = self.keys(prefix).await;
            let pending = self
                .services()
                .file_lifecycle
                .pending_deletions()
                .await
                .expect("pending");
            if keys.is_empty() && pending == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still stored under {prefix}: {keys:?} ({pending} deletions pending)"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Post a message with one file; returns the message.
    async fn send_file(&self, u: &TestUser, ch: &str, name: &str, bytes: Vec<u8>) -> Value {
        let (st, m) = self.try_send_file(u, ch, name, bytes).await;
        assert_eq!(st, 200, "send file: {m}");
        m
    }

    /// Post a message with one file; returns status and body.
    async fn try_send_file(
        &self,
        u: &TestUser,
        ch: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        self.try_send(u, ch, json!({"content": "file"}), name, bytes)
            .await
    }

    /// Post `payload` with one file; returns status and body.
    async fn try_send(
        &self,
        u: &TestUser,
        ch: &str,
        payload: Value,
        name: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let form = reqwest::multipart::Form::new()
            .text("payload_json", payload.to_string())
            .part(
                "files[0]",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            );
        let r = self
            .s
            .http
            .post(self.s.api(&format!("/channels/{ch}/messages")))
            .header("authorization", &u.token)
            .multipart(form)
            .send()
            .await
            .expect("post");
        let st = r.status().as_u16();
        (st, r.json().await.unwrap_or(Value::Null))
    }

    /// The status of a `GET` of an attachment's signed URL.
    async fn fetch(&self, m: &Value) -> u16 {
        let url = m["attachments"][0]["url"].as_str().expect("url");
        let url = match url.find("/attachments/") {
            Some(i) if !url.starts_with("http") => format!("{}{}", self.s.base, &url[i..]),
            _ => url.to_string(),
        };
        self.s
            .http
            .get(url)
            .send()
            .await
            .expect("get")
            .status()
            .as_u16()
    }

    /// `GET /users/@me/storage`.
    async fn usage(&self, u: &TestUser) -> (u64, Option<u64>) {
        let (st, v) = self.s.get("/users/@me/storage", u.auth()).await;
        assert_eq!(st, 200, "{v}");
        (
            v["used_bytes"].as_u64().expect("used_bytes"),
            v["quota_bytes"].as_u64(),
        )
    }

    async fn stop(mut self) {
        if let Some(n) = self.s.node.take() {
            n.shutdown().await.expect("clean shutdown");
        }
    }
}

/// The store folder of a message's first attachment.
fn folder(m: &Value) -> String {
    let a = &m["attachments"][0];
    let ch = str_of(&m["channel_id"]);
    format!("attachments/{ch}/{}", str_of(&a["id"]))
}

/// A text file of `n` bytes (stored as sent: sizes are exact).
fn text(n: usize) -> Vec<u8> {
    vec![b'a'; n]
}

/// A second text channel of `guild`.
async fn channel(s: &TestServer, u: &TestUser, guild: &str, name: &str) -> String {
    let (st, c) = s
        .post_as(
            &format!("/guilds/{guild}/channels"),
            u.auth(),
            &json!({"name": name, "type": 0}),
        )
        .await;
    assert!(st == 200 || st == 201, "{st} {c}");
    str_of(&c["id"])
}

/// A TCP proxy to the S3 server that the test can cut: when down, it refuses
/// new connections and drops the open ones.
struct Proxy {
    addr: std::net::SocketAddr,
    up: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (up, rx) = watch::channel(true);
        let upstream = Arc::new(upstream);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut rx = rx.clone();
                if !*rx.borrow() {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream.as_str()).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = rx.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { addr, up }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// Scenario: a deleted message, a bulk delete and a deleted channel delete
/// their attachments' objects (and their URLs 404); what is still referenced
/// stays; the uploader's usage follows.
async fn deletes_follow_messages_and_channels(e: Env, _b: Backend) {
    let u = e.s.user("deleter").await;
    let (guild, ch, _) = make_guild(&e.s, &u, "Files").await;
    let other = channel(&e.s, &u, &guild, "other").await;
    let mut msgs = Vec::new();
    for i in 0..4 {
        msgs.push(e.send_file(&u, &ch, &format!("f{i}.txt"), text(100)).await);
    }
    let in_other = e.send_file(&u, &other, "o.txt", text(100)).await;
    assert_eq!(e.usage(&u).await.0, 500);
    for m in &msgs {
        assert_eq!(e.fetch(m).await, 200);
        assert!(!e.keys(&folder(m)).await.is_empty());
    }

    // One message.
    let id = str_of(&msgs[0]["id"]);
    let (st, v) =
        e.s.delete(&format!("/channels/{ch}/messages/{id}"), u.auth())
            .await;
    assert_eq!(st, 204, "{v}");
    assert_eq!(e.usage(&u).await.0, 400, "freed with the delete");
    e.wait_gone(&folder(&msgs[0])).await;
    assert_eq!(e.fetch(&msgs[0]).await, 404, "its URL no longer serves");

    // A bulk delete.
    let ids = json!({"messages": [str_of(&msgs[1]["id"]), str_of(&msgs[2]["id"])]});
    let (st, v) =
        e.s.post_as(
            &format!("/channels/{ch}/messages/bulk-delete"),
            u.auth(),
            &ids,
        )
        .await;
    assert_eq!(st, 204, "{v}");
    e.wait_gone(&folder(&msgs[1])).await;
    e.wait_gone(&folder(&msgs[2])).await;
    assert_eq!(e.fetch(&msgs[1]).await, 404);

    // A channel.
    let (st, v) = e.s.delete(&format!("/channels/{other}"), u.auth()).await;
    assert_eq!(st, 200, "{v}");
    e.wait_gone(&format!("attachments/{other}")).await;
    assert_eq!(e.fetch(&in_other).await, 404);

    // A folder: the channels of its subtree, and their files, go with it.
    let (st, folder_ch) =
        e.s.post_as(
            &format!("/guilds/{guild}/channels"),
            u.auth(),
            &json!({"name": "folder", "type": 4}),
        )
        .await;
    assert!(st == 200 || st == 201, "{st} {folder_ch}");
    let folder_id = str_of(&folder_ch["id"]);
    let (st, inner) =
        e.s.post_as(
            &format!("/guilds/{guild}/channels"),
            u.auth(),
            &json!({"name": "inner", "type": 0, "parent_id": folder_id}),
        )
        .await;
    assert!(st == 200 || st == 201, "{st} {inner}");
    let inner = str_of(&inner["id"]);
    let in_folder = e.send_file(&u, &inner, "in.txt", text(100)).await;
    let (st, v) =
        e.s.delete(&format!("/channels/{folder_id}"), u.auth())
            .await;
    assert_eq!(st, 200, "{v}");
    e.wait_gone(&format!("attachments/{inner}")).await;
    assert_eq!(e.fetch(&in_folder).await, 404);

    // The message left keeps its file.
    assert_eq!(e.fetch(&msgs[3]).await, 200);
    assert!(!e.keys(&folder(&msgs[3])).await.is_empty());
    assert_eq!(e.usage(&u).await.0, 100);

    // The guild: its channels' files go with it.
    let (st, v) = e.s.delete(&format!("/guilds/{guild}"), u.auth()).await;
    assert_eq!(st, 204, "{v}");
    e.wait_gone(&format!("attachments/{ch}")).await;
    assert_eq!(e.usage(&u).await.0, 0);
    e.stop().await;
}

/// Scenario: a ban that purges messages deletes their files; a replaced avatar
/// is deleted; a deleted account's avatar and pending uploads are deleted
/// while the files of its messages stay with the messages.
async fn bans_avatars_and_accounts(e: Env, _b: Backend) {
    let owner = e.s.user("owner").await;
    let bob = e.s.user("bob").await;
    let (guild, ch, _) = make_guild(&e.s, &owner, "Hall").await;
    let (st, inv) =
        e.s.post_as(&format!("/channels/{ch}/invites"), owner.auth(), &json!({}))
            .await;
    assert_eq!(st, 200, "{inv}");
    let code = str_of(&inv["code"]);
    let (st, v) =
        e.s.post_as(&format!("/invites/{code}"), bob.auth(), &json!({}))
            .await;
    assert_eq!(st, 200, "{v}");
    let bobs = e.send_file(&bob, &ch, "bob.txt", text(50)).await;
    let owners = e.send_file(&owner, &ch, "owner.txt", text(60)).await;
    let (st, v) =
        e.s.put(
            &format!("/guilds/{guild}/bans/{}", bob.id),
            owner.auth(),
            &json!({"delete_message_seconds": 3600}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    e.wait_gone(&folder(&bobs)).await;
    assert_eq!(e.fetch(&owners).await, 200);

    // Avatars: the replaced one goes, the current one stays.
    let uri = |w: u32| {
        use base64::Engine;
        let png = crate::files::png(w, 8);
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        )
    };
    let (st, first) =
        e.s.patch("/users/@me", bob.auth(), &json!({"avatar": uri(8)}))
            .await;
    assert_eq!(st, 200, "{first}");
    let first = str_of(&first["avatar"]);
    let (st, second) =
        e.s.patch("/users/@me", bob.auth(), &json!({"avatar": uri(9)}))
            .await;
    assert_eq!(st, 200, "{second}");
    let second = str_of(&second["avatar"]);
    assert_ne!(first, second);
    e.wait_gone(&format!("avatars/{}/{first}", bob.id)).await;
    let r =
        e.s.get_raw(&format!("/avatars/{}/{first}.png", bob.id))
            .await;
    assert_eq!(r.status(), 404);
    let r =
        e.s.get_raw(&format!("/avatars/{}/{second}.png", bob.id))
            .await;
    assert_eq!(r.status(), 200);

    // A message in a guild bob stays in, and a two-step upload never used.
    let (_g3, c3, _) = make_guild(&e.s, &owner, "Stays").await;
    let (st, inv) =
        e.s.post_as(&format!("/channels/{c3}/invites"), owner.auth(), &json!({}))
            .await;
    assert_eq!(st, 200, "{inv}");
    let (st, v) =
        e.s.post_as(
            &format!("/invites/{}", str_of(&inv["code"])),
            bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let outlives = e.send_file(&bob, &c3, "outlives.txt", text(30)).await;
    let c3id: ChannelId = c3.parse().expect("snowflake");
    let (st, v, _) =
        crate::files::put_upload(&e.s, &bob, c3id, "later.txt", 10, text(10).into()).await;
    assert_eq!(st, 200, "{v}");
    assert!(!e.keys(&format!("uploads/{}", bob.id)).await.is_empty());
    let (st, v) =
        e.s.post_as(
            "/users/@me/delete",
            bob.auth(),
            &json!({"password": crate::harness::PASSWORD}),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    e.wait_gone(&format!("avatars/{}", bob.id)).await;
    e.wait_gone(&format!("uploads/{}", bob.id)).await;
    assert_eq!(
        e.fetch(&outlives).await,
        200,
        "messages outlive their author's account, and so do their files"
    );
    e.stop().await;
}

/// Make the objects under `dir` (a local attachment folder) undeletable, or say
/// why not. As root, permissions do not stop unlinking, so the immutable
/// attribute is used.
fn freeze(dir: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let probe = dir.join(".probe");
    if std::fs::write(&probe, b"x").is_ok() {
        // Root: permissions are not enough.
        let _ = std::fs::remove_file(&probe);
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED the local retry check: running as root without chattr");
        }
        return ok;
    }
    true
}

/// Undo [`freeze`].
fn thaw(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(dir)
        .status();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Scenario: while storage refuses deletes, the deletion stays queued and is
/// retried (with backoff) until storage works again; then the objects go.
async fn failed_deletions_are_retried(e: Env, backend: Backend) {
    let u = e.s.user("retrier").await;
    let (_g, ch, _) = make_guild(&e.s, &u, "Retry").await;
    let m = e.send_file(&u, &ch, "stuck.txt", text(70)).await;
    let dir = folder(&m);
    let local_dir = e.s._dir.path().join("files").join(&dir);
    match backend {
        Backend::Local => {
            if !freeze(&local_dir) {
                thaw(&local_dir);
                e.stop().await;
                return;
            }
        }
        Backend::S3 => e.proxy.as_ref().expect("proxy").set_up(false),
    }
    let id = str_of(&m["id"]);
    let (st, v) =
        e.s.delete(&format!("/channels/{ch}/messages/{id}"), u.auth())
            .await;
    assert_eq!(st, 204, "{v}");
    // Several attempts fail; the entry stays queued and the objects stay.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let pending = e
        .services()
        .file_lifecycle
        .pending_deletions()
        .await
        .expect("pending");
    assert_eq!(pending, 1, "the failed deletion is still queued");
    assert!(
        !e.keys(&dir).await.is_empty(),
        "the objects are still there"
    );
    match backend {
        Backend::Local => thaw(&local_dir),
        Backend::S3 => e.proxy.as_ref().expect("proxy").set_up(true),
    }
    e.wait_gone(&dir).await;
    e.stop().await;
}

/// Scenario: the sweeper deletes objects nothing references once they are past
/// the grace period (an orphan attachment folder, a two-step upload never
/// used), and keeps referenced objects and recent ones.
async fn orphans_are_swept(e: Env, _b: Backend) {
    let u = e.s.user("sweeper").await;
    let (_g, ch, _) = make_guild(&e.s, &u, "Sweep").await;
    let chid: ChannelId = ch.parse().expect("snowflake");
    let kept = e.send_file(&u, &ch, "kept.txt", text(10)).await;
    let storage = e.services().files.storage().clone();
    let old_orphan = format!("attachments/{ch}/1/file");
    storage
        .put(&old_orphan, bytes::Bytes::from_static(b"orphan"))
        .await
        .expect("put");
    let (st, v, _) = crate::files::put_upload(&e.s, &u, chid, "never.txt", 5, text(5).into()).await;
    assert_eq!(st, 200, "{v}");
    let uploads = format!("uploads/{}", u.id);
    assert!(!e.keys(&uploads).await.is_empty());
    // Past the grace period of the first ones, a fresh orphan.
    tokio::time::sleep(
        Duration::from_secs(e.config.files.orphan_grace_secs) + Duration::from_millis(200),
    )
    .await;
    let recent = format!("attachments/{ch}/2/file");
    storage
        .put(&recent, bytes::Bytes::from_static(b"recent"))
        .await
        .expect("put");
    e.wait_gone(&format!("attachments/{ch}/1")).await;
    e.wait_gone(&uploads).await;
    assert!(
        !e.keys(&folder(&kept)).await.is_empty(),
        "referenced files stay"
    );
    assert_eq!(e.fetch(&kept).await, 200);
    assert_eq!(
        e.keys(&format!("attachments/{ch}/2")).await.len(),
        1,
        "recent orphans stay until they are past the grace period"
    );
    e.stop().await;
}

/// Scenario: uploads up to the quota succeed, the one beyond is refused (413,
/// 40005) before it is stored, deleting frees quota, and usage survives a restart.
async fn quotas_are_enforced(mut e: Env, _b: Backend) {
    let u = e.s.user("quota").await;
    let (_g, ch, _) = make_guild(&e.s, &u, "Quota").await;
    assert_eq!(e.usage(&u).await, (0, Some(1000)));
    let a = e.send_file(&u, &ch, "a.txt", text(400)).await;
    let _b = e.send_file(&u, &ch, "b.txt", text(400)).await;
    assert_eq!(e.usage(&u).await, (800, Some(1000)));
    let before = e.keys(&format!("attachments/{ch}")).await.len();
    let (st, v) = e.try_send_file(&u, &ch, "c.txt", text(400)).await;
    assert_eq!((st, v["code"].as_u64()), (413, Some(40005)), "{v}");
    assert_eq!(
        e.keys(&format!("attachments/{ch}")).await.len(),
        before,
        "nothing of the refused upload is stored"
    );
    // Up to the quota exactly.
    let _c = e.send_file(&u, &ch, "c.txt", text(200)).await;
    assert_eq!(e.usage(&u).await.0, 1000);
    let (st, v) = e.try_send_file(&u, &ch, "d.txt", text(1)).await;
    assert_eq!((st, v["code"].as_u64()), (413, Some(40005)), "{v}");
    // Two-step uploads are refused at the start when the declared size does not fit.
    let (st, v) =
        e.s.post_as(
            &format!("/channels/{ch}/attachments"),
            u.auth(),
            &json!({"files": [{"filename": "e.txt", "file_size": 10, "id": "0"}]}),
        )
        .await;
    assert_eq!((st, v["code"].as_u64()), (413, Some(40005)), "{v}");

    // Deleting frees quota; so does a message refused after its files were stored.
    let (st, v) = e
        .try_send(
            &u,
            &ch,
            json!({"content": "x".repeat(4001)}),
            "f.txt",
            text(1),
        )
        .await;
    assert_eq!(st, 413, "quota first: {v}");
    let id = str_of(&a["id"]);
    let (st, v) =
        e.s.delete(&format!("/channels/{ch}/messages/{id}"), u.auth())
            .await;
    assert_eq!(st, 204, "{v}");
    assert_eq!(e.usage(&u).await.0, 600);
    let (st, v) = e
        .try_send(
            &u,
            &ch,
            json!({"content": "x".repeat(4001)}),
            "f.txt",
            text(300),
        )
        .await;
    assert_eq!(st, 400, "content too long: {v}");
    assert_eq!(
        e.usage(&u).await.0,
        600,
        "the refused message's file is released"
    );
    let _d = e.send_file(&u, &ch, "d.txt", text(300)).await;
    assert_eq!(e.usage(&u).await.0, 900);
    let (st, _) = e.s.get("/users/@me/storage", None).await;
    assert_eq!(st, 401);
    let doc: Value =
        e.s.get_raw("/api/openapi.json")
            .await
            .json()
            .await
            .expect("json");
    assert!(
        doc["paths"]["/api/v10/users/@me/storage"]["get"].is_object(),
        "documented in OpenAPI"
    );

    // Usage is stored, not counted in memory (sessions and keys survive too).
    e.restart().await;
    assert_eq!(e.usage(&u).await, (900, Some(1000)));
    let (st, v) = e.try_send_file(&u, &ch, "e.txt", text(101)).await;
    assert_eq!((st, v["code"].as_u64()), (413, Some(40005)), "{v}");
    let _e = e.send_file(&u, &ch, "e.txt", text(100)).await;
    e.stop().await;
}

/// One test per scenario and backend: `local::<name>` and `s3::<name>`.
macro_rules! on_both {
    ($($name:ident => $adjust:expr, $scenario:path;)*) => {
        mod local {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(e) = start(Backend::Local, $adjust).await {
                        $scenario(e, Backend::Local).await;
                    }
                }
            )*
        }
        mod s3 {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(e) = start(Backend::S3, $adjust).await {
                        $scenario(e, Backend::S3).await;
                    }
                }
            )*
        }
    };
}

on_both! {
    deleting_messages_and_channels_deletes_their_files => |_| {},
        deletes_follow_messages_and_channels;
    bans_avatars_and_accounts_delete_their_files => |_| {}, bans_avatars_and_accounts;
    failed_deletions_are_retried_until_done => |_| {}, failed_deletions_are_retried;
    orphan_sweeper_keeps_referenced_and_recent_objects => |c: &mut Config| {
            c.files.sweep_interval_secs = 1;
            c.files.orphan_grace_secs = 3;
        },
        orphans_are_swept;
    quotas_refuse_uploads_past_them_and_survive_restarts => |c: &mut Config| {
            c.files.user_quota_bytes = 1000;
        },
        quotas_are_enforced;
}
