//! Bot applications: an application owned by a user, sharing its id with a bot
//! user whose token (`Authorization: Bot <token>`) is shown once when made or
//! reset; and adding a bot to a guild with Discord's authorize call, which makes
//! it a member with a managed role holding the permissions asked for.

use std::sync::Arc;

use beep_store::messages::{ApplicationRecord, NewApplication};
use beep_store::{DynStore, NewMember, NewRole, Refusal, UserSummary};
use beep_types::v10::guild::AuditLogEvent;
use beep_types::v10::message::{
    Application, AuthorizeBot, AuthorizeResult, BotToken, CreateApplication, EditApplication,
};
use beep_types::{
    ApplicationId, ErrorCode, Intents, Permissions, RoleId, SnowflakeGenerator, UserId,
};
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::{Accounts, Principal};
use crate::error::{Error, Result};
use crate::events::Audience;
use crate::guilds::forms::Problems;
use crate::guilds::{Changes, Guilds, convert, unexpected};

/// Most applications one user may own.
pub const MAX_APPLICATIONS_PER_OWNER: usize = 25;

/// Discord's application flags for the privileged gateway intents: the full flag
/// (a verified app) and the `_LIMITED` one (an app in under 100 servers) each
/// enable the intent.
pub mod intent_flags {
    pub const GATEWAY_PRESENCE: u64 = 1 << 12;
    pub const GATEWAY_PRESENCE_LIMITED: u64 = 1 << 13;
    pub const GATEWAY_GUILD_MEMBERS: u64 = 1 << 14;
    pub const GATEWAY_GUILD_MEMBERS_LIMITED: u64 = 1 << 15;
    pub const GATEWAY_MESSAGE_CONTENT: u64 = 1 << 18;
    pub const GATEWAY_MESSAGE_CONTENT_LIMITED: u64 = 1 << 19;
    /// Every intent flag (what `PATCH /applications/{id}` may change).
    pub const ALL: u64 = GATEWAY_PRESENCE
        | GATEWAY_PRESENCE_LIMITED
        | GATEWAY_GUILD_MEMBERS
        | GATEWAY_GUILD_MEMBERS_LIMITED
        | GATEWAY_MESSAGE_CONTENT
        | GATEWAY_MESSAGE_CONTENT_LIMITED;
    /// The `_LIMITED` flags (what a bot may change on its own application).
    pub const LIMITED: u64 =
        GATEWAY_PRESENCE_LIMITED | GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED;
}

/// The privileged intents an application's flags enable.
pub fn privileged_intents(flags: u64) -> Intents {
    use intent_flags::*;
    let mut i = Intents::empty();
    if flags & (GATEWAY_PRESENCE | GATEWAY_PRESENCE_LIMITED) != 0 {
        i |= Intents::GUILD_PRESENCES;
    }
    if flags & (GATEWAY_GUILD_MEMBERS | GATEWAY_GUILD_MEMBERS_LIMITED) != 0 {
        i |= Intents::GUILD_MEMBERS;
    }
    if flags & (GATEWAY_MESSAGE_CONTENT | GATEWAY_MESSAGE_CONTENT_LIMITED) != 0 {
        i |= Intents::MESSAGE_CONTENT;
    }
    i
}

/// The (full) intent flags that enable `intents`' privileged ones.
pub fn flags_for(intents: Intents) -> u64 {
    use intent_flags::*;
    let mut f = 0;
    if intents.contains(Intents::GUILD_PRESENCES) {
        f |= GATEWAY_PRESENCE;
    }
    if intents.contains(Intents::GUILD_MEMBERS) {
        f |= GATEWAY_GUILD_MEMBERS;
    }
    if intents.contains(Intents::MESSAGE_CONTENT) {
        f |= GATEWAY_MESSAGE_CONTENT;
    }
    f
}

/// Application operations.
#[derive(Clone)]
pub struct Applications {
    store: DynStore,
    ids: Arc<SnowflakeGenerator>,
    accounts: Accounts,
    guilds: Guilds,
    public_url: Arc<str>,
    /// Intent flags a new application starts with (`gateway.bot_privileged_intents`).
    default_flags: Arc<std::sync::atomic::AtomicU64>,
}

/// The query of `POST /oauth2/authorize`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AuthorizeQuery {
    /// The application's id.
    pub client_id: String,
    /// Space-separated scopes; must include `bot`.
    pub scope: String,
    /// Permissions of the bot's role, when the body gives none.
    pub permissions: Option<String>,
}

/// A new application and its bot's first token.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CreatedApplication {
    #[serde(flatten)]
    pub application: Application,
    /// The bot token, shown this once (reset it to get another).
    pub token: String,
}

impl Applications {
    /// The application service.
    pub fn new(
        store: DynStore,
        ids: Arc<SnowflakeGenerator>,
        accounts: Accounts,
        guilds: Guilds,
        public_url: String,
    ) -> Applications {
        Applications {
            store,
            ids,
            accounts,
            guilds,
            public_url: public_url.into(),
            default_flags: Arc::default(),
        }
    }

    /// The intent flags new applications start with (only intent flags are kept).
    pub fn set_default_flags(&self, flags: u64) {
        self.default_flags.store(
            flags & intent_flags::ALL,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The privileged intents the bot `bot` may ask for: from its application's
    /// flags; `None` for a bot without an application (made by `beep admin
    /// create-bot`).
    pub async fn bot_privileged(&self, bot: UserId) -> Result<Option<Intents>> {
        Ok(self
            .store
            .application(ApplicationId(bot.0))
            .await?
            .map(|a| privileged_intents(u64::try_from(a.flags).unwrap_or(0))))
    }

    /// `PATCH /applications/@me` (`id` `None`, by the bot: only the `_LIMITED`
    /// intent flags) and `PATCH /applications/{id}` (by the owner: every intent
    /// flag). Other flags of the application are kept. Bots' sessions see the
    /// change at their next IDENTIFY.
    pub async fn edit(
        &self,
        me: &Principal,
        id: Option<ApplicationId>,
        body: EditApplication,
    ) -> Result<Application> {
        let (app, settable) = match id {
            None => {
                if !me.bot {
                    return Err(Error::new(ErrorCode::UnknownApplication));
                }
                let app = self
                    .store
                    .application(ApplicationId(me.user_id.0))
                    .await?
                    .ok_or_else(|| Error::new(ErrorCode::UnknownApplication))?;
                (app, intent_flags::LIMITED)
            }
            Some(id) => {
                let app = self.owned(me, id, true).await?;
                if me.bot {
                    (app, intent_flags::LIMITED)
                } else {
                    (app, intent_flags::ALL)
                }
            }
        };
        let Some(flags) = body.flags else {
            return self.json(&app).await;
        };
        if flags & !settable != 0 {
            let what = if settable == intent_flags::ALL {
                "Only the gateway intent flags (1<<12..=1<<15, 1<<18, 1<<19) can be changed."
            } else {
                "A bot can only change its application's _LIMITED intent flags (1<<13, 1<<15, 1<<19)."
            };
            return Err(Error::field("flags", "APPLICATION_FLAGS_INVALID", what));
        }
        let old = u64::try_from(app.flags).unwrap_or(0);
        let new = (old & !settable) | flags;
        let app = self
            .store
            .set_application_flags(app.id, i64::try_from(new).unwrap_or(0))
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownApplication))?;
        tracing::info!(action = "APPLICATION_UPDATED", user = %me.user_id, application = %app.id, flags = new, "application flags changed");
        self.json(&app).await
    }

    /// `POST /applications`: an application owned by `me` (a person, not a bot),
    /// with a bot user named after it and that bot's token.
    pub async fn create(
        &self,
        me: &Principal,
        body: CreateApplication,
    ) -> Result<CreatedApplication> {
        if me.bot {
            return Err(Error::new(ErrorCode::MissingAccess));
        }
        self.create_for(me.user_id, body).await
    }

    /// Create an application owned by `owner` (also `beep admin create-bot`).
    pub async fn create_for(
        &self,
        owner: UserId,
        body: CreateApplication,
    ) -> Result<CreatedApplication> {
        let mut p = Problems::new();
        let name = crate::guilds::forms::name(&mut p, "name", &body.name, 2, 32);
        let description =
            crate::guilds::forms::text(&mut p, "description", body.description.as_deref(), 400);
        p.finish()?;
        if self.store.applications_of_owner(owner).await?.len() >= MAX_APPLICATIONS_PER_OWNER {
            return Err(Error::field(
                "name",
                "MAX_APPLICATIONS",
                format!("You can own at most {MAX_APPLICATIONS_PER_OWNER} applications."),
            ));
        }
        let (bot, token) = self.bot_user(&name).await?;
        let new = NewApplication {
            id: ApplicationId(bot.id.0),
            owner_id: owner,
            name,
            description: description.unwrap_or_default(),
            bot_public: body.bot_public.unwrap_or(true),
            verify_key: verify_key(),
        };
        let app = match self.store.insert_application(&new).await {
            Ok(a) => a,
            Err(e) => {
                // Do not leave a bot without its application behind.
                let _ = self.store.delete_user(bot.id).await;
                return Err(e.into());
            }
        };
        let flags = self
            .default_flags
            .load(std::sync::atomic::Ordering::Relaxed);
        let app = if flags == 0 {
            app
        } else {
            self.store
                .set_application_flags(app.id, i64::try_from(flags).unwrap_or(0))
                .await?
                .unwrap_or(app)
        };
        tracing::info!(action = "APPLICATION_CREATED", user = %owner, application = %app.id, "application created");
        Ok(CreatedApplication {
            application: self.json(&app).await?,
            token,
        })
    }

    /// A bot user named after the application: its name, or its name with a
    /// number when that is taken.
    async fn bot_user(&self, name: &str) -> Result<(beep_store::User, String)> {
        let base: String = name
            .chars()
            .map(|c| {
                if matches!(c, '@' | '#' | ':' | '`') {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let mut last = None;
        for attempt in 0..6 {
            let candidate = if attempt == 0 {
                base.clone()
            } else {
                let n = rand::rng().next_u32() % 10_000;
                let head: String = base.chars().take(27).collect();
                format!("{head} {n:04}")
            };
            match self.accounts.create_bot(&candidate).await {
                Ok(made) => return Ok(made),
                Err(e) if e.fields.contains_key("username") => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::internal("no bot name found")))
    }

    /// `GET /applications`: the applications `me` owns (a Beep extension).
    pub async fn mine(&self, me: &Principal) -> Result<Vec<Application>> {
        let list = self.store.applications_of_owner(me.user_id).await?;
        let mut out = Vec::with_capacity(list.len());
        for a in &list {
            out.push(self.json(a).await?);
        }
        Ok(out)
    }

    /// `GET /applications/@me`: the application of the calling bot.
    pub async fn current(&self, me: &Principal) -> Result<Application> {
        let app = self
            .store
            .application(ApplicationId(me.user_id.0))
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownApplication))?;
        self.json(&app).await
    }

    /// `GET /applications/{id}`: by its owner or its bot.
    pub async fn get(&self, me: &Principal, id: ApplicationId) -> Result<Application> {
        let app = self.owned(me, id, true).await?;
        self.json(&app).await
    }

    /// `POST /applications/{id}/bot/reset`: a new bot token (the old one stops
    /// working at once), by the owner.
    pub async fn reset_token(&self, me: &Principal, id: ApplicationId) -> Result<BotToken> {
        let app = self.owned(me, id, false).await?;
        let token = self.accounts.reset_bot_token(UserId(app.id.0)).await?;
        Ok(BotToken { token })
    }

    /// The application if `me` owns it (or, with `bot_too`, is its bot).
    async fn owned(
        &self,
        me: &Principal,
        id: ApplicationId,
        bot_too: bool,
    ) -> Result<ApplicationRecord> {
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownApplication))?;
        let is_owner = app.owner_id == me.user_id && !me.bot;
        let is_bot = bot_too && me.user_id.0 == app.id.0;
        if is_owner || is_bot {
            Ok(app)
        } else {
            Err(Error::new(ErrorCode::UnknownApplication))
        }
    }

    /// `POST /oauth2/authorize?client_id&scope=bot&permissions`: add the bot to a
    /// guild where `me` has `MANAGE_GUILD`, with a managed role holding the
    /// permissions asked for (never more than `me` has). A private bot can only be
    /// added by its owner.
    pub async fn authorize(
        &self,
        me: &Principal,
        q: &AuthorizeQuery,
        body: AuthorizeBot,
    ) -> Result<AuthorizeResult> {
        if me.bot {
            return Err(Error::new(ErrorCode::MissingAccess));
        }
        let mut p = Problems::new();
        if !q.scope.split([' ', '+']).any(|s| s == "bot") {
            p.add(
                "scope",
                "OAUTH2_SCOPE_BOT_REQUIRED",
                "The bot scope is required.",
            );
        }
        let client: Option<ApplicationId> = q.client_id.parse().ok();
        if client.is_none() {
            p.add(
                "client_id",
                "NUMBER_TYPE_COERCE",
                format!("Value \"{}\" is not snowflake.", q.client_id),
            );
        }
        let query_perms = match q.permissions.as_deref() {
            Some(raw) => match raw.parse::<u64>() {
                Ok(bits) => Some(Permissions::from_bits_truncate(bits)),
                Err(_) => {
                    p.add(
                        "permissions",
                        "NUMBER_TYPE_COERCE",
                        format!("Value \"{raw}\" is not int."),
                    );
                    None
                }
            },
            None => None,
        };
        p.finish()?;
        let app = self
            .store
            .application(client.unwrap_or_default())
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownApplication))?;
        if !body.authorize {
            return Ok(AuthorizeResult {
                location: format!("{}/oauth2/authorized?error=access_denied", self.base()),
            });
        }
        let guild = body.guild_id;
        let mine = self.guilds.guild_permissions(me.user_id, guild).await?;
        if !mine.contains(Permissions::MANAGE_GUILD)
            || (!app.bot_public && app.owner_id != me.user_id)
        {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let wanted = body
            .permissions
            .or(query_perms)
            .unwrap_or(Permissions::NONE);
        if !mine.contains(wanted) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        self.add_bot(me.user_id, &app, guild, wanted).await?;
        Ok(AuthorizeResult {
            location: format!("{}/oauth2/authorized", self.base()),
        })
    }

    /// Make the bot a member of `guild` with its managed role.
    async fn add_bot(
        &self,
        actor: UserId,
        app: &ApplicationRecord,
        guild: beep_types::GuildId,
        perms: Permissions,
    ) -> Result<()> {
        let bot = UserId(app.id.0);
        let limits = self.guilds.limits();
        let member = NewMember {
            guild_id: guild,
            user_id: bot,
            temporary: false,
        };
        let joined = match self
            .store
            .add_member(&member, limits.max_joined_guilds)
            .await?
        {
            Ok(_) => true,
            Err(Refusal::AlreadyMember) => false,
            Err(Refusal::Banned) => return Err(Error::new(ErrorCode::BannedFromGuild)),
            Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxGuilds)),
            Err(r) => return Err(unexpected(r)),
        };
        let audit = [self.guilds.entry(
            guild,
            actor,
            AuditLogEvent::BOT_ADD,
            Some(bot.to_string()),
            Changes::new(),
            None,
        )];
        if self.store.bot_role(guild, bot).await?.is_none() {
            let role = NewRole {
                id: RoleId(self.ids.next()),
                guild_id: guild,
                name: app.name.clone(),
                color: 0,
                hoist: false,
                mentionable: false,
                permissions: perms,
                icon: None,
                unicode_emoji: None,
            };
            let created = match self
                .store
                .create_role(&role, limits.max_roles, &audit)
                .await?
            {
                Ok(r) => r,
                Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxRoles)),
                Err(r) => return Err(unexpected(r)),
            };
            self.store.set_bot_role(guild, bot, created.id).await?;
            self.store
                .add_member_role(guild, bot, created.id, &[])
                .await?;
            self.guilds.publish_audit(&audit);
            self.guilds.publish(
                "GUILD_ROLE_CREATE",
                json!({"guild_id": guild, "role": convert::role(&created)}),
                Audience::Guild {
                    guild_id: guild,
                    channel_id: None,
                },
                Intents::GUILDS,
            );
        }
        if joined && let Some(m) = self.store.member(guild, bot).await? {
            self.guilds.publish(
                "GUILD_MEMBER_ADD",
                convert::member_event(&m),
                Audience::Guild {
                    guild_id: guild,
                    channel_id: None,
                },
                Intents::GUILD_MEMBERS,
            );
        }
        tracing::info!(action = "BOT_ADD", user = %actor, bot = %bot, guild = %guild, "bot added to a guild");
        Ok(())
    }

    /// The application as Discord shows it.
    async fn json(&self, a: &ApplicationRecord) -> Result<Application> {
        let bot_id = UserId(a.id.0);
        let users = self.store.user_summaries(&[a.owner_id, bot_id]).await?;
        let find = |id: UserId| users.iter().find(|u| u.id == id).map(convert::user);
        let owner = find(a.owner_id).unwrap_or_else(|| convert::user(&placeholder(a.owner_id)));
        Ok(Application {
            id: a.id,
            name: a.name.clone(),
            icon: a.icon.clone(),
            description: a.description.clone(),
            rpc_origins: Vec::new(),
            bot_public: a.bot_public,
            bot_require_code_grant: a.bot_require_code_grant,
            bot: find(bot_id),
            terms_of_service_url: None,
            privacy_policy_url: None,
            owner,
            verify_key: a.verify_key.clone(),
            team: None,
            flags: u64::try_from(a.flags).unwrap_or(0),
            summary: String::new(),
            hook: true,
            approximate_guild_count: 0,
            redirect_uris: Vec::new(),
            interactions_endpoint_url: None,
            tags: Vec::new(),
        })
    }

    fn base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

/// A stand-in for an account that no longer exists.
fn placeholder(id: UserId) -> UserSummary {
    UserSummary {
        id,
        username: "Deleted User".into(),
        global_name: None,
        avatar: None,
        banner: None,
        bot: false,
        system: false,
        flags: 0,
    }
}

/// A random 32-byte key in hex, Discord's `verify_key` shape.
fn verify_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
