-- Discovery through the search analyzer (beep-search): folded, stemmed
-- (English and French) and CJK-bigram tokens of a guild's name and
-- description, written by the store in the guild's own write (the analyzer is
-- Rust, so triggers cannot fill it). Guilds created before this migration get
-- their entry when the store next opens (or from `beep admin reindex`).

DROP TRIGGER guilds_fts_insert;
DROP TRIGGER guilds_fts_delete;
DROP TRIGGER guilds_fts_update;
DROP TABLE guilds_fts;

CREATE VIRTUAL TABLE guild_search USING fts5 (
    name_english, name_french, description_english, description_french,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii'
);

CREATE TRIGGER guilds_search_delete AFTER DELETE ON guilds BEGIN
    DELETE FROM guild_search WHERE rowid = old.id;
END;
