//! Text analysis for Beep's search, shared by both storage backends so that
//! SQLite and PostgreSQL match the same messages: folding (case, diacritics),
//! Snowball stemming (English and French), CJK bigrams ([`analyze`]); what the
//! index keeps of a message ([`document`]); the query language and
//! highlighting ([`query`]). Pure functions, no I/O.

pub mod analyze;
pub mod document;
pub mod query;

pub use analyze::{fold, index_tokens, query_tokens};
pub use document::{Document, Has, MessageFields};
pub use query::{Query, QueryToken, Term};
