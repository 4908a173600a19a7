-- Backfills: data changes that need the application's code (the search
-- analyzer), run once after the migration that needs them, by the first store
-- to open the database afterwards. A row here says a backfill is done, so
-- later opens do not scan the tables again:
--   discovery     guilds written before 0010 get their discovery entry
--   member_names  users and nicknames written before 0011 get their folded forms
CREATE TABLE backfills (
    name TEXT PRIMARY KEY,
    done_at BIGINT NOT NULL
);
