"""Interop with a real softphone: two baresip phones register with digest
authentication and call each other through the daemon, over UDP, TCP and
TLS (audio flows phone to phone; the relay comes with the media issue)."""
import os
import re
import shutil
import unittest

from baresip import Baresip
from harness import SOURCE_DIR, Daemon, SiteTestCase, loopback_config


@unittest.skipUnless(shutil.which("baresip"), "cannot run here: baresip-core is not installed (deploy/install-deps.sh installs it)")
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


def admin_guide():
    with open(os.path.join(SOURCE_DIR, "docs", "ADMIN.md")) as f:
        return f.read()


@unittest.skipUnless(shutil.which("baresip"), "cannot run here: baresip-core is not installed (deploy/install-deps.sh installs it)")
class AdminGuidePhonesTest(SiteTestCase):
    """The phones section of docs/ADMIN.md, followed to the letter: the
    user added with the guide's command and password, baresip configured
    with the guide's account line (only the site's address and port
    replaced), and the site listening on the wildcard address as by
    default, reached by the phones at 127.0.0.1."""

    def setUp(self):
        super().setUp()
        guide = admin_guide()
        add = re.search(r"printf '%s\\n' '([^']+)' \| sipsitectl user add --aor (\S+)@(\S+) --password-stdin", guide)
        self.assertIsNotNone(add, "ADMIN.md no longer shows how to add a phone user")
        self.password, user, self.domain = add.groups()
        block = re.search(r"\*\*baresip\*\*.*?\n```\n(.*?)\n```", guide, re.S)
        self.assertIsNotNone(block, "ADMIN.md no longer shows baresip's account line")
        self.account = block.group(1)
        self.assertEqual(len(self.account.splitlines()), 1, self.account)
        self.assertIn(f"<sip:{user}@{self.domain}>", self.account)
        self.assertIn("192.168.1.10:5060", self.account)
        self.user = user
        self.init_site(self.domain)
        self.add_users(user, "bob", domain=self.domain, password=self.password)
        cfg = self.write("sip.toml", '[sip]\nudp = ["0.0.0.0:0"]\ntcp = []\ntls = []\n'
                                     '[federation]\nlisten = "127.0.0.1:0"\n[admin]\nlisten = "127.0.0.1:0"\n')
        self.daemon = Daemon(["--state-dir", self.path("site"), "--config", cfg])
        self.addCleanup(self.daemon.kill)
        self.port = self.daemon.sip_ports(bound=r"0\.0\.0\.0")["udp"]

    def phone(self, user, rtp):
        line = self.account.replace("192.168.1.10:5060", f"127.0.0.1:{self.port}")
        line = line.replace(f"<sip:{self.user}@", f"<sip:{user}@")
        p = Baresip(f"{user}@{self.domain}", self.password, self.port, rtp_ports=rtp, account=line)
        self.addCleanup(p.close)
        return p

    def test_the_guides_account_line_registers_and_calls(self):
        alice = self.phone(self.user, (43700, 43799))
        bob = self.phone("bob", (43800, 43899))
        alice.wait_registered()
        bob.wait_registered()
        alice.command("dial", f"sip:bob@{self.domain}")
        bob.wait_event("CALL_INCOMING")
        bob.command("accept")
        alice.wait_event("CALL_ESTABLISHED")
        bob.wait_event("CALL_ESTABLISHED")
        alice.command("hangup")
        bob.wait_event("CALL_CLOSED")
        alice.wait_event("CALL_CLOSED")


if __name__ == "__main__":
    unittest.main()
