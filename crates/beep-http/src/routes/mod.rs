//! Route handlers, one file per resource group.

pub mod applications;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod bans;
pub mod cdn;
pub mod channels;
pub mod discovery;
pub mod files;
pub mod guilds;
pub mod health;
pub mod invites;
pub mod members;
pub mod messages;
pub mod mfa;
pub mod pins;
pub mod reactions;
pub mod read_states;
pub mod roles;
pub mod sessions;
pub mod typing;
pub mod users;
pub mod webhooks;
pub mod wellknown;
