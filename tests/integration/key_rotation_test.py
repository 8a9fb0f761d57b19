"""`sipsite rotate-key` on a running site: trusted peers follow without
their admins. Three real daemons on loopback: alpha trusts beta and gamma,
and they trust alpha. gamma is stopped; alpha rotates its key while running;
beta, connected, re-links and pins the new certificate beside the old one;
gamma, started later, learns it on its first connection, and (with a short
overlap configured) drops the old pin later. A MESSAGE from beta to alpha
still goes through. A fourth party, "mallory", with a certificate for
alpha.example and a forged proof (signed by another key) is refused at beta
and shows up there as a pending request, never as trusted.
"""
import hashlib
import json
import os
import secrets
import subprocess
import time
import unittest

from federation_calls_test import Phone
from harness import Daemon, SiteTestCase, openssl, sqlcipher_query
from sip_client import header

# pki/include/sipsite/pki/rotation_proof.hpp
PROOF_OID = "2.25.20263034603822697032056329724320478717"


def site_config(path, extra_federation=""):
    with open(path, "w") as f:
        f.write('[federation]\nlisten = "127.0.0.1:0"\n' + extra_federation +
                '[sip]\nudp = ["127.0.0.1:0"]\ntcp = ["127.0.0.1:0"]\ntls = ["127.0.0.1:0"]\n'
                '[admin]\nlisten = "127.0.0.1:0"\n')
    return path


class KeyRotationTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.daemons = {}
        self.fed = {}
        self.configs = {
            "alpha": site_config(self.path("alpha.toml")),
            "beta": site_config(self.path("beta.toml")),
            # gamma drops old pins 3 s after a rotation (the default is 14 days).
            "gamma": site_config(self.path("gamma.toml"), "rotation_overlap_seconds = 3\n"),
        }
        for name in ("alpha", "beta", "gamma"):
            self.init_site(f"{name}.example", state=name)
        for name, user in (("alpha", "alice"), ("beta", "bob")):
            self.assertOk(self.sipsite("user", "add", "--aor", f"{user}@{name}.example", "--password-stdin",
                                       stdin=f"{user}-password\n", state=name))
        for name in ("alpha", "beta", "gamma"):
            self.start(name)
        for me, other in (("alpha", "beta"), ("beta", "alpha"), ("alpha", "gamma"), ("gamma", "alpha")):
            self.trust(me, other)
        for me, other in (("alpha", "beta"), ("beta", "alpha"), ("alpha", "gamma"), ("gamma", "alpha")):
            self.daemons[me].wait_for(rf"link to {other}\.example: connected", timeout=30)

    def start(self, name):
        d = Daemon(["--state-dir", self.path(name), "--config", self.configs[name]])
        self.addCleanup(d.kill)
        self.daemons[name] = d
        # A restarted gamma listens on another port than alpha has stored:
        # it reaches alpha by dialling it, which is all it needs here.
        self.fed[name] = d.federation_port()
        return d

    def trust(self, me, other):
        pem = self.write(f"{other}-for-{me}.pem", self.sipsite("cert", state=other).out)
        self.assertOk(self.sipsite("peer", "import", "--file", pem, "--address", f"127.0.0.1:{self.fed[other]}",
                                   state=me))
        self.assertOk(self.sipsite("peer", "trust", "--domain", f"{other}.example", state=me))

    def fingerprint(self, site):
        r = self.sipsite("fingerprint", state=site)
        self.assertOk(r)
        return r.out.strip()

    def peers(self, site):
        r = self.sipsite("peer", "list", "--json", state=site)
        self.assertOk(r)
        return json.loads(r.out)

    def wait_for_peers(self, site, predicate, what, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            peers = self.peers(site)
            if predicate(peers):
                return peers
            time.sleep(0.1)
        self.fail(f"{site}: {what} never happened; peers: {json.dumps(self.peers(site), indent=1)}")

    @staticmethod
    def entry(peers, fp):
        return next((p for p in peers if p["fingerprint"] == fp), None)

    def audit(self, site):
        with open(self.path(site, "db.key")) as f:
            key = f.read().strip()
        q = sqlcipher_query(self.path(site, "sipsite.db"), key, "SELECT action, detail FROM audit_log ORDER BY id;")
        self.assertEqual(q.returncode, 0, q.stderr)
        return q.stdout

    def phone(self, site, user):
        port = self.daemons[site].sip_ports()["udp"]
        p = Phone("udp", port, user=user, domain=f"{site}.example", password=f"{user}-password")
        self.addCleanup(p.close)
        status, _, _ = p.register()
        self.assertEqual(status, 200)
        return p

    def message(self, sender, receiver, other):
        call_id = f"msg-{secrets.token_hex(4)}@127.0.0.1"
        to = f"sip:{receiver.user}@{other}.example"
        sender.authenticated("MESSAGE", to, f"<{to}>", call_id, "msgtag", extra="Content-Type: text/plain\r\n",
                             body="after the rotation")
        _, _, body, raw = receiver.expect("MESSAGE")
        self.assertEqual(body, "after the rotation")
        receiver.respond(raw, 200, "OK", to_tag="rcpt", contact=False)
        _, ok_h, _, _ = sender.expect("200")
        self.assertEqual(header(ok_h, "call-id")[0], call_id)

    def forged_certificate(self, old_fp):
        """mallory's certificate for alpha.example with a proof naming alpha's
        pinned fingerprint, made like sipsite makes one but signed by a key
        that is not alpha's."""
        d = self.path("mallory")
        os.makedirs(d)
        for name in ("mallory.key", "forger.key"):
            r = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-out", os.path.join(d, name))
            self.assertEqual(r.returncode, 0, r.stderr)
        spki = subprocess.run(["openssl", "pkey", "-in", os.path.join(d, "mallory.key"), "-pubout", "-outform", "DER"],
                              capture_output=True, check=True, timeout=60).stdout
        signed_at = int(time.time())
        message = (f"sipsite-key-rotation-v1\nalpha.example\n{old_fp}\n{hashlib.sha256(spki).hexdigest()}\n"
                   f"{signed_at}").encode()
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(d, "forger.key")],
                                   input=message, capture_output=True, check=True, timeout=60).stdout
        payload = (b"\x01" + bytes.fromhex(old_fp.replace(":", "")) + signed_at.to_bytes(8, "big") +
                   len(signature).to_bytes(2, "big") + signature)
        self.assertLess(len(payload), 128)
        value = b"\x04" + bytes([len(payload)]) + payload
        cert = os.path.join(d, "mallory.pem")
        r = openssl("req", "-x509", "-new", "-key", os.path.join(d, "mallory.key"), "-out", cert, "-days", "30",
                    "-subj", "/CN=alpha.example", "-addext", "subjectAltName=DNS:alpha.example",
                    "-addext", "basicConstraints=critical,CA:FALSE",
                    "-addext", f"{PROOF_OID}=DER:{value.hex()}")
        self.assertEqual(r.returncode, 0, r.stderr)
        fp = openssl("x509", "-in", cert, "-noout", "-fingerprint", "-sha256").stdout.strip().split("=", 1)[1]
        return cert, os.path.join(d, "mallory.key"), fp

    def test_connected_and_offline_peers_follow_a_rotation(self):
        alpha, beta = self.daemons["alpha"], self.daemons["beta"]
        old_fp = self.fingerprint("alpha")
        self.assertIsNotNone(self.entry(self.peers("beta"), old_fp))
        self.assertEqual(self.daemons["gamma"].stop(), 0)

        r = self.sipsite("rotate-key", state="alpha")
        self.assertOk(r)
        new_fp = r.out.strip()
        self.assertNotEqual(new_fp, old_fp)
        self.assertIn("peers follow automatically", r.err)
        self.assertEqual(self.fingerprint("alpha"), new_fp)
        self.assertIn(f"fp={new_fp}", self.sipsite("invite", state="alpha").out)
        alpha.wait_for(r"site key rotated: federation now presents " + new_fp, timeout=10)

        # beta was connected: alpha's re-established link told it.
        peers = self.wait_for_peers("beta", lambda ps: (self.entry(ps, new_fp) or {}).get("state") == "trusted",
                                    "pinning alpha's new certificate")
        old = self.entry(peers, old_fp)
        self.assertIsNotNone(old, "the old pin stays for the overlap")
        self.assertEqual(old["superseded_by"], new_fp)
        self.assertEqual(self.entry(peers, new_fp)["domain"], "alpha.example")
        self.assertEqual(self.entry(peers, new_fp)["address"], f"127.0.0.1:{self.fed['alpha']}")
        beta.wait_for(r"peer alpha\.example rotated its key", timeout=10)
        beta.wait_for(r"link to alpha\.example: connected", count=2, timeout=30)
        alpha.wait_for(r"link to beta\.example: connected", count=2, timeout=30)

        # Calls and messages still cross: bob at beta to alice at alpha.
        alice, bob = self.phone("alpha", "alice"), self.phone("beta", "bob")
        self.message(bob, alice, "alpha")
        self.message(alice, bob, "beta")

        # gamma was offline: it learns on its next connection.
        gamma = self.start("gamma")
        gamma.wait_for(r"link to alpha\.example: connected", timeout=30)
        gamma.wait_for(r"peer alpha\.example rotated its key", timeout=30)
        peers = self.peers("gamma")
        self.assertEqual((self.entry(peers, new_fp) or {}).get("state"), "trusted")
        # gamma's overlap is 3 s: then the old pin goes, audited.
        self.wait_for_peers("gamma", lambda ps: self.entry(ps, old_fp) is None, "expiry of the old pin")
        gamma.wait_for(r"old pin of alpha\.example expired", timeout=10)
        self.assertEqual((self.entry(self.peers("gamma"), new_fp) or {}).get("state"), "trusted")
        audit = self.audit("gamma")
        self.assertIn(f"peer.rotated|alpha.example {old_fp} -> {new_fp}", audit)
        self.assertIn(f"peer.pin_expired|alpha.example {old_fp} (replaced by {new_fp})", audit)
        self.assertIn(f"site.rotate_key|{old_fp} -> {new_fp}", self.audit("alpha"))
        # beta's overlap (14 days) is still running.
        self.assertIsNotNone(self.entry(self.peers("beta"), old_fp))
        # Nobody asked an admin: the new key never became a pending request.
        # (The old one may have, from the pairing: alpha dialled before it
        # was trusted there.)
        for site in ("beta", "gamma"):
            pending = json.loads(self.sipsite("peer", "pending", "--json", state=site).out)
            self.assertNotIn(new_fp, [p["fingerprint"] for p in pending], f"{site}:\n{self.daemons[site].output()}")

        # Revoking stays manual, and revoking the old key revokes the site.
        r = self.sipsite("peer", "revoke", "--fingerprint", old_fp, state="beta")
        self.assertOk(r)
        self.assertIn("revoking alpha.example", r.err)
        peers = self.peers("beta")
        self.assertEqual(self.entry(peers, new_fp)["state"], "revoked")
        self.assertIsNone(self.entry(peers, old_fp))
        beta.wait_for(r"peer alpha\.example no longer trusted", timeout=10)

    def test_forged_rotation_is_refused_and_pending(self):
        beta = self.daemons["beta"]
        old_fp = self.fingerprint("alpha")
        cert, key, mallory_fp = self.forged_certificate(old_fp)
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.fed['beta']}", "-tls1_3",
                            "-cert", cert, "-key", key, "-servername", "beta.example"],
                           input="", capture_output=True, text=True, timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pending = json.loads(self.sipsite("peer", "pending", "--json", state="beta").out)
            if any(p["fingerprint"] == mallory_fp for p in pending):
                break
            time.sleep(0.1)
        else:
            self.fail(f"mallory's handshake never became a pending request at beta:\n{r.stderr}\n{beta.output()}")
        request = next(p for p in pending if p["fingerprint"] == mallory_fp)
        self.assertEqual(request["claimed_domain"], "alpha.example")
        peers = self.peers("beta")
        self.assertIsNone(self.entry(peers, mallory_fp))
        self.assertEqual([p["fingerprint"] for p in peers if p["domain"] == "alpha.example"], [old_fp])
        self.assertNotIn("rotated its key", beta.output())

    def test_rotate_key_usage_errors(self):
        r = self.sipsite("rotate-key", "--validity-days", "0", state="alpha")
        self.assertFails(r, 2, "--validity-days")
        r = self.sipsite("rotate-key", state="nowhere")
        self.assertFails(r, 1, "no site")
        self.assertOk(self.sipsite("rotate-key", state="beta"))
        # A second rotation within a day would strand peers that have not
        # reconnected since the first: refused unless forced.
        r = self.sipsite("rotate-key", state="beta")
        self.assertFails(r, 1, "less than a day ago")
        self.assertOk(self.sipsite("rotate-key", "--force", state="beta"))


if __name__ == "__main__":
    unittest.main()
