//! Friend requests, accepts, denials, blocks and their refusals and events.

use serde_json::json;

use super::{ask, befriend, code, open_dm, rels, remove_rel, set_rel};
use crate::harness::TestServer;
use crate::messages::events;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_by_username_become_friendships_with_events() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let mut ev = events(&ts);

    let (s, v) = ask(&ts, &alice, "BOB").await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(rels(&ts, &alice).await, vec![(bob.id.clone(), 4)]);
    assert_eq!(rels(&ts, &bob).await, vec![(alice.id.clone(), 3)]);
    let e = ev.next("RELATIONSHIP_ADD").await;
    let e2 = ev.next("RELATIONSHIP_ADD").await;
    let to_bob = [e, e2]
        .into_iter()
        .find(|e| e.data["type"] == 3)
        .expect("bob hears of the request");
    assert_eq!(to_bob.data["id"], alice.id.as_str());
    assert_eq!(to_bob.data["user"]["username"], "alice");

    // Asking twice changes nothing; the other side asking back accepts.
    let (s, _) = ask(&ts, &alice, "bob").await;
    assert_eq!(s, 204);
    let (s, _) = ask(&ts, &bob, "alice").await;
    assert_eq!(s, 204);
    assert_eq!(rels(&ts, &alice).await, vec![(bob.id.clone(), 1)]);
    assert_eq!(rels(&ts, &bob).await, vec![(alice.id.clone(), 1)]);
    let (_, list) = ts.get("/users/@me/relationships", bob.auth()).await;
    assert!(list[0]["since"].is_string(), "{list}");

    // Refusals: unknown name, oneself, an unknown type, an unknown user.
    let (s, v) = ask(&ts, &alice, "nobody").await;
    assert_eq!((s, code(&v)), (400, 80004), "{v}");
    let (s, v) = ask(&ts, &alice, "alice").await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    let (s, v) = set_rel(&ts, &alice, &bob, json!({"type": 5})).await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    let (s, v) = ts
        .put(
            "/users/@me/relationships/123456789012345678",
            alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!((s, code(&v)), (404, 10013), "{v}");
    let (s, _) = ts.get("/users/@me/relationships", None).await;
    assert_eq!(s, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_user_cannot_ask_or_message_until_unblocked() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    befriend(&ts, &alice, &bob).await;

    // Bob blocks his friend Alice: the friendship ends, Alice's row goes.
    let mut ev = events(&ts);
    let (s, v) = set_rel(&ts, &bob, &alice, json!({"type": 2})).await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(rels(&ts, &bob).await, vec![(alice.id.clone(), 2)]);
    assert!(rels(&ts, &alice).await.is_empty());
    let removed = ev.next("RELATIONSHIP_REMOVE").await;
    assert_eq!(removed.data["id"], bob.id.as_str());

    let (s, v) = ask(&ts, &alice, "bob").await;
    assert_eq!(
        (s, code(&v)),
        (400, 80000),
        "request from a blocked user: {v}"
    );
    let (s, v) = set_rel(&ts, &alice, &bob, json!({})).await;
    assert_eq!((s, code(&v)), (400, 80000), "{v}");
    let (s, v) = open_dm(&ts, &alice, &bob).await;
    assert_eq!((s, code(&v)), (403, 50007), "DM from a blocked user: {v}");
    let (s, v) = open_dm(&ts, &bob, &alice).await;
    assert_eq!((s, code(&v)), (403, 50007), "DM to a user one blocked: {v}");

    // Unblocking lets Alice ask again.
    let (s, _) = remove_rel(&ts, &bob, &alice).await;
    assert_eq!(s, 204);
    assert!(rels(&ts, &bob).await.is_empty());
    let (s, v) = ask(&ts, &alice, "bob").await;
    assert_eq!(s, 204, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_denied_cancelled_and_friends_removed() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let path_bob = format!("/users/@me/relationships/{}", bob.id);
    let path_alice = format!("/users/@me/relationships/{}", alice.id);

    // Deny.
    ts.put(&path_bob, alice.auth(), &json!({})).await;
    let (s, _) = ts.delete(&path_alice, bob.auth()).await;
    assert_eq!(s, 204);
    assert!(rels(&ts, &alice).await.is_empty() && rels(&ts, &bob).await.is_empty());
    // Cancel.
    ts.put(&path_bob, alice.auth(), &json!({})).await;
    let (s, _) = ts.delete(&path_bob, alice.auth()).await;
    assert_eq!(s, 204);
    assert!(rels(&ts, &alice).await.is_empty() && rels(&ts, &bob).await.is_empty());
    // Nothing to remove.
    let (s, v) = ts.delete(&path_bob, alice.auth()).await;
    assert_eq!((s, code(&v)), (404, 10013), "{v}");
    // A PUT without any body sends a request (discord.py sends none).
    let (s, v) = ts
        .call(reqwest::Method::PUT, &path_bob, alice.auth(), None)
        .await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(rels(&ts, &bob).await, vec![(alice.id.clone(), 3)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relationships_stop_at_the_configured_limit() {
    let ts = TestServer::start_with(|c| c.social.max_relationships = 2).await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let carol = ts.user("carol").await;
    let dave = ts.user("dave").await;
    for other in ["bob", "carol"] {
        let (s, v) = ask(&ts, &alice, other).await;
        assert_eq!(s, 204, "{v}");
    }
    let (s, v) = ask(&ts, &alice, "dave").await;
    assert_eq!((s, code(&v)), (400, 30002), "{v}");
    // Nor may someone else add a row to Alice's full list.
    let (s, v) = set_rel(&ts, &dave, &alice, json!({})).await;
    assert_eq!((s, code(&v)), (400, 30002), "{v}");
    assert!(rels(&ts, &dave).await.is_empty());
    // Changing an existing row is fine: Bob accepts, Alice blocks Carol.
    befriend_back(&ts, &bob, &alice).await;
    let (s, _) = set_rel(&ts, &alice, &carol, json!({"type": 2})).await;
    assert_eq!(s, 204);
    assert_eq!(
        rels(&ts, &alice).await,
        vec![(bob.id.clone(), 1), (carol.id.clone(), 2)]
    );
}

/// `who` accepts `from`'s pending request.
async fn befriend_back(
    ts: &TestServer,
    who: &crate::harness::TestUser,
    from: &crate::harness::TestUser,
) {
    let (s, v) = set_rel(ts, who, from, json!({})).await;
    assert_eq!(s, 204, "{v}");
}
