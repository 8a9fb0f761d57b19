-- Schema version 8: which rows of what the daemon keeps in memory changed
-- (issue 18, issue 16 item 5). The triggers of 007 say *that* something
-- changed; these say *what*: one row per changed user, peer, previous pin,
-- setting or site identity, whatever connection wrote it (the CLI, the
-- console, the daemon itself). The daemon keeps the last seq it applied and
-- reads only the rows after it, so a trust change costs the daemon the
-- rows it touched, not a re-read of every peer. AUTOINCREMENT: a seq is
-- never reused, even after pruning.
CREATE TABLE live_state_changes (
  seq  INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'peer', 'pin', 'setting', 'site')),
  key  TEXT NOT NULL   -- user: username@domain; peer, pin: fingerprint; setting: its key; site: ''
);

CREATE TRIGGER users_insert_logged AFTER INSERT ON users
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('user', NEW.username || '@' || NEW.domain); END;
CREATE TRIGGER users_update_logged AFTER UPDATE ON users
  BEGIN
    INSERT INTO live_state_changes (kind, key) VALUES ('user', NEW.username || '@' || NEW.domain);
    INSERT INTO live_state_changes (kind, key) SELECT 'user', OLD.username || '@' || OLD.domain
      WHERE OLD.username <> NEW.username OR OLD.domain <> NEW.domain;
  END;
CREATE TRIGGER users_delete_logged AFTER DELETE ON users
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('user', OLD.username || '@' || OLD.domain); END;
CREATE TRIGGER peers_insert_logged AFTER INSERT ON peers
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('peer', NEW.fingerprint); END;
CREATE TRIGGER peers_update_logged AFTER UPDATE ON peers
  BEGIN
    INSERT INTO live_state_changes (kind, key) VALUES ('peer', NEW.fingerprint);
    INSERT INTO live_state_changes (kind, key) SELECT 'peer', OLD.fingerprint WHERE OLD.fingerprint <> NEW.fingerprint;
  END;
CREATE TRIGGER peers_delete_logged AFTER DELETE ON peers
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('peer', OLD.fingerprint); END;
CREATE TRIGGER previous_pins_insert_logged AFTER INSERT ON peer_previous_pins
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('pin', NEW.fingerprint); END;
CREATE TRIGGER previous_pins_update_logged AFTER UPDATE ON peer_previous_pins
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('pin', NEW.fingerprint); END;
CREATE TRIGGER previous_pins_delete_logged AFTER DELETE ON peer_previous_pins
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('pin', OLD.fingerprint); END;
CREATE TRIGGER settings_insert_logged AFTER INSERT ON settings
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('setting', NEW.key); END;
CREATE TRIGGER settings_update_logged AFTER UPDATE ON settings
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('setting', NEW.key); END;
CREATE TRIGGER settings_delete_logged AFTER DELETE ON settings
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('setting', OLD.key); END;
CREATE TRIGGER site_update_logged AFTER UPDATE ON site
  BEGIN INSERT INTO live_state_changes (kind, key) VALUES ('site', ''); END;

-- Bounded: every 1,024th change drops the rows older than the last 65,536.
-- A reader whose last seq was pruned (the daemon was stopped through that
-- many changes) sees the gap and loads everything once.
CREATE TRIGGER live_state_changes_pruned AFTER INSERT ON live_state_changes WHEN NEW.seq % 1024 = 0
  BEGIN DELETE FROM live_state_changes WHERE seq <= NEW.seq - 65536; END;
