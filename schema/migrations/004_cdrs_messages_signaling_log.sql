-- Schema version 4: call detail records, stored (offline) messages and the
-- optional signaling log (issue 7). Times are Unix seconds (UTC). Every kind
-- of row here has a retention window (settings 'retention.*') and is purged
-- by time, hence the index on each time column.

-- One row per call attempt. call_ref is an opaque id chosen by the SIP core
-- (a hash, never the phone's raw Call-ID). source_ip stays NULL unless the
-- 'privacy.store_ip' setting is on.
CREATE TABLE cdrs (
  id            INTEGER PRIMARY KEY,
  call_ref      TEXT NOT NULL,
  caller_aor    TEXT NOT NULL,
  callee_aor    TEXT NOT NULL,
  direction     TEXT NOT NULL CHECK (direction IN ('local', 'outgoing', 'incoming')),
  peer_domain   TEXT NOT NULL DEFAULT '',
  started_at    INTEGER NOT NULL,
  answered_at   INTEGER,
  ended_at      INTEGER,
  duration_s    INTEGER NOT NULL DEFAULT 0,
  final_status  INTEGER NOT NULL DEFAULT 0,
  end_reason    TEXT NOT NULL DEFAULT '',
  source_ip     TEXT
);
CREATE INDEX cdrs_started_at ON cdrs (started_at);
CREATE INDEX cdrs_caller_aor ON cdrs (caller_aor);
CREATE INDEX cdrs_callee_aor ON cdrs (callee_aor);

-- MESSAGEs for a local user who was not registered, delivered in id order
-- when the user registers, deleted once delivered or when they expire.
CREATE TABLE stored_messages (
  id            INTEGER PRIMARY KEY,
  recipient     TEXT NOT NULL,
  sender_aor    TEXT NOT NULL,
  content_type  TEXT NOT NULL,
  body          BLOB NOT NULL,
  size          INTEGER NOT NULL,
  created_at    INTEGER NOT NULL
);
CREATE INDEX stored_messages_recipient ON stored_messages (recipient, id);
CREATE INDEX stored_messages_created_at ON stored_messages (created_at);

-- Troubleshooting log of call signaling, written only while the
-- 'privacy.signaling_log_enabled' setting is on (off by default). The text
-- has no message body and no Authorization headers.
CREATE TABLE signaling_log (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  summary    TEXT NOT NULL,
  call_ref   TEXT NOT NULL,
  text       TEXT NOT NULL
);
CREATE INDEX signaling_log_at ON signaling_log (at);
