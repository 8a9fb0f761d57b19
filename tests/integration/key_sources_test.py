"""Where the database key comes from, and what happens when it is wrong."""
import os
import secrets
import stat
import unittest

from harness import Daemon, SiteTestCase, sqlcipher_query


class KeySourceTest(SiteTestCase):
    def read_key(self, path):
        with open(path) as f:
            return f.read().strip()

    def test_init_creates_the_named_key_file(self):
        key_file = self.path("keys", "site.key")
        os.makedirs(self.path("keys"), mode=0o700)
        self.init_site(extra=("--db-key-file", key_file))
        self.assertEqual(stat.S_IMODE(os.stat(key_file).st_mode), 0o600)
        self.assertFalse(os.path.exists(self.path("site", "db.key")))
        self.assertFails(self.sipsite("user", "list"), 1, "db.key")
        self.assertOk(self.sipsite("user", "list", "--db-key-file", key_file))
        r = sqlcipher_query(self.path("site", "sipsite.db"), self.read_key(key_file), "SELECT domain FROM site;")
        self.assertEqual(r.stdout.strip(), "alpha.example")

    def test_init_uses_an_existing_key_file(self):
        key = secrets.token_hex(32)
        key_file = self.write("given.key", key + "\n", mode=0o600)
        self.init_site(extra=("--db-key-file", key_file))
        self.assertEqual(self.read_key(key_file), key)
        r = sqlcipher_query(self.path("site", "sipsite.db"), key, "SELECT domain FROM site;")
        self.assertEqual(r.stdout.strip(), "alpha.example")

    def test_systemd_credential_comes_first(self):
        creds = self.path("creds")
        os.makedirs(creds, mode=0o700)
        key = secrets.token_hex(32)
        self.write("creds/sipsite-db-key", key + "\n", mode=0o400)
        env = {"CREDENTIALS_DIRECTORY": creds}
        decoy = self.write("decoy.key", secrets.token_hex(32) + "\n", mode=0o600)
        r = self.sipsite("init", "--domain", "alpha.example", "--db-key-file", decoy, env=env)
        self.assertOk(r)
        self.assertFalse(os.path.exists(self.path("site", "db.key")))
        self.assertEqual(sqlcipher_query(self.path("site", "sipsite.db"), key, "SELECT domain FROM site;").stdout.strip(),
                         "alpha.example")
        self.assertOk(self.sipsite("fingerprint", "--db-key-file", decoy, env=env))
        self.assertFails(self.sipsite("fingerprint", "--db-key-file", decoy), 1, "key does not open")
        # An empty credentials directory falls through to the next source.
        os.makedirs(self.path("empty-creds"))
        self.assertFails(self.sipsite("fingerprint", env={"CREDENTIALS_DIRECTORY": self.path("empty-creds")}), 1)

    def test_wrong_key_fails_cleanly_and_leaves_the_database_alone(self):
        self.init_site()
        self.assertOk(self.sipsite("user", "add", "--aor", "alice@alpha.example", "--password-stdin",
                                   stdin="password123\n"))
        key_path = self.path("site", "db.key")
        good = self.read_key(key_path)
        before = self.db_bytes()
        self.write("site/db.key", secrets.token_hex(32) + "\n", mode=0o600)
        for args in (["user", "list"], ["fingerprint"], ["run"],
                     ["user", "add", "--aor", "bob@alpha.example", "--password-stdin"]):
            r = self.sipsite(*args, stdin="password123\n")
            self.assertFails(r, 1, "key does not open")
        self.assertEqual(self.db_bytes(), before)
        self.write("site/db.key", good + "\n", mode=0o600)
        self.assertEqual(self.sipsite("user", "list").out, "alice@alpha.example\n")

    def test_key_file_readable_by_others_is_refused(self):
        self.init_site()
        os.chmod(self.path("site", "db.key"), 0o644)
        self.assertFails(self.sipsite("fingerprint"), 1, "chmod 600")

    def test_malformed_or_missing_key_file(self):
        self.init_site()
        self.write("site/db.key", "not-hex\n", mode=0o600)
        self.assertFails(self.sipsite("fingerprint"), 1, "64 hex digits")
        os.unlink(self.path("site", "db.key"))
        self.assertFails(self.sipsite("fingerprint"), 1, "cannot open database key file")
        # init without --force must not replace the database just because the key is gone.
        self.assertFails(self.sipsite("init", "--domain", "alpha.example"), 1, "already initialised")

    def test_key_never_printed(self):
        self.init_site()
        key = self.read_key(self.path("site", "db.key"))
        outputs = [self.sipsite(*a) for a in (["fingerprint"], ["cert"], ["invite"], ["user", "list", "--json"],
                                              ["peer", "list", "--json"])]
        daemon = Daemon(["--state-dir", self.path("site"), "--log-level", "trace"])
        self.addCleanup(daemon.kill)
        daemon.wait_for("ready")
        daemon.stop()
        for o in outputs:
            self.assertNotIn(key, o.out + o.err)
        self.assertNotIn(key, daemon.output())
        self.assertNotIn("PRIVATE KEY", daemon.output())


if __name__ == "__main__":
    unittest.main()
