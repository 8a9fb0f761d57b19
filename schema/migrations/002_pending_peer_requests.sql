-- Schema version 2: handshakes refused for unknown fingerprints, kept for the
-- admin to trust or ignore (see DESIGN.md, trust flow step 3). An ignored
-- request is a persistent deny entry.
CREATE TABLE peer_requests (
  fingerprint     TEXT PRIMARY KEY,
  certificate_pem TEXT NOT NULL,
  claimed_domain  TEXT NOT NULL,
  source_address  TEXT NOT NULL,
  first_seen      INTEGER NOT NULL,
  last_seen       INTEGER NOT NULL,
  attempts        INTEGER NOT NULL,
  ignored         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX peer_requests_last_seen ON peer_requests (last_seen);
