//! Route handlers, one file per resource group.

pub mod auth;
pub mod health;
