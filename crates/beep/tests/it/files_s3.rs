//! The files suite of `files.rs` against a real S3-protocol server (moto, started
//! by `.ci/s3-server.sh`, which exports `BEEP_TEST_S3_*`). Skipped with a message
//! when no server is configured, unless `CI=true`, where that is a failure.

use crate::harness::TestServer;

/// The server's endpoint and keys, or `None` (skip) outside CI.
fn s3_env() -> Option<(String, String, String, String)> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match get("BEEP_TEST_S3_ENDPOINT") {
        Some(endpoint) => Some((
            endpoint,
            get("BEEP_TEST_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            get("BEEP_TEST_S3_ACCESS_KEY_ID").unwrap_or_else(|| "beep-test".into()),
            get("BEEP_TEST_S3_SECRET_ACCESS_KEY").unwrap_or_else(|| "beep-test-secret".into()),
        )),
        None if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true but BEEP_TEST_S3_ENDPOINT is not set: run `eval \"$(.ci/s3-server.sh start)\"`"
            )
        }
        None => {
            eprintln!(
                "SKIPPED files_s3: no S3 server (set BEEP_TEST_S3_ENDPOINT, e.g. with `eval \"$(.ci/s3-server.sh start)\"`)"
            );
            None
        }
    }
}

#[tokio::test]
async fn files_suite_on_s3() {
    let Some((endpoint, region, key, secret)) = s3_env() else {
        return;
    };
    // A fresh bucket per run; moto creates it on an unsigned PUT.
    let bucket = format!(
        "beep-it-{}",
        crate::harness::fresh_schema().replace('_', "-")
    );
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("S3 server reachable");
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    let s = TestServer::start_with(|c| {
        c.s3.endpoint = endpoint.clone();
        c.s3.bucket = bucket.clone();
        c.s3.region = region;
        c.s3.access_key_id = key;
        c.s3.secret_access_key = secret;
        c.s3.path_style = true;
    })
    .await;
    let files = &s.node.as_ref().expect("running").services.files;
    assert_eq!(files.storage().backend(), "s3");
    crate::files::suite(&s).await;
    // Objects really are in the bucket.
    let keys = files.storage().list("attachments").await.expect("list");
    assert!(keys.iter().any(|k| k.ends_with("/meta.json")), "{keys:?}");
    s.stop().await;
}
