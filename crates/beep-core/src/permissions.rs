//! The permission engine: pure functions from roles, overwrites and ownership to
//! permission bits, and the role-hierarchy rules. No I/O; the services load the
//! data, call these functions, and refuse with `Missing Permissions` themselves.
//!
//! The computation is Discord's (`docs/topics/permissions`):
//!
//! 1. Guild level: the `@everyone` role's bits OR every role of the member. The
//!    owner has everything; `ADMINISTRATOR` means everything.
//! 2. Channel level, unless the member is an administrator (or the owner, who holds
//!    `ADMINISTRATOR` through "everything"): the `@everyone` overwrite (deny, then
//!    allow); then the overwrites of the member's roles, all denies OR'd and all
//!    allows OR'd, applied deny then allow, so among roles an allow always beats a
//!    deny whatever the role positions; then the member's own overwrite.
//!    Overwrites only ever touch channel bits ([`Permissions::CHANNEL_FOLDER`]);
//!    guild-only bits such as `ADMINISTRATOR` pass through them untouched.
//! 3. Implicit rules: without `VIEW_CHANNEL` nothing is left; without
//!    `SEND_MESSAGES` the bits that only make sense when sending
//!    ([`Permissions::SEND_DEPENDENT`]) go too.
//!
//! Folders: a channel does **not** inherit the overwrites of the folder it sits in.
//! As on Discord, a channel created in (or synced with) a folder gets a copy of the
//! folder's overwrites, and later edits to the folder are copied to the channels
//! still in sync. The engine therefore only ever looks at the channel's own
//! overwrites, which keeps it simple with Beep's nested folders and makes a
//! channel's visibility readable from the channel alone.

use beep_types::v10::channel::{OverwriteType, PermissionOverwrite};
use beep_types::{GuildId, Permissions, RoleId, Snowflake, UserId};

/// A role as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleInfo {
    pub id: RoleId,
    /// Higher is more powerful; `@everyone` is 0.
    pub position: i32,
    pub permissions: Permissions,
}

/// What the engine needs to know about a guild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildContext {
    pub guild_id: GuildId,
    pub owner_id: UserId,
    /// Every role of the guild, `@everyone` included.
    pub roles: Vec<RoleInfo>,
}

impl GuildContext {
    /// The `@everyone` role, which shares the guild's id.
    pub fn everyone_role_id(&self) -> RoleId {
        everyone_role_id(self.guild_id)
    }

    /// A role by id.
    pub fn role(&self, id: RoleId) -> Option<&RoleInfo> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// Where a member stands in the hierarchy.
    pub fn rank(&self, user: UserId, member_roles: &[RoleId]) -> Rank {
        Rank {
            is_owner: user == self.owner_id,
            highest_position: highest_position(member_roles, &self.roles),
        }
    }
}

/// The `@everyone` role of a guild.
pub fn everyone_role_id(guild: GuildId) -> RoleId {
    RoleId(guild.0)
}

/// Whom an overwrite targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OverwriteTarget {
    Role(RoleId),
    Member(UserId),
}

/// A channel permission overwrite. A channel has at most one per target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overwrite {
    pub target: OverwriteTarget,
    pub allow: Permissions,
    pub deny: Permissions,
}

impl From<&PermissionOverwrite> for Overwrite {
    fn from(o: &PermissionOverwrite) -> Self {
        let target = match o.kind {
            OverwriteType::Role => OverwriteTarget::Role(RoleId(o.id)),
            OverwriteType::Member => OverwriteTarget::Member(UserId(o.id)),
        };
        Overwrite {
            target,
            allow: o.allow,
            deny: o.deny,
        }
    }
}

impl From<Overwrite> for PermissionOverwrite {
    fn from(o: Overwrite) -> Self {
        let (id, kind): (Snowflake, _) = match o.target {
            OverwriteTarget::Role(r) => (r.0, OverwriteType::Role),
            OverwriteTarget::Member(u) => (u.0, OverwriteType::Member),
        };
        PermissionOverwrite {
            id,
            kind,
            allow: o.allow,
            deny: o.deny,
        }
    }
}

/// Guild-level permissions of a member: `@everyone` OR the member's roles; all for
/// the owner and for administrators. Role ids the guild does not have are ignored.
pub fn base_permissions(
    ctx: &GuildContext,
    member: UserId,
    member_roles: &[RoleId],
) -> Permissions {
    if member == ctx.owner_id {
        return Permissions::ALL;
    }
    let everyone = ctx.everyone_role_id();
    let mut perms = ctx
        .role(everyone)
        .map_or(Permissions::NONE, |r| r.permissions);
    for role in member_roles.iter().filter_map(|id| ctx.role(*id)) {
        perms |= role.permissions;
    }
    if perms.is_admin() {
        Permissions::ALL
    } else {
        perms
    }
}

/// Permissions of a member in one channel, from its guild-level permissions `base`
/// (see [`base_permissions`]) and the channel's own overwrites. An administrator
/// (which includes the owner, whose base is [`Permissions::ALL`]) gets everything.
pub fn channel_permissions(
    base: Permissions,
    member: UserId,
    member_roles: &[RoleId],
    overwrites: &[Overwrite],
    everyone_role_id: RoleId,
) -> Permissions {
    if base.is_admin() {
        return Permissions::ALL;
    }
    let mut perms = base;

    let everyone = OverwriteTarget::Role(everyone_role_id);
    let (allow, deny) = fold(overwrites, |t| t == everyone);
    perms = (perms - deny) | allow;

    // `@everyone` is not a role overwrite here even if the caller lists it among the
    // member's roles; applying it twice would let its allows beat role denies.
    let (allow, deny) = fold(overwrites, |t| match t {
        OverwriteTarget::Role(r) => r != everyone_role_id && member_roles.contains(&r),
        OverwriteTarget::Member(_) => false,
    });
    perms = (perms - deny) | allow;

    let (allow, deny) = fold(overwrites, |t| t == OverwriteTarget::Member(member));
    perms = (perms - deny) | allow;

    apply_implicit(perms)
}

/// Guild-level then channel-level permissions in one call.
pub fn compute_permissions(
    ctx: &GuildContext,
    member: UserId,
    member_roles: &[RoleId],
    overwrites: &[Overwrite],
) -> Permissions {
    let base = base_permissions(ctx, member, member_roles);
    channel_permissions(
        base,
        member,
        member_roles,
        overwrites,
        ctx.everyone_role_id(),
    )
}

/// What a timed-out member keeps: `VIEW_CHANNEL` and `READ_MESSAGE_HISTORY` only.
/// Administrators and the owner are exempt, as on Discord.
pub fn apply_timeout(perms: Permissions) -> Permissions {
    if perms.is_admin() {
        perms
    } else {
        perms & Permissions::TIMEOUT_KEPT
    }
}

/// The union of the allows and of the denies of the overwrites whose target matches,
/// limited to bits a channel can carry: an overwrite never grants or takes away a
/// guild-only bit such as `ADMINISTRATOR` or `KICK_MEMBERS`, even if a bad row holds one.
fn fold(
    overwrites: &[Overwrite],
    matches: impl Fn(OverwriteTarget) -> bool,
) -> (Permissions, Permissions) {
    let (allow, deny) = overwrites
        .iter()
        .filter(|o| matches(o.target))
        .fold((Permissions::NONE, Permissions::NONE), |(a, d), o| {
            (a | o.allow, d | o.deny)
        });
    (
        allow & Permissions::CHANNEL_FOLDER,
        deny & Permissions::CHANNEL_FOLDER,
    )
}

/// Discord's implicit denials: no view, nothing; no send, none of what sending needs.
fn apply_implicit(perms: Permissions) -> Permissions {
    if !perms.contains(Permissions::VIEW_CHANNEL) {
        return Permissions::NONE;
    }
    if !perms.contains(Permissions::SEND_MESSAGES) {
        return perms - Permissions::SEND_DEPENDENT;
    }
    perms
}

/// Where a member stands in the role hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rank {
    pub is_owner: bool,
    /// Position of the member's highest role; 0 (`@everyone`) without roles.
    pub highest_position: i32,
}

/// Position of the highest of `member_roles` among `roles`; 0 when the member has
/// none (everyone has `@everyone`, at 0). Unknown role ids are ignored.
///
/// Discord breaks ties between equal positions by id; Beep keeps positions unique,
/// and where two are equal anyway the hierarchy rules below treat them as equal and
/// refuse, which is the safe side.
pub fn highest_position(member_roles: &[RoleId], roles: &[RoleInfo]) -> i32 {
    roles
        .iter()
        .filter(|r| member_roles.contains(&r.id))
        .map(|r| r.position)
        .fold(0, i32::max)
}

/// Whether `actor` may edit, delete, move, assign or remove `target_role`: the owner
/// always; anyone else only for roles strictly below their own highest role.
/// The `MANAGE_ROLES` bit is checked separately.
pub fn can_manage_role(actor: Rank, target_role: &RoleInfo) -> bool {
    actor.is_owner || target_role.position < actor.highest_position
}

/// Whether someone holding `actor_perms` may grant `requested` (in a role or an
/// overwrite): only bits they hold themselves, unless they are an administrator
/// (which includes the owner, who holds every bit).
pub fn can_grant(actor_perms: Permissions, requested: Permissions) -> bool {
    actor_perms.is_admin() || actor_perms.contains(requested)
}

/// Whether `actor` may kick, ban, time out or rename `target`: never the owner; the
/// owner anyone else; others only members whose highest role is strictly lower than
/// theirs. A member never passes this check against themselves. The permission bit
/// (`KICK_MEMBERS`, `BAN_MEMBERS`, ...) is checked separately.
pub fn can_moderate(actor: Rank, target: Rank) -> bool {
    if target.is_owner {
        return false;
    }
    actor.is_owner || actor.highest_position > target.highest_position
}

#[cfg(test)]
mod tests {
    use beep_types::Permissions as P;
    use proptest::prelude::*;

    use super::*;

    const GUILD: u64 = 1;
    const OWNER: u64 = 99;
    const ME: u64 = 50;
    const OTHER: u64 = 51;
    const ADMIN: u64 = 10;
    const MOD: u64 = 11;
    const HELPER: u64 = 12;
    const MUTED: u64 = 13;

    fn role(id: u64) -> RoleId {
        RoleId(Snowflake(id))
    }

    fn user(id: u64) -> UserId {
        UserId(Snowflake(id))
    }

    fn on_role(id: u64, allow: P, deny: P) -> Overwrite {
        Overwrite {
            target: OverwriteTarget::Role(role(id)),
            allow,
            deny,
        }
    }

    fn on_member(id: u64, allow: P, deny: P) -> Overwrite {
        Overwrite {
            target: OverwriteTarget::Member(user(id)),
            allow,
            deny,
        }
    }

    /// A guild with `@everyone` holding `everyone` and four roles:
    /// ADMIN (position 4, administrator), MOD (3, kick and manage messages),
    /// HELPER (2, nothing extra), MUTED (1, nothing extra).
    fn guild(everyone: P) -> GuildContext {
        let r = |id, position, permissions| RoleInfo {
            id: role(id),
            position,
            permissions,
        };
        GuildContext {
            guild_id: GuildId(Snowflake(GUILD)),
            owner_id: user(OWNER),
            roles: vec![
                r(GUILD, 0, everyone),
                r(ADMIN, 4, P::ADMINISTRATOR),
                r(MOD, 3, P::KICK_MEMBERS | P::MANAGE_MESSAGES),
                r(HELPER, 2, P::NONE),
                r(MUTED, 1, P::NONE),
            ],
        }
    }

    struct Scenario {
        name: &'static str,
        everyone: P,
        member: u64,
        roles: &'static [u64],
        overwrites: Vec<Overwrite>,
        has: P,
        lacks: P,
    }

    const TEXT: P = P::VIEW_CHANNEL
        .union(P::SEND_MESSAGES)
        .union(P::READ_MESSAGE_HISTORY);
    const SENDING: P = P::SEND_DEPENDENT;

    fn scenarios() -> Vec<Scenario> {
        let d = P::DEFAULT_EVERYONE;
        vec![
            Scenario {
                name: "plain member gets @everyone's bits in a channel without overwrites",
                everyone: d,
                member: ME,
                roles: &[],
                overwrites: vec![],
                has: d,
                lacks: P::KICK_MEMBERS | P::MANAGE_MESSAGES,
            },
            Scenario {
                name: "owner gets everything despite every deny",
                everyone: P::NONE,
                member: OWNER,
                roles: &[],
                overwrites: vec![
                    on_role(GUILD, P::NONE, P::ALL),
                    on_member(OWNER, P::NONE, P::ALL),
                ],
                has: P::ALL,
                lacks: P::NONE,
            },
            Scenario {
                name: "administrator role gets everything despite a member deny",
                everyone: d,
                member: ME,
                roles: &[ADMIN],
                overwrites: vec![
                    on_role(GUILD, P::NONE, P::VIEW_CHANNEL),
                    on_member(ME, P::NONE, P::ALL),
                ],
                has: P::ALL,
                lacks: P::NONE,
            },
            Scenario {
                name: "administrator on @everyone makes everybody an administrator",
                everyone: d | P::ADMINISTRATOR,
                member: ME,
                roles: &[],
                overwrites: vec![on_role(GUILD, P::NONE, P::ALL)],
                has: P::ALL,
                lacks: P::NONE,
            },
            Scenario {
                name: "@everyone denied VIEW_CHANNEL leaves nothing",
                everyone: d,
                member: ME,
                roles: &[HELPER],
                overwrites: vec![on_role(GUILD, P::SEND_MESSAGES, P::VIEW_CHANNEL)],
                has: P::NONE,
                lacks: P::ALL,
            },
            Scenario {
                name: "private channel: role allow beats @everyone deny",
                everyone: d,
                member: ME,
                roles: &[HELPER],
                overwrites: vec![
                    on_role(GUILD, P::NONE, P::VIEW_CHANNEL),
                    on_role(HELPER, P::VIEW_CHANNEL, P::NONE),
                ],
                has: TEXT,
                lacks: P::MANAGE_MESSAGES,
            },
            Scenario {
                name: "private channel: members without the role see nothing",
                everyone: d,
                member: ME,
                roles: &[MUTED],
                overwrites: vec![
                    on_role(GUILD, P::NONE, P::VIEW_CHANNEL),
                    on_role(HELPER, P::VIEW_CHANNEL, P::NONE),
                ],
                has: P::NONE,
                lacks: P::VIEW_CHANNEL,
            },
            Scenario {
                name: "member deny beats role allow",
                everyone: d,
                member: ME,
                roles: &[HELPER],
                overwrites: vec![
                    on_role(HELPER, P::VIEW_CHANNEL | P::SEND_MESSAGES, P::NONE),
                    on_member(ME, P::NONE, P::VIEW_CHANNEL),
                ],
                has: P::NONE,
                lacks: P::VIEW_CHANNEL,
            },
            Scenario {
                name: "member allow beats role deny",
                everyone: d,
                member: ME,
                roles: &[MUTED],
                overwrites: vec![
                    on_role(MUTED, P::NONE, P::SEND_MESSAGES),
                    on_member(ME, P::SEND_MESSAGES, P::NONE),
                ],
                has: TEXT | P::ATTACH_FILES,
                lacks: P::NONE,
            },
            Scenario {
                name: "between roles an allow beats a deny, whatever the positions",
                everyone: d,
                member: ME,
                roles: &[MOD, MUTED],
                overwrites: vec![
                    on_role(MOD, P::NONE, P::ADD_REACTIONS),
                    on_role(MUTED, P::ADD_REACTIONS, P::NONE),
                ],
                has: P::ADD_REACTIONS,
                lacks: P::NONE,
            },
            Scenario {
                name: "role deny beats @everyone allow",
                everyone: P::VIEW_CHANNEL | P::SEND_MESSAGES,
                member: ME,
                roles: &[MUTED],
                overwrites: vec![
                    on_role(GUILD, P::ATTACH_FILES, P::NONE),
                    on_role(MUTED, P::NONE, P::ATTACH_FILES),
                ],
                has: P::SEND_MESSAGES,
                lacks: P::ATTACH_FILES,
            },
            Scenario {
                name: "@everyone listed among the member's roles is not applied twice",
                everyone: P::VIEW_CHANNEL | P::SEND_MESSAGES,
                member: ME,
                roles: &[MUTED, GUILD],
                overwrites: vec![
                    on_role(GUILD, P::ATTACH_FILES, P::NONE),
                    on_role(MUTED, P::NONE, P::ATTACH_FILES),
                ],
                has: P::SEND_MESSAGES,
                lacks: P::ATTACH_FILES,
            },
            Scenario {
                name: "send denied strips attach, embed, mentions and TTS but not reading",
                everyone: d | P::SEND_TTS_MESSAGES,
                member: ME,
                roles: &[],
                overwrites: vec![on_role(GUILD, SENDING, P::SEND_MESSAGES)],
                has: P::VIEW_CHANNEL | P::READ_MESSAGE_HISTORY | P::ADD_REACTIONS,
                lacks: P::SEND_MESSAGES | SENDING,
            },
            Scenario {
                name: "send missing at guild level strips the same bits",
                everyone: P::VIEW_CHANNEL | P::ATTACH_FILES | P::EMBED_LINKS,
                member: ME,
                roles: &[],
                overwrites: vec![],
                has: P::VIEW_CHANNEL,
                lacks: P::ATTACH_FILES | P::EMBED_LINKS,
            },
            Scenario {
                name: "send given back by a role keeps attach",
                everyone: d,
                member: ME,
                roles: &[HELPER],
                overwrites: vec![
                    on_role(GUILD, P::NONE, P::SEND_MESSAGES),
                    on_role(HELPER, P::SEND_MESSAGES, P::NONE),
                ],
                has: TEXT | P::ATTACH_FILES | P::EMBED_LINKS,
                lacks: P::NONE,
            },
            Scenario {
                name: "@everyone overwrite can grant what the guild level lacks",
                everyone: P::VIEW_CHANNEL,
                member: ME,
                roles: &[],
                overwrites: vec![on_role(
                    GUILD,
                    P::SEND_MESSAGES | P::MANAGE_MESSAGES,
                    P::NONE,
                )],
                has: P::VIEW_CHANNEL | P::SEND_MESSAGES | P::MANAGE_MESSAGES,
                lacks: P::ATTACH_FILES,
            },
            Scenario {
                name: "overwrites of roles the member lacks are ignored",
                everyone: d,
                member: ME,
                roles: &[HELPER],
                overwrites: vec![on_role(MUTED, P::NONE, P::VIEW_CHANNEL)],
                has: TEXT,
                lacks: P::NONE,
            },
            Scenario {
                name: "another member's overwrite is ignored",
                everyone: d,
                member: ME,
                roles: &[],
                overwrites: vec![on_member(OTHER, P::NONE, P::VIEW_CHANNEL)],
                has: TEXT,
                lacks: P::NONE,
            },
            Scenario {
                name: "role ids the guild does not have grant nothing",
                everyone: P::VIEW_CHANNEL | P::SEND_MESSAGES,
                member: ME,
                roles: &[777],
                overwrites: vec![],
                has: P::SEND_MESSAGES,
                lacks: P::KICK_MEMBERS,
            },
            Scenario {
                name: "guild-level role bits survive into the channel",
                everyone: d,
                member: ME,
                roles: &[MOD],
                overwrites: vec![on_role(GUILD, P::NONE, P::ADD_REACTIONS)],
                has: TEXT | P::KICK_MEMBERS | P::MANAGE_MESSAGES,
                lacks: P::ADD_REACTIONS,
            },
            Scenario {
                name: "overwrites cannot lift a member to administrator",
                everyone: d,
                member: ME,
                roles: &[],
                overwrites: vec![on_member(ME, P::ADMINISTRATOR | P::BAN_MEMBERS, P::NONE)],
                has: TEXT,
                lacks: P::ADMINISTRATOR | P::KICK_MEMBERS | P::BAN_MEMBERS,
            },
            Scenario {
                name: "overwrites cannot take away guild-only bits",
                everyone: d,
                member: ME,
                roles: &[MOD],
                overwrites: vec![
                    on_role(GUILD, P::NONE, P::KICK_MEMBERS),
                    on_member(ME, P::NONE, P::KICK_MEMBERS),
                ],
                has: TEXT | P::KICK_MEMBERS,
                lacks: P::NONE,
            },
        ]
    }

    #[test]
    fn channel_permission_scenarios() {
        let mut failures = Vec::new();
        for s in scenarios() {
            let ctx = guild(s.everyone);
            let roles: Vec<RoleId> = s.roles.iter().copied().map(role).collect();
            let got = compute_permissions(&ctx, user(s.member), &roles, &s.overwrites);
            if !got.contains(s.has) || got.intersects(s.lacks) {
                failures.push(format!(
                    "{}:\n  got {got:?}\n  missing {:?}\n  unexpected {:?}",
                    s.name,
                    s.has - got,
                    got & s.lacks
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn base_permissions_of_owner_admin_and_members() {
        let ctx = guild(P::DEFAULT_EVERYONE);
        assert_eq!(base_permissions(&ctx, user(OWNER), &[]), P::ALL);
        assert_eq!(base_permissions(&ctx, user(ME), &[role(ADMIN)]), P::ALL);
        assert_eq!(base_permissions(&ctx, user(ME), &[]), P::DEFAULT_EVERYONE);
        assert_eq!(
            base_permissions(&ctx, user(ME), &[role(MOD), role(HELPER)]),
            P::DEFAULT_EVERYONE | P::KICK_MEMBERS | P::MANAGE_MESSAGES
        );
        let mut no_everyone = ctx.clone();
        no_everyone.roles.retain(|r| r.id != ctx.everyone_role_id());
        assert_eq!(base_permissions(&no_everyone, user(ME), &[]), P::NONE);
    }

    #[test]
    fn timeout_keeps_only_reading() {
        assert_eq!(
            apply_timeout(P::DEFAULT_EVERYONE),
            P::VIEW_CHANNEL | P::READ_MESSAGE_HISTORY
        );
        assert_eq!(apply_timeout(P::SEND_MESSAGES), P::NONE);
        assert_eq!(
            apply_timeout(P::ALL),
            P::ALL,
            "owner and administrators are exempt"
        );
    }

    #[test]
    fn overwrites_convert_to_and_from_the_wire() {
        let wire = PermissionOverwrite {
            id: Snowflake(MOD),
            kind: OverwriteType::Role,
            allow: P::VIEW_CHANNEL,
            deny: P::SEND_MESSAGES,
        };
        let ow = Overwrite::from(&wire);
        assert_eq!(ow, on_role(MOD, P::VIEW_CHANNEL, P::SEND_MESSAGES));
        assert_eq!(PermissionOverwrite::from(ow), wire);
        let member = on_member(ME, P::NONE, P::NONE);
        assert_eq!(Overwrite::from(&PermissionOverwrite::from(member)), member);
    }

    #[test]
    fn highest_position_ignores_unknown_roles() {
        let ctx = guild(P::NONE);
        assert_eq!(highest_position(&[], &ctx.roles), 0);
        assert_eq!(highest_position(&[role(777)], &ctx.roles), 0);
        assert_eq!(highest_position(&[role(MUTED), role(MOD)], &ctx.roles), 3);
        assert_eq!(highest_position(&[role(GUILD)], &ctx.roles), 0);
    }

    #[test]
    fn moderation_scenarios() {
        let ctx = guild(P::DEFAULT_EVERYONE);
        let ids = |ids: &[u64]| ids.iter().copied().map(role).collect::<Vec<_>>();
        // (scenario, actor, actor's roles, target, target's roles, may moderate)
        type Case = (&'static str, u64, &'static [u64], u64, &'static [u64], bool);
        #[rustfmt::skip]
        let cases: [Case; 9] = [
            ("higher role moderates lower", ME, &[MOD], OTHER, &[HELPER], true),
            ("lower role cannot moderate higher", ME, &[HELPER], OTHER, &[MOD], false),
            ("equal highest roles are refused", ME, &[MOD], OTHER, &[MOD, MUTED], false),
            ("nobody moderates the owner", ME, &[ADMIN], OWNER, &[], false),
            ("the owner moderates anyone", OWNER, &[], OTHER, &[ADMIN], true),
            ("the owner does not moderate themself", OWNER, &[], OWNER, &[], false),
            ("nobody moderates themself", ME, &[MOD], ME, &[MOD], false),
            ("two members without roles are equal", ME, &[], OTHER, &[], false),
            ("any role outranks no role", ME, &[MUTED], OTHER, &[], true),
        ];
        for (name, actor, actor_roles, target, target_roles, expected) in cases {
            let actor = ctx.rank(user(actor), &ids(actor_roles));
            let target = ctx.rank(user(target), &ids(target_roles));
            assert_eq!(can_moderate(actor, target), expected, "{name}");
        }
    }

    #[test]
    fn role_management_follows_the_hierarchy() {
        let ctx = guild(P::DEFAULT_EVERYONE);
        let get = |id| *ctx.role(role(id)).expect("role exists");
        let moderator = ctx.rank(user(ME), &[role(MOD)]);
        assert!(
            can_manage_role(moderator, &get(HELPER)),
            "below own highest"
        );
        assert!(
            can_manage_role(moderator, &get(GUILD)),
            "@everyone is below any role"
        );
        assert!(
            !can_manage_role(moderator, &get(MOD)),
            "own highest role is refused"
        );
        assert!(
            !can_manage_role(moderator, &get(ADMIN)),
            "above own highest"
        );
        let admin = ctx.rank(user(ME), &[role(ADMIN)]);
        assert!(
            !can_manage_role(admin, &get(ADMIN)),
            "administrators obey the hierarchy too"
        );
        let nobody = ctx.rank(user(ME), &[]);
        assert!(!can_manage_role(nobody, &get(GUILD)));
        let owner = ctx.rank(user(OWNER), &[]);
        assert!(
            can_manage_role(owner, &get(ADMIN)),
            "the owner manages every role"
        );
    }

    #[test]
    fn granting_needs_the_bits() {
        let mine = P::VIEW_CHANNEL | P::SEND_MESSAGES | P::MANAGE_ROLES;
        assert!(can_grant(mine, P::SEND_MESSAGES));
        assert!(can_grant(mine, P::NONE));
        assert!(can_grant(mine, mine));
        assert!(!can_grant(mine, P::SEND_MESSAGES | P::KICK_MEMBERS));
        assert!(!can_grant(mine, P::ADMINISTRATOR));
        assert!(can_grant(P::ADMINISTRATOR, P::ALL));
        assert!(can_grant(P::ALL, P::ALL));
    }

    /// A reference model written bit by bit: for every bit, walk the three layers
    /// and let an allow win over a deny within a layer.
    fn reference(
        base: P,
        member: UserId,
        member_roles: &[RoleId],
        overwrites: &[Overwrite],
        everyone: RoleId,
    ) -> P {
        if base.contains(P::ADMINISTRATOR) {
            return P::ALL;
        }
        let layer = |bit: P, now: bool, applies: &dyn Fn(&Overwrite) -> bool| -> bool {
            let mine: Vec<&Overwrite> = overwrites.iter().filter(|o| applies(o)).collect();
            if mine.iter().any(|o| o.allow.contains(bit)) {
                true
            } else if mine.iter().any(|o| o.deny.contains(bit)) {
                false
            } else {
                now
            }
        };
        let mut out = P::NONE;
        for (_, bit) in P::ALL.iter_names() {
            let mut has = base.contains(bit);
            if P::GUILD_ONLY.contains(bit) {
                // Overwrites never touch guild-only bits.
                if has {
                    out.insert(bit);
                }
                continue;
            }
            has = layer(bit, has, &|o| o.target == OverwriteTarget::Role(everyone));
            has = layer(
                bit,
                has,
                &|o| matches!(o.target, OverwriteTarget::Role(r) if r != everyone && member_roles.contains(&r)),
            );
            has = layer(bit, has, &|o| o.target == OverwriteTarget::Member(member));
            if has {
                out.insert(bit);
            }
        }
        if !out.contains(P::VIEW_CHANNEL) {
            return P::NONE;
        }
        if !out.contains(P::SEND_MESSAGES) {
            for bit in [
                P::MENTION_EVERYONE,
                P::SEND_TTS_MESSAGES,
                P::ATTACH_FILES,
                P::EMBED_LINKS,
            ] {
                out.remove(bit);
            }
        }
        out
    }

    /// Bits drawn so that VIEW_CHANNEL, SEND_MESSAGES and ADMINISTRATOR each show
    /// up about half the time.
    fn perms() -> impl Strategy<Value = P> {
        any::<u64>().prop_map(P::from_bits_truncate)
    }

    fn sparse_perms() -> impl Strategy<Value = P> {
        (perms(), perms(), perms()).prop_map(|(a, b, c)| a & b & c)
    }

    fn overwrite() -> impl Strategy<Value = Overwrite> {
        let target = prop_oneof![
            prop_oneof![
                Just(GUILD),
                Just(ADMIN),
                Just(MOD),
                Just(HELPER),
                Just(MUTED)
            ]
            .prop_map(|id| OverwriteTarget::Role(role(id))),
            prop_oneof![Just(ME), Just(OTHER)].prop_map(|id| OverwriteTarget::Member(user(id))),
        ];
        (target, sparse_perms(), sparse_perms()).prop_map(|(target, allow, deny)| Overwrite {
            target,
            allow,
            deny,
        })
    }

    fn member_roles() -> impl Strategy<Value = Vec<RoleId>> {
        proptest::sample::subsequence(vec![GUILD, ADMIN, MOD, HELPER, MUTED, 777], 0..=4)
            .prop_map(|ids| ids.into_iter().map(role).collect())
    }

    proptest! {
        #[test]
        fn engine_matches_reference_model(
            base in perms(),
            member in prop_oneof![Just(ME), Just(OTHER)],
            roles in member_roles(),
            overwrites in proptest::collection::vec(overwrite(), 0..8),
        ) {
            let everyone = role(GUILD);
            let member = user(member);
            prop_assert_eq!(
                channel_permissions(base, member, &roles, &overwrites, everyone),
                reference(base, member, &roles, &overwrites, everyone)
            );
        }

        #[test]
        fn channel_result_obeys_implicit_rules(
            base in perms(),
            roles in member_roles(),
            overwrites in proptest::collection::vec(overwrite(), 0..8),
        ) {
            let got = channel_permissions(base, user(ME), &roles, &overwrites, role(GUILD));
            prop_assert!(got.is_empty() || got.contains(P::VIEW_CHANNEL));
            prop_assert!(got.contains(P::SEND_MESSAGES) || !got.intersects(P::SEND_DEPENDENT));
            if base.is_admin() {
                prop_assert_eq!(got, P::ALL);
            }
        }

        #[test]
        fn moderation_is_never_mutual(
            a_owner in any::<bool>(), a_pos in 0..5i32,
            b_owner in any::<bool>(), b_pos in 0..5i32,
        ) {
            let a = Rank { is_owner: a_owner, highest_position: a_pos };
            let b = Rank { is_owner: b_owner, highest_position: b_pos };
            prop_assert!(!(can_moderate(a, b) && can_moderate(b, a)));
            prop_assert!(!can_moderate(a, a));
        }

        #[test]
        fn granting_is_a_subset_check(actor in perms(), requested in perms()) {
            let expected = actor.contains(P::ADMINISTRATOR) || (requested & !actor).is_empty();
            prop_assert_eq!(can_grant(actor, requested), expected);
        }
    }
}
