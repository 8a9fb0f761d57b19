"""sipsite backup | restore: an encrypted snapshot taken while the daemon runs
(and users are being added) restores into a fresh state directory with the
same key, and a daemon started on it serves the same users and peers. Restore
refuses, changing nothing, a wrong key, a file that is not a sipsite
database, a newer schema, and a running daemon."""
import json
import os
import shutil
import stat
import threading

from harness import Daemon, SiteTestCase, sqlcipher_query
from sip_client import SipClient


def key_hex(state_dir):
    with open(os.path.join(state_dir, "db.key")) as f:
        return f.read().strip()


class BackupTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init_site("alpha.example", state="site")
        self.init_site("beta.example", state="beta")
        self.beta_pem = self.write("beta.pem", self.sipsite("cert", state="beta").out)
        self.assertOk(self.sipsite("peer", "import", "--file", self.beta_pem, "--address", "127.0.0.1:5999"))
        for user in ("alice", "bob"):
            self.add_user(user)

    def add_user(self, user, state="site"):
        return self.sipsite("user", "add", "--aor", f"{user}@alpha.example", "--password-stdin",
                            stdin=f"{user}-password\n", state=state)

    def users(self, state):
        r = self.sipsite("user", "list", "--json", state=state)
        self.assertOk(r)
        return sorted(u["aor"] for u in json.loads(r.out))

    def peers(self, state):
        r = self.sipsite("peer", "list", "--json", state=state)
        self.assertOk(r)
        return [(p["domain"], p["fingerprint"], p["state"]) for p in json.loads(r.out)]

    def fresh_state_with_key(self, name):
        """A new state directory holding only a copy of the site's key."""
        os.makedirs(self.path(name), mode=0o700)
        shutil.copy(self.path("site", "db.key"), self.path(name, "db.key"))
        os.chmod(self.path(name, "db.key"), 0o600)
        return self.path(name)

    def test_backup_is_private_encrypted_and_never_overwrites(self):
        out = self.path("b.db")
        r = self.sipsite("backup", "--out", out)
        self.assertOk(r)
        self.assertIn("keep a copy of the key apart", r.err)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        with open(out, "rb") as f:
            data = f.read()
        self.assertNotIn(b"alice", data)
        self.assertNotIn(b"SQLite format", data)
        # Readable with the key and the documented settings, like the live database.
        q = sqlcipher_query(out, key_hex(self.path("site")), "SELECT username FROM users ORDER BY username;")
        self.assertIn("alice\nbob", q.stdout)
        before = os.stat(out).st_mtime_ns
        self.assertFails(self.sipsite("backup", "--out", out), 1, "already exists")
        self.assertEqual(os.stat(out).st_mtime_ns, before)
        self.assertFails(self.sipsite("backup"), 2, "--out")

    def test_backup_under_load_restores_to_a_daemon_serving_the_same_users_and_peers(self):
        daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(daemon.kill)
        daemon.sip_ports()
        added = []
        stop = threading.Event()

        def add_users():
            for i in range(40):
                if stop.is_set():
                    break
                if self.add_user(f"load{i}").code == 0:
                    added.append(f"load{i}@alpha.example")

        writer = threading.Thread(target=add_users)
        writer.start()
        try:
            # Take the backup once the load is under way.
            for _ in range(200):
                if len(added) >= 3:
                    break
                threading.Event().wait(0.05)
            r = self.sipsite("backup", "--out", self.path("load.db"))
        finally:
            stop.set()
            writer.join(timeout=120)
        self.assertOk(r)
        self.assertGreaterEqual(len(added), 3)
        original_peers = self.peers("site")
        daemon.stop()

        restored = self.fresh_state_with_key("restored")
        r = self.sipsite("restore", "--in", self.path("load.db"), state="restored")
        self.assertOk(r)
        self.assertIn("restored alpha.example", r.err)
        users = self.users("restored")
        for aor in ("alice@alpha.example", "bob@alpha.example", *added[:3]):
            self.assertIn(aor, users)
        # A consistent snapshot: the users added in order form a prefix.
        loaded = sorted(int(a[4:].split("@")[0]) for a in users if a.startswith("load"))
        self.assertEqual(loaded, list(range(len(loaded))))
        self.assertEqual(self.peers("restored"), original_peers)
        self.assertEqual(self.sipsite("fingerprint", state="restored").out, self.sipsite("fingerprint").out)

        daemon2 = Daemon(["--state-dir", restored])
        self.addCleanup(daemon2.kill)
        ports = daemon2.sip_ports()
        # "ready" comes before the first load of the state: wait for it.
        daemon2.wait_for(rf"state loaded: {len(users)} users, 1 peers")
        for user in ("alice", added[0].split("@")[0]):
            c = SipClient("udp", ports["udp"], user=user, password=f"{user}-password")
            self.addCleanup(c.close)
            status, headers, _ = c.register()
            self.assertEqual(status, 200, (user, headers))
        c = SipClient("udp", ports["udp"], user="alice", password="wrong-password")
        self.addCleanup(c.close)
        self.assertIn(c.register()[0], (401, 403))

    def test_restore_over_a_site_keeps_the_previous_database(self):
        self.assertOk(self.sipsite("backup", "--out", self.path("b.db")))
        self.assertOk(self.add_user("carol"))
        r = self.sipsite("restore", "--in", self.path("b.db"))
        self.assertOk(r)
        self.assertEqual(self.users("site"), ["alice@alpha.example", "bob@alpha.example"])
        kept = [f for f in os.listdir(self.path("site")) if f.startswith("sipsite.db.before-restore-")]
        self.assertEqual(len([f for f in kept if not f.endswith(("-wal", "-shm"))]), 1, kept)
        self.assertIn("kept as", r.err)
        # The kept file is the database as it was (carol included), same key.
        old = [f for f in kept if not f.endswith(("-wal", "-shm"))][0]
        q = sqlcipher_query(self.path("site", old), key_hex(self.path("site")), "SELECT username FROM users;")
        self.assertIn("carol", q.stdout)
        audit = sqlcipher_query(self.path("site", "sipsite.db"), key_hex(self.path("site")),
                                "SELECT action FROM audit_log ORDER BY id DESC LIMIT 1;")
        self.assertIn("db.restore", audit.stdout)

    def test_restore_refuses_a_backup_made_with_another_key(self):
        self.assertOk(self.sipsite("backup", "--out", self.path("beta.db"), state="beta"))
        before = self.snapshot("site")
        r = self.sipsite("restore", "--in", self.path("beta.db"))
        self.assertFails(r, 1, "does not open it", "nothing was changed")
        self.assertEqual(self.snapshot("site"), before)
        self.assertFalse(os.path.exists(self.path("site", "sipsite.db.restoring")))

    def test_restore_refuses_what_is_not_a_sipsite_database(self):
        before = self.snapshot("site")
        garbage = self.write("garbage.db", "not a database at all\n" * 500)
        self.assertFails(self.sipsite("restore", "--in", garbage), 1, "does not open it")
        # An SQLCipher database with the right key but no site in it.
        other = self.path("other.db")
        q = sqlcipher_query(other, key_hex(self.path("site")), "CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        self.assertEqual(q.returncode, 0, q.stderr)
        self.assertFails(self.sipsite("restore", "--in", other), 1, "not a sipsite database")
        self.assertFails(self.sipsite("restore", "--in", self.path("missing.db")), 1, "cannot read")
        self.assertFails(self.sipsite("restore", "--in", self.path("site", "sipsite.db")), 2, "own database")
        self.assertEqual(self.snapshot("site"), before)

    def test_restore_refuses_a_newer_schema(self):
        self.assertOk(self.sipsite("backup", "--out", self.path("b.db")))
        q = sqlcipher_query(self.path("b.db"), key_hex(self.path("site")), "PRAGMA user_version = 999;")
        self.assertEqual(q.returncode, 0, q.stderr)
        before = self.snapshot("site")
        self.assertFails(self.sipsite("restore", "--in", self.path("b.db")), 1, "newer than this sipsite")
        self.assertEqual(self.snapshot("site"), before)

    def test_restore_into_a_fresh_directory_needs_the_key(self):
        self.assertOk(self.sipsite("backup", "--out", self.path("b.db")))
        self.assertFails(self.sipsite("restore", "--in", self.path("b.db"), state="empty"), 1, "no database key")
        # --db-key-file works as well as a copy in the state directory.
        r = self.sipsite("restore", "--in", self.path("b.db"), "--db-key-file", self.path("site", "db.key"),
                         state="empty")
        self.assertOk(r)
        r = self.sipsite("user", "list", "--db-key-file", self.path("site", "db.key"), state="empty")
        self.assertOk(r)
        self.assertEqual(r.out.split(), ["alice@alpha.example", "bob@alpha.example"])
        self.assertEqual(stat.S_IMODE(os.stat(self.path("empty")).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("empty", "sipsite.db")).st_mode), 0o600)

    def test_restore_refuses_while_the_daemon_runs(self):
        self.assertOk(self.sipsite("backup", "--out", self.path("b.db")))
        daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(daemon.kill)
        daemon.sip_ports()
        self.assertOk(self.add_user("carol"))
        r = self.sipsite("restore", "--in", self.path("b.db"))
        self.assertFails(r, 1, "refusing to restore", "stop it first")
        self.assertIn("carol@alpha.example", self.users("site"))
        daemon.stop()
        self.assertOk(self.sipsite("restore", "--in", self.path("b.db")))
        self.assertNotIn("carol@alpha.example", self.users("site"))


if __name__ == "__main__":
    import unittest
    unittest.main()
