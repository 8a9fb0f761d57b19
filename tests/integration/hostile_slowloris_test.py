"""Slowloris against the real daemon: connections that stall in the TLS
handshake or trickle a SIP or HTTP message that never completes. The daemon
closes them after its timeouts (TLS handshake: 10 s on the SIP TLS port and
the console; console request header: 30 s) and keeps serving legitimate
phones and the console while they hang."""
import socket
import ssl
import time
import unittest
import urllib.request

from hostile_common import HostileTestCase, client_tls_context, closed_within

# How long a test waits for the daemon to close a connection: a bound on
# the test (several times the daemon's timeouts: TLS handshake 10 s, console
# request header 30 s), not what it checks. What it checks is that the
# daemon closes the connection, for the reason the test gives it.
WAIT = 120


class SlowlorisTest(HostileTestCase):
    def raw(self, port, source="127.0.0.1"):
        return self.keep(socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)))

    def healthz(self, port):
        ctx = client_tls_context()
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=ctx, timeout=10) as r:
            return r.status, r.read()

    def test_sip_tls_handshake_that_stalls_is_closed_and_others_are_served(self):
        port = self.ports["tls"]
        silent = self.raw(port)  # connects, never says a word
        partial = self.raw(port)  # the first bytes of a ClientHello, then nothing
        partial.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 16)
        # While they hang, phones register over TLS and UDP.
        self.assert_legitimate_register("tls")
        self.assert_legitimate_register("udp", user="bob")
        for s in (silent, partial):
            self.assertTrue(closed_within(s, WAIT), "the daemon never closed a stalled TLS handshake")
        self.assert_legitimate_register("tls")
        self.assert_alive()

    def test_sip_tcp_trickled_partial_messages_do_not_stop_others(self):
        port = self.ports["tcp"]
        head = (b"REGISTER sip:alpha.example SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKslow\r\n"
                b"Max-Forwards: 70\r\nFrom: <sip:alice@alpha.example>;tag=s\r\nTo: <sip:alice@alpha.example>\r\n")
        slow = [self.raw(port) for _ in range(40)]
        # A message whose body never arrives (RFC 4475 clerr over TCP).
        body_short = self.raw(port)
        body_short.sendall(b"MESSAGE sip:bob@alpha.example SIP/2.0\r\nContent-Length: 5000\r\n\r\nhello")
        # Trickle one byte per connection per round: the header never ends.
        for i in range(6):
            for s in slow:
                s.sendall(head[i:i + 1])
            time.sleep(0.2)
        self.assert_legitimate_register("tcp")
        self.assert_legitimate_register("tcp", user="bob", source="127.0.0.2")
        self.assert_legitimate_register("udp")
        for s in slow:
            s.sendall(head[6:7])
        # Still open (idle timeout 300 s, not a test's length): nothing was
        # answered to a message that is not complete.
        for s in slow[:3] + [body_short]:
            s.settimeout(0.2)
            with self.assertRaises(socket.timeout):
                s.recv(1)
        self.assert_alive()

    def test_console_slowloris_is_cut_by_the_handshake_and_header_timeouts(self):
        port = self.daemon.admin_port()
        silent = self.raw(port)
        trickle = client_tls_context().wrap_socket(self.raw(port))
        self.keep(trickle)
        # Far longer than the header timeout at a byte a second: the header
        # cannot be complete when the daemon cuts it.
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 400
        self.assertEqual(self.healthz(port)[0], 200)
        self.assert_legitimate_register("udp")
        # The silent connection is cut by the handshake timeout; the
        # trickling one (its handshake done, a byte a second) is still open
        # then, and is cut later by the header timeout, before its header
        # is whole.
        sent = 0
        silent_closed = False
        trickle_open_when_silent_closed = None
        trickle_cut_at = None  # bytes sent when the daemon cut it
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and trickle_cut_at is None:
            try:
                trickle.sendall(request[sent:sent + 1])
                sent += 1
            except (ssl.SSLError, OSError):
                trickle_cut_at = sent
                break
            if closed_within(trickle, 0.95):
                trickle_cut_at = sent
            if not silent_closed and closed_within(silent, 0.05):
                silent_closed = True
                trickle_open_when_silent_closed = trickle_cut_at is None
        self.assertTrue(silent_closed, "the console kept a connection that never did a TLS handshake")
        self.assertTrue(trickle_open_when_silent_closed,
                        "the trickling connection was closed before the silent one: not by the header timeout")
        self.assertIsNotNone(trickle_cut_at, "the console kept a request header trickled for too long")
        self.assertLess(trickle_cut_at, len(request), "the header was complete: the daemon answered, not cut it")
        self.assertGreater(trickle_cut_at, 0)
        self.assertEqual(self.healthz(port)[0], 200)
        self.assert_legitimate_register("tcp")
        self.assert_alive()


class TrickledMessageTest(HostileTestCase):
    """sip.message_timeout: a message trickled slower than that is cut off,
    however steadily the bytes keep coming."""

    config_extra = "message_timeout = 2\n"

    def test_a_message_trickled_too_slowly_is_closed(self):
        port = self.ports["tcp"]
        s = self.keep(socket.create_connection(("127.0.0.1", port), timeout=10))
        head = b"REGISTER sip:alpha.example SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKtrickle\r\n"
        closed = False
        for i in range(40):  # one byte every 0.25 s: never idle, never finished
            try:
                s.sendall(head[i:i + 1])
            except OSError:
                closed = True
                break
            if closed_within(s, 0.25):
                closed = True
                break
        self.assertTrue(closed, "a message trickled over 10 s was not cut off by a 2 s message timeout")
        self.assert_legitimate_register("tcp")
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
