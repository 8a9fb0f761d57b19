"""Interop with a real softphone: two baresip phones register with digest
authentication and call each other through the daemon, over UDP, TCP and
TLS (audio flows phone to phone; the relay comes with the media issue)."""
import shutil
import unittest

from baresip import Baresip
from harness import Daemon, SiteTestCase, loopback_config


@unittest.skipUnless(shutil.which("baresip"), "baresip-core is not installed (deploy/install-deps.sh installs it)")
class PhoneInteropTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init_site()
        for user in ("alice", "bob"):
            self.assertOk(self.sipsite("user", "add", "--aor", f"{user}@alpha.example", "--password-stdin",
                                       stdin=f"{user}-secret-1\n"))
        self.daemon = Daemon(["--state-dir", self.path("site"), "--config", loopback_config(self.path("sip.toml"))])
        self.addCleanup(self.daemon.kill)
        self.ports = self.daemon.sip_ports()

    def phone(self, user, protocol, rtp):
        p = Baresip(f"{user}@alpha.example", f"{user}-secret-1", self.ports[protocol], transport=protocol,
                    rtp_ports=rtp)
        self.addCleanup(p.close)
        return p

    def call(self, protocol):
        alice = self.phone("alice", protocol, (43000, 43099))
        bob = self.phone("bob", protocol, (43100, 43199))
        alice.wait_registered()
        bob.wait_registered()
        alice.command("dial", "sip:bob@alpha.example")
        incoming = bob.wait_event("CALL_INCOMING")
        self.assertEqual(incoming["peeruri"], "sip:alice@alpha.example")
        bob.command("accept")
        alice.wait_event("CALL_ESTABLISHED")
        bob.wait_event("CALL_ESTABLISHED")
        # Audio really flows both ways: RTCP reports packets received.
        stats = bob.wait_event("CALL_RTCP", timeout=30)
        while stats["rtcp_stats"]["rx"]["sent"] == 0:
            stats = bob.wait_event("CALL_RTCP", timeout=30)
        alice.command("hangup")
        bob.wait_event("CALL_CLOSED")
        alice.wait_event("CALL_CLOSED")

    def test_call_over_udp(self):
        self.call("udp")

    def test_call_over_tcp(self):
        self.call("tcp")

    def test_call_over_tls(self):
        self.call("tls")

    def test_call_forks_to_both_of_bobs_phones_and_the_other_stops_ringing(self):
        alice = self.phone("alice", "udp", (43400, 43499))
        desk = self.phone("bob", "udp", (43500, 43599))
        mobile = self.phone("bob", "tcp", (43600, 43699))
        for p in (alice, desk, mobile):
            p.wait_registered()
        alice.command("dial", "sip:bob@alpha.example")
        desk.wait_event("CALL_INCOMING")
        mobile.wait_event("CALL_INCOMING")
        mobile.command("accept")
        alice.wait_event("CALL_ESTABLISHED")
        mobile.wait_event("CALL_ESTABLISHED")
        desk.wait_event("CALL_CLOSED")  # CANCELled by the site when the mobile answered
        alice.command("hangup")
        mobile.wait_event("CALL_CLOSED")

    def test_unanswered_call_is_cancelled_by_the_caller(self):
        alice = self.phone("alice", "udp", (43200, 43299))
        bob = self.phone("bob", "udp", (43300, 43399))
        alice.wait_registered()
        bob.wait_registered()
        alice.command("dial", "sip:bob@alpha.example")
        bob.wait_event("CALL_INCOMING")
        alice.command("hangup")
        bob.wait_event("CALL_CLOSED")
        alice.wait_event("CALL_CLOSED")


if __name__ == "__main__":
    unittest.main()
