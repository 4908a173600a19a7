-- Member search on the search analyzer (beep-search `fold`: case, diacritics,
-- CJK kept). The store writes the folded names itself, in the transaction that
-- writes the name; NULL marks a row to fold when the store opens.
ALTER TABLE users ADD COLUMN username_fold TEXT;
ALTER TABLE users ADD COLUMN global_name_fold TEXT;
-- Nick keys were lower-cased only; fold them again.
UPDATE members SET nick_key = NULL WHERE nick IS NOT NULL;
