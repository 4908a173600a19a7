//! Files (issue 7) through the front door, on the local folder: two-step uploads,
//! sniffed types, images with dimensions and thumbnails, decompression bombs,
//! oversized bodies, hostile filenames, signed and expiring URLs, avatars.
//! [`suite`] is the part that runs unchanged on S3 too (`files_s3.rs`).

use std::io::Cursor;
use std::time::{Duration, Instant};

use beep_files::{Files, ImageKind, StoredAttachment};
use beep_types::ChannelId;
use serde_json::{Value, json};

use crate::harness::{TestServer, TestUser};

/// A real PNG of `w`x`h` pixels.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 99])
    }));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}

/// A tiny PNG whose header declares `w`x`h` pixels.
pub fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let mut v = png(1, 1);
    v[16..20].copy_from_slice(&w.to_be_bytes());
    v[20..24].copy_from_slice(&h.to_be_bytes());
    v
}

fn files(s: &TestServer) -> &Files {
    &s.node.as_ref().expect("running").services.files
}

/// `len` bytes of `byte`, streamed in 64 KiB chunks (never held whole).
pub fn streamed_body(len: usize, byte: u8) -> reqwest::Body {
    let chunk = bytes::Bytes::from(vec![byte; 64 * 1024]);
    let n = len.div_ceil(chunk.len());
    let stream = futures::stream::iter((0..n).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    reqwest::Body::wrap_stream(stream)
}

/// Step one and two of Discord's upload: upload URL, then `PUT` of the bytes.
/// Returns the `PUT` status and the `upload_filename`.
pub async fn put_upload(
    s: &TestServer,
    u: &TestUser,
    ch: ChannelId,
    name: &str,
    size: usize,
    body: reqwest::Body,
) -> (u16, Value, String) {
    let (st, v) = s
        .post_as(
            &format!("/channels/{ch}/attachments"),
            u.auth(),
            &json!({"files": [{"filename": name, "file_size": size, "id": "0"}]}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let a = &v["attachments"][0];
    assert_eq!(a["id"], "0");
    let url = a["upload_url"].as_str().expect("upload_url").to_string();
    let r = s.http.put(&url).body(body).send().await.expect("put");
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    (
        status,
        body,
        a["upload_filename"].as_str().expect("name").to_string(),
    )
}

/// Upload `bytes` in two steps and claim the upload as the messages route does.
pub async fn upload(
    s: &TestServer,
    u: &TestUser,
    ch: ChannelId,
    name: &str,
    bytes: Vec<u8>,
) -> beep_files::Result<StoredAttachment> {
    let len = bytes.len();
    let (st, v, upload_filename) = put_upload(s, u, ch, name, len, bytes.into()).await;
    assert_eq!(st, 200, "{v}");
    let uid = u.id.parse().expect("user id");
    files(s).claim_upload(ch, uid, &upload_filename, None).await
}

/// A guild owned by `u` and one of its text channels.
pub async fn text_channel(s: &TestServer, u: &TestUser) -> ChannelId {
    let (st, g) = s
        .post_as("/guilds", u.auth(), &json!({"name": "Files"}))
        .await;
    assert_eq!(st, 201, "{g}");
    let gid = g["id"].as_str().expect("guild id");
    let (st, c) = s
        .post_as(
            &format!("/guilds/{gid}/channels"),
            u.auth(),
            &json!({"name": "uploads", "type": 0}),
        )
        .await;
    assert!(st == 200 || st == 201, "{st} {c}");
    c["id"]
        .as_str()
        .expect("channel id")
        .parse()
        .expect("snowflake")
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The scenarios that must hold on every object store.
pub async fn suite(s: &TestServer) {
    let u = s.user("filer").await;
    let ch = text_channel(s, &u).await;

    // A PNG: dimensions, re-encoded, thumbnails, served by its signed URL.
    let a = upload(s, &u, ch, "photo.png", png(1300, 700))
        .await
        .expect("png accepted");
    assert_eq!((a.width, a.height), (Some(1300), Some(700)));
    assert_eq!(a.content_type, "image/png");
    assert_eq!(a.thumbnails, vec![256, 1024]);
    let json = files(s).attachment_json(&a, &s.base);
    let r = s.http.get(&json.url).send().await.expect("get");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "image/png");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let img = image::load_from_memory(&r.bytes().await.expect("body")).expect("decodes");
    assert_eq!((img.width(), img.height()), (1300, 700));
    let r = s.http.get(&json.proxy_url).send().await.expect("thumb");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "image/webp");
    let t = image::load_from_memory(&r.bytes().await.expect("body")).expect("thumb decodes");
    assert_eq!(t.width(), 256);

    // Tampered URLs: another signature, another file, a pushed expiry, none at all.
    let mut bad = json.url.clone();
    let last = bad.pop().expect("char");
    bad.push(if last == '0' { '1' } else { '0' });
    let r = s.http.get(&bad).send().await.expect("get");
    assert_eq!(r.status(), 403, "tampered hm");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let other = json.url.replace(&a.id.to_string(), "1000000000000000002");
    assert_eq!(s.http.get(&other).send().await.expect("get").status(), 403);
    let (path, q) = json.url.split_once('?').expect("query");
    let ex_pushed: String = q
        .split('&')
        .map(|p| {
            if p.starts_with("ex=") {
                "ex=ffffffff".to_string()
            } else {
                p.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    let r = s
        .http
        .get(format!("{path}?{ex_pushed}"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 403, "pushed expiry");
    assert_eq!(s.http.get(path).send().await.expect("get").status(), 403);
    // Expired: a genuine signature whose time is over.
    let p = Files::attachment_path(&a);
    let now = beep_files::signing::unix_now();
    let expired = files(s).signer().sign(&p, now - 100, 10);
    let r = s
        .http
        .get(format!("{}{p}?{expired}", s.base))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404, "expired");

    // HTML disguised as a PNG: stored as what it is, served only as a download.
    let a = upload(
        s,
        &u,
        ch,
        "cat.png",
        b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>".to_vec(),
    )
    .await
    .expect("stored as a file");
    assert!(a.active);
    assert!(!a.content_type.starts_with("image/"), "{}", a.content_type);
    assert_eq!(a.width, None);
    let r = s
        .http
        .get(files(s).sign_url(&a, &s.base))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "application/octet-stream");
    assert!(header(&r, "content-disposition").starts_with("attachment;"));
    assert!(header(&r, "content-security-policy").contains("sandbox"));
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");

    // `../../etc/passwd` as a filename: only a harmless display name remains.
    let a = upload(s, &u, ch, "../../etc/passwd", b"root:x:0:0".to_vec())
        .await
        .expect("stored");
    assert_eq!(a.filename, "passwd");
    let url = files(s).sign_url(&a, &s.base);
    assert!(!url.contains(".."), "{url}");
    let r = s.http.get(&url).send().await.expect("get");
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-disposition").contains("filename=\"passwd\""));
    assert_eq!(r.text().await.expect("text"), "root:x:0:0");

    // A decompression bomb is refused from its header, quickly, server alive.
    for (w, h) in [(60_000, 60_000), (100_000, 100_000)] {
        let started = Instant::now();
        let e = upload(s, &u, ch, "bomb.png", bomb_png(w, h))
            .await
            .expect_err("bomb refused");
        assert!(matches!(e, beep_files::FilesError::Invalid { .. }), "{e:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(s.get_raw("/healthz").await.status(), 200);

    // An upload over the limit is refused: while streaming (local URL) or when
    // claimed (a presigned bucket URL cannot bound the size).
    let big = 26 * 1024 * 1024;
    let (st, v, name) = put_upload(s, &u, ch, "big.bin", 1000, streamed_body(big, b'x')).await;
    if st == 413 {
        assert_eq!(v["code"], 40005, "{v}");
    } else {
        assert_eq!(st, 200, "{v}");
        let e = files(s)
            .claim_upload(ch, u.id.parse().expect("id"), &name, None)
            .await
            .expect_err("too large");
        assert!(
            matches!(e, beep_files::FilesError::TooLarge { .. }),
            "{e:?}"
        );
    }
    // A declared size over the limit is refused at step one.
    let (st, v) = s
        .post_as(
            &format!("/channels/{ch}/attachments"),
            u.auth(),
            &json!({"files": [{"filename": "x", "file_size": big, "id": "1"}]}),
        )
        .await;
    assert_eq!((st, v["code"].as_i64()), (413, Some(40005)), "{v}");
    // Another user cannot claim someone's upload.
    let (_, _, name) = put_upload(s, &u, ch, "mine.txt", 5, b"hello".to_vec().into()).await;
    let mallory: u64 = 1_000_000_000_000_003;
    assert!(
        files(s)
            .claim_upload(ch, mallory.into_id(), &name, None)
            .await
            .is_err()
    );

    // The one-step pipeline (multipart parts) refuses while streaming, too.
    let chunk = bytes::Bytes::from(vec![0u8; 1 << 20]);
    let stream =
        futures::stream::iter((0..30).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let e = files(s)
        .upload_attachment(ch, u.id.parse().expect("id"), "big", stream)
        .await
        .expect_err("too large");
    assert!(
        matches!(e, beep_files::FilesError::TooLarge { .. }),
        "{e:?}"
    );

    // Avatars from a data URI, resized on demand and cached.
    use base64::Engine;
    let uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png(300, 200))
    );
    let owner: u64 = u.id.parse().expect("id");
    let hash = files(s)
        .set_image(ImageKind::Avatar, owner, &uri, "avatar")
        .await
        .expect("avatar");
    assert_eq!(hash.len(), 32);
    for (ext, mime) in [
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("jpg", "image/jpeg"),
    ] {
        let r = s
            .get_raw(&format!("/avatars/{owner}/{hash}.{ext}?size=64"))
            .await;
        assert_eq!(r.status(), 200, "{ext}");
        assert_eq!(header(&r, "content-type"), mime);
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        let img = image::load_from_memory(&r.bytes().await.expect("body")).expect("decodes");
        assert_eq!((img.width(), img.height()), (64, 43), "{ext}");
    }
    let cached = files(s)
        .storage()
        .list(&format!("avatars/{owner}/{hash}"))
        .await
        .expect("list");
    assert!(cached.iter().any(|k| k.ends_with("/64.png")), "{cached:?}");
    assert_eq!(
        s.get_raw(&format!("/avatars/{owner}/{hash}.png?size=100"))
            .await
            .status(),
        400
    );
    assert_eq!(
        s.get_raw(&format!("/avatars/{owner}/{hash}.gif"))
            .await
            .status(),
        404,
        "gif only for animated images"
    );
    assert_eq!(
        s.get_raw(&format!("/avatars/{owner}/{}.png", "0".repeat(32)))
            .await
            .status(),
        404
    );
    let bomb = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bomb_png(100_000, 100_000))
    );
    assert!(
        files(s)
            .set_image(ImageKind::Icon, owner, &bomb, "icon")
            .await
            .is_err()
    );
}

trait IntoId {
    fn into_id(self) -> beep_types::UserId;
}

impl IntoId for u64 {
    fn into_id(self) -> beep_types::UserId {
        beep_types::UserId::from(beep_types::Snowflake(self))
    }
}

#[tokio::test]
async fn files_suite_on_local_folder() {
    let s = TestServer::start().await;
    assert_eq!(files(&s).storage().backend(), "local");
    suite(&s).await;
    // Stored names come from server ids, inside `<data_dir>/files` only.
    let root = s._dir.path().join("files");
    assert!(root.join("attachments").is_dir());
    assert!(!s._dir.path().join("etc").exists());
    s.stop().await;
}

/// Resident memory of this process, in KiB (Linux).
/// The resident memory of process `pid`, in KiB (Linux only).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The memory is the server's own: a `beep serve` child process, so the many
/// tests running in this process at the same time do not count.
#[tokio::test]
async fn oversized_upload_is_refused_while_streaming_without_buffering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = crate::harness::child_env().spawn(dir.path());
    let pid = server.child.id();
    let http = reqwest::Client::new();
    let (token, _, ch) =
        crate::harness::child_owner_with_channel(&http, &server, "big", "Files").await;
    let put = |name: &'static str, body: reqwest::Body| {
        let (http, token, url) = (
            http.clone(),
            token.clone(),
            server.api(&format!("/channels/{ch}/attachments")),
        );
        async move {
            let (st, v) = crate::harness::child_call(
                http.post(url)
                    .header("authorization", &token)
                    .json(&json!({"files": [{"filename": name, "file_size": 10, "id": "0"}]})),
            )
            .await;
            assert_eq!(st, 200, "{v}");
            let upload = v["attachments"][0]["upload_url"]
                .as_str()
                .expect("upload_url")
                .to_owned();
            crate::harness::child_call(http.put(upload).body(body)).await
        }
    };
    // Warm up the paths once so allocator growth is not counted.
    let (st, v) = put("w.bin", streamed_body(1 << 20, b'w')).await;
    assert_eq!(st, 200, "{v}");
    let before = rss_kib(pid);
    let (st, v) = put("big.bin", streamed_body(26 << 20, b'x')).await;
    assert_eq!(st, 413, "{v}");
    assert_eq!(v["code"], 40005, "{v}");
    if let (Some(b), Some(a)) = (before, rss_kib(pid)) {
        let grown_mib = a.saturating_sub(b) / 1024;
        assert!(
            grown_mib < 20,
            "server memory grew by {grown_mib} MiB for a 26 MiB upload"
        );
    }
    // Nothing of the refused upload is left behind: only the warm-up's file.
    let left: Vec<_> = walkdir(dir.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/uploads/"))
        .collect();
    assert_eq!(left.len(), 1, "only the warm-up upload: {left:?}");
    // A new connection: the refused upload's one is closed by the server.
    let (st, _) = crate::harness::child_call(
        reqwest::Client::new().get(format!("http://{}/healthz", server.addr)),
    )
    .await;
    assert_eq!(st, 200);
}

/// Every file under `root`.
fn walkdir(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn upload_urls_need_a_user_and_a_valid_signature() {
    let s = TestServer::start().await;
    let (st, _) = s
        .post_as(
            "/channels/1/attachments",
            None,
            &json!({"files": [{"filename": "a", "file_size": 1}]}),
        )
        .await;
    assert_eq!(st, 401);
    let u = s.user("signer").await;
    let ch = text_channel(&s, &u).await;
    // Someone who cannot see the channel gets no upload URL.
    let eve = s.user("eve").await;
    let (st, v) = s
        .post_as(
            &format!("/channels/{ch}/attachments"),
            eve.auth(),
            &json!({"files": [{"filename": "a", "file_size": 1}]}),
        )
        .await;
    assert!(st == 403 || st == 404, "{st} {v}");
    let (st, v) = s
        .post_as(
            &format!("/channels/{ch}/attachments"),
            u.auth(),
            &json!({"files": (0..11).map(|i| json!({"filename": "a", "file_size": 1, "id": i})).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    let r = s
        .http
        .put(s.api(&format!("/uploads/{}/123?ex=1&is=1&hm=00", u.id)))
        .body("x")
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 403);
    s.stop().await;
}

#[tokio::test]
async fn avatar_set_by_patch_is_served_resized() {
    use base64::Engine;
    let s = TestServer::start().await;
    let u = s.user("pictured").await;
    let uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png(512, 512))
    );
    let (st, v) = s
        .patch("/users/@me", u.auth(), &json!({ "avatar": uri }))
        .await;
    assert_eq!(st, 200, "{v}");
    let hash = v["avatar"].as_str().expect("avatar hash").to_string();
    let r = s
        .get_raw(&format!("/avatars/{}/{hash}.webp?size=128", u.id))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "image/webp");
    let img = image::load_from_memory(&r.bytes().await.expect("body")).expect("decodes");
    assert_eq!((img.width(), img.height()), (128, 128));
    // A bomb as an avatar is a field error, not a crash.
    let bomb = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bomb_png(100_000, 100_000))
    );
    let (st, v) = s
        .patch("/users/@me", u.auth(), &json!({ "avatar": bomb }))
        .await;
    assert_eq!(st, 400, "{v}");
    assert!(v["errors"]["avatar"].is_object(), "{v}");
    s.stop().await;
}

/// A multipart message body: `payload_json` and `files[0]`.
fn multipart(payload: Value, name: &str, part: reqwest::Body) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("payload_json", payload.to_string())
        .part(
            "files[0]",
            reqwest::multipart::Part::stream(part)
                .file_name(name.to_string())
                .mime_str("image/png")
                .expect("mime"),
        )
}

#[tokio::test]
async fn message_with_multipart_attachments() {
    let s = TestServer::start().await;
    let u = s.user("poster").await;
    let ch = text_channel(&s, &u).await;
    let url = s.api(&format!("/channels/{ch}/messages"));
    let form = multipart(
        json!({"content": "look"}),
        "../../etc/shot.png",
        png(600, 300).into(),
    );
    let r = s
        .http
        .post(&url)
        .header("authorization", &u.token)
        .multipart(form)
        .send()
        .await
        .expect("post");
    let st = r.status().as_u16();
    let m: Value = r.json().await.expect("json");
    assert_eq!(st, 200, "{m}");
    let a = &m["attachments"][0];
    assert_eq!(a["filename"], "shot.png");
    assert_eq!(
        (a["width"].as_u64(), a["height"].as_u64()),
        (Some(600), Some(300))
    );
    assert_eq!(a["content_type"], "image/png");
    // The URL is absolute when the node knows its public URL; a path otherwise.
    let file_url = a["url"].as_str().expect("url");
    let file_url = match file_url.find("/attachments/") {
        Some(i) if !file_url.starts_with("http") => format!("{}{}", s.base, &file_url[i..]),
        _ => file_url.to_string(),
    };
    let r = s.http.get(&file_url).send().await.expect("get");
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");

    // 26 MiB in one part: 413 / 40005 while streaming, the server unharmed.
    let form = multipart(
        json!({"content": "big"}),
        "big.png",
        streamed_body(26 << 20, 0),
    );
    let r = s
        .http
        .post(&url)
        .header("authorization", &u.token)
        .multipart(form)
        .send()
        .await;
    match r {
        Ok(r) => {
            let st = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!((st, v["code"].as_i64()), (413, Some(40005)), "{v}");
        }
        // The server may answer and close before the client finished sending.
        Err(e) => eprintln!("multipart 413: the connection closed early: {e}"),
    }
    // Nothing of it stays in storage.
    let keys = files(&s)
        .storage()
        .list(&format!("attachments/{ch}"))
        .await
        .expect("list");
    assert_eq!(
        keys.iter().filter(|k| k.ends_with("/meta.json")).count(),
        1,
        "{keys:?}"
    );
    assert_eq!(s.get_raw("/healthz").await.status(), 200);
    s.stop().await;
}
