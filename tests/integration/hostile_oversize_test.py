"""Oversized SIP messages against the real daemon, over UDP, TCP and TLS:
too long a line, too many header fields, a message past the 64 KiB limit, a
Content-Length that promises more than the limit. Each gets 513 Message Too
Large (when it names a Via to answer) or its connection is closed; the
daemon never crashes and phones keep registering."""
import socket
import time
import unittest

from hostile_common import HostileTestCase
from sip_client import parse_response

MAX_MESSAGE = 64 * 1024  # sip::ParseLimits
MAX_LINE = 8 * 1024
MAX_HEADERS = 128


def request(local_port, transport, extra_headers=b"", body=b"", content_length=None):
    head = (f"OPTIONS sip:alpha.example SIP/2.0\r\n"
            f"Via: SIP/2.0/{transport} 127.0.0.1:{local_port};branch=z9hG4bKbig{time.monotonic_ns()};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:alice@alpha.example>;tag=big\r\nTo: <sip:alpha.example>\r\n"
            f"Call-ID: big-{time.monotonic_ns()}\r\nCSeq: 1 OPTIONS\r\n").encode()
    length = len(body) if content_length is None else content_length
    return head + extra_headers + f"Content-Length: {length}\r\n\r\n".encode() + body


LONG_LINE = b"X-Long: " + b"a" * (MAX_LINE + 100) + b"\r\n"
MANY_HEADERS = b"".join(f"X-H{i}: v\r\n".encode() for i in range(MAX_HEADERS + 20))
BIG_HEADERS = b"".join(f"X-Big{i}: {'b' * 4000}\r\n".encode() for i in range(20))  # 80 KB, short lines


class OversizeTest(HostileTestCase):
    def udp(self):
        s = self.keep(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        return s

    def test_udp_oversized_requests_get_513(self):
        for name, extra in (("long line", LONG_LINE), ("many headers", MANY_HEADERS)):
            with self.subTest(name):
                s = self.udp()
                data = request(s.getsockname()[1], "UDP", extra)
                self.assertLess(len(data), 65507)
                s.sendto(data, ("127.0.0.1", self.ports["udp"]))
                status, _, _ = parse_response(s.recv(65535).decode(errors="replace"))
                self.assertEqual(status, 513, name)
        self.assert_legitimate_register("udp")
        self.assert_alive()

    def stream_case(self, protocol, data):
        """Sends `data`; returns (status of the first answer or None, the
        connection afterwards: "closed" or "serving")."""
        c = self.client(protocol)
        try:
            c.send_raw(data)
        except (ConnectionError, OSError):
            return None, "closed"  # closed while we were still sending
        try:
            status, _, _ = c.receive()
        except (ConnectionError, OSError, ValueError, IndexError):
            return None, "closed"
        # Framing kept (the message's end was found): the same connection
        # goes on serving; framing lost: the daemon closes it.
        try:
            again, _, _ = c.request("OPTIONS")
            return status, "serving" if again == 200 else f"answered {again}"
        except (ConnectionError, OSError, ValueError, IndexError):
            return status, "closed"

    def test_stream_oversized_requests_get_513_and_are_closed(self):
        for protocol in ("tcp", "tls"):
            transport = protocol.upper()
            # (data, what becomes of the connection)
            cases = {
                "long line": (request(5999, transport, LONG_LINE), ("serving", "closed")),
                "many headers": (request(5999, transport, MANY_HEADERS), ("serving", "closed")),
                "header section past 64 KiB": (request(5999, transport, BIG_HEADERS), ("closed",)),
                "body past 64 KiB": (request(5999, transport, b"Content-Type: text/plain\r\n", b"d" * (MAX_MESSAGE + 10)),
                                     ("closed",)),
                "Content-Length past 64 KiB": (request(5999, transport, content_length=10 ** 9), ("closed",)),
            }
            for name, (data, outcomes) in cases.items():
                with self.subTest(protocol=protocol, case=name):
                    status, after = self.stream_case(protocol, data)
                    self.assertIn(status, (513, None), name)
                    self.assertIn(after, outcomes, f"{protocol} {name}")
            self.assert_legitimate_register(protocol)
        self.assert_legitimate_register("udp", user="bob")
        self.assert_alive()

    def test_a_flood_of_oversized_datagrams_leaves_the_daemon_serving(self):
        s = self.udp()
        junk = request(s.getsockname()[1], "UDP", LONG_LINE)
        for _ in range(300):
            s.sendto(junk, ("127.0.0.1", self.ports["udp"]))
        self.assert_legitimate_register("udp", source="127.0.0.2")
        self.assert_legitimate_register("tcp", user="bob")
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
