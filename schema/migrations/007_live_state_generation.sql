-- Schema version 7: what the daemon keeps in memory (users, peers and their
-- previous pins, settings, the site identity) has a generation, bumped by
-- triggers whenever any of it changes, from any connection (the CLI, the
-- console). The daemon polls PRAGMA data_version, which moves on every
-- commit of another connection, its own call-record writer included; it
-- reloads only when this generation moved, so call records, stored
-- messages, the signaling log, audit entries and pending peer requests
-- never make it re-read every user and peer (issue 16).
CREATE TABLE live_state_generation (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL
);
INSERT INTO live_state_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER users_insert_bumps AFTER INSERT ON users
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER users_update_bumps AFTER UPDATE ON users
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER users_delete_bumps AFTER DELETE ON users
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER peers_insert_bumps AFTER INSERT ON peers
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER peers_update_bumps AFTER UPDATE ON peers
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER peers_delete_bumps AFTER DELETE ON peers
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER previous_pins_insert_bumps AFTER INSERT ON peer_previous_pins
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER previous_pins_update_bumps AFTER UPDATE ON peer_previous_pins
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER previous_pins_delete_bumps AFTER DELETE ON peer_previous_pins
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER settings_insert_bumps AFTER INSERT ON settings
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER settings_update_bumps AFTER UPDATE ON settings
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER settings_delete_bumps AFTER DELETE ON settings
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
CREATE TRIGGER site_update_bumps AFTER UPDATE ON site
  BEGIN UPDATE live_state_generation SET generation = generation + 1; END;
