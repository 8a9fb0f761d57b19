"""Crash safety: the daemon is killed with SIGKILL, again and again, while
CLI processes sharing its state directory add users and trust and revoke
peers, and while it records a pending request from an unknown site; some
CLI writers are killed mid-command too. After every kill the daemon starts
again on the same database, which passes PRAGMA integrity_check, and every
change a command reported as done is there. SIGTERM stops it cleanly
(exit 0, "stopped" logged)."""
import json
import os
import random
import socket
import ssl
import subprocess
import time
import unittest

from harness import SIPSITE, Daemon, SiteTestCase, sqlcipher_query

ITERATIONS = 10
USERS_PER_ITERATION = 3
PEERS = 2


class CrashSafetyTest(SiteTestCase):
    def start_cli(self, *args, stdin=None):
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("CREDENTIALS_DIRECTORY", None)
        p = subprocess.Popen([SIPSITE, *args, "--state-dir", self.path("site")], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        if stdin is not None:
            p.stdin.write(stdin)
        p.stdin.close()
        p.stdin = None  # communicate() later reads stdout and stderr only
        self.addCleanup(lambda: p.poll() is None and p.kill())
        return p

    def knock_as_unknown_site(self, port, n):
        """A TLS handshake with a certificate nobody trusts: the daemon
        records a pending request (a write of its own)."""
        d = self.path(f"unknown{n}")
        os.makedirs(d, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", "k.pem", "-out", "c.pem", "-days", "30", "-subj", f"/CN=unknown{n}.example"],
                       cwd=d, check=True, capture_output=True, timeout=60)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(os.path.join(d, "c.pem"), os.path.join(d, "k.pem"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with ctx.wrap_socket(raw) as s:
                    s.settimeout(2)
                    s.recv(1)
        except (ssl.SSLError, OSError):
            pass

    def integrity(self):
        with open(self.path("site", "db.key")) as f:
            key = f.read().strip()
        r = sqlcipher_query(self.path("site", "sipsite.db"), key, "PRAGMA integrity_check;")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "ok", r.stdout + r.stderr)

    def test_kill_9_in_a_loop_loses_nothing_committed(self):
        self.init_site()
        peers = []
        for i in range(PEERS):
            fields = self.init_site(f"peer{i}.example", state=f"peer{i}")
            self.write(f"peer{i}.pem", self.sipsite("cert", state=f"peer{i}").out)
            peers.append(fields["fingerprint"])
            self.assertOk(self.sipsite("peer", "import", "--file", self.path(f"peer{i}.pem")))
        rng = random.Random(4475)
        committed_users = set()
        peer_state = {fp: "untrusted" for fp in peers}  # as `peer import` leaves them
        for it in range(ITERATIONS):
            with self.subTest(iteration=it):
                daemon = Daemon(["--state-dir", self.path("site")])
                self.addCleanup(daemon.kill)
                # The database opened and was read ("state loaded" follows "ready").
                daemon.wait_for("state loaded", timeout=30)
                users = [self.start_cli("user", "add", "--aor", f"u{it}x{n}@alpha.example", "--password-stdin",
                                        stdin="password123\n") for n in range(USERS_PER_ITERATION)]
                fp = peers[it % PEERS]
                verb = "revoke" if peer_state[fp] == "trusted" else "trust"
                peer_cmd = self.start_cli("peer", verb, "--fingerprint", fp)
                self.knock_as_unknown_site(daemon.federation_port(), it)
                time.sleep(rng.uniform(0.0, 0.3))
                daemon.proc.kill()  # SIGKILL
                victim = users[rng.randrange(len(users))] if it % 2 else None
                if victim is not None:
                    victim.kill()  # a writer dies mid-command too
                for n, p in enumerate(users):
                    _, err = p.communicate(timeout=60)
                    if p.returncode == 0:
                        committed_users.add(f"u{it}x{n}@alpha.example")
                    elif p is not victim:
                        self.fail(f"user add failed without being killed: {err}")
                _, err = peer_cmd.communicate(timeout=60)
                self.assertEqual(peer_cmd.returncode, 0, err)
                peer_state[fp] = "trusted" if verb == "trust" else "revoked"
                daemon.proc.wait(timeout=20)
                self.assertEqual(daemon.proc.returncode, -9)
                daemon.kill()
                self.integrity()

        # Every change a command reported is there.
        users = {u["aor"] for u in json.loads(self.sipsite("user", "list", "--json").out)}
        self.assertLessEqual(committed_users, users)
        listed = {p["fingerprint"]: p["state"] for p in json.loads(self.sipsite("peer", "list", "--json").out)}
        for fp, state in peer_state.items():
            self.assertEqual(listed.get(fp), state, listed)

        # And a clean stop after all that: SIGTERM, exit 0, "stopped".
        daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(daemon.kill)
        daemon.wait_for("ready", timeout=30)
        self.assertEqual(daemon.stop(), 0, daemon.output())
        self.assertIn("stopped", daemon.output())
        self.integrity()


if __name__ == "__main__":
    unittest.main()
