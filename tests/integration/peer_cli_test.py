"""sipsite peer import | trust | revoke | list."""
import json
import os
import unittest

from harness import FINGERPRINT_RE, SiteTestCase, make_cert_with_dates, openssl


class PeerTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.alpha = self.init_site("alpha.example", state="alpha")
        self.beta = self.init_site("beta.example", state="beta")
        self.beta_pem = self.write("beta.pem", self.sipsite("cert", state="beta").out)

    def alpha_cmd(self, *args, **kw):
        return self.sipsite(*args, state="alpha", **kw)

    def import_beta(self, *extra):
        return self.alpha_cmd("peer", "import", "--file", self.beta_pem, *extra)

    def peers(self):
        return json.loads(self.alpha_cmd("peer", "list", "--json").out)

    def test_import_prints_the_fingerprint_and_stores_untrusted(self):
        r = self.import_beta("--address", "127.0.0.1:5062")
        self.assertOk(r)
        self.assertEqual(r.out.strip(), self.beta["fingerprint"])
        self.assertRegex(r.out.strip(), FINGERPRINT_RE)
        self.assertIn("pairing code", r.err)
        [peer] = self.peers()
        self.assertEqual(peer["domain"], "beta.example")
        self.assertEqual(peer["state"], "untrusted")
        self.assertEqual(peer["address"], "127.0.0.1:5062")
        self.assertEqual(peer["fingerprint"], self.beta["fingerprint"])

    def test_pairing_code_is_the_same_on_both_sides(self):
        self.assertOk(self.import_beta())
        alpha_pem = self.write("alpha.pem", self.sipsite("cert", state="alpha").out)
        self.assertOk(self.sipsite("peer", "import", "--file", alpha_pem, state="beta"))
        on_alpha = self.peers()[0]["pairing_code"]
        on_beta = json.loads(self.sipsite("peer", "list", "--json", state="beta").out)[0]["pairing_code"]
        self.assertRegex(on_alpha, r"^\d{4} \d{4} \d{4}$")
        self.assertEqual(on_alpha, on_beta)

    def test_trust_and_revoke_by_fingerprint_and_domain(self):
        self.assertOk(self.import_beta())
        self.assertOk(self.alpha_cmd("peer", "trust", "--fingerprint", self.beta["fingerprint"].lower()))
        self.assertEqual(self.peers()[0]["state"], "trusted")
        self.assertOk(self.alpha_cmd("peer", "revoke", "--domain", "BETA.example"))
        self.assertEqual(self.peers()[0]["state"], "revoked")
        self.assertOk(self.alpha_cmd("peer", "trust", "--domain", "beta.example"))
        self.assertEqual(self.peers()[0]["state"], "trusted")
        table = self.alpha_cmd("peer", "list").out
        self.assertIn("beta.example", table)
        self.assertIn("trusted", table)

    def test_trust_unknown_fingerprint_fails_and_changes_nothing(self):
        self.assertOk(self.import_beta())
        before = self.snapshot(state="alpha")
        unknown = "AA:" * 31 + "AA"
        self.assertFails(self.alpha_cmd("peer", "trust", "--fingerprint", unknown), 1, "no peer with fingerprint")
        self.assertFails(self.alpha_cmd("peer", "revoke", "--domain", "gamma.example"), 1, "no peer with domain")
        self.assertFails(self.alpha_cmd("peer", "trust", "--fingerprint", "AB:CD"), 2, "fingerprint")
        self.assertFails(self.alpha_cmd("peer", "trust"), 2, "exactly one")
        self.assertEqual(self.snapshot(state="alpha"), before)

    def test_bad_pem_inputs_are_usage_errors_and_change_nothing(self):
        before = self.snapshot(state="alpha")
        garbage = self.write("garbage.pem", "hello, this is not a certificate\n")
        self.assertFails(self.alpha_cmd("peer", "import", "--file", garbage), 2, "no PEM certificate")
        with open(self.beta_pem) as f:
            pem = f.read()
        truncated = self.write("trunc.pem", pem[: len(pem) // 2])
        self.assertFails(self.alpha_cmd("peer", "import", "--file", truncated), 2)
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.path("key.pem"))
        self.assertFails(self.alpha_cmd("peer", "import", "--file", self.path("key.pem")), 2, "private key")
        gamma = self.init_site("gamma.example", state="gamma")
        chain = self.write("chain.pem", pem + self.sipsite("cert", state="gamma").out)
        self.assertFails(self.alpha_cmd("peer", "import", "--file", chain), 2, "2 certificates")
        self.assertFails(self.alpha_cmd("peer", "import", "--file", self.path("missing.pem")), 2, "cannot read")
        big = self.write("big.pem", "A" * 70000)
        self.assertFails(self.alpha_cmd("peer", "import", "--file", big), 2, "64 KiB")
        binary = self.path("bin.pem")
        with open(binary, "wb") as f:
            f.write(bytes(range(256)) * 10)
        self.assertFails(self.alpha_cmd("peer", "import", "--file", binary), 2)
        self.assertEqual(self.snapshot(state="alpha"), before)
        del gamma

    def test_expired_and_not_yet_valid_certificates_are_refused_with_dates(self):
        expired = make_cert_with_dates(self.path("old"), "old.example", "20200101000000Z", "20200201000000Z")
        self.assertFails(self.alpha_cmd("peer", "import", "--file", expired), 2, "expired on 2020-02-01 00:00:00 UTC")
        future = make_cert_with_dates(self.path("new"), "new.example", "20990101000000Z", "20991231000000Z")
        self.assertFails(self.alpha_cmd("peer", "import", "--file", future), 2,
                         "not valid before 2099-01-01 00:00:00 UTC")
        self.assertEqual(self.peers(), [])

    def test_bad_address_is_a_usage_error(self):
        for address in ("nope", "host:0", "host:99999", "::1:5062"):
            self.assertFails(self.import_beta("--address", address), 2, "--address")
        self.assertEqual(self.peers(), [])

    def test_duplicates_and_own_certificate_are_refused(self):
        self.assertOk(self.import_beta())
        self.assertFails(self.import_beta(), 1, "already known")
        own = self.write("own.pem", self.alpha_cmd("cert").out)
        self.assertFails(self.alpha_cmd("peer", "import", "--file", own), 2, "own certificate")
        # Another certificate for an existing peer domain (a key change) is not silently accepted.
        self.init_site("beta.example", state="beta2")
        beta2 = self.write("beta2.pem", self.sipsite("cert", state="beta2").out)
        self.assertFails(self.alpha_cmd("peer", "import", "--file", beta2), 1, "already exists")
        self.assertEqual(len(self.peers()), 1)

    def test_audit_log_records_peer_actions(self):
        from harness import sqlcipher_query
        self.assertOk(self.import_beta())
        self.assertOk(self.alpha_cmd("peer", "trust", "--domain", "beta.example"))
        with open(self.path("alpha", "db.key")) as f:
            key = f.read().strip()
        r = sqlcipher_query(self.path("alpha", "sipsite.db"), key, "SELECT actor, action FROM audit_log ORDER BY id;")
        rows = [line.split("|") for line in r.stdout.split()]
        self.assertEqual([a for _, a in rows], ["site.init", "peer.import", "peer.trust"])
        self.assertTrue(all(actor.startswith("cli:") for actor, _ in rows))

    def test_remove_deletes_only_a_revoked_or_untrusted_peer(self):
        from harness import sqlcipher_query
        fp = self.beta["fingerprint"]
        self.assertOk(self.import_beta())
        self.assertOk(self.alpha_cmd("peer", "trust", "--fingerprint", fp))
        before = self.snapshot(state="alpha")
        self.assertFails(self.alpha_cmd("peer", "remove", "--fingerprint", fp), 1, "beta.example is trusted", "revoke")
        self.assertEqual(self.snapshot(state="alpha"), before)
        self.assertOk(self.alpha_cmd("peer", "revoke", "--fingerprint", fp))
        r = self.alpha_cmd("peer", "remove", "--fingerprint", fp.lower())
        self.assertOk(r)
        self.assertIn("removed beta.example", r.err)
        self.assertEqual(self.peers(), [])
        with open(self.path("alpha", "db.key")) as f:
            key = f.read().strip()
        rows = sqlcipher_query(self.path("alpha", "sipsite.db"), key,
                               "SELECT actor, action, detail FROM audit_log ORDER BY id DESC LIMIT 1;").stdout
        actor, action, detail = rows.strip().split("|")
        self.assertTrue(actor.startswith("cli:"))
        self.assertEqual((action, detail), ("peer.remove", "beta.example " + fp + " (was revoked)"))
        # Gone for good: removing again fails, and the site can be imported anew.
        self.assertFails(self.alpha_cmd("peer", "remove", "--fingerprint", fp), 1, "no peer with fingerprint")
        self.assertOk(self.import_beta())
        self.assertOk(self.alpha_cmd("peer", "remove", "--fingerprint", fp))  # untrusted
        self.assertFails(self.alpha_cmd("peer", "remove", "--fingerprint", "AB:CD"), 2, "--fingerprint")
        self.assertFails(self.alpha_cmd("peer", "remove"), 2, "--fingerprint")


if __name__ == "__main__":
    unittest.main()
