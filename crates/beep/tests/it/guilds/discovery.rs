//! Public guilds: discovery search and joining without an invite; and the audit
//! log's filters.

use serde_json::json;

use super::{assert_error, str_of, world_with};

#[tokio::test]
async fn public_guilds_are_found_and_joined() {
    let w = world_with(|c| c.guilds.creations_per_minute = 0).await;
    let owner = &w.owner;
    let make = |name: &'static str, description: &'static str, public: bool| {
        let w = &w;
        async move {
            let (s, g) =
                w.ts.post_as(
                    "/guilds",
                    owner.auth(),
                    &json!({"name": name, "description": description, "public": public}),
                )
                .await;
            assert_eq!(s, 201, "{g}");
            str_of(&g["id"])
        }
    };
    let rust = make("Rust Lovers", "Systems programming, friendly", true).await;
    let garden = make("Gardening", "Plants, soil, and rust on old tools", true).await;
    let secret = make("Secret Rust Cabal", "rust rust rust", false).await;

    let bob = w.ts.user("bob").await;
    let (s, joined) =
        w.ts.put(
            &format!("/guilds/{garden}/members/@me"),
            bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 201, "{joined}");
    assert_eq!(joined["user"]["id"], bob.id.as_str());
    let (s, _) =
        w.ts.put(
            &format!("/guilds/{garden}/members/@me"),
            bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "already a member");
    assert_error(
        w.ts.put(
            &format!("/guilds/{secret}/members/@me"),
            bob.auth(),
            &json!({}),
        )
        .await,
        404,
        10004,
    );
    assert_error(
        w.ts.put("/guilds/123/members/@me", bob.auth(), &json!({}))
            .await,
        404,
        10004,
    );

    let (s, page) = w.ts.get("/discovery/guilds?query=rust", bob.auth()).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["total"], 2, "private guilds are never listed: {page}");
    let ids: Vec<String> = page["guilds"]
        .as_array()
        .expect("guilds")
        .iter()
        .map(|g| str_of(&g["id"]))
        .collect();
    assert_eq!(
        ids,
        vec![rust.clone(), garden.clone()],
        "a name match ranks first"
    );
    assert_eq!(page["guilds"][1]["approximate_member_count"], 2);
    assert_eq!(page["guilds"][0]["features"], json!(["DISCOVERABLE"]));
    assert_eq!(
        (page["limit"].clone(), page["offset"].clone()),
        (json!(20), json!(0))
    );

    let (_, page) =
        w.ts.get("/discovery/guilds?query=old%20tools", bob.auth())
            .await;
    assert_eq!(page["total"], 1);
    let (_, page) =
        w.ts.get("/discovery/guilds?query=rust%20-tools", bob.auth())
            .await;
    assert_eq!(page["guilds"][0]["id"], rust.as_str());
    assert_eq!(page["total"], 1);
    let (_, page) =
        w.ts.get(
            "/discovery/guilds?query=%22friendly%22%20or%20plants",
            bob.auth(),
        )
        .await;
    assert_eq!(page["total"], 2);
    let (_, page) =
        w.ts.get("/discovery/guilds?limit=1&offset=1", bob.auth())
            .await;
    assert_eq!(page["total"], 2, "every public guild without a query");
    assert_eq!(page["guilds"].as_array().map(Vec::len), Some(1));
    let (s, v) = w.ts.get("/discovery/guilds?limit=0", bob.auth()).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = w.ts.get("/discovery/guilds?offset=20000", bob.auth()).await;
    assert_eq!(s, 400, "{v}");
    assert_error(w.ts.get("/discovery/guilds?query=rust", None).await, 401, 0);

    // Going private removes a guild from discovery and from the public door.
    let (s, _) =
        w.ts.patch(
            &format!("/guilds/{rust}"),
            owner.auth(),
            &json!({"features": []}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, page) = w.ts.get("/discovery/guilds?query=rust", bob.auth()).await;
    assert_eq!(page["total"], 1);
    assert_error(
        w.ts.put(
            &format!("/guilds/{rust}/members/@me"),
            bob.auth(),
            &json!({}),
        )
        .await,
        404,
        10004,
    );
}

#[tokio::test]
async fn audit_log_filters_pages_and_permission() {
    let w = world_with(|_| {}).await;
    let bob = w.member("bob").await;
    for name in ["one", "two", "three"] {
        let (s, _) =
            w.ts.post_as(&w.g("/channels"), w.owner.auth(), &json!({"name": name}))
                .await;
        assert_eq!(s, 201);
    }
    let (s, _) =
        w.ts.patch(&w.g(""), w.owner.auth(), &json!({"name": "Renamed"}))
            .await;
    assert_eq!(s, 200);
    assert_error(w.ts.get(&w.g("/audit-logs"), bob.auth()).await, 403, 50013);

    let log = super::audit(&w, "").await;
    for key in [
        "audit_log_entries",
        "users",
        "webhooks",
        "threads",
        "integrations",
        "application_commands",
    ] {
        assert!(log[key].is_array(), "{key} is always sent");
    }
    let entries = log["audit_log_entries"]
        .as_array()
        .expect("entries")
        .clone();
    // The invite bob joined with, three channels, the rename.
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[4]["action_type"], 40);
    assert_eq!(entries[0]["action_type"], 1, "newest first");
    assert!(
        entries
            .iter()
            .all(|e| e["id"].is_string() && e["user_id"] == w.owner.id.as_str())
    );
    assert_eq!(log["users"][0]["id"], w.owner.id.as_str());
    let created = super::audit(&w, "?action_type=10").await;
    assert_eq!(
        created["audit_log_entries"].as_array().map(Vec::len),
        Some(3)
    );
    let first = created["audit_log_entries"][0]["changes"]
        .as_array()
        .expect("changes")
        .clone();
    assert!(
        first
            .iter()
            .any(|c| c["key"] == "name" && c["new_value"] == "three"),
        "{first:?}"
    );
    let limited = super::audit(&w, "?limit=2").await;
    assert_eq!(
        limited["audit_log_entries"].as_array().map(Vec::len),
        Some(2)
    );
    let before = str_of(&entries[1]["id"]);
    let older = super::audit(&w, &format!("?before={before}")).await;
    assert_eq!(older["audit_log_entries"].as_array().map(Vec::len), Some(3));
    let after = str_of(&entries[3]["id"]);
    let newer = super::audit(&w, &format!("?after={after}&limit=1")).await;
    assert_eq!(
        newer["audit_log_entries"][0]["id"], entries[2]["id"],
        "after pages forward"
    );
    let by_bob = super::audit(&w, &format!("?user_id={}", bob.id)).await;
    assert_eq!(by_bob["audit_log_entries"], json!([]));
    let (s, v) =
        w.ts.get(&w.g("/audit-logs?limit=101"), w.owner.auth())
            .await;
    assert_eq!(s, 400, "{v}");
}

#[tokio::test]
async fn discovery_refuses_over_long_queries() {
    let w = world_with(|_| {}).await;
    let long = "word ".repeat(41);
    let (s, v) =
        w.ts.get(
            &format!("/discovery/guilds?query={}", long.replace(' ', "+")),
            w.owner.auth(),
        )
        .await;
    assert_eq!(s, 400, "a query over 200 characters: {v}");
    let (s, v) =
        w.ts.get("/discovery/guilds?query=word", w.owner.auth())
            .await;
    assert_eq!(s, 200, "{v}");
}

/// Discovery uses the message-search analyzer: diacritics folded, English and
/// French stems, CJK text; ranked with the name above the description.
#[tokio::test]
async fn discovery_folds_stems_and_reads_cjk() {
    let w = world_with(|c| c.guilds.creations_per_minute = 0).await;
    let make = |name: &'static str, description: &'static str| {
        let w = &w;
        async move {
            let (s, g) =
                w.ts.post_as(
                    "/guilds",
                    w.owner.auth(),
                    &json!({"name": name, "description": description, "public": true}),
                )
                .await;
            assert_eq!(s, 201, "{g}");
            str_of(&g["id"])
        }
    };
    let cafe = make("Café Crème", "Coffee lovers").await;
    let runners = make("Running Club", "We meet at dawn").await;
    let eleves = make("Les Élèves", "Entraide entre étudiants").await;
    let tokyo = make("東京ゲーム部", "ゲームの話").await;
    let plain = make("Plain", "Nothing about cafés here").await;

    let find = |query: &'static str| {
        let w = &w;
        async move {
            let encoded: String = query
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            let (s, page) =
                w.ts.get(
                    &format!("/discovery/guilds?query={encoded}"),
                    w.owner.auth(),
                )
                .await;
            assert_eq!(s, 200, "{page}");
            let ids: Vec<String> = page["guilds"]
                .as_array()
                .expect("guilds")
                .iter()
                .map(|g| str_of(&g["id"]))
                .collect();
            assert_eq!(page["total"], ids.len(), "{query}: {page}");
            ids
        }
    };
    assert_eq!(
        find("cafe").await,
        vec![cafe.clone(), plain.clone()],
        "folded; a name match first"
    );
    assert_eq!(find("CAFÉ creme").await, vec![cafe.clone()]);
    assert_eq!(find("runs").await, vec![runners.clone()], "English stem");
    assert_eq!(find("eleve").await, vec![eleves.clone()], "French stem");
    assert_eq!(find("étudiant").await, vec![eleves.clone()]);
    assert_eq!(find("東京").await, vec![tokyo.clone()], "CJK bigram");
    assert_eq!(find("東").await, vec![tokyo.clone()], "one CJK character");
    assert!(find("京都").await.is_empty());

    // A rename is indexed in the same write.
    let (s, g) =
        w.ts.patch(
            &format!("/guilds/{runners}"),
            w.owner.auth(),
            &json!({"name": "Théâtre"}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    assert!(find("running").await.is_empty());
    assert_eq!(find("theatre").await, vec![runners]);
}
