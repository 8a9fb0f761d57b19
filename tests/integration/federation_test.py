"""Two real daemons on loopback pairing through the documented flow:
invite, pending request, trust; pinned handshakes accepted, everything else
refused; revocation closes the live connection."""
import json
import os
import subprocess
import time
import unittest

from harness import Daemon, SiteTestCase, sqlcipher_query


class FederationTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.alpha = self.init_site("alpha.example", state="alpha")
        self.beta = self.init_site("beta.example", state="beta")
        self.alpha_daemon = Daemon(["--state-dir", self.path("alpha")])
        self.addCleanup(self.alpha_daemon.kill)
        self.port = self.alpha_daemon.federation_port()
        self.invite = (f"sipsite:invite?v=1&domain=alpha.example&address=127.0.0.1:{self.port}"
                       f"&fp={self.alpha['fingerprint']}")

    def pending(self):
        return json.loads(self.sipsite("peer", "pending", "--json", state="alpha").out)

    def wait_pending(self, fingerprint, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p["fingerprint"] == fingerprint for p in self.pending()):
                return
            time.sleep(0.1)
        self.fail(f"{fingerprint} never became pending: {self.pending()}")

    def site_identity(self, state):
        """The site's certificate and private key, read from its encrypted DB
        (to drive a raw TLS client as that site)."""
        with open(self.path(state, "db.key")) as f:
            key = f.read().strip()
        out = sqlcipher_query(self.path(state, "sipsite.db"), key,
                              "SELECT certificate_pem FROM site; SELECT private_key_pem FROM site;").stdout
        cert = out[out.index("-----BEGIN CERTIFICATE"):out.index("-----END CERTIFICATE-----") + 25]
        pkey = out[out.index("-----BEGIN PRIVATE KEY"):out.index("-----END PRIVATE KEY-----") + 25]
        return self.write(f"{state}-cert.pem", cert + "\n"), self.write(f"{state}-key.pem", pkey + "\n", mode=0o600)

    def tls_client(self, state, *extra):
        cert, key = self.site_identity(state)
        proc = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{self.port}", "-cert", cert,
                                 "-key", key, "-quiet", *extra], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        def cleanup():
            proc.kill()
            proc.wait(timeout=10)
            proc.stdin.close()
        self.addCleanup(cleanup)
        return proc

    def test_pairing_through_invite_pending_and_trust(self):
        r = self.sipsite("peer", "add", "--invite", self.invite, state="beta")
        self.assertOk(r)
        self.assertEqual(r.out.strip(), self.alpha["fingerprint"])
        [alpha_row] = json.loads(self.sipsite("peer", "list", "--json", state="beta").out)
        self.assertEqual((alpha_row["domain"], alpha_row["state"], alpha_row["address"]),
                         ("alpha.example", "trusted", f"127.0.0.1:{self.port}"))
        # Trust is mutual: alpha saw beta's attempt as a pending request.
        self.wait_pending(self.beta["fingerprint"])
        [request] = self.pending()
        self.assertEqual(request["claimed_domain"], "beta.example")
        self.assertEqual(request["pairing_code"], alpha_row["pairing_code"])
        self.assertOk(self.sipsite("peer", "trust", "--fingerprint", self.beta["fingerprint"], state="alpha"))
        self.assertEqual(self.pending(), [])
        [beta_row] = json.loads(self.sipsite("peer", "list", "--json", state="alpha").out)
        self.assertEqual((beta_row["domain"], beta_row["state"]), ("beta.example", "trusted"))

    def test_pinned_peer_connects_and_revocation_closes_it(self):
        self.assertOk(self.sipsite("peer", "import", "--file", self.write("b.pem", self.sipsite("cert", state="beta").out),
                                   state="alpha"))
        self.assertOk(self.sipsite("peer", "trust", "--domain", "beta.example", state="alpha"))
        self.alpha_daemon.wait_for(r"1 peers \(1 trusted\)")
        client = self.tls_client("beta")
        self.alpha_daemon.wait_for(r"peer beta\.example connected from 127\.0\.0\.1")
        self.assertOk(self.sipsite("peer", "revoke", "--domain", "beta.example", state="alpha"))
        self.alpha_daemon.wait_for(r"peer beta\.example no longer trusted: closed 1 connection", timeout=5)
        self.assertIsNotNone(client.wait(timeout=10))

    def test_unknown_site_is_refused_and_recorded_once(self):
        self.tls_client("beta")
        self.wait_pending(self.beta["fingerprint"])
        self.assertIn("pending request from 127.0.0.1", self.alpha_daemon.output())
        self.assertNotIn("peer beta.example connected", self.alpha_daemon.output())
        self.assertOk(self.sipsite("peer", "ignore", "--fingerprint", self.beta["fingerprint"], state="alpha"))
        self.assertEqual(self.pending(), [])

    def test_a_second_key_for_a_trusted_domain_is_flagged_as_an_impostor(self):
        self.assertOk(self.sipsite("peer", "import", "--file", self.write("b.pem", self.sipsite("cert", state="beta").out),
                                   state="alpha"))
        self.assertOk(self.sipsite("peer", "trust", "--domain", "beta.example", state="alpha"))
        self.alpha_daemon.wait_for(r"1 peers \(1 trusted\)")
        # mallory made herself a site called beta.example, with her own key.
        mallory = self.init_site("beta.example", state="mallory")
        self.tls_client("mallory")
        self.wait_pending(mallory["fingerprint"])
        [request] = self.pending()
        self.assertEqual((request["claimed_domain"], request["impostor"]), ("beta.example", True))
        table = self.sipsite("peer", "pending", state="alpha").out
        self.assertIn("IMPOSTOR?", table)
        self.tls_client("beta")  # the real beta, trusted: it connects and adds nothing pending
        self.assertEqual([p["fingerprint"] for p in self.pending()], [mallory["fingerprint"]])

    def test_invite_with_the_wrong_fingerprint_stores_nothing(self):
        wrong = self.invite.replace(self.alpha["fingerprint"], self.beta["fingerprint"])
        r = self.sipsite("peer", "add", "--invite", wrong, state="beta")
        self.assertFails(r, 1, "fingerprint mismatch", self.alpha["fingerprint"], self.beta["fingerprint"])
        self.assertEqual(json.loads(self.sipsite("peer", "list", "--json", state="beta").out), [])

    def test_bad_invites_and_unreachable_sites(self):
        self.assertFails(self.sipsite("peer", "add", "--invite", "hello", state="beta"), 2, "invalid invite")
        closed = self.invite.replace(f"127.0.0.1:{self.port}", "127.0.0.1:9")
        self.assertFails(self.sipsite("peer", "add", "--invite", closed, state="beta"), 1, "no certificate received",
                         "127.0.0.1:9", "site.public_address")

    def test_ignore_and_trust_of_unknown_fingerprints(self):
        unknown = "AB:" * 31 + "AB"
        self.assertFails(self.sipsite("peer", "ignore", "--fingerprint", unknown, state="alpha"), 1, "no pending request")
        self.assertFails(self.sipsite("peer", "ignore", "--fingerprint", "zz", state="alpha"), 2)
        self.assertFails(self.sipsite("peer", "trust", "--fingerprint", unknown, state="alpha"), 1, "no peer")


if __name__ == "__main__":
    unittest.main()


class TwoRunningSitesTest(SiteTestCase):
    """Both daemons running, each trusting the other with its address: the
    links come up by themselves, and revocation shows on the other side."""

    def test_links_come_up_and_revocation_is_visible_to_the_revoked_site(self):
        sites = {}
        for name in ("alpha", "beta"):
            self.init_site(f"{name}.example", state=name)
            d = Daemon(["--state-dir", self.path(name)])
            self.addCleanup(d.kill)
            sites[name] = d
        ports = {name: d.federation_port() for name, d in sites.items()}
        for me, other in (("alpha", "beta"), ("beta", "alpha")):
            pem = self.write(f"{other}.pem", self.sipsite("cert", state=other).out)
            self.assertOk(self.sipsite("peer", "import", "--file", pem, "--address", f"127.0.0.1:{ports[other]}",
                                       state=me))
            self.assertOk(self.sipsite("peer", "trust", "--domain", f"{other}.example", state=me))
        sites["alpha"].wait_for(r"link to beta\.example: connected", timeout=15)
        sites["beta"].wait_for(r"link to alpha\.example: connected", timeout=15)

        self.assertOk(self.sipsite("peer", "revoke", "--domain", "beta.example", state="alpha"))
        sites["beta"].wait_for(r"link to alpha\.example: refused by peer", timeout=15)
        for d in sites.values():
            self.assertEqual(d.stop(), 0)
