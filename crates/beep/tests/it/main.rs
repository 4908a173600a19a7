//! The one integration test binary: every test talks to a real server through
//! its public interfaces (HTTP, later the gateway), or to a real store.

mod harness;
mod http_basics;
mod lifecycle;
mod store;
