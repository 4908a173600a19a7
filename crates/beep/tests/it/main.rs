//! The one integration test binary: every test talks to a real server through
//! its public interfaces (HTTP, later the gateway), or to a real store.

mod accounts;
mod bench_seed;
mod files;
mod files_lifecycle;
mod files_preview;
mod files_s3;
mod gateway;
mod guilds;
mod harness;
mod http_basics;
mod lifecycle;
mod messages;
mod notifications;
mod search;
mod social;
mod store;
