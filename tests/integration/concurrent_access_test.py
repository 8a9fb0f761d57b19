"""Several processes writing the database while the daemon runs: nothing is
lost and the file stays sound."""
import concurrent.futures
import json
import unittest

from harness import Daemon, SiteTestCase, sqlcipher_query

WORKERS = 4
USERS_PER_WORKER = 10


class ConcurrentAccessTest(SiteTestCase):
    def test_cli_writers_and_running_daemon(self):
        self.init_site()
        peer_states = []
        for i in range(3):
            fields = self.init_site(f"peer{i}.example", state=f"peer{i}")
            self.write(f"peer{i}.pem", self.sipsite("cert", state=f"peer{i}").out)
            peer_states.append(fields["fingerprint"])

        daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(daemon.kill)
        daemon.wait_for("ready")

        def add_users(worker):
            codes = []
            for n in range(USERS_PER_WORKER):
                r = self.sipsite("user", "add", "--aor", f"u{worker}x{n}@alpha.example", "--password-stdin",
                                 stdin="password123\n")
                codes.append((r.code, r.err))
            return codes

        def churn_peers():
            codes = []
            for i, fp in enumerate(peer_states):
                for args in (["peer", "import", "--file", self.path(f"peer{i}.pem")],
                             ["peer", "trust", "--fingerprint", fp], ["peer", "revoke", "--fingerprint", fp],
                             ["peer", "trust", "--domain", f"peer{i}.example"]):
                    r = self.sipsite(*args)
                    codes.append((r.code, r.err))
            return codes

        with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS + 1) as pool:
            futures = [pool.submit(add_users, w) for w in range(WORKERS)] + [pool.submit(churn_peers)]
            results = [f.result(timeout=240) for f in futures]
        for codes in results:
            for code, err in codes:
                self.assertEqual(code, 0, err)

        users = json.loads(self.sipsite("user", "list", "--json").out)
        self.assertEqual(len(users), WORKERS * USERS_PER_WORKER)
        peers = json.loads(self.sipsite("peer", "list", "--json").out)
        self.assertEqual([p["state"] for p in peers], ["trusted"] * 3)
        daemon.wait_for(rf"state (?:loaded|now): {WORKERS * USERS_PER_WORKER} users, 3 peers \(3 trusted\)", timeout=10)
        self.assertEqual(daemon.stop(), 0)

        with open(self.path("site", "db.key")) as f:
            key = f.read().strip()
        check = sqlcipher_query(self.path("site", "sipsite.db"), key, "PRAGMA integrity_check;")
        self.assertEqual(check.stdout.strip(), "ok", check.stderr)


if __name__ == "__main__":
    unittest.main()
