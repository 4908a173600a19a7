//! The missed-mention digest: a worker that mails a user their unread
//! mentions, replies and direct messages once they have had no live gateway
//! session (on any node) for `notifications.digest_delay`.
//!
//! "Live session" is read from the presence leases the gateway keeps in the
//! store (renewed every 30 s, ended when a user's last session on a node ends,
//! running out by themselves when a node dies), so any node's worker sees every
//! node's users. A batch is marked mailed only after the relay took the mail:
//! a failed delivery is tried again at the next tick; two workers racing on
//! one batch (two api nodes) may both send it, which the store's conditional
//! update makes rare (the second finds nothing left to mark) but not
//! impossible: a duplicate digest is preferred to a lost one.

use std::time::Duration;

use beep_store::notifications::DigestDue;
use chrono::Utc;
use tokio::task::JoinHandle;

use super::{Notifications, kind_name};
use crate::error::{Error, Result};
use crate::mail::Mail;

/// Users handled per tick.
const USERS_PER_TICK: u32 = 100;
/// Notifications listed in one mail.
const LINES_PER_MAIL: u32 = 20;

/// The digest worker.
pub struct DigestWorker {
    n: Notifications,
}

impl DigestWorker {
    pub(crate) fn new(n: Notifications) -> Self {
        DigestWorker { n }
    }

    /// How often the worker looks: a quarter of the delay, between 200 ms and 30 s.
    pub fn interval(&self) -> Duration {
        (self.n.config.digest_delay / 4).clamp(Duration::from_millis(200), Duration::from_secs(30))
    }

    /// Run until the task is aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.interval());
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.run_once().await {
                    tracing::warn!(cause = ?e, "missed-mention digest failed; will retry");
                }
            }
        })
    }

    /// Send every digest due now; returns how many were sent.
    pub async fn run_once(&self) -> Result<usize> {
        let now = Utc::now();
        let delay =
            chrono::Duration::from_std(self.n.config.digest_delay).map_err(Error::internal)?;
        let due = self
            .n
            .store
            .digests_due(now, now - delay, USERS_PER_TICK)
            .await?;
        let mut sent = 0;
        for d in due {
            match self.send(&d).await {
                Ok(true) => sent += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(user = %d.user_id, cause = ?e, "digest not sent"),
            }
        }
        Ok(sent)
    }

    /// Mail one digest; false when the user has no address to mail.
    async fn send(&self, d: &DigestDue) -> Result<bool> {
        let store = &self.n.store;
        let Some(user) = store.user(d.user_id).await? else {
            return Ok(false);
        };
        let Some(to) = user.email.clone().filter(|_| !user.bot) else {
            // Nobody to mail: the batch is done all the same.
            store.mark_digested(d.user_id, d.last_id).await?;
            return Ok(false);
        };
        let batch = store
            .digest_batch(d.user_id, d.last_id, LINES_PER_MAIL)
            .await?;
        let ids: Vec<_> = batch.iter().filter_map(|n| n.message_id).collect();
        let messages = store.messages_by_ids(&ids).await?;
        let actors: Vec<_> = batch.iter().filter_map(|n| n.actor_id).collect();
        let people = store.user_summaries(&actors).await?;
        let mut body = format!(
            "Hello {},\n\nYou have {} unread notification{} on Beep while you were away:\n\n",
            user.global_name.as_deref().unwrap_or(&user.username),
            d.count,
            if d.count == 1 { "" } else { "s" },
        );
        for n in &batch {
            let who = n
                .actor_id
                .and_then(|a| people.iter().find(|p| p.id == a))
                .map_or("Someone", |p| p.username.as_str());
            let text = n
                .message_id
                .and_then(|m| messages.iter().find(|x| x.id == m))
                .map(|m| excerpt(&m.content))
                .unwrap_or_default();
            body.push_str(&format!("- {} from {who}: {text}\n", kind_name(n.kind)));
        }
        if d.count > LINES_PER_MAIL {
            body.push_str(&format!("- and {} more\n", d.count - LINES_PER_MAIL));
        }
        body.push_str(
            "\nOpen Beep to read them. You get this mail once per batch of missed mentions.\n",
        );
        let mail = Mail {
            to,
            subject: format!(
                "{} missed notification{} on Beep",
                d.count,
                if d.count == 1 { "" } else { "s" }
            ),
            body,
        };
        self.n.mailer.send(&mail).await?;
        store.mark_digested(d.user_id, d.last_id).await?;
        tracing::info!(user = %d.user_id, count = d.count, "missed-mention digest sent");
        Ok(true)
    }
}

/// The first 120 characters of a message, on one line.
fn excerpt(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 120 {
        let mut t: String = one.chars().take(119).collect();
        t.push('…');
        t
    } else {
        one
    }
}
