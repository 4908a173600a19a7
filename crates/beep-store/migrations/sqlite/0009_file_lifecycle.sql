-- File lifecycle: what object storage holds for whom (quota), and a durable
-- queue of objects to delete (an outbox filled in the same transaction as the
-- delete of what owned them).
--
-- Same conventions as 0001: ids in INTEGER, times in INTEGER milliseconds since
-- the Unix epoch, STRICT tables. Object keys follow `beep-files`:
-- `attachments/{channel}/{attachment}/...`, `uploads/{user}/{upload}`,
-- `{avatars|banners|icons}/{owner}/{hash}/...`.
--
-- The queue is filled by triggers, so every path that deletes a message, a
-- channel, a guild, a user, a webhook or a role, or replaces a picture, queues
-- its objects in its own transaction, whichever code runs the delete.

-- One row per attachment in object storage, counted against its uploader.
CREATE TABLE stored_files (
    -- The attachment's folder in the store: `attachments/{channel}/{attachment}`.
    key        TEXT    NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    size       INTEGER NOT NULL CHECK (size >= 0),
    -- The message carrying it; NULL while the upload waits for its message.
    message_id INTEGER,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX stored_files_message_idx ON stored_files (message_id)
    WHERE message_id IS NOT NULL;
CREATE INDEX stored_files_channel_idx ON stored_files (channel_id);
-- Unattached uploads, oldest first, for the sweeper and account deletion.
CREATE INDEX stored_files_unattached_idx ON stored_files (created_at, user_id)
    WHERE message_id IS NULL;
CREATE INDEX stored_files_user_unattached_idx ON stored_files (user_id)
    WHERE message_id IS NULL;

-- Bytes counted against each user's quota: the sum of their `stored_files`
-- sizes, kept by the two triggers below.
CREATE TABLE storage_usage (
    user_id    INTEGER NOT NULL PRIMARY KEY,
    used_bytes INTEGER NOT NULL DEFAULT 0 CHECK (used_bytes >= 0)
) STRICT;

-- Object prefixes to delete from storage. A worker claims due rows (moving
-- `due_at` past a lease), deletes every object under the prefix, and deletes
-- the row; a failure moves `due_at` later (backoff) and keeps the error.
CREATE TABLE file_deletions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    prefix     TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    due_at     INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
) STRICT;

CREATE INDEX file_deletions_due_idx ON file_deletions (due_at);
CREATE INDEX file_deletions_prefix_idx ON file_deletions (prefix);

CREATE TRIGGER stored_files_count AFTER INSERT ON stored_files
BEGIN
    INSERT OR IGNORE INTO storage_usage (user_id, used_bytes) VALUES (NEW.user_id, 0);
    UPDATE storage_usage SET used_bytes = used_bytes + NEW.size WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER stored_files_release AFTER DELETE ON stored_files
BEGIN
    UPDATE storage_usage SET used_bytes = MAX(0, used_bytes - OLD.size)
     WHERE user_id = OLD.user_id;
END;

-- A new message takes its attachments.
CREATE TRIGGER messages_files_attach AFTER INSERT ON messages
WHEN NEW.attachments <> '[]'
BEGIN
    UPDATE stored_files SET message_id = NEW.id
     WHERE message_id IS NULL
       AND key IN (SELECT 'attachments/' || json_extract(a.value, '$.channel_id')
                          || '/' || json_extract(a.value, '$.id')
                     FROM json_each(NEW.attachments) AS a);
END;

-- An edit that drops attachments gives them up (and takes any new ones).
CREATE TRIGGER messages_files_edit AFTER UPDATE OF attachments ON messages
WHEN OLD.attachments <> NEW.attachments
BEGIN
    UPDATE stored_files SET message_id = NEW.id
     WHERE message_id IS NULL
       AND key IN (SELECT 'attachments/' || json_extract(a.value, '$.channel_id')
                          || '/' || json_extract(a.value, '$.id')
                     FROM json_each(NEW.attachments) AS a);
    INSERT INTO file_deletions (prefix)
    SELECT key FROM stored_files
     WHERE message_id = OLD.id
       AND key NOT IN (SELECT 'attachments/' || json_extract(a.value, '$.channel_id')
                              || '/' || json_extract(a.value, '$.id')
                         FROM json_each(NEW.attachments) AS a);
    DELETE FROM stored_files
     WHERE message_id = OLD.id
       AND key NOT IN (SELECT 'attachments/' || json_extract(a.value, '$.channel_id')
                              || '/' || json_extract(a.value, '$.id')
                         FROM json_each(NEW.attachments) AS a);
END;

-- A deleted message (alone, in bulk, purged with a ban, or with its channel)
-- gives up its attachments.
CREATE TRIGGER messages_files_delete AFTER DELETE ON messages
WHEN OLD.attachments <> '[]'
BEGIN
    INSERT INTO file_deletions (prefix)
    SELECT key FROM stored_files WHERE message_id = OLD.id;
    DELETE FROM stored_files WHERE message_id = OLD.id;
END;

-- A deleted channel (alone, in a folder's subtree, or with its guild) queues
-- its whole folder once, before its messages go, so they find nothing left.
CREATE TRIGGER channels_files_delete BEFORE DELETE ON channels
BEGIN
    INSERT INTO file_deletions (prefix)
    SELECT 'attachments/' || OLD.id
     WHERE EXISTS (SELECT 1 FROM stored_files WHERE channel_id = OLD.id);
    DELETE FROM stored_files WHERE channel_id = OLD.id;
END;

-- A deleted account: its pictures, its pending uploads, and the uploads no
-- message took. Attachments on messages stay with the messages, which outlive
-- the account (Discord's "Deleted User"), and go when they are deleted.
CREATE TRIGGER users_files_delete AFTER DELETE ON users
BEGIN
    INSERT INTO file_deletions (prefix)
    VALUES ('avatars/' || OLD.id), ('banners/' || OLD.id), ('uploads/' || OLD.id);
    INSERT INTO file_deletions (prefix)
    SELECT key FROM stored_files WHERE user_id = OLD.id AND message_id IS NULL;
    DELETE FROM stored_files WHERE user_id = OLD.id AND message_id IS NULL;
    DELETE FROM storage_usage WHERE user_id = OLD.id;
END;

-- A replaced picture queues the old one; a picture taken (back) into use is
-- taken off the queue.
CREATE TRIGGER users_avatar_replaced AFTER UPDATE OF avatar ON users
WHEN OLD.avatar IS NOT NEW.avatar
BEGIN
    DELETE FROM file_deletions WHERE prefix = 'avatars/' || NEW.id || '/' || NEW.avatar;
    INSERT INTO file_deletions (prefix)
    SELECT 'avatars/' || OLD.id || '/' || OLD.avatar WHERE OLD.avatar IS NOT NULL;
END;

CREATE TRIGGER users_banner_replaced AFTER UPDATE OF banner ON users
WHEN OLD.banner IS NOT NEW.banner
BEGIN
    DELETE FROM file_deletions WHERE prefix = 'banners/' || NEW.id || '/' || NEW.banner;
    INSERT INTO file_deletions (prefix)
    SELECT 'banners/' || OLD.id || '/' || OLD.banner WHERE OLD.banner IS NOT NULL;
END;

CREATE TRIGGER guilds_icon_replaced AFTER UPDATE OF icon ON guilds
WHEN OLD.icon IS NOT NEW.icon
BEGIN
    DELETE FROM file_deletions WHERE prefix = 'icons/' || NEW.id || '/' || NEW.icon;
    INSERT INTO file_deletions (prefix)
    SELECT 'icons/' || OLD.id || '/' || OLD.icon WHERE OLD.icon IS NOT NULL;
END;

-- Banner and splash share the guild's `banners/` folder.
CREATE TRIGGER guilds_banner_replaced AFTER UPDATE OF banner ON guilds
WHEN OLD.banner IS NOT NEW.banner
BEGIN
    DELETE FROM file_deletions WHERE prefix = 'banners/' || NEW.id || '/' || NEW.banner;
    INSERT INTO file_deletions (prefix)
    SELECT 'banners/' || OLD.id || '/' || OLD.banner WHERE OLD.banner IS NOT NULL;
END;

CREATE TRIGGER guilds_splash_replaced AFTER UPDATE OF splash ON guilds
WHEN OLD.splash IS NOT NEW.splash
BEGIN
    DELETE FROM file_deletions WHERE prefix = 'banners/' || NEW.id || '/' || NEW.splash;
    INSERT INTO file_deletions (prefix)
    SELECT 'banners/' || OLD.id || '/' || OLD.splash WHERE OLD.splash IS NOT NULL;
END;

CREATE TRIGGER guilds_files_delete AFTER DELETE ON guilds
BEGIN
    INSERT INTO file_deletions (prefix) VALUES ('icons/' || OLD.id), ('banners/' || OLD.id);
END;

CREATE TRIGGER roles_icon_replaced AFTER UPDATE OF icon ON roles
WHEN OLD.icon IS NOT NEW.icon
BEGIN
    DELETE FROM file_deletions WHERE prefix = 'icons/' || NEW.id || '/' || NEW.icon;
    INSERT INTO file_deletions (prefix)
    SELECT 'icons/' || OLD.id || '/' || OLD.icon WHERE OLD.icon IS NOT NULL;
END;

CREATE TRIGGER roles_files_delete AFTER DELETE ON roles
WHEN OLD.icon IS NOT NULL
BEGIN
    INSERT INTO file_deletions (prefix) VALUES ('icons/' || OLD.id);
END;

CREATE TRIGGER webhooks_avatar_replaced AFTER UPDATE OF avatar ON webhooks
WHEN OLD.avatar IS NOT NEW.avatar
BEGIN
    DELETE FROM file_deletions WHERE prefix = 'avatars/' || NEW.id || '/' || NEW.avatar;
    INSERT INTO file_deletions (prefix)
    SELECT 'avatars/' || OLD.id || '/' || OLD.avatar WHERE OLD.avatar IS NOT NULL;
END;

CREATE TRIGGER webhooks_files_delete AFTER DELETE ON webhooks
WHEN OLD.avatar IS NOT NULL
BEGIN
    INSERT INTO file_deletions (prefix) VALUES ('avatars/' || OLD.id);
END;

-- Attachments stored before this migration: counted and owned like new ones.
INSERT OR IGNORE INTO stored_files (key, user_id, channel_id, size, message_id, created_at)
SELECT 'attachments/' || json_extract(a.value, '$.channel_id') || '/' || json_extract(a.value, '$.id'),
       CAST(COALESCE(json_extract(a.value, '$.uploader'), m.author_id) AS INTEGER),
       m.channel_id,
       CAST(COALESCE(json_extract(a.value, '$.size'), 0) AS INTEGER),
       m.id,
       CAST(unixepoch('subsec') * 1000 AS INTEGER)
  FROM messages AS m, json_each(m.attachments) AS a
 WHERE m.attachments <> '[]';
