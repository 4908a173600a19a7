//! Webhooks: management with Manage Webhooks (or as creator), the token routes,
//! execution with name and avatar overrides, refusals, limits, events.

use serde_json::{Value, json};

use super::{assert_channel_audience, code, room};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_managed_and_executed() {
    let r = room().await;
    let mut events = r.events();
    let hooks = r.path("/webhooks");
    let (s, v) =
        r.ts.post_as(&hooks, r.bob.auth(), &json!({"name": "CI"}))
            .await;
    assert_eq!(
        (s, code(&v)),
        (403, 50013),
        "members need Manage Webhooks: {v}"
    );
    let (s, w) =
        r.ts.post_as(&hooks, r.alice.auth(), &json!({"name": "CI"}))
            .await;
    assert_eq!(s, 200, "{w}");
    assert_eq!(w["type"], 1);
    assert_eq!(w["name"], "CI");
    assert_eq!(w["channel_id"], r.channel.as_str());
    assert_eq!(w["guild_id"], r.guild.as_str());
    assert_eq!(w["user"]["id"], r.alice.id.as_str());
    let id = w["id"].as_str().expect("id").to_owned();
    let token = w["token"].as_str().expect("token").to_owned();
    assert!(token.len() >= 60, "{token}");
    assert!(
        w["url"]
            .as_str()
            .expect("url")
            .ends_with(&format!("/webhooks/{id}/{token}"))
    );
    let e = events.next("WEBHOOKS_UPDATE").await;
    assert_channel_audience(&e, &r.guild, &r.channel, 1 << 5);

    let (s, list) = r.ts.get(&hooks, r.alice.auth()).await;
    assert_eq!((s, list[0]["token"].clone()), (200, json!(token)));
    let (s, v) = r.ts.get(&hooks, r.bob.auth()).await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");
    let (s, list) =
        r.ts.get(&format!("/guilds/{}/webhooks", r.guild), r.alice.auth())
            .await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)));
    let (s, v) =
        r.ts.get(&format!("/guilds/{}/webhooks", r.guild), r.bob.auth())
            .await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");
    let (s, v) = r.ts.get(&format!("/webhooks/{id}"), r.bob.auth()).await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");

    let (s, v) =
        r.ts.patch(
            &format!("/webhooks/{id}"),
            r.alice.auth(),
            &json!({"name": "Deploys"}),
        )
        .await;
    assert_eq!((s, v["name"].clone()), (200, json!("Deploys")), "{v}");

    // With the token alone.
    let (s, v) = r.ts.get(&format!("/webhooks/{id}/{token}"), None).await;
    assert_eq!(s, 200, "{v}");
    assert!(v.get("user").is_none(), "no creator with the token: {v}");
    let (s, v) = r.ts.get(&format!("/webhooks/{id}/wrong-token"), None).await;
    assert_eq!((s, code(&v)), (401, 50027), "{v}");
    let (s, v) =
        r.ts.post_as(
            &format!("/webhooks/{id}/wrong-token"),
            None,
            &json!({"content": "x"}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (401, 50027),
        "a wrong token executes nothing: {v}"
    );
    let (s, v) = r.ts.get(&format!("/webhooks/12345/{token}"), None).await;
    assert_eq!((s, code(&v)), (404, 10015), "{v}");

    let exec = format!("/webhooks/{id}/{token}");
    let (s, m) =
        r.ts.post_as(
            &format!("{exec}?wait=true"),
            None,
            &json!({"content": "build passed <@{}>".replace("{}", &r.bob.id),
            "username": "Jenkins", "avatar_url": "https://example.org/j.png"}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["webhook_id"], id.as_str());
    assert_eq!(m["author"]["id"], id.as_str());
    assert_eq!(m["author"]["username"], "Jenkins");
    assert_eq!(m["author"]["bot"], true);
    assert_eq!(m["avatar_url"], "https://example.org/j.png");
    assert_eq!(m["mentions"][0]["id"], r.bob.id.as_str());
    let e = events.next("MESSAGE_CREATE").await;
    assert_eq!(e.data["webhook_id"], id.as_str());
    let resp =
        r.ts.send(
            reqwest::Method::POST,
            &exec,
            None,
            Some(&json!({"content": "quiet"})),
        )
        .await;
    assert_eq!(resp.status(), 204, "without wait");
    let (_, page) = r.ts.get(&r.path("/messages?limit=2"), r.alice.auth()).await;
    assert_eq!(page[0]["content"], "quiet");
    assert_eq!(
        page[0]["author"]["username"], "Deploys",
        "the webhook's own name"
    );
    assert_eq!(page[1]["author"]["username"], "Jenkins");

    for (body, what) in [
        (json!({}), "empty"),
        (
            json!({"content": "x", "username": "clyde"}),
            "a reserved name",
        ),
        (
            json!({"content": "x", "avatar_url": "ftp://x"}),
            "a bad avatar URL",
        ),
        (json!({"content": "x".repeat(4001)}), "too long"),
    ] {
        let (s, v) = r.ts.post_as(&exec, None, &body).await;
        assert_eq!(s, 400, "{what}: {v}");
    }
    let (s, v) =
        r.ts.post_as(
            &format!("{exec}?wait=maybe"),
            None,
            &json!({"content": "x"}),
        )
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");

    // A webhook message is deleted by a moderator, not by the token holder's account.
    let mid = m["id"].as_str().expect("id");
    let (s, _) =
        r.ts.delete(&r.path(&format!("/messages/{mid}")), r.alice.auth())
            .await;
    assert_eq!(s, 204);

    let (s, v) = r.ts.patch(&exec, None, &json!({"name": "Renamed"})).await;
    assert_eq!((s, v["name"].clone()), (200, json!("Renamed")));
    let (s, v) =
        r.ts.patch(&exec, None, &json!({"channel_id": r.channel}))
            .await;
    assert_eq!((s, code(&v)), (400, 50035), "the token cannot move it: {v}");
    let (s, _) = r.ts.delete(&exec, None).await;
    assert_eq!(s, 204);
    let (s, v) = r.ts.post_as(&exec, None, &json!({"content": "x"})).await;
    assert_eq!((s, code(&v)), (404, 10015), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_names_and_the_limit_of_15() {
    let r = room().await;
    let hooks = r.path("/webhooks");
    for bad in ["", "Discord Bot", "my clyde", &"x".repeat(81)] {
        let (s, v) =
            r.ts.post_as(&hooks, r.alice.auth(), &json!({"name": bad}))
                .await;
        assert_eq!((s, code(&v)), (400, 50035), "{bad:?}: {v}");
    }
    for i in 0..15 {
        let (s, v) =
            r.ts.post_as(
                &hooks,
                r.alice.auth(),
                &json!({"name": format!("hook {i}")}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) =
        r.ts.post_as(&hooks, r.alice.auth(), &json!({"name": "one more"}))
            .await;
    assert_eq!((s, code(&v)), (400, 30007), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_creator_manages_but_only_manage_webhooks_sees_the_token() {
    let r = room().await;
    let over = r.path(&format!("/permissions/{}", r.bob.id));
    let (s, _) =
        r.ts.put(
            &over,
            r.alice.auth(),
            &json!({"type": 1, "allow": (1u64 << 29).to_string(), "deny": "0"}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, w) =
        r.ts.post_as(
            &r.path("/webhooks"),
            r.bob.auth(),
            &json!({"name": "bob's"}),
        )
        .await;
    assert_eq!(s, 200, "{w}");
    let id = w["id"].as_str().expect("id");
    let (s, _) = r.ts.delete(&over, r.alice.auth()).await;
    assert_eq!(s, 204);
    let (s, v): (u16, Value) = r.ts.get(&format!("/webhooks/{id}"), r.bob.auth()).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v.get("token").is_none(),
        "no token without Manage Webhooks: {v}"
    );
    let (_, v) = r.ts.get(&format!("/webhooks/{id}"), r.alice.auth()).await;
    assert!(v["token"].is_string(), "{v}");
    let (s, _) = r.ts.delete(&format!("/webhooks/{id}"), r.bob.auth()).await;
    assert_eq!(s, 204, "the creator may delete it");
}
