//! discord.py as referee: its unmodified REST client, with `Route.BASE` pointed
//! at a Beep node and a bot token, logs in, fetches a channel, sends, reads the
//! history, edits, reacts, replies, pins and deletes (`discordpy_client.py`).
//!
//! Needs `python3` with `discord.py` (`pip install discord.py`); without it the
//! test says so and passes, unless `BEEP_TEST_REQUIRE_DISCORDPY=1`.

use std::process::Command;

use serde_json::json;

use super::room;

fn discordpy_available() -> bool {
    Command::new("python3")
        .args(["-c", "import discord"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_py_rest_client_works_against_beep() {
    if !discordpy_available() {
        assert!(
            std::env::var("BEEP_TEST_REQUIRE_DISCORDPY").as_deref() != Ok("1"),
            "BEEP_TEST_REQUIRE_DISCORDPY=1 but python3 cannot import discord"
        );
        println!("skipped: python3 with discord.py is not installed");
        return;
    }
    let r = room().await;
    let (s, app) =
        r.ts.post_as("/applications", r.alice.auth(), &json!({"name": "Referee"}))
            .await;
    assert_eq!(s, 201, "{app}");
    let id = app["id"].as_str().expect("id");
    let token = app["token"].as_str().expect("token").to_owned();
    let (s, v) =
        r.ts.post_as(
            &format!("/oauth2/authorize?client_id={id}&scope=bot&permissions=8192"),
            r.alice.auth(),
            &json!({"guild_id": r.guild, "authorize": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    r.send(&r.alice, "already here").await;

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/messages/discordpy_client.py"
    );
    let base = r.ts.api("");
    let channel = r.channel.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(base)
            .arg(token)
            .arg(channel)
            .output()
            .expect("run python3")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.lines().last() == Some("ok"),
        "discord.py failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("login Referee True"), "{stdout}");
}
