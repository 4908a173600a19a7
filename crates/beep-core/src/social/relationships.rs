//! Friends, requests and blocks on Discord's routes and shapes.
//!
//! Each change is a pure step from the two rows between the users (mine about
//! them, theirs about me) to the two rows after, written by the store as a
//! compare-and-set of both rows in one transaction; a concurrent change makes
//! the step run again on what is there now.

use beep_store::social::{RelationshipChange, RelationshipKind, RelationshipPair};
use beep_store::{Refusal, UserSummary};
use beep_types::{ErrorCode, UserId};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{Social, render};
use crate::accounts::names::Username;
use crate::error::{Error, Result};

use RelationshipKind::{Blocked, Friend, Incoming, Outgoing};

/// How often a change is tried again after a concurrent one.
const STALE_RETRIES: usize = 5;

/// `POST /users/@me/relationships`: a friend request by username.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SendFriendRequest {
    pub username: String,
    /// Accepted and ignored (legacy discriminators; Beep has none).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub discriminator: Option<Value>,
}

/// `PUT /users/@me/relationships/{id}`: no type (or 1) sends or accepts a
/// request, 2 blocks.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PutRelationship {
    #[serde(rename = "type", default)]
    pub kind: Option<i64>,
}

/// What a user asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Send a request, or accept theirs.
    Befriend,
    Block,
    /// Deny, cancel, unfriend or unblock.
    Remove,
}

/// The rows after `action` by `a` (the first of the pair), and whether a
/// friendship ends (which erases their DM). `Err` is the refusal.
fn step(action: Action, now: RelationshipPair) -> Result<(RelationshipPair, bool)> {
    let (mine, theirs) = now;
    let was_friends = mine == Some(Friend);
    let next = match action {
        Action::Befriend => {
            if theirs == Some(Blocked) {
                return Err(Error::new(ErrorCode::FriendRequestRefused));
            }
            match mine {
                Some(Friend) | Some(Outgoing) => now,
                Some(Incoming) => (Some(Friend), Some(Friend)),
                // A request replaces one's own block, as on Discord.
                None | Some(Blocked) => (Some(Outgoing), Some(Incoming)),
            }
        }
        Action::Block => {
            let theirs = if theirs == Some(Blocked) {
                Some(Blocked)
            } else {
                None
            };
            (Some(Blocked), theirs)
        }
        Action::Remove => match mine {
            None => return Err(Error::new(ErrorCode::UnknownUser)),
            // Unblocking leaves their side (their own block) alone.
            Some(Blocked) => (None, theirs),
            Some(Friend) | Some(Incoming) | Some(Outgoing) => {
                let theirs = if theirs == Some(Blocked) {
                    Some(Blocked)
                } else {
                    None
                };
                (None, theirs)
            }
        },
    };
    let ends_friendship = was_friends && next.0 != Some(Friend);
    Ok((next, ends_friendship))
}

impl Social {
    /// `GET /users/@me/relationships`.
    pub async fn relationships(&self, me: UserId) -> Result<Vec<Value>> {
        Ok(self
            .store
            .relationships(me)
            .await?
            .iter()
            .map(render::relationship)
            .collect())
    }

    /// READY's `relationships`.
    pub async fn ready_relationships(&self, me: UserId) -> Result<Vec<Value>> {
        self.relationships(me).await
    }

    /// `POST /users/@me/relationships {username}`: a friend request (or the
    /// acceptance of theirs). `80004` when nobody has the name.
    pub async fn request_by_username(&self, me: UserId, form: SendFriendRequest) -> Result<()> {
        let unknown = || Error::new(ErrorCode::UnknownUsername);
        let key = Username::parse(&form.username).map_err(|_| unknown())?.key;
        let target = self
            .store
            .user_by_username_key(&key)
            .await?
            .ok_or_else(unknown)?;
        self.apply(me, target.id, Action::Befriend).await
    }

    /// `PUT /users/@me/relationships/{id}`.
    pub async fn put_relationship(
        &self,
        me: UserId,
        target: UserId,
        form: PutRelationship,
    ) -> Result<()> {
        let action = match form.kind {
            None | Some(1) | Some(4) => Action::Befriend,
            Some(2) => Action::Block,
            Some(_) => {
                return Err(Error::field(
                    "type",
                    "BASE_TYPE_CHOICES",
                    "Value must be one of (1, 2).",
                ));
            }
        };
        self.apply(me, target, action).await
    }

    /// `DELETE /users/@me/relationships/{id}`: deny, cancel, unfriend, unblock.
    pub async fn delete_relationship(&self, me: UserId, target: UserId) -> Result<()> {
        self.apply(me, target, Action::Remove).await
    }

    /// Run `action` of `me` towards `target`, then tell both what changed.
    async fn apply(&self, me: UserId, target: UserId, action: Action) -> Result<()> {
        if me == target {
            return Err(Error::field(
                "id",
                "RELATIONSHIP_SELF",
                "You cannot have a relationship with yourself.",
            ));
        }
        let Some(other) = self.store.user(target).await? else {
            return Err(Error::new(ErrorCode::UnknownUser));
        };
        for _ in 0..STALE_RETRIES {
            let now = self.store.relationship_pair(me, target).await?;
            let (next, ends_friendship) = step(action, now)?;
            if next == now {
                return Ok(());
            }
            // The DM goes with the friendship; read it first for CHANNEL_DELETE.
            let dm = if ends_friendship {
                match self.store.dm_between(me, target).await? {
                    Some(id) => self.store.private_channel(id).await?,
                    None => None,
                }
            } else {
                None
            };
            let change = RelationshipChange {
                a: me,
                b: target,
                expected: now,
                new: next,
                max_per_user: self.limits.max_relationships,
                erase_dm: ends_friendship,
            };
            match self.store.change_relationship(&change).await? {
                Ok(outcome) => {
                    let Some(mine) = self.store.user(me).await? else {
                        return Ok(());
                    };
                    self.announce(me, &summary(&other), now.0, next.0);
                    self.announce(target, &summary(&mine), now.1, next.1);
                    self.notify(me, target, now.1, next.1).await;
                    if let (Some(id), Some(dm)) = (outcome.erased_dm, dm) {
                        for u in [me, target] {
                            let mut d = render::private_channel(&dm, u, None, None);
                            d["id"] = json!(id);
                            self.publish("CHANNEL_DELETE", d, vec![u]);
                        }
                    }
                    tracing::info!(
                        action = "RELATIONSHIP_CHANGE",
                        user = %me,
                        target = %target,
                        mine = ?next.0,
                        theirs = ?next.1,
                        "relationship changed"
                    );
                    return Ok(());
                }
                Err(Refusal::Stale) => continue,
                Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxFriends)),
                Err(other) => return Err(Error::internal(format!("refusal {other:?}"))),
            }
        }
        Err(Error::internal("relationship kept changing"))
    }

    /// A notification for `target` (`beep_core::notifications`) when `me` just
    /// sent them a friend request or accepted theirs. After the commit: a
    /// failure is logged, not returned, since the change itself happened.
    async fn notify(
        &self,
        me: UserId,
        target: UserId,
        was: Option<RelationshipKind>,
        now: Option<RelationshipKind>,
    ) {
        let n = self.messages.notifications();
        let done = match (was, now) {
            (Some(RelationshipKind::Incoming), _) => Ok(()),
            (_, Some(RelationshipKind::Incoming)) => n.friend_request(me, target).await,
            (Some(RelationshipKind::Outgoing), Some(RelationshipKind::Friend)) => {
                n.friend_accept(me, target).await
            }
            _ => Ok(()),
        };
        if let Err(e) = done {
            tracing::warn!(user = %target, cause = ?e, "cannot notify a relationship change");
        }
    }

    /// RELATIONSHIP_ADD / RELATIONSHIP_REMOVE to `user` for their row about `other`.
    fn announce(
        &self,
        user: UserId,
        other: &UserSummary,
        was: Option<RelationshipKind>,
        now: Option<RelationshipKind>,
    ) {
        match (was, now) {
            (a, b) if a == b => {}
            (_, Some(kind)) => {
                let r = beep_store::social::RelationshipRecord {
                    user_id: user,
                    target: other.clone(),
                    kind,
                    since: chrono::Utc::now(),
                };
                self.publish("RELATIONSHIP_ADD", render::relationship(&r), vec![user]);
            }
            (Some(kind), None) => {
                self.publish(
                    "RELATIONSHIP_REMOVE",
                    render::relationship_removed(other.id, kind),
                    vec![user],
                );
            }
            (None, None) => {}
        }
    }
}

/// The public fields of an account.
fn summary(u: &beep_store::User) -> UserSummary {
    UserSummary {
        id: u.id,
        username: u.username.clone(),
        global_name: u.global_name.clone(),
        avatar: u.avatar.clone(),
        banner: u.banner.clone(),
        bot: u.bot,
        system: u.system,
        flags: u.flags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_meet_in_the_middle() {
        let (next, ends) = step(Action::Befriend, (None, None)).expect("ok");
        assert_eq!(next, (Some(Outgoing), Some(Incoming)));
        assert!(!ends);
        let (next, _) = step(Action::Befriend, (Some(Incoming), Some(Outgoing))).expect("ok");
        assert_eq!(next, (Some(Friend), Some(Friend)));
    }

    #[test]
    fn a_blocked_user_cannot_ask() {
        let e = step(Action::Befriend, (None, Some(Blocked))).expect_err("refused");
        assert_eq!(e.code, ErrorCode::FriendRequestRefused);
    }

    #[test]
    fn blocking_a_friend_ends_the_friendship_and_keeps_their_block() {
        let (next, ends) = step(Action::Block, (Some(Friend), Some(Friend))).expect("ok");
        assert_eq!(next, (Some(Blocked), None));
        assert!(ends);
        let (next, _) = step(Action::Block, (None, Some(Blocked))).expect("ok");
        assert_eq!(next, (Some(Blocked), Some(Blocked)));
        let (next, _) = step(Action::Remove, (Some(Blocked), Some(Blocked))).expect("ok");
        assert_eq!(next, (None, Some(Blocked)));
    }

    #[test]
    fn removing_nothing_is_unknown() {
        let e = step(Action::Remove, (None, None)).expect_err("nothing");
        assert_eq!(e.code, ErrorCode::UnknownUser);
    }
}
