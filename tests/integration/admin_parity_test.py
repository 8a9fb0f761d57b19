"""The command line and the console run the same admin operations: each
operation done through the CLI on one copy of a site and through the REST
API on another copy leaves the same rows in the database and the same audit
records, apart from who acted (issue 17)."""
import shutil
import time
import unittest

from console_api_test import NEW_PASSWORD, ConsoleCase
from harness import run, sqlcipher_query

# What each operation leaves behind; time columns and row ids differ by
# nature and are left out.
TABLES = {
    "users": "SELECT username, domain, realm, ha1_md5, ha1_sha256 FROM users ORDER BY domain, username;",
    "peers": "SELECT domain, fingerprint, certificate_pem, address, state FROM peers ORDER BY domain;",
    "pending": "SELECT fingerprint, claimed_domain, source_address, attempts, ignored FROM peer_requests "
               "ORDER BY fingerprint;",
    "audit": "SELECT action, detail FROM audit_log WHERE action LIKE 'user.%' OR action LIKE 'peer.%' ORDER BY id;",
    "actors": "SELECT DISTINCT actor FROM audit_log WHERE action LIKE 'user.%' OR action LIKE 'peer.%';",
}


class AdminParityTest(ConsoleCase):
    def setUp(self):
        super().setUp()
        self.init = self.init_site("alpha.example", state="cli")
        self.others = {}
        for domain in ("beta", "gamma", "delta", "epsilon"):
            self.init_site(f"{domain}.example", state=domain)
            self.others[domain] = {
                "pem": self.sipsite("cert", state=domain).out,
                "fp": self.sipsite("fingerprint", state=domain).out.strip(),
                "file": self.path(domain + ".pem"),
            }
            with open(self.others[domain]["file"], "w") as f:
                f.write(self.others[domain]["pem"])
        # Two sites knocked and wait as pending requests.
        now = int(time.time())
        for domain in ("gamma", "delta"):
            o = self.others[domain]
            self.sql("cli", "INSERT INTO peer_requests (fingerprint, certificate_pem, claimed_domain, source_address, "
                            f"first_seen, last_seen, attempts) VALUES ('{o['fp']}', '{o['pem']}', "
                            f"'{domain}.example', '198.51.100.7', {now}, {now}, 1);")
        # The same site twice: one copy for the CLI, one for the console.
        shutil.copytree(self.path("cli"), self.path("api"))

    def sql(self, state, query):
        with open(self.path(state, "db.key")) as f:
            key = f.read().strip()
        r = sqlcipher_query(self.path(state, "sipsite.db"), key, query)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("Error", r.stderr)
        return r.stdout

    def cli(self, *args, stdin=None):
        r = run(*args, "--state-dir", self.path("cli"), stdin=stdin)
        self.assertEqual(r.code, 0, r)

    def test_every_operation_leaves_the_same_rows_through_the_cli_and_the_api(self):
        beta, gamma, delta, epsilon = (self.others[d] for d in ("beta", "gamma", "delta", "epsilon"))

        self.cli("user", "add", "--aor", "alice@alpha.example", "--password-stdin", stdin="alice-password\n")
        self.cli("user", "add", "--aor", "bob@alpha.example", "--password-stdin", stdin="bob-password\n")
        self.cli("user", "passwd", "--aor", "alice@alpha.example", "--password-stdin", stdin="alice-new-password\n")
        self.cli("user", "del", "--aor", "bob@alpha.example")
        self.cli("peer", "import", "--file", beta["file"], "--address", "127.0.0.1:5999")
        self.cli("peer", "trust", "--fingerprint", beta["fp"])
        self.cli("peer", "revoke", "--fingerprint", beta["fp"])
        self.cli("peer", "remove", "--fingerprint", beta["fp"])
        self.cli("peer", "import", "--file", epsilon["file"])
        self.cli("peer", "trust", "--fingerprint", gamma["fp"], "--address", "127.0.0.1:5998")
        self.cli("peer", "ignore", "--fingerprint", delta["fp"])

        self.daemon = self.start_daemon("api")
        c = self.console()
        self.assertEqual(c.login(self.init["admin password"]).status, 200)
        r = c.request("PUT", "/api/v1/session/password", {"current": self.init["admin password"], "new": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r)
        calls = [
            ("POST", "/api/v1/users", {"aor": "alice@alpha.example", "password": "alice-password"}, 201),
            ("POST", "/api/v1/users", {"aor": "bob@alpha.example", "password": "bob-password"}, 201),
            ("PUT", "/api/v1/users/alice%40alpha.example/password", {"password": "alice-new-password"}, 204),
            ("DELETE", "/api/v1/users/bob%40alpha.example", None, 204),
            ("POST", "/api/v1/peers", {"pem": beta["pem"], "address": "127.0.0.1:5999"}, 201),
            ("POST", f"/api/v1/peers/{beta['fp']}/trust", {"confirm_fingerprint": beta["fp"]}, 200),
            ("POST", f"/api/v1/peers/{beta['fp']}/revoke", None, 200),
            ("DELETE", f"/api/v1/peers/{beta['fp']}", None, 204),
            ("POST", "/api/v1/peers", {"pem": epsilon["pem"]}, 201),
            ("POST", f"/api/v1/peers/{gamma['fp']}/trust",
             {"confirm_fingerprint": gamma["fp"], "address": "127.0.0.1:5998"}, 200),
            ("POST", f"/api/v1/peers/pending/{delta['fp']}/ignore", None, 204),
        ]
        for method, path, body, status in calls:
            r = c.request(method, path, body)
            self.assertEqual(r.status, status, (method, path, r))

        for name, query in TABLES.items():
            if name == "actors":
                continue
            with self.subTest(table=name):
                self.assertEqual(self.sql("cli", query), self.sql("api", query))
        # Not vacuous: the rows are there, and every operation left its
        # audit record.
        self.assertIn("alice|alpha.example", self.sql("cli", TABLES["users"]))
        self.assertNotIn("bob", self.sql("cli", TABLES["users"]))
        peers = self.sql("cli", TABLES["peers"])
        self.assertIn(f"epsilon.example|{epsilon['fp']}", peers)
        self.assertIn("127.0.0.1:5998|trusted", peers)
        self.assertNotIn("beta.example", peers)
        self.assertEqual(self.sql("cli", TABLES["pending"]).strip(),
                         f"{delta['fp']}|delta.example|198.51.100.7|1|1")
        actions = [line.split("|")[0] for line in self.sql("cli", TABLES["audit"]).splitlines()]
        self.assertEqual(actions, ["user.add", "user.add", "user.password_change", "user.del", "peer.import",
                                   "peer.trust", "peer.revoke", "peer.remove", "peer.import", "peer.trust",
                                   "peer.ignore"])
        self.assertTrue(self.sql("cli", TABLES["actors"]).strip().startswith("cli:"))
        self.assertEqual(self.sql("api", TABLES["actors"]).strip(), "admin")

    def start_daemon(self, state):
        from harness import Daemon
        daemon = Daemon(["--state-dir", self.path(state)])
        self.addCleanup(daemon.kill)
        self.port = daemon.admin_port()
        return daemon


if __name__ == "__main__":
    unittest.main()
