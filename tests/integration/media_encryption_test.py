"""Real softphones encrypting media through two paired sites (issue 14): two
daemons on loopback, trusting each other through the CLI, a baresip phone
at each (Debian's baresip-core, its `srtp` and `dtls_srtp` modules), and
each site's console saying who could hear the call.

- SDES-SRTP (`;mediaenc=srtp` on both phones): each relay ends SRTP on its
  own phone's leg and the relays carry the call as SRTP between them; the
  call connects, audio flows both ways (both phones' RTCP reports packets
  received, which they only count once they decrypt them; each relay
  forwards packets each way and none fails to open), and /api/v1/calls on
  each site says inter_site "srtp", lan "srtp", end_to_end "none", readable
  by this site and the peer site.
- DTLS-SRTP (`;mediaenc=dtls_srtp` on both phones): the phones' handshake
  and SRTP pass through both relays untouched (inside the relays' own SRTP
  between the sites); the call connects, both phones complete DTLS-SRTP
  with the other's fingerprint from the SDP, audio flows both ways, and
  each site says end_to_end "dtls-srtp", readable by no one.
"""
import shutil
import time
import unittest

from baresip import Baresip
from console_api_test import NEW_PASSWORD, Console
from console_pairing_test import CONFIG  # two sites on loopback, every port chosen by the kernel
from harness import Daemon, SiteTestCase


SITES = (("alpha", "alice", (44200, 44299)), ("beta", "bob", (44300, 44399)))


@unittest.skipUnless(shutil.which("baresip"), "cannot run here: baresip-core is not installed (deploy/install-deps.sh installs it)")
class MediaEncryptionTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.daemons, self.consoles, self.fed, self.sip = {}, {}, {}, {}
        passwords = {}
        for name, user, _ in SITES:
            passwords[name] = self.init_site(f"{name}.example", state=name)["admin password"]
            self.assertOk(self.sipsite("user", "add", "--aor", f"{user}@{name}.example", "--password-stdin",
                                       stdin=f"{user}-password\n", state=name))
            d = Daemon(["--state-dir", self.path(name), "--config", self.write(f"{name}.toml", CONFIG)])
            self.addCleanup(d.kill)
            self.daemons[name] = d
            self.fed[name] = d.federation_port()
            self.sip[name] = d.sip_ports()["udp"]
        for me, other in (("alpha", "beta"), ("beta", "alpha")):
            pem = self.write(f"{other}-for-{me}.pem", self.sipsite("cert", state=other).out)
            self.assertOk(self.sipsite("peer", "import", "--file", pem, "--address",
                                       f"127.0.0.1:{self.fed[other]}", state=me))
            self.assertOk(self.sipsite("peer", "trust", "--domain", f"{other}.example", state=me))
        self.daemons["alpha"].wait_for(r"link to beta\.example: connected", timeout=60)
        self.daemons["beta"].wait_for(r"link to alpha\.example: connected", timeout=60)
        for name, _, _ in SITES:
            c = Console(self.daemons[name].admin_port())
            self.addCleanup(c.close)
            self.assertEqual(c.login(passwords[name]).status, 200)
            r = c.request("PUT", "/api/v1/session/password", {"current": passwords[name], "new": NEW_PASSWORD})
            self.assertEqual(r.status, 200, r)
            self.consoles[name] = c

    def phones(self, mediaenc):
        phones = {}
        for name, user, rtp in SITES:
            p = Baresip(f"{user}@{name}.example", f"{user}-password", self.sip[name], rtp_ports=rtp,
                        mediaenc=mediaenc)
            self.addCleanup(p.close)
            phones[name] = p
        for p in phones.values():
            p.wait_registered()
        return phones["alpha"], phones["beta"]

    def connect(self, alice, bob):
        alice.command("dial", "sip:bob@beta.example")
        incoming = bob.wait_event("CALL_INCOMING", timeout=30)
        self.assertEqual(incoming["peeruri"], "sip:alice@alpha.example")
        bob.command("accept")
        alice.wait_event("CALL_ESTABLISHED", timeout=30)
        bob.wait_event("CALL_ESTABLISHED", timeout=30)

    def assert_audio_received(self, phone):
        """The phone's RTCP says it received the other's RTP: baresip counts
        a packet only once its SRTP (SDES or DTLS) opened."""
        deadline = time.monotonic() + 60
        stats = None
        while time.monotonic() < deadline:
            stats = phone.wait_event("CALL_RTCP", timeout=60)
            if stats["rtcp_stats"]["rx"]["sent"] > 0:
                return stats
        self.fail(f"{phone.aor} never reported audio received: {stats}\n{phone.output()}")

    def relayed(self, site):
        """The site's one relayed call once it carried packets each way."""
        def both_ways(a):
            return (len(a["media"]) == 1 and a["media"][0]["streams"]
                    and a["media"][0]["streams"][0]["lan_to_peer"]["packets"] > 0
                    and a["media"][0]["streams"][0]["peer_to_lan"]["packets"] > 0)
        answer = self.consoles[site].poll("/api/v1/calls", both_ways, f"{site}'s relay with packets both ways")
        return answer["media"][0], answer["relay"]

    def hang_up(self, alice, bob):
        alice.command("hangup")
        alice.wait_event("CALL_CLOSED")
        bob.wait_event("CALL_CLOSED")

    def test_sdes_srtp_phones_each_site_ends_srtp_on_its_leg_and_the_relays_carry_srtp(self):
        alice, bob = self.phones("srtp")
        self.connect(alice, bob)
        for phone in (alice, bob):
            self.assert_audio_received(phone)
        for site in ("alpha", "beta"):
            call, relay = self.relayed(site)
            self.assertEqual(call["scope"], "edge")
            self.assertEqual(call["protection"], {"inter_site": "srtp", "lan": "srtp", "end_to_end": "none",
                                                  "readable_by": ["this site", "the peer site"]}, (site, call))
            # Nothing between the relays failed to open. (The caller's LAN leg
            # may count one failure: baresip sends an RTCP APP "PING" in clear
            # on its RTCP port before its SRTP starts, which a leg keyed for
            # SRTP drops, as it should.)
            peer = call["streams"][0]["peer"]
            self.assertEqual((peer["auth_failed"], peer["replayed"]), (0, 0), (site, call))
            p = relay["srtp"]
            self.assertGreater(p["sealed"], 0, (site, relay))
            self.assertGreater(p["opened"], 0, (site, relay))
            self.assertEqual((p["auth_failed"], p["replayed"]), (0, 0), (site, relay))
        # Each phone agreed SDES-SRTP with its own site's relay (the caller
        # offered it; the callee took the relay's best-effort offer).
        for phone in (alice, bob):
            self.assertIn("SRTP is Enabled", phone.output())
        self.hang_up(alice, bob)

    def test_dtls_srtp_phones_encrypt_end_to_end_through_both_relays(self):
        alice, bob = self.phones("dtls_srtp")
        self.connect(alice, bob)
        # Both phones finished the handshake with the fingerprint the other's
        # SDP carried (the relays passed a=fingerprint and a=setup untouched).
        for phone in (alice, bob):
            deadline = time.monotonic() + 30
            while "DTLS-SRTP complete" not in phone.output() and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertIn("verified sha-256 fingerprint OK", phone.output().replace("SHA-256", "sha-256"))
            self.assertIn("DTLS-SRTP complete", phone.output())
        for phone in (alice, bob):
            self.assert_audio_received(phone)
        for site in ("alpha", "beta"):
            call, relay = self.relayed(site)
            # "lan": "srtp" as nothing of the call is in clear on either LAN:
            # the phones' own SRTP, which the site cannot open.
            self.assertEqual(call["protection"], {"inter_site": "srtp", "lan": "srtp", "end_to_end": "dtls-srtp",
                                                  "readable_by": []}, (site, call))
        self.hang_up(alice, bob)


if __name__ == "__main__":
    unittest.main()
