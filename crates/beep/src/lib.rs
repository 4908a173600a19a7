//! The Beep server binary's library half: configuration, logging, CLI commands and
//! the wiring of roles into a running node. `main.rs` only parses arguments.

pub mod cli;
pub mod config;
pub mod fdlimit;
pub mod gateway_role;
pub mod logging;
pub mod reindex;
pub mod seed;
pub mod server;
