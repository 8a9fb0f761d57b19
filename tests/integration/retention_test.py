"""Retention and account deletion through the real binary: `user del`
removes a user's stored messages and call records with the user (unless the
setting keeps the records); a daemon purges expired rows when it starts.
Rows are planted and inspected with the stock sqlcipher tool and the key."""
import os
import time

from harness import Daemon, SiteTestCase, sqlcipher_query

DAY = 86400


class RetentionTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init_site()
        with open(self.path("site", "db.key")) as f:
            self.key = f.read().strip()
        for user in ("alice", "bob"):
            self.assertOk(self.sipsite("user", "add", "--aor", f"{user}@alpha.example", "--password-stdin",
                                       stdin=f"{user}-password\n"))

    def sql(self, statements):
        r = sqlcipher_query(self.path("site", "sipsite.db"), self.key, statements)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Error", r.stderr)
        return r.stdout

    def count(self, where):
        return int(self.sql(f"SELECT count(*) FROM {where};").strip().splitlines()[-1])

    def plant(self, at):
        self.sql(
            "INSERT INTO cdrs (call_ref, caller_aor, callee_aor, direction, started_at) VALUES "
            f"('r1', 'alice@alpha.example', 'bob@alpha.example', 'local', {at}),"
            f"('r2', 'carol@beta.example', 'alice@alpha.example', 'incoming', {at}),"
            f"('r3', 'bob@alpha.example', 'carol@beta.example', 'outgoing', {at});"
            "INSERT INTO stored_messages (recipient, sender_aor, content_type, body, size, created_at) VALUES "
            f"('alice', 'bob@alpha.example', 'text/plain', X'68656c6c6f', 5, {at}),"
            f"('bob', 'alice@alpha.example', 'text/plain', X'68656c6c6f', 5, {at});")

    def test_user_del_removes_the_users_messages_and_call_records(self):
        self.plant(int(time.time()))
        r = self.sipsite("user", "del", "--aor", "alice@alpha.example")
        self.assertOk(r)
        self.assertIn("1 stored messages, 2 call records", r.err)
        self.assertEqual(self.count("users WHERE username = 'alice'"), 0)
        self.assertEqual(self.count("stored_messages WHERE recipient = 'alice'"), 0)
        self.assertEqual(self.count("cdrs WHERE caller_aor = 'alice@alpha.example' OR callee_aor = 'alice@alpha.example'"), 0)
        self.assertEqual(self.count("users"), 1)
        self.assertEqual(self.count("stored_messages"), 1)
        self.assertEqual(self.count("cdrs"), 1)
        self.assertIn("user.del|alice@alpha.example", self.sql("SELECT action, detail FROM audit_log ORDER BY id DESC LIMIT 1;"))

    def test_user_del_keeps_call_records_when_the_setting_says_so(self):
        self.plant(int(time.time()))
        self.sql("INSERT INTO settings (key, value, updated_at) VALUES ('privacy.keep_cdrs_on_user_delete', 'true', 0);")
        r = self.sipsite("user", "del", "--aor", "alice@alpha.example")
        self.assertOk(r)
        self.assertIn("call records kept", r.err)
        self.assertEqual(self.count("stored_messages WHERE recipient = 'alice'"), 0)
        self.assertEqual(self.count("cdrs"), 3)

    def test_the_daemon_purges_expired_rows_when_it_starts(self):
        now = int(time.time())
        self.plant(now - 200 * DAY)  # older than every default window
        self.sql("INSERT INTO cdrs (call_ref, caller_aor, callee_aor, direction, started_at) "
                 f"VALUES ('fresh', 'bob@alpha.example', 'alice@alpha.example', 'local', {now - DAY});"
                 f"INSERT INTO audit_log (at, actor, source, action, detail) VALUES ({now - 400 * DAY}, 'x', 'y', 'old', '');")
        daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(daemon.kill)
        daemon.wait_for(r"retention purge: 3 call records, 2 stored messages, 0 signaling log entries, 1 audit entries")
        self.assertEqual(self.count("cdrs"), 1)
        self.assertEqual(self.count("cdrs WHERE call_ref = 'fresh'"), 1)
        self.assertEqual(self.count("stored_messages"), 0)
        self.assertEqual(self.count("audit_log WHERE action = 'old'"), 0)
        self.assertGreater(self.count("users"), 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
