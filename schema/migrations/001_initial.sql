-- Schema version 1: the site identity, users, peers, settings, admins, audit.
-- Times are Unix seconds (UTC). Everything here lives inside SQLCipher.

-- The one site this daemon runs. The private key is stored only here, inside
-- the encrypted database, never as a file.
CREATE TABLE site (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  domain          TEXT NOT NULL,
  certificate_pem TEXT NOT NULL,
  private_key_pem TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);

-- Local users (AOR = username@domain). Digest HA1 values only, for the MD5
-- and SHA-256 algorithms (RFC 7616); never the password itself.
CREATE TABLE users (
  id          INTEGER PRIMARY KEY,
  username    TEXT NOT NULL,
  domain      TEXT NOT NULL,
  realm       TEXT NOT NULL,
  ha1_md5     TEXT NOT NULL,
  ha1_sha256  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (username, domain)
);

-- Other sites, pinned by certificate fingerprint. One row per domain.
CREATE TABLE peers (
  id              INTEGER PRIMARY KEY,
  domain          TEXT NOT NULL UNIQUE,
  fingerprint     TEXT NOT NULL UNIQUE,
  certificate_pem TEXT NOT NULL,
  address         TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('untrusted', 'trusted', 'revoked')),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

CREATE TABLE settings (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Console accounts. password_hash is an Argon2id encoded hash.
CREATE TABLE admins (
  username      TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  must_change   INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

-- Every administrative action, append-only.
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  actor   TEXT NOT NULL,
  source  TEXT NOT NULL,
  action  TEXT NOT NULL,
  detail  TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
