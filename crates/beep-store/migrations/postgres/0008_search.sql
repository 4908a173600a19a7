-- Search (issue 9): the full-text index of messages.
--
-- One row per message, written by the store in the same transaction as the
-- message (insert, edit), deleted with it by the foreign key (cascades of
-- channel and guild deletes included). `doc` is built by the store from the
-- same analyzer as SQLite's FTS5 table (beep-search): lexemes `p.<folded word>`,
-- `e.<English stem>`, `f.<French stem>` at the word's position, and filter
-- tokens `x.g<guild>`, `x.c<channel>`, `x.a<author>`, `x.m<mentioned user>`,
-- `x.h<has>`. It is written as a `tsvector` literal, so no text search
-- configuration touches it.
--
-- Messages written before this migration are not indexed: run
-- `beep admin reindex` once after upgrading.
CREATE TABLE message_search (
    message_id BIGINT   NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    doc        tsvector NOT NULL,
    CONSTRAINT message_search_pkey PRIMARY KEY (message_id)
);

CREATE INDEX message_search_doc_idx ON message_search USING GIN (doc);
