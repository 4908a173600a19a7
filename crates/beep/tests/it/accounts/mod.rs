//! Accounts and sessions through HTTP: registration, login, tokens, sessions,
//! email codes (over a real SMTP server), two-factor authentication, profiles,
//! rate limits and the admin commands.

mod admin;
mod audit;
mod codes;
mod forge;
mod limits;
mod login;
mod mfa;
mod profile;
mod sessions;
pub mod smtp;
