//! `/guilds` and `/users/@me/guilds` — create, read, edit, delete, list, leave.

use axum::extract::State;
use axum::http::StatusCode;
use beep_core::guilds::forms::{CreateGuild, GuildQuery, MyGuildsQuery, UpdateGuild};
use beep_types::GuildId;
use beep_types::v10::guild::{Guild, Member, PartialGuild};

use super::audit::AuditReason;
use crate::AppState;
use crate::auth::Authenticated;
use crate::error::Result;
use crate::extract::{Json, Path, Query};

/// `POST /guilds` — a new guild owned by the caller, with `@everyone`, a text
/// and a voice channel.
#[utoipa::path(post, path = "/api/v10/guilds", tag = "guilds", request_body = CreateGuild,
    responses((status = 201, body = Guild), (status = 400, description = "Invalid Form Body or Maximum number of guilds reached"),
        (status = 429, description = "Too many guilds created recently")))]
pub async fn create(
    State(app): State<AppState>,
    me: Authenticated,
    Json(body): Json<CreateGuild>,
) -> Result<(StatusCode, axum::Json<Guild>)> {
    let g = app.services.guilds.create_guild(me.user_id, body).await?;
    Ok((StatusCode::CREATED, axum::Json(g)))
}

/// `GET /guilds/{guild_id}` — for members; `?with_counts=true` adds the member count.
#[utoipa::path(get, path = "/api/v10/guilds/{guild_id}", tag = "guilds",
    params(("guild_id" = String, Path), GuildQuery),
    responses((status = 200, body = Guild), (status = 404, description = "Unknown Guild")))]
pub async fn get(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    Query(q): Query<GuildQuery>,
) -> Result<axum::Json<Guild>> {
    let with_counts = q.with_counts == Some(true);
    Ok(axum::Json(
        app.services
            .guilds
            .guild(me.user_id, guild, with_counts)
            .await?,
    ))
}

/// `PATCH /guilds/{guild_id}` — needs `MANAGE_GUILD`; `owner_id` transfers
/// ownership (owner only).
#[utoipa::path(patch, path = "/api/v10/guilds/{guild_id}", tag = "guilds", request_body = UpdateGuild,
    params(("guild_id" = String, Path)),
    responses((status = 200, body = Guild), (status = 400), (status = 403), (status = 404)))]
pub async fn update(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
    AuditReason(reason): AuditReason,
    Json(body): Json<UpdateGuild>,
) -> Result<axum::Json<Guild>> {
    Ok(axum::Json(
        app.services
            .guilds
            .update_guild(me.user_id, guild, body, reason)
            .await?,
    ))
}

/// `DELETE /guilds/{guild_id}` — the owner only.
#[utoipa::path(delete, path = "/api/v10/guilds/{guild_id}", tag = "guilds",
    params(("guild_id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
) -> Result<StatusCode> {
    app.services.guilds.delete_guild(me.user_id, guild).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/@me/guilds` — the caller's guilds with their permissions.
#[utoipa::path(get, path = "/api/v10/users/@me/guilds", tag = "guilds", params(MyGuildsQuery),
    responses((status = 200, body = [PartialGuild])))]
pub async fn mine(
    State(app): State<AppState>,
    me: Authenticated,
    Query(q): Query<MyGuildsQuery>,
) -> Result<axum::Json<Vec<PartialGuild>>> {
    Ok(axum::Json(
        app.services.guilds.my_guilds(me.user_id, q).await?,
    ))
}

/// `GET /users/@me/guilds/{guild_id}/member` — the caller's membership.
#[utoipa::path(get, path = "/api/v10/users/@me/guilds/{guild_id}/member", tag = "guilds",
    params(("guild_id" = String, Path)),
    responses((status = 200, body = Member), (status = 404)))]
pub async fn my_member(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
) -> Result<axum::Json<Member>> {
    Ok(axum::Json(
        app.services
            .guilds
            .member(me.user_id, guild, me.user_id)
            .await?,
    ))
}

/// `DELETE /users/@me/guilds/{guild_id}` — leave a guild (not one's own).
#[utoipa::path(delete, path = "/api/v10/users/@me/guilds/{guild_id}", tag = "guilds",
    params(("guild_id" = String, Path)),
    responses((status = 204), (status = 400, description = "The owner cannot leave"), (status = 404)))]
pub async fn leave(
    State(app): State<AppState>,
    me: Authenticated,
    Path(guild): Path<GuildId>,
) -> Result<StatusCode> {
    app.services.guilds.leave_guild(me.user_id, guild).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The route table of guilds, channels, roles, members, bans, invites,
/// discovery and the audit log, merged under `/api/v{9,10}`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post, put};

    use super::{audit, bans, channels, discovery, invites, members, roles};
    axum::Router::new()
        .route("/guilds", post(create))
        .route(
            "/guilds/{guild_id}",
            get(self::get).patch(update).delete(delete),
        )
        .route("/users/@me/guilds", get(mine))
        .route("/users/@me/guilds/{guild_id}", axum::routing::delete(leave))
        .route("/users/@me/guilds/{guild_id}/member", get(my_member))
        .route(
            "/guilds/{guild_id}/channels",
            get(channels::list)
                .post(channels::create)
                .patch(channels::reorder),
        )
        .route(
            "/channels/{channel_id}",
            get(channels::get)
                .patch(channels::update)
                .delete(channels::delete),
        )
        .route(
            "/channels/{channel_id}/permissions/{overwrite_id}",
            put(channels::put_overwrite).delete(channels::delete_overwrite),
        )
        .route(
            "/guilds/{guild_id}/roles",
            get(roles::list).post(roles::create).patch(roles::reorder),
        )
        .route(
            "/guilds/{guild_id}/roles/{role_id}",
            get(roles::get).patch(roles::update).delete(roles::delete),
        )
        .route("/guilds/{guild_id}/members", get(members::list))
        .route("/guilds/{guild_id}/members/search", get(members::search))
        .route(
            "/guilds/{guild_id}/members/@me",
            put(members::join).patch(members::update_me),
        )
        .route(
            "/guilds/{guild_id}/members/{user_id}",
            get(members::get)
                .patch(members::update)
                .delete(members::kick),
        )
        .route(
            "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
            put(members::add_role).delete(members::remove_role),
        )
        .route("/guilds/{guild_id}/bans", get(bans::list))
        .route(
            "/guilds/{guild_id}/bans/{user_id}",
            get(bans::get).put(bans::create).delete(bans::delete),
        )
        .route(
            "/channels/{channel_id}/invites",
            get(invites::of_channel).post(invites::create),
        )
        .route("/guilds/{guild_id}/invites", get(invites::of_guild))
        .route(
            "/invites/{code}",
            get(invites::get)
                .delete(invites::delete)
                .post(invites::accept),
        )
        .route("/discovery/guilds", get(discovery::search))
        .route("/guilds/{guild_id}/audit-logs", get(audit::audit_log))
}

/// The OpenAPI description of [`routes`].
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create,
        get,
        update,
        delete,
        mine,
        my_member,
        leave,
        super::channels::list,
        super::channels::create,
        super::channels::reorder,
        super::channels::get,
        super::channels::update,
        super::channels::delete,
        super::channels::put_overwrite,
        super::channels::delete_overwrite,
        super::roles::list,
        super::roles::get,
        super::roles::create,
        super::roles::reorder,
        super::roles::update,
        super::roles::delete,
        super::members::list,
        super::members::search,
        super::members::get,
        super::members::update,
        super::members::kick,
        super::members::join,
        super::members::update_me,
        super::members::add_role,
        super::members::remove_role,
        super::bans::list,
        super::bans::get,
        super::bans::create,
        super::bans::delete,
        super::invites::create,
        super::invites::of_channel,
        super::invites::of_guild,
        super::invites::get,
        super::invites::delete,
        super::invites::accept,
        super::discovery::search,
        super::audit::audit_log,
    ),
    components(schemas(
        Guild,
        PartialGuild,
        Member,
        beep_types::v10::guild::Role,
        beep_types::v10::guild::Ban,
        beep_types::v10::guild::Invite,
        beep_types::v10::guild::AuditLog,
        beep_types::v10::guild::DiscoveryPage,
        beep_types::v10::channel::Channel,
        beep_types::v10::channel::PermissionOverwrite,
        CreateGuild,
        UpdateGuild,
        beep_core::guilds::forms::CreateChannel,
        beep_core::guilds::forms::UpdateChannel,
        beep_core::guilds::forms::ChannelPosition,
        beep_core::guilds::forms::OverwriteForm,
        beep_core::guilds::forms::PutOverwrite,
        beep_core::guilds::forms::CreateRole,
        beep_core::guilds::forms::UpdateRole,
        beep_core::guilds::forms::RolePosition,
        beep_core::guilds::forms::UpdateMember,
        beep_core::guilds::forms::UpdateMe,
        beep_core::guilds::forms::CreateBan,
        beep_core::guilds::forms::CreateInvite,
    ))
)]
pub struct GuildsDoc;
