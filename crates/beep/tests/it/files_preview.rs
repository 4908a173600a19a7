//! Link previews: a local page read through the allowlist, and the SSRF guard
//! refusing loopback, metadata and redirect-to-private targets by default.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use beep_files::preview::PreviewError;

use crate::harness::TestServer;

const PAGE: &str = r##"<!doctype html><html><head>
<title>Fallback title</title>
<meta property="og:title" content="Beep &amp; friends">
<meta property="og:description" content="A page about chat.">
<meta property="og:site_name" content="Beep Blog">
<meta property="og:type" content="article">
<meta property="og:image" content="/cover.png">
<meta name="theme-color" content="#5865F2">
</head><body>hello</body></html>"##;

/// A local site: `/page` (OpenGraph HTML), `/to-page` (redirect to it),
/// `/to-metadata` and `/to-loopback` (redirects to private addresses), `/big`.
async fn site() -> std::net::SocketAddr {
    let app = Router::new()
        .route(
            "/page",
            get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }),
        )
        .route(
            "/to-page",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/page")]).into_response() }),
        )
        .route(
            "/to-metadata",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, "http://169.254.169.254/latest/")],
                )
                    .into_response()
            }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]).into_response() }),
        )
        .route(
            "/json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], "{}") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test]
async fn previews_a_local_page_through_the_allowlist() {
    let addr = site().await;
    let s = TestServer::start_with(|c| {
        c.files.preview_allowlist = vec![addr.to_string()];
    })
    .await;
    let p = s
        .node
        .as_ref()
        .expect("node")
        .services
        .files
        .previewer()
        .clone();
    let e = p
        .preview(&format!("http://{addr}/page"))
        .await
        .expect("fetched")
        .expect("an embed");
    assert_eq!(e["type"], "article");
    assert_eq!(e["title"], "Beep & friends");
    assert_eq!(e["description"], "A page about chat.");
    assert_eq!(e["provider"]["name"], "Beep Blog");
    assert_eq!(e["thumbnail"]["url"], format!("http://{addr}/cover.png"));
    assert_eq!(e["color"], 0x5865F2);
    // Redirects within the allowed site are followed.
    let e = p
        .preview(&format!("http://{addr}/to-page"))
        .await
        .expect("fetched")
        .expect("embed");
    assert_eq!(e["title"], "Beep & friends");
    // A redirect from the allowed site to a private address is refused.
    let r = p.preview(&format!("http://{addr}/to-metadata")).await;
    assert!(matches!(r, Err(PreviewError::Refused(_))), "{r:?}");
    // Redirect loops stop; non-HTML makes no embed.
    assert!(matches!(
        p.preview(&format!("http://{addr}/loop")).await,
        Err(PreviewError::Fetch(_))
    ));
    assert_eq!(p.preview(&format!("http://{addr}/json")).await, Ok(None));
    // The message-level helper finds the links and skips `<...>` ones.
    let embeds = p
        .previews_for(&format!(
            "look http://{addr}/page and <http://{addr}/to-page>"
        ))
        .await;
    assert_eq!(embeds.len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn refuses_private_targets_by_default() {
    let addr = site().await;
    let s = TestServer::start().await;
    let p = s
        .node
        .as_ref()
        .expect("node")
        .services
        .files
        .previewer()
        .clone();
    for url in [
        "http://127.0.0.1/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        format!("http://{addr}/page"),
        format!("http://localhost:{}/page", addr.port()),
        "http://[::ffff:127.0.0.1]/".to_string(),
        "http://10.0.0.8/".to_string(),
    ] {
        let r = p.preview(&url).await;
        assert!(matches!(r, Err(PreviewError::Refused(_))), "{url}: {r:?}");
    }
    assert!(
        p.previews_for(&format!("http://{addr}/page"))
            .await
            .is_empty()
    );
    s.stop().await;
}

/// A message linking the local page gets its preview as an embed, announced with
/// MESSAGE_UPDATE; with SUPPRESS_EMBEDS it gets none.
#[tokio::test]
async fn messages_with_links_get_preview_embeds() {
    let addr = site().await;
    let s = TestServer::start_with(|c| {
        c.files.preview_allowlist = vec![addr.to_string()];
    })
    .await;
    let mut events = s.node.as_ref().expect("node").services.bus.subscribe();
    let owner = s.user("previewer").await;
    let (st, g) = s
        .post_as(
            "/guilds",
            owner.auth(),
            &serde_json::json!({"name": "Links"}),
        )
        .await;
    assert!(st == 200 || st == 201, "{g}");
    let (_, chans) = s
        .get(
            &format!("/guilds/{}/channels", g["id"].as_str().expect("id")),
            owner.auth(),
        )
        .await;
    let ch = chans
        .as_array()
        .and_then(|a| a.iter().find(|c| c["type"] == 0))
        .and_then(|c| c["id"].as_str())
        .expect("text channel")
        .to_string();
    let link = format!("look at http://{addr}/page please");
    let (st, m) = s
        .post_as(
            &format!("/channels/{ch}/messages"),
            owner.auth(),
            &serde_json::json!({"content": link}),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    let id = m["id"].as_str().expect("id").to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let update = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let e = tokio::time::timeout(left, events.recv())
            .await
            .expect("MESSAGE_UPDATE in time")
            .expect("bus open");
        if e.name == "MESSAGE_UPDATE" && e.data["id"] == id.as_str() {
            break e;
        }
    };
    assert_eq!(
        update.data["embeds"][0]["title"], "Beep & friends",
        "{}",
        update.data
    );
    let (_, stored) = s
        .get(&format!("/channels/{ch}/messages/{id}"), owner.auth())
        .await;
    assert_eq!(stored["embeds"][0]["title"], "Beep & friends", "{stored}");
    assert!(
        stored["edited_timestamp"].is_null(),
        "a preview is not an edit"
    );

    // SUPPRESS_EMBEDS (1 << 2): no preview is fetched.
    let (st, quiet) = s
        .post_as(
            &format!("/channels/{ch}/messages"),
            owner.auth(),
            &serde_json::json!({"content": link, "flags": 4}),
        )
        .await;
    assert_eq!(st, 200, "{quiet}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (_, stored) = s
        .get(
            &format!(
                "/channels/{ch}/messages/{}",
                quiet["id"].as_str().expect("id")
            ),
            owner.auth(),
        )
        .await;
    assert_eq!(stored["embeds"], serde_json::json!([]), "{stored}");
    s.stop().await;
}
