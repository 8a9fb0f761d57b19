-- Schema version 5: key rotation (`sipsite rotate-key`, issue 4 item 8).

-- The rotating site keeps its previous certificate (never its previous
-- private key) so that it refuses it when presented back, and for the
-- record. Empty until the first rotation.
ALTER TABLE site ADD COLUMN previous_certificate_pem TEXT NOT NULL DEFAULT '';
ALTER TABLE site ADD COLUMN rotated_at INTEGER NOT NULL DEFAULT 0;

-- A peer's pins replaced by a verified key rotation. The peers row takes the
-- new certificate at once (one row per domain, as before); the old pin stays
-- accepted here until expires_at (the overlap), then the daemon deletes it
-- and audits 'peer.pin_expired'. Revoking the peer deletes its old pins.
CREATE TABLE peer_previous_pins (
  fingerprint     TEXT PRIMARY KEY,
  domain          TEXT NOT NULL,
  certificate_pem TEXT NOT NULL,
  superseded_by   TEXT NOT NULL,
  superseded_at   INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL
);
CREATE INDEX peer_previous_pins_domain ON peer_previous_pins (domain);
CREATE INDEX peer_previous_pins_expires_at ON peer_previous_pins (expires_at);
