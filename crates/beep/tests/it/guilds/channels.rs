//! Channels and folders: create, read, edit, move, delete (folders with what is
//! inside them), nesting depth, and private channels through overwrites.

use beep_types::Permissions as P;
use serde_json::{Value, json};

use super::{World, assert_error, audit_actions, expect_event, str_of, world, world_with};

async fn create(w: &World, body: Value) -> Value {
    let (s, c) = w.ts.post_as(&w.g("/channels"), w.owner.auth(), &body).await;
    assert_eq!(s, 201, "create channel {body}: {c}");
    c
}

#[tokio::test]
async fn folders_nest_three_deep_and_take_their_channels_when_deleted() {
    let w = world().await;
    let mut events = w.events();
    let f1 = create(&w, json!({"name": "Level 1", "type": 4})).await;
    assert_eq!(f1["type"], 4);
    assert!(
        f1.get("topic").is_none() && f1.get("last_message_id").is_none(),
        "{f1}"
    );
    let e = expect_event(&mut events, "CHANNEL_CREATE").await;
    assert_eq!(e.data["id"], f1["id"]);
    let f2 = create(
        &w,
        json!({"name": "Level 2", "type": 4, "parent_id": f1["id"]}),
    )
    .await;
    let f3 = create(
        &w,
        json!({"name": "Level 3", "type": 4, "parent_id": f2["id"]}),
    )
    .await;
    assert_eq!(f3["parent_id"], f2["id"]);
    let deep = create(
        &w,
        json!({"name": "deep", "parent_id": f3["id"], "topic": "down here"}),
    )
    .await;
    assert_eq!(deep["type"], 0, "text is the default type");
    assert_eq!(deep["topic"], "down here");
    let vc = create(&w, json!({"name": "Deep Voice", "type": 2, "parent_id": f3["id"], "bitrate": 96000, "user_limit": 5})).await;
    assert_eq!(
        (vc["bitrate"].clone(), vc["user_limit"].clone()),
        (json!(96000), json!(5))
    );

    let (s, v) =
        w.ts.post_as(
            &w.g("/channels"),
            w.owner.auth(),
            &json!({"name": "Level 4", "type": 4, "parent_id": f3["id"]}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], 50035);
    assert_eq!(
        v["errors"]["parent_id"]["_errors"][0]["code"],
        "CHANNEL_PARENT_MAX_DEPTH"
    );
    let (s, v) =
        w.ts.post_as(
            &w.g("/channels"),
            w.owner.auth(),
            &json!({"name": "x", "parent_id": w.text}),
        )
        .await;
    assert_eq!(s, 400, "a text channel is no folder: {v}");
    let (s, v) =
        w.ts.post_as(
            &w.g("/channels"),
            w.owner.auth(),
            &json!({"name": "x", "type": 5}),
        )
        .await;
    assert_eq!(s, 400, "announcement channels are not Beep's: {v}");
    let (s, v) =
        w.ts.post_as(
            &w.g("/channels"),
            w.owner.auth(),
            &json!({"name": "x", "type": 1}),
        )
        .await;
    assert_eq!(s, 400, "a DM is not a guild channel: {v}");
    let (s, v) =
        w.ts.post_as(&w.g("/channels"), w.owner.auth(), &json!({"name": ""}))
            .await;
    assert_eq!(s, 400, "{v}");
    // Moving level 1 under level 3 would be a cycle.
    let (s, v) =
        w.ts.patch(
            &format!("/channels/{}", str_of(&f1["id"])),
            w.owner.auth(),
            &json!({"parent_id": f3["id"]}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        v["errors"]["parent_id"]["_errors"][0]["code"],
        "CHANNEL_PARENT_CYCLE"
    );

    // Deleting level 1 takes everything below it.
    let (s, gone) =
        w.ts.delete(&format!("/channels/{}", str_of(&f1["id"])), w.owner.auth())
            .await;
    assert_eq!(s, 200, "{gone}");
    assert_eq!(gone["id"], f1["id"]);
    for c in [&f1, &f2, &f3, &deep, &vc] {
        assert_error(
            w.ts.get(&format!("/channels/{}", str_of(&c["id"])), w.owner.auth())
                .await,
            404,
            10003,
        );
    }
    let mut deleted = Vec::new();
    for _ in 0..5 {
        deleted.push(expect_event(&mut events, "CHANNEL_DELETE").await.data["id"].clone());
    }
    assert_eq!(
        deleted.last(),
        Some(&f1["id"]),
        "the folder goes last, after its contents"
    );
    let (_, left) = w.ts.get(&w.g("/channels"), w.owner.auth()).await;
    assert_eq!(
        left.as_array().map(Vec::len),
        Some(2),
        "the default channels stay"
    );
    let actions = audit_actions(&w).await;
    assert_eq!(
        actions.iter().filter(|a| **a == 12).count(),
        5,
        "one CHANNEL_DELETE entry per channel"
    );
    assert_eq!(actions.iter().filter(|a| **a == 10).count(), 5);
}

#[tokio::test]
async fn channels_are_edited_and_moved() {
    let w = world().await;
    let mut events = w.events();
    let folder = create(&w, json!({"name": "Stuff", "type": 4})).await;
    let fid = str_of(&folder["id"]);
    let (s, c) = w.ts.patch(&format!("/channels/{}", w.text), w.owner.auth(),
        &json!({"name": "lobby", "topic": "say hi", "nsfw": true, "rate_limit_per_user": 10, "parent_id": fid})).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["name"], "lobby");
    assert_eq!(c["topic"], "say hi");
    assert_eq!(c["nsfw"], true);
    assert_eq!(c["rate_limit_per_user"], 10);
    assert_eq!(c["parent_id"], folder["id"]);
    let e = expect_event(&mut events, "CHANNEL_UPDATE").await;
    assert_eq!(e.data["name"], "lobby");
    let (s, v) =
        w.ts.patch(
            &format!("/channels/{}", w.text),
            w.owner.auth(),
            &json!({"type": 2}),
        )
        .await;
    assert_eq!(s, 400, "types do not change: {v}");
    let (s, v) =
        w.ts.patch(
            &format!("/channels/{}", w.text),
            w.owner.auth(),
            &json!({"topic": null}),
        )
        .await;
    assert_eq!((s, v["topic"].clone()), (200, json!(null)), "null clears");

    // Bulk: voice into the folder, text back to the top.
    let (s, v) =
        w.ts.patch(
            &w.g("/channels"),
            w.owner.auth(),
            &json!([
                {"id": w.voice, "parent_id": fid, "position": 3, "lock_permissions": true},
                {"id": w.text, "parent_id": null, "position": 0}
            ]),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let (_, list) = w.ts.get(&w.g("/channels"), w.owner.auth()).await;
    let find = |id: &str| {
        list.as_array()
            .expect("list")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .expect("channel")
    };
    assert_eq!(find(&w.voice)["parent_id"], folder["id"]);
    assert_eq!(find(&w.voice)["position"], 3);
    assert_eq!(find(&w.text)["parent_id"], json!(null));

    // Refusals: unknown ids, ids of another guild, duplicates, cycles.
    let other = super::make_guild(&w.ts, &w.owner, "Other").await;
    assert_error(
        w.ts.patch(
            &w.g("/channels"),
            w.owner.auth(),
            &json!([{"id": other.1, "position": 1}]),
        )
        .await,
        404,
        10003,
    );
    let (s, v) =
        w.ts.patch(
            &w.g("/channels"),
            w.owner.auth(),
            &json!([{"id": w.text, "position": 1}, {"id": w.text, "position": 2}]),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) =
        w.ts.patch(
            &w.g("/channels"),
            w.owner.auth(),
            &json!([{"id": fid, "parent_id": fid}]),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) =
        w.ts.patch(
            &w.g("/channels"),
            w.owner.auth(),
            &json!([{"id": w.text, "parent_id": other.1}]),
        )
        .await;
    assert_eq!(s, 400, "a folder of another guild is unknown here: {v}");
    let (s, v) =
        w.ts.patch(&w.g("/channels"), w.owner.auth(), &json!([]))
            .await;
    assert_eq!(s, 400, "{v}");

    let bob = w.member("bob").await;
    assert_error(
        w.ts.patch(
            &format!("/channels/{}", w.text),
            bob.auth(),
            &json!({"name": "mine"}),
        )
        .await,
        403,
        50013,
    );
    assert_error(
        w.ts.patch(
            &w.g("/channels"),
            bob.auth(),
            &json!([{"id": w.text, "position": 9}]),
        )
        .await,
        403,
        50013,
    );
    assert_error(
        w.ts.post_as(&w.g("/channels"), bob.auth(), &json!({"name": "mine"}))
            .await,
        403,
        50013,
    );
    assert_error(
        w.ts.delete(&format!("/channels/{}", w.text), bob.auth())
            .await,
        403,
        50013,
    );
    let (s, c) = w.ts.get(&format!("/channels/{}", w.text), bob.auth()).await;
    assert_eq!(s, 200, "members read channels: {c}");
    let actions = audit_actions(&w).await;
    assert!(
        actions.contains(&11),
        "CHANNEL_UPDATE is logged: {actions:?}"
    );
}

#[tokio::test]
async fn private_channels_through_overwrites() {
    let w = world().await;
    let bob = w.member("bob").await;
    let carol = w.member("carol").await;
    let staff = w.role("staff", 0).await;
    w.grant(&bob, &staff).await;
    let mut events = w.events();
    let secret = create(
        &w,
        json!({"name": "staff-only", "permission_overwrites": [
            {"id": w.guild, "type": 0, "deny": P::VIEW_CHANNEL.bits().to_string()},
            {"id": staff, "type": 0, "allow": P::VIEW_CHANNEL.bits().to_string()}
        ]}),
    )
    .await;
    let sid = str_of(&secret["id"]);
    let ows = secret["permission_overwrites"]
        .as_array()
        .expect("overwrites");
    assert_eq!(ows.len(), 2);
    assert!(
        ows.iter()
            .all(|o| o["type"].is_number() && o["allow"].is_string() && o["deny"].is_string()),
        "{ows:?}"
    );

    // Carol cannot read it, and does not even see it listed.
    assert_error(
        w.ts.get(&format!("/channels/{sid}"), carol.auth()).await,
        404,
        10003,
    );
    let (_, list) = w.ts.get(&w.g("/channels"), carol.auth()).await;
    assert!(
        !list
            .as_array()
            .expect("list")
            .iter()
            .any(|c| c["id"] == sid.as_str()),
        "hidden channels are not listed"
    );
    let (s, _) = w.ts.get(&format!("/channels/{sid}"), bob.auth()).await;
    assert_eq!(s, 200, "the staff role sees it");

    // Let Carol in by a member overwrite, then take it back.
    let path = format!("/channels/{sid}/permissions/{}", carol.id);
    let (s, v) =
        w.ts.put(
            &path,
            w.owner.auth(),
            &json!({"type": 1, "allow": P::VIEW_CHANNEL.bits().to_string()}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let e = expect_event(&mut events, "CHANNEL_UPDATE").await;
    assert_eq!(e.data["id"], sid.as_str());
    let (s, _) = w.ts.get(&format!("/channels/{sid}"), carol.auth()).await;
    assert_eq!(s, 200);
    let (s, _) = w.ts.delete(&path, w.owner.auth()).await;
    assert_eq!(s, 204);
    assert_error(
        w.ts.get(&format!("/channels/{sid}"), carol.auth()).await,
        404,
        10003,
    );
    assert_error(w.ts.delete(&path, w.owner.auth()).await, 404, 10009);

    // Only with MANAGE_ROLES in the channel, only for targets of this guild,
    // only granting what one holds.
    assert_error(
        w.ts.put(&path, carol.auth(), &json!({"type": 1, "allow": "1024"}))
            .await,
        404,
        10003,
    );
    let general = format!("/channels/{}/permissions/{}", w.text, carol.id);
    assert_error(
        w.ts.put(&general, carol.auth(), &json!({"type": 1, "allow": "1024"}))
            .await,
        403,
        50013,
    );
    let managers = w
        .role(
            "managers",
            (P::MANAGE_ROLES | P::VIEW_CHANNEL | P::SEND_MESSAGES).bits(),
        )
        .await;
    w.grant(&carol, &managers).await;
    let (s, v) =
        w.ts.put(
            &general,
            carol.auth(),
            &json!({"type": 1, "deny": P::SEND_MESSAGES.bits().to_string()}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    assert_error(
        w.ts.put(
            &general,
            carol.auth(),
            &json!({"type": 1, "allow": P::MANAGE_MESSAGES.bits().to_string()}),
        )
        .await,
        403,
        50013,
    );
    let other = super::make_guild(&w.ts, &w.owner, "Other").await;
    let foreign_role = format!("/channels/{}/permissions/{}", w.text, other.0);
    assert_error(
        w.ts.put(
            &foreign_role,
            w.owner.auth(),
            &json!({"type": 0, "allow": "1024"}),
        )
        .await,
        404,
        10011,
    );
    let eve = w.ts.user("eve").await;
    let stranger = format!("/channels/{}/permissions/{}", w.text, eve.id);
    assert_error(
        w.ts.put(
            &stranger,
            w.owner.auth(),
            &json!({"type": 1, "allow": "1024"}),
        )
        .await,
        404,
        10007,
    );
    let (s, v) =
        w.ts.put(&general, w.owner.auth(), &json!({"type": 3}))
            .await;
    assert_eq!(s, 400, "{v}");
    let actions = audit_actions(&w).await;
    for a in [13, 15] {
        assert!(
            actions.contains(&a),
            "overwrite action {a} logged: {actions:?}"
        );
    }
}

#[tokio::test]
async fn folder_overwrites_flow_to_synced_channels() {
    let w = world().await;
    let bob = w.member("bob").await;
    let folder = create(&w, json!({"name": "Team", "type": 4})).await;
    let fid = str_of(&folder["id"]);
    let inside = create(&w, json!({"name": "team-chat", "parent_id": fid})).await;
    let custom = create(
        &w,
        json!({"name": "custom", "parent_id": fid,
        "permission_overwrites": [{"id": bob.id, "type": 1, "allow": "1024"}]}),
    )
    .await;
    // Hiding the folder from @everyone hides the synced channel too, not the custom one.
    let (s, _) =
        w.ts.put(
            &format!("/channels/{fid}/permissions/{}", w.guild),
            w.owner.auth(),
            &json!({"type": 0, "deny": P::VIEW_CHANNEL.bits().to_string()}),
        )
        .await;
    assert_eq!(s, 204);
    assert_error(
        w.ts.get(&format!("/channels/{}", str_of(&inside["id"])), bob.auth())
            .await,
        404,
        10003,
    );
    let (s, _) =
        w.ts.get(&format!("/channels/{}", str_of(&custom["id"])), bob.auth())
            .await;
    assert_eq!(s, 200);
    // A channel created in the folder starts with its overwrites.
    let late = create(&w, json!({"name": "late", "parent_id": fid})).await;
    assert_eq!(
        late["permission_overwrites"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn channel_limit() {
    let w = world_with(|c| c.guilds.max_channels = 3).await;
    create(&w, json!({"name": "third"})).await;
    assert_error(
        w.ts.post_as(
            &w.g("/channels"),
            w.owner.auth(),
            &json!({"name": "fourth"}),
        )
        .await,
        400,
        30013,
    );
}
