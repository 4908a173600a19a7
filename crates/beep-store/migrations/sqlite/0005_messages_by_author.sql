-- Messages by author, newest last: a ban's delete_message_seconds finds the
-- banned user's recent messages without scanning the guild's history.
CREATE INDEX messages_author_id_idx ON messages (author_id, id);
