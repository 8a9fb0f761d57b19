-- Schema version 3: API bearer tokens for scripts, created, listed and
-- revoked in the admin console. Only the SHA-256 of a token is kept (tokens
-- are 256 random bits, so a fast hash suffices); the token itself is shown
-- once, when created.
CREATE TABLE api_tokens (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  token_hash  TEXT NOT NULL UNIQUE,
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  last_used   INTEGER NOT NULL DEFAULT 0
);
