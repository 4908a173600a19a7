-- Search (issue 9): the full-text index of messages.
--
-- One FTS5 row per message, rowid = message id, written by the store in the same
-- transaction as the message (insert, edit). Contentless: the text is in
-- `messages`; the index keeps only its posting lists. The store analyzes the
-- text itself (beep-search: folding, English and French stems, CJK bigrams) and
-- writes space-separated tokens, so the `ascii` tokenizer only splits them on
-- spaces. Columns, aligned position by position:
--   plain   folded words (prefix queries)
--   english Snowball English stems
--   french  Snowball French stems
--   meta    filter tokens: g<guild> c<channel> a<author> m<mentioned user> h<has>
-- `contentless_delete=1` (SQLite 3.43+) lets a row be deleted by rowid.
--
-- Messages written before this migration are not indexed: run
-- `beep admin reindex` once after upgrading.
CREATE VIRTUAL TABLE message_search USING fts5 (
    plain, english, french, meta,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii'
);

-- Every way a message goes (one delete, bulk delete, a ban's purge, and the
-- cascades of a channel or guild delete) takes its index row with it.
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM message_search WHERE rowid = old.id;
END;
