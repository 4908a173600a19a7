-- File lifecycle: what object storage holds for whom (quota), and a durable
-- queue of objects to delete (an outbox filled in the same transaction as the
-- delete of what owned them).
--
-- Same tables as on SQLite; times are BIGINT milliseconds since the Unix epoch
-- (they are compared with the worker's clock, never shown). Object keys follow
-- `beep-files`: `attachments/{channel}/{attachment}/...`, `uploads/{user}/{upload}`,
-- `{avatars|banners|icons}/{owner}/{hash}/...`.
--
-- The queue is filled by triggers, so every path that deletes a message, a
-- channel, a guild, a user, a webhook or a role, or replaces a picture, queues
-- its objects in its own transaction, whichever code runs the delete.

-- One row per attachment in object storage, counted against its uploader.
CREATE TABLE stored_files (
    -- The attachment's folder in the store: `attachments/{channel}/{attachment}`.
    key        TEXT   NOT NULL,
    user_id    BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    size       BIGINT NOT NULL CHECK (size >= 0),
    -- The message carrying it; NULL while the upload waits for its message.
    message_id BIGINT,
    created_at BIGINT NOT NULL,
    CONSTRAINT stored_files_pkey PRIMARY KEY (key)
);

CREATE INDEX stored_files_message_idx ON stored_files (message_id)
    WHERE message_id IS NOT NULL;
CREATE INDEX stored_files_channel_idx ON stored_files (channel_id);
-- Unattached uploads, oldest first, for the sweeper and account deletion.
CREATE INDEX stored_files_unattached_idx ON stored_files (created_at, user_id)
    WHERE message_id IS NULL;
CREATE INDEX stored_files_user_unattached_idx ON stored_files (user_id)
    WHERE message_id IS NULL;

-- Bytes counted against each user's quota: the sum of their `stored_files`
-- sizes, kept by the trigger below. Recording a file locks the user's row.
CREATE TABLE storage_usage (
    user_id    BIGINT NOT NULL,
    used_bytes BIGINT NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
    CONSTRAINT storage_usage_pkey PRIMARY KEY (user_id)
);

-- Object prefixes to delete from storage. Workers on any node claim due rows
-- (`FOR UPDATE SKIP LOCKED`, moving `due_at` past a lease), delete every object
-- under the prefix, and delete the row; a failure moves `due_at` later
-- (backoff) and keeps the error.
CREATE TABLE file_deletions (
    id         BIGSERIAL,
    prefix     TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    due_at     BIGINT  NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT  NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT,
    CONSTRAINT file_deletions_pkey PRIMARY KEY (id)
);

CREATE INDEX file_deletions_due_idx ON file_deletions (due_at);
CREATE INDEX file_deletions_prefix_idx ON file_deletions (prefix);

-- The keys of a message's attachments JSON.
CREATE FUNCTION beep_attachment_keys(attachments TEXT) RETURNS SETOF TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'attachments/' || (a ->> 'channel_id') || '/' || (a ->> 'id')
      FROM jsonb_array_elements(attachments::jsonb) AS a
$$;

CREATE FUNCTION beep_stored_files_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO storage_usage (user_id, used_bytes) VALUES (NEW.user_id, NEW.size)
        ON CONFLICT (user_id)
        DO UPDATE SET used_bytes = storage_usage.used_bytes + EXCLUDED.used_bytes;
    ELSE
        UPDATE storage_usage SET used_bytes = GREATEST(0, used_bytes - OLD.size)
         WHERE user_id = OLD.user_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER stored_files_usage AFTER INSERT OR DELETE ON stored_files
FOR EACH ROW EXECUTE FUNCTION beep_stored_files_usage();

-- A new message takes its attachments; an edit that drops attachments gives
-- them up; a deleted message (alone, in bulk, purged with a ban, or with its
-- channel) gives up all of them.
CREATE FUNCTION beep_messages_files() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        UPDATE stored_files SET message_id = NEW.id
         WHERE message_id IS NULL
           AND key IN (SELECT beep_attachment_keys(NEW.attachments));
    END IF;
    IF TG_OP = 'UPDATE' THEN
        WITH gone AS (
            DELETE FROM stored_files
             WHERE message_id = OLD.id
               AND key NOT IN (SELECT beep_attachment_keys(NEW.attachments))
            RETURNING key
        )
        INSERT INTO file_deletions (prefix) SELECT key FROM gone;
    ELSIF TG_OP = 'DELETE' THEN
        WITH gone AS (
            DELETE FROM stored_files WHERE message_id = OLD.id RETURNING key
        )
        INSERT INTO file_deletions (prefix) SELECT key FROM gone;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER messages_files_attach AFTER INSERT ON messages
FOR EACH ROW WHEN (NEW.attachments <> '[]') EXECUTE FUNCTION beep_messages_files();
CREATE TRIGGER messages_files_edit AFTER UPDATE OF attachments ON messages
FOR EACH ROW WHEN (OLD.attachments IS DISTINCT FROM NEW.attachments)
EXECUTE FUNCTION beep_messages_files();
CREATE TRIGGER messages_files_delete AFTER DELETE ON messages
FOR EACH ROW WHEN (OLD.attachments <> '[]') EXECUTE FUNCTION beep_messages_files();

-- A deleted channel (alone, in a folder's subtree, or with its guild) queues
-- its whole folder once, before its messages go, so they find nothing left.
CREATE FUNCTION beep_channels_files() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM stored_files WHERE channel_id = OLD.id) THEN
        INSERT INTO file_deletions (prefix) VALUES ('attachments/' || OLD.id);
        DELETE FROM stored_files WHERE channel_id = OLD.id;
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER channels_files_delete BEFORE DELETE ON channels
FOR EACH ROW EXECUTE FUNCTION beep_channels_files();

-- A deleted account: its pictures, its pending uploads, and the uploads no
-- message took. Attachments on messages stay with the messages, which outlive
-- the account (Discord's "Deleted User"), and go when they are deleted.
CREATE FUNCTION beep_users_files() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO file_deletions (prefix)
    VALUES ('avatars/' || OLD.id), ('banners/' || OLD.id), ('uploads/' || OLD.id);
    WITH gone AS (
        DELETE FROM stored_files WHERE user_id = OLD.id AND message_id IS NULL RETURNING key
    )
    INSERT INTO file_deletions (prefix) SELECT key FROM gone;
    DELETE FROM storage_usage WHERE user_id = OLD.id;
    RETURN NULL;
END $$;

CREATE TRIGGER users_files_delete AFTER DELETE ON users
FOR EACH ROW EXECUTE FUNCTION beep_users_files();

-- A replaced picture queues the old one; a picture taken (back) into use is
-- taken off the queue. Arguments: the store folder and the column.
CREATE FUNCTION beep_picture_replaced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    folder   TEXT := TG_ARGV[0];
    old_hash TEXT := to_jsonb(OLD) ->> TG_ARGV[1];
    new_hash TEXT := to_jsonb(NEW) ->> TG_ARGV[1];
BEGIN
    IF new_hash IS NOT NULL THEN
        DELETE FROM file_deletions WHERE prefix = folder || '/' || NEW.id || '/' || new_hash;
    END IF;
    IF old_hash IS NOT NULL THEN
        INSERT INTO file_deletions (prefix) VALUES (folder || '/' || OLD.id || '/' || old_hash);
    END IF;
    RETURN NULL;
END $$;

-- An owner deleted: its folders. Arguments: the store folders.
CREATE FUNCTION beep_picture_owner_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    folder TEXT;
BEGIN
    FOREACH folder IN ARRAY TG_ARGV LOOP
        INSERT INTO file_deletions (prefix) VALUES (folder || '/' || OLD.id);
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER users_avatar_replaced AFTER UPDATE OF avatar ON users
FOR EACH ROW WHEN (OLD.avatar IS DISTINCT FROM NEW.avatar)
EXECUTE FUNCTION beep_picture_replaced('avatars', 'avatar');
CREATE TRIGGER users_banner_replaced AFTER UPDATE OF banner ON users
FOR EACH ROW WHEN (OLD.banner IS DISTINCT FROM NEW.banner)
EXECUTE FUNCTION beep_picture_replaced('banners', 'banner');
CREATE TRIGGER guilds_icon_replaced AFTER UPDATE OF icon ON guilds
FOR EACH ROW WHEN (OLD.icon IS DISTINCT FROM NEW.icon)
EXECUTE FUNCTION beep_picture_replaced('icons', 'icon');
-- Banner and splash share the guild's `banners/` folder.
CREATE TRIGGER guilds_banner_replaced AFTER UPDATE OF banner ON guilds
FOR EACH ROW WHEN (OLD.banner IS DISTINCT FROM NEW.banner)
EXECUTE FUNCTION beep_picture_replaced('banners', 'banner');
CREATE TRIGGER guilds_splash_replaced AFTER UPDATE OF splash ON guilds
FOR EACH ROW WHEN (OLD.splash IS DISTINCT FROM NEW.splash)
EXECUTE FUNCTION beep_picture_replaced('banners', 'splash');
CREATE TRIGGER guilds_files_delete AFTER DELETE ON guilds
FOR EACH ROW EXECUTE FUNCTION beep_picture_owner_deleted('icons', 'banners');
CREATE TRIGGER roles_icon_replaced AFTER UPDATE OF icon ON roles
FOR EACH ROW WHEN (OLD.icon IS DISTINCT FROM NEW.icon)
EXECUTE FUNCTION beep_picture_replaced('icons', 'icon');
CREATE TRIGGER roles_files_delete AFTER DELETE ON roles
FOR EACH ROW WHEN (OLD.icon IS NOT NULL)
EXECUTE FUNCTION beep_picture_owner_deleted('icons');
CREATE TRIGGER webhooks_avatar_replaced AFTER UPDATE OF avatar ON webhooks
FOR EACH ROW WHEN (OLD.avatar IS DISTINCT FROM NEW.avatar)
EXECUTE FUNCTION beep_picture_replaced('avatars', 'avatar');
CREATE TRIGGER webhooks_files_delete AFTER DELETE ON webhooks
FOR EACH ROW WHEN (OLD.avatar IS NOT NULL)
EXECUTE FUNCTION beep_picture_owner_deleted('avatars');

-- Attachments stored before this migration: counted and owned like new ones.
INSERT INTO stored_files (key, user_id, channel_id, size, message_id, created_at)
SELECT 'attachments/' || (a ->> 'channel_id') || '/' || (a ->> 'id'),
       COALESCE((a ->> 'uploader')::BIGINT, m.author_id),
       m.channel_id,
       COALESCE((a ->> 'size')::BIGINT, 0),
       m.id,
       (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT
  FROM messages AS m, jsonb_array_elements(m.attachments::jsonb) AS a
 WHERE m.attachments <> '[]'
ON CONFLICT (key) DO NOTHING;
