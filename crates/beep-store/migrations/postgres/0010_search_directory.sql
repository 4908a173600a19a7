-- Discovery through the search analyzer (beep-search): a tsvector of the
-- analyzed name (weight A) and description (weight B), with `e.`/`f.` lexeme
-- prefixes for the English and French stems, written by the store in the
-- guild's own transaction (the analyzer is Rust). NULL until written: guilds
-- created before this migration get it when the store next opens (or from
-- `beep admin reindex`).

DROP INDEX IF EXISTS guilds_search_idx;
ALTER TABLE guilds DROP COLUMN search;
ALTER TABLE guilds ADD COLUMN discovery TSVECTOR;
CREATE INDEX guilds_discovery_idx ON guilds USING GIN (discovery) WHERE public;
