"""Federation at a small scale (issue 18), with the fedload harness: 200
peer sites trusted in one bulk import, 50 mutual-TLS links up with SIP on
some of them, one peer revoked by the CLI under load (its link closes, the
others are untouched, no request is lost), and the change applied without a
full reload (the daemon's log says which). Then the console's peer list at
that size: pagination, search and counts, exact; bulk revoke by the CLI and
the API. Timing is never asserted: the figures at 10,000 peers and 1,000
links come from tests/bench/federation_scale.sh."""
import json
import os
import re
import shlex
import socket
import subprocess
import time
import unittest

import console_api_test as capi
from harness import SIPSITE, Daemon, SiteTestCase

FEDLOAD = os.environ.get("FEDLOAD_BIN", "fedload")
PEERS = 200
LINKS = 50


def result_fields(out):
    line = [l for l in out.splitlines() if l.startswith("RESULT ")][-1]
    return dict(kv.split("=", 1) for kv in line.split()[1:])


class FederationScaleTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init = self.init_site()
        self.ids = self.path("ids")
        os.makedirs(self.ids)
        subprocess.run([FEDLOAD, "make", "--count", str(PEERS), "--out", self.ids], check=True,
                       capture_output=True, timeout=120)
        with open(os.path.join(self.ids, "bundle.pem")) as f:
            pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", f.read(), re.S)
        self.assertEqual(len(pems), PEERS)
        self.fingerprints = [self.fingerprint_of(pem) for pem in pems[:20]]

    def console(self, daemon):
        """The admin's console session, past the one-time password."""
        c = capi.Console(daemon.admin_port())
        self.addCleanup(c.close)
        self.assertEqual(c.login(self.init["admin password"]).status, 200)
        r = c.request("PUT", "/api/v1/session/password", {"current": self.init["admin password"],
                                                            "new": capi.NEW_PASSWORD})
        self.assertEqual(r.status, 200, r)
        return c

    def fingerprint_of(self, pem):
        out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=pem,
                             capture_output=True, text=True, check=True).stdout
        return out.strip().split("=", 1)[1]

    def test_bulk_trust_links_revocation_under_load_and_search(self):
        imported = self.sipsite("peer", "import", "--bundle", os.path.join(self.ids, "bundle.pem"), "--trust")
        self.assertOk(imported)
        self.assertEqual(len(imported.out.splitlines()), PEERS)
        self.assertIn(f"imported {PEERS} peer(s), trusted", imported.err)

        daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(daemon.kill)
        daemon.wait_for(rf"state loaded: 0 users, {PEERS} peers \({PEERS} trusted\)", timeout=30)
        port = daemon.federation_port()

        # 50 links, OPTIONS and MESSAGE over 10 of them; link 0's peer is
        # revoked by the CLI two seconds in.
        revoke = (f"{shlex.quote(SIPSITE)} peer revoke --fingerprint {self.fingerprints[0]} "
                  f"--state-dir {shlex.quote(self.path('site'))}")
        run = subprocess.run([FEDLOAD, "links", "--dir", self.ids, "--target", f"127.0.0.1:{port}",
                              "--site-domain", "alpha.example", "--links", str(LINKS), "--sip-links", "10",
                              "--rate", "40", "--message-every", "5", "--duration", "6", "--keepalive", "2",
                              "--settle", "0.5", "--event-at", "2", "--event-cmd", revoke, "--expect-closed", "0"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        r = result_fields(run.stdout)
        self.assertEqual(int(r["links_up"]), LINKS, run.stdout + run.stderr)
        self.assertEqual(int(r["event_rc"]), 0, run.stdout)
        self.assertEqual(int(r["revoke_closed"]), 1, run.stdout)   # the revoked peer's link closed...
        self.assertEqual(int(r["collateral"]), 0, run.stdout)      # ...and no other
        self.assertGreater(int(r["sent"]), 0, run.stdout)
        self.assertEqual(int(r["lost"]), 0, run.stdout)            # every request answered
        self.assertEqual(int(r["answered"]), int(r["sent"]), run.stdout)
        # OPTIONS to the site: 200; MESSAGE to an unknown user: 404. Nothing else.
        statuses = set(re.findall(r"status (\d+):", run.stdout))
        self.assertLessEqual(statuses, {"200", "404"}, run.stdout)

        log = daemon.wait_for(rf"state now: 0 users, {PEERS} peers \({PEERS - 1} trusted\)", timeout=10)
        self.assertIn("1 change(s) applied incrementally", log)
        self.assertEqual(log.count("state loaded"), 1, log)  # at start-up only: no full reload
        self.assertRegex(log, r"peer p00000\.fed\.test no longer trusted: closed 1 connection\(s\)")

        # Bulk revoke by the CLI: 10 from a file, one transaction.
        fps = self.write("revoke.txt", "# ten at once\n" + "\n".join(self.fingerprints[1:11]) + "\n")
        bulk = self.sipsite("peer", "revoke", "--file", fps)
        self.assertOk(bulk)
        self.assertIn("revoked 10 peer(s)", bulk.err)
        log = daemon.wait_for(rf"state now: 0 users, {PEERS} peers \({PEERS - 11} trusted\)", timeout=10)
        self.assertEqual(log.count("state loaded"), 1, log)
        # An unknown fingerprint in the list: nothing revoked, exit 1.
        stranger = "AB:" * 31 + "AB"
        self.assertFails(self.sipsite("peer", "revoke", "--fingerprint", self.fingerprints[12],
                                      "--fingerprint", stranger), 1, "nothing was revoked")

        # The console's list at that size.
        c = self.console(daemon)
        page = c.get("/api/v1/peers?limit=20").json()
        self.assertEqual(page["total"], PEERS)
        self.assertEqual(len(page["items"]), 20)
        self.assertEqual(page["counts"], {"all": PEERS, "trusted": PEERS - 11, "untrusted": 0, "revoked": 11})
        last = c.get("/api/v1/peers?offset=190&limit=20").json()
        self.assertEqual(len(last["items"]), 10)
        revoked = c.get("/api/v1/peers?state=revoked&limit=100").json()
        self.assertEqual(revoked["total"], 11)
        self.assertEqual(sorted(p["fingerprint"] for p in revoked["items"]), sorted(self.fingerprints[:11]))
        # q: any part of a domain (p00010 .. p00019), or a fingerprint prefix.
        found = c.get("/api/v1/peers?q=P0001&limit=100").json()
        self.assertEqual(sorted(p["domain"] for p in found["items"]),
                         [f"p{i:05d}.fed.test" for i in range(10, 20)])
        prefix = self.fingerprints[15][:11]  # "AB:CD:EF:12"
        by_fp = c.get("/api/v1/peers?q=" + prefix.replace(":", "").lower() + "&limit=100").json()
        self.assertIn(self.fingerprints[15], [p["fingerprint"] for p in by_fp["items"]])
        self.assertTrue(all(p["fingerprint"].startswith(prefix) for p in by_fp["items"]))
        self.assertEqual(c.get("/api/v1/peers?state=lost").status, 400)

        # Bulk revoke by the API.
        r = c.post("/api/v1/peers/bulk", {"action": "revoke", "fingerprints": self.fingerprints[11:13]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"revoked": 2, "already_revoked": 0})
        r = c.post("/api/v1/peers/bulk", {"action": "import", "pem": "not a certificate"})
        self.assertEqual(r.status, 400, r)
        daemon.wait_for(rf"state now: 0 users, {PEERS} peers \({PEERS - 13} trusted\)", timeout=10)
        self.assertEqual(daemon.stop(), 0)

    def test_the_site_dials_peers_given_addresses_and_redials_them_all_after_an_outage(self):
        # 20 of the 200 trusted sites get an address (`peer trust --address`,
        # as ADMIN.md tells the admin of a bundle), the last one while the
        # daemon runs; fedload plays them, each on its own loopback address,
        # then drops them all for 3 s (every dial refused) and takes them back.
        dialled = 20
        self.assertOk(self.sipsite("peer", "import", "--bundle", os.path.join(self.ids, "bundle.pem"), "--trust"))
        probe = socket.socket()
        probe.bind(("127.3.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        for i in range(dialled - 1):
            trusted = self.sipsite("peer", "trust", "--fingerprint", self.fingerprints[i],
                                   "--address", f"127.3.0.{i + 1}:{port}")
            self.assertOk(trusted)
            self.assertIn(f"is trusted, dialled at 127.3.0.{i + 1}:{port}", trusted.err)
        listen = subprocess.Popen([FEDLOAD, "listen", "--dir", self.ids, "--links", str(dialled), "--port", str(port),
                                   "--connect-timeout", "60", "--settle", "1", "--outage", "3",
                                   "--reconnect-timeout", "90"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.addCleanup(lambda: listen.poll() is None and listen.kill())
        self.assertTrue(listen.stdout.readline().startswith("listening"))
        daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(daemon.kill)
        daemon.wait_for(r"state loaded", timeout=30)
        last = self.sipsite("peer", "trust", "--fingerprint", self.fingerprints[dialled - 1],
                            "--address", f"127.3.0.{dialled}:{port}")
        self.assertOk(last)  # applied by the running daemon: it dials that one too
        out, err = listen.communicate(timeout=240)
        self.assertEqual(listen.returncode, 0, err)
        r = result_fields(out)
        self.assertEqual(int(r["connected"]), dialled, out + err)
        self.assertEqual(int(r["failed_handshakes"]), 0, out)
        # Each site was dialled again during the outage (backoff from 1 s),
        # and every one is connected again after it.
        self.assertGreaterEqual(int(r["outage_dials"]), dialled, out)
        self.assertEqual(int(r["reconnected"]), dialled, out + err)
        self.assertEqual(daemon.stop(), 0)

    def test_a_scan_by_many_unknown_certificates_is_counted_exactly_and_written_sparingly(self):
        # 120 certificates the site does not know, 240 handshakes from 120
        # source addresses: a scan. The pending list is written at most 30
        # times a minute; the console's summary counts every handshake.
        identities, handshakes = 120, 240
        daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(daemon.kill)
        daemon.wait_for(r"state loaded", timeout=30)
        scan = subprocess.run([FEDLOAD, "handshakes", "--dir", self.ids, "--target",
                               f"127.0.0.1:{daemon.federation_port()}", "--identities", str(identities),
                               "--count", str(handshakes), "--sources", str(identities), "--concurrency", "2",
                               "--seconds", "120"], capture_output=True, text=True, timeout=180)
        self.assertEqual(scan.returncode, 0, scan.stderr)
        r = result_fields(scan.stdout)
        self.assertEqual(int(r["handshakes"]) + int(r["failed"]), handshakes, scan.stdout)

        c = self.console(daemon)
        pending = None
        for _ in range(60):  # the last refusals may still be on their way: 30 s at most
            pending = c.get("/api/v1/peers/pending?limit=500").json()
            if pending["since_start"]["handshakes"] >= handshakes:
                break
            time.sleep(0.5)
        s = pending["since_start"]
        self.assertEqual(s["handshakes"], handshakes, s)  # every one counted, none twice
        self.assertEqual(s["new_requests"] + s["repeats"] + s["ignored"] + s["not_recorded"], handshakes, s)
        # Written sparingly: 30 a minute in all (the scan takes well under
        # two minutes: at most two windows), never twice a minute for one
        # certificate.
        self.assertGreater(s["new_requests"], 0, s)
        self.assertLessEqual(s["new_requests"] + s["repeats"], 60, s)
        self.assertEqual(s["repeats"], 0, s)
        self.assertEqual(s["ignored"], 0, s)
        self.assertGreaterEqual(s["not_recorded"], handshakes - 60, s)
        # The list holds exactly the requests written (100 fit: none dropped).
        self.assertEqual(s["dropped"], 0, s)
        self.assertEqual(pending["counts"]["all"], s["new_requests"], pending["counts"])
        self.assertEqual(len(pending["items"]), s["new_requests"])
        self.assertTrue(all(p["attempts"] == 1 for p in pending["items"]), pending["items"][:3])
        # The same counts in /metrics.
        m = c.get("/metrics").data.decode()
        for outcome, key in (("new_request", "new_requests"), ("repeat", "repeats"), ("ignored", "ignored"),
                             ("not_recorded", "not_recorded")):
            self.assertIn(f'sipsite_federation_unknown_handshakes_total{{outcome="{outcome}"}} {s[key]}\n', m)
        self.assertIn("sipsite_federation_pending_dropped_total 0\n", m)
        self.assertEqual(daemon.stop(), 0)


if __name__ == "__main__":
    unittest.main()
