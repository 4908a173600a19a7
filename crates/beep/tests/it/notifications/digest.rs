//! The missed-mention digest, received by a real SMTP server (aiosmtpd).

use std::time::{Duration, Instant};

use serde_json::json;

use super::mention;
use crate::accounts::smtp::{Delivered, SmtpServer};
use crate::gateway::client::Gw;
use crate::harness::TestServer;
use crate::messages::{guild, join};

/// Digest mails to `to` so far.
fn digests(smtp: &SmtpServer, to: &str) -> Vec<Delivered> {
    smtp.mails()
        .into_iter()
        .filter(|m| m.to.contains(to) && m.subject.contains("missed"))
        .collect()
}

/// Wait (up to 15 s) for the `n`-th digest to `to`.
async fn wait_digest(smtp: &SmtpServer, to: &str, n: usize) -> Delivered {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = digests(smtp, to);
        if got.len() >= n {
            return got[n - 1].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no digest #{n} for {to}: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn smtp_digest_of_missed_mentions_once_per_batch() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let url = smtp.url();
    let ts = TestServer::start_with(|c| {
        c.smtp.url = url;
        c.auth.require_email_verification = Some(false);
        c.notifications.digest_delay_secs = 1;
    })
    .await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let carol = ts.user("carol").await;
    let (_, channel) = guild(&ts, &alice, "Hall").await;
    join(&ts, &alice, &channel, &bob).await;
    join(&ts, &alice, &channel, &carol).await;

    // Carol is online: she gets no digest.
    let mut gw = Gw::connect(&ts).await;
    gw.ready(&carol.token, 1 << 9).await;

    let send = |body: serde_json::Value| {
        let ts = &ts;
        let alice = &alice;
        let channel = &channel;
        async move {
            let (s, v) = ts
                .post_as(
                    &format!("/channels/{channel}/messages"),
                    alice.auth(),
                    &body,
                )
                .await;
            assert_eq!(s, 200, "{v}");
        }
    };
    send(mention(&bob, "first question")).await;
    send(mention(&bob, "second question")).await;
    send(mention(&carol, "are you there")).await;
    send(json!({"content": "no mention here"})).await;

    let mail = wait_digest(&smtp, "bob@example.org", 1).await;
    assert!(mail.subject.contains("2 missed"), "{mail:?}");
    assert!(mail.body.contains("first question"), "{}", mail.body);
    assert!(mail.body.contains("second question"), "{}", mail.body);
    assert!(mail.body.contains("alice"), "{}", mail.body);

    // Once per batch: no second mail for the same mentions.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(digests(&smtp, "bob@example.org").len(), 1);
    assert!(
        digests(&smtp, "carol@example.org").is_empty(),
        "a user with a live session gets no digest"
    );

    // A new mention is a new batch.
    send(mention(&bob, "third question")).await;
    let mail = wait_digest(&smtp, "bob@example.org", 2).await;
    assert!(mail.subject.contains("1 missed"), "{mail:?}");
    assert!(mail.body.contains("third question"), "{}", mail.body);
    assert!(!mail.body.contains("first question"), "{}", mail.body);

    // A mention read before the delay is not mailed.
    send(mention(&bob, "fourth question")).await;
    let (s, _) = ts
        .post_as("/users/@me/notifications/read-all", bob.auth(), &json!({}))
        .await;
    assert_eq!(s, 204);
    // Carol left: her unread mention is mailed once she has been gone long enough.
    gw.close(1000).await;
    let mail = wait_digest(&smtp, "carol@example.org", 1).await;
    assert!(mail.body.contains("are you there"), "{}", mail.body);
    assert_eq!(digests(&smtp, "bob@example.org").len(), 2);
}
