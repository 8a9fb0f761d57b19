"""An INVITE flood over UDP against the real daemon, with a small cap on
live transactions (sip.max_transactions = 1000): a bounded number of
INVITEs, as fast as one socket sends them, none ever ACKed. The daemon's
transaction count (from /metrics) never goes beyond the cap and its reserve,
the INVITEs beyond the cap are answered 503 with Retry-After, its RSS grows
by less than the documented bound, and a registered phone keeps registering
while the cap is reached (REGISTER may use the reserve)."""
import os
import re
import secrets
import socket
import time
import unittest

from console_api_test import NEW_PASSWORD, Console
from harness import Daemon, SiteTestCase, loopback_config
from sip_client import SipClient

CAP = 1000             # sip.max_transactions in this test
RESERVE = CAP // 8     # beyond the cap, for REGISTER, CANCEL and in-dialog requests (TransactionLimits)
FLOOD = 4000           # INVITEs sent
OUTSTANDING = 500      # INVITEs sent and not answered yet, at most
# docs/ARCHITECTURE.md: 0.75 to 1.6 KB per transaction, its timer included
# (tests/bench/txmem). The bound allows 8 KB per transaction for the
# allocator's slack and the flood's parsing buffers.
RSS_GROWTH_BOUND_KB = (CAP + RESERVE) * 8


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))


def sanitized(pid):
    """AddressSanitizer keeps freed memory in quarantine: RSS says nothing there."""
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def invite(port, local_port, n):
    call_id = secrets.token_hex(10)
    return (f"INVITE sip:bob@alpha.example SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{secrets.token_hex(8)};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:flood@alpha.example>;tag={secrets.token_hex(4)}\r\n"
            f"To: <sip:bob@alpha.example>\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: {n} INVITE\r\n"
            f"Contact: <sip:flood@127.0.0.1:{local_port}>\r\n"
            f"Content-Length: 0\r\n\r\n").encode(), call_id


class MemoryFloodTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        init = self.init_site()
        self.add_users("alice", "bob")
        cfg = loopback_config(self.path("sip.toml"), f"max_transactions = {CAP}\n")
        self.daemon = Daemon(["--state-dir", self.path("site"), "--config", cfg])
        self.addCleanup(self.daemon.kill)
        self.ports = self.daemon.sip_ports()
        self.console = Console(self.daemon.admin_port())
        self.addCleanup(self.console.close)
        self.assertEqual(self.console.login(init["admin password"]).status, 200)
        r = self.console.request("PUT", "/api/v1/session/password", {"current": init["admin password"],
                                                                     "new": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r)

    def metric(self, name):
        r = self.console.get("/metrics")
        self.assertEqual(r.status, 200)
        m = re.search(rf"^{name} (\d+)$", r.data.decode(), re.M)
        self.assertIsNotNone(m, name)
        return int(m.group(1))

    def register(self, phone):
        status, headers, _ = phone.register(expires=300)
        return status, headers

    def test_invite_flood_stays_under_the_transaction_cap(self):
        alice = SipClient("udp", self.ports["udp"], user="alice", password="alice-password")
        self.addCleanup(alice.close)
        self.assertEqual(self.register(alice)[0], 200)
        rss_before = rss_kb(self.daemon.proc.pid)

        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(flood.close)
        flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        flood.bind(("127.0.0.1", 0))
        local_port = flood.getsockname()[1]
        finals = {}  # Call-ID -> (status, has Retry-After)
        peak = 0

        def drain(wait):
            flood.settimeout(wait)
            while True:
                try:
                    data, _ = flood.recvfrom(65535)
                except (socket.timeout, BlockingIOError):
                    return
                text = data.decode(errors="replace")
                status = int(text.split(" ", 2)[1])
                call_id = re.search(r"(?im)^call-id:\s*(\S+)", text).group(1)
                if status >= 200:
                    finals.setdefault(call_id, (status, re.search(r"(?im)^retry-after:\s*\d+", text) is not None))
                flood.settimeout(0)

        started = time.monotonic()
        deadline = started + 120
        for n in range(1, FLOOD + 1):
            data, _ = invite(self.ports["udp"], local_port, n)
            flood.sendto(data, ("127.0.0.1", self.ports["udp"]))
            if n % 100 == 0:
                drain(0)
            # At most OUTSTANDING unanswered: a flood, but one the kernel's
            # socket buffers hold (a dropped INVITE would never be answered).
            while n - len(finals) > OUTSTANDING and time.monotonic() < deadline:
                drain(0.05)
            if n % 1000 == 0:
                peak = max(peak, self.metric("sipsite_sip_transactions"))
        # Every INVITE gets its final answer (407 or 503); bounded wait.
        while len(finals) < FLOOD and time.monotonic() < deadline:
            drain(0.5)
        elapsed = time.monotonic() - started
        self.assertEqual(len(finals), FLOOD, "some INVITEs were never answered")

        live = self.metric("sipsite_sip_transactions")
        peak = max(peak, live)
        refused = self.metric("sipsite_sip_transactions_refused_total")
        challenged = sum(1 for s, _ in finals.values() if s == 407)
        busy = [retry for s, retry in finals.values() if s == 503]
        self.assertEqual(challenged + len(busy), FLOOD, set(s for s, _ in finals.values()))
        # The cap held: at most CAP INVITEs got a transaction (and a 407);
        # the others a stateless 503 with Retry-After, counted as refused.
        if elapsed < 30:
            # Within Timer H (32 s) no challenged INVITE's transaction ended,
            # so no slot was freed for another (a slow sanitizer build may
            # take longer; the gauge below is the cap's evidence then).
            self.assertLessEqual(challenged, CAP)
        self.assertGreater(len(busy), 0)
        self.assertTrue(all(busy), "a 503 without Retry-After")
        self.assertGreaterEqual(refused, len(busy))
        self.assertLessEqual(peak, CAP + RESERVE)

        # A registered phone is still served while the INVITEs' transactions
        # (never ACKed, kept until Timer H) fill the cap.
        if time.monotonic() - started < 30:
            self.assertGreaterEqual(self.metric("sipsite_sip_transactions"), CAP - 10)
        status, headers = self.register(alice)
        self.assertEqual(status, 200, headers)

        if not sanitized(self.daemon.proc.pid):
            growth = rss_kb(self.daemon.proc.pid) - rss_before
            self.assertLess(growth, RSS_GROWTH_BOUND_KB, f"RSS grew by {growth} KiB")
        self.assertIsNone(self.daemon.proc.poll(), self.daemon.output())


if __name__ == "__main__":
    unittest.main()
