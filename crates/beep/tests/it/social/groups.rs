//! Groups: creation and its size limit, the owner's powers, renaming and the
//! icon, leaving, ownership passing on, and the last one out.

use serde_json::json;

use super::{add_recipient, befriend, channel_ids, code, create_private, remove_recipient, say};
use crate::harness::{TestServer, TestUser};
use crate::messages::events;

/// A 1x1 PNG as a data URI.
const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==";

async fn friends_of(ts: &TestServer, owner: &TestUser, n: usize) -> Vec<TestUser> {
    let mut out = Vec::new();
    for i in 0..n {
        let u = ts.user(&format!("friend{i}")).await;
        befriend(ts, owner, &u).await;
        out.push(u);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_hold_ten_members_and_the_owner_manages_them() {
    let ts = TestServer::start().await;
    let owner = ts.user("owner").await;
    let friends = friends_of(&ts, &owner, 10).await;
    let ids: Vec<&str> = friends.iter().map(|f| f.id.as_str()).collect();

    // Eleven members (the owner and ten) is one too many.
    let (s, v) = create_private(&ts, &owner, json!({"recipients": ids})).await;
    assert_eq!((s, code(&v)), (400, 30004), "{v}");

    let mut ev = events(&ts);
    let (s, g) = create_private(&ts, &owner, json!({"recipients": ids[..9], "name": "Crew"})).await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(
        (g["type"].as_i64(), g["name"].as_str()),
        (Some(3), Some("Crew"))
    );
    assert_eq!(g["owner_id"], owner.id.as_str());
    assert_eq!(g["recipients"].as_array().map(Vec::len), Some(9));
    let gid = g["id"].as_str().expect("id").to_owned();
    assert_eq!(ev.next("CHANNEL_CREATE").await.data["id"], gid.as_str());

    // The eleventh member is refused; a member who is not the owner may not add or remove.
    let tenth = &friends[9];
    let (s, v) = add_recipient(&ts, &owner, &gid, tenth).await;
    assert_eq!((s, code(&v)), (400, 30004), "11th member: {v}");
    let (s, v) = add_recipient(&ts, &friends[0], &gid, tenth).await;
    assert_eq!((s, code(&v)), (403, 50013), "non-owner add: {v}");
    let (s, v) = remove_recipient(&ts, &friends[0], &gid, &friends[1]).await;
    assert_eq!((s, code(&v)), (403, 50013), "non-owner remove: {v}");
    // Outsiders see nothing.
    let (s, v) = ts.get(&format!("/channels/{gid}"), tenth.auth()).await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");

    // The owner removes one and adds the tenth; members talk.
    let (s, v) = remove_recipient(&ts, &owner, &gid, &friends[8]).await;
    assert_eq!(s, 204, "{v}");
    assert!(channel_ids(&ts, &friends[8]).await.is_empty());
    let (s, v) = add_recipient(&ts, &owner, &gid, tenth).await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(
        ev.next("CHANNEL_RECIPIENT_ADD").await.data["user"]["id"],
        tenth.id.as_str()
    );
    let (s, m) = say(&ts, tenth, &gid, "hello all").await;
    assert_eq!(s, 200, "{m}");
    let (s, hist) = ts
        .get(&format!("/channels/{gid}/messages"), friends[0].auth())
        .await;
    assert_eq!((s, hist[0]["content"].as_str()), (200, Some("hello all")));

    // Any member renames; the icon is a data URI; bad names are refused.
    let (s, v) = ts
        .patch(
            &format!("/channels/{gid}"),
            friends[0].auth(),
            &json!({"name": "Renamed", "icon": PNG}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["name"], "Renamed");
    let hash = v["icon"].as_str().expect("icon hash").to_owned();
    assert_eq!(hash.len(), 32, "{v}");
    let r = ts
        .http
        .get(format!("{}/channel-icons/{gid}/{hash}.png", ts.base))
        .send()
        .await
        .expect("icon");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(ev.next("CHANNEL_UPDATE").await.data["name"], "Renamed");
    let (s, v) = ts
        .patch(
            &format!("/channels/{gid}"),
            owner.auth(),
            &json!({"name": "x".repeat(101)}),
        )
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    let (s, v) = ts
        .patch(
            &format!("/channels/{gid}"),
            owner.auth(),
            &json!({"icon": "data:image/png;base64,AAAA"}),
        )
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_passes_ownership_and_the_last_one_out_deletes_the_group() {
    let ts = TestServer::start().await;
    let owner = ts.user("owner").await;
    let friends = friends_of(&ts, &owner, 2).await;
    let (s, g) = create_private(
        &ts,
        &owner,
        json!({"recipients": [friends[0].id, friends[1].id]}),
    )
    .await;
    assert_eq!(s, 200, "{g}");
    assert!(g["name"].is_null());
    let gid = g["id"].as_str().expect("id").to_owned();
    assert_eq!(say(&ts, &owner, &gid, "hi").await.0, 200);

    // The owner leaves: ownership passes to the earliest member left.
    let mut ev = events(&ts);
    let (s, v) = ts.delete(&format!("/channels/{gid}"), owner.auth()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        ev.next("CHANNEL_RECIPIENT_REMOVE").await.data["user"]["id"],
        owner.id.as_str()
    );
    let (s, c) = ts.get(&format!("/channels/{gid}"), friends[0].auth()).await;
    assert_eq!(s, 200);
    let new_owner = c["owner_id"].as_str().expect("owner").to_owned();
    assert!(friends.iter().any(|f| f.id == new_owner), "{c}");
    let (s, _) = ts
        .get(&format!("/channels/{gid}/messages"), owner.auth())
        .await;
    assert_eq!(s, 404, "the owner left");
    // The owner's "all my messages" forgets the group; the others keep it.
    let (_, mine) = ts.get("/users/@me/messages", owner.auth()).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(0));
    let (_, theirs) = ts.get("/users/@me/messages", friends[0].auth()).await;
    assert_eq!(theirs.as_array().map(Vec::len), Some(1));

    // Self-removal through the recipients route, then the last one leaves.
    let (s, v) = remove_recipient(&ts, &friends[1], &gid, &friends[1]).await;
    assert_eq!(s, 204, "{v}");
    let (s, _) = ts
        .delete(&format!("/channels/{gid}"), friends[0].auth())
        .await;
    assert_eq!(s, 200);
    let (s, v) = ts.get(&format!("/channels/{gid}"), friends[0].auth()).await;
    assert_eq!((s, code(&v)), (404, 10003), "deleted: {v}");
    let store = &ts.node.as_ref().expect("node").services.store;
    let id: beep_types::ChannelId = gid.parse().expect("id");
    assert!(store.private_channel(id).await.expect("read").is_none());

    // Groups need people one may message.
    let stranger = ts.user("stranger").await;
    let (s, v) = create_private(
        &ts,
        &owner,
        json!({"recipients": [friends[0].id, stranger.id]}),
    )
    .await;
    assert_eq!((s, code(&v)), (403, 50007), "{v}");
}
