"""Shared pieces of the hostile-network tests (hostile_*_test.py): a site
with two users and the real daemon on loopback, a SIP client that can send
from another loopback source address (127.0.0.2), and the check every
attack test ends with: a legitimate REGISTER with digest still succeeds.

Everything is bounded: sockets have timeouts, loops have counts, and every
socket and daemon is closed at the end of its test."""
import socket
import ssl
import time

from harness import Daemon, SiteTestCase, loopback_config
from sip_client import SipClient

PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}


def client_tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def closed_within(sock, seconds):
    """True when the peer closes (EOF or reset) `sock` within `seconds`;
    whatever it sends before is read and dropped."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except ssl.SSLError:
            return True
        except (ConnectionError, OSError):
            return True


class HostileTestCase(SiteTestCase):
    """A site with alice and bob, and its daemon on loopback ports."""

    config_extra = ""

    def setUp(self):
        super().setUp()
        self.init_site()
        for user, password in PASSWORDS.items():
            self.assertOk(self.sipsite("user", "add", "--aor", f"{user}@alpha.example", "--password-stdin",
                                       stdin=password + "\n"))
        cfg = loopback_config(self.path("sip.toml"), self.config_extra)
        self.daemon = Daemon(["--state-dir", self.path("site"), "--config", cfg])
        self.addCleanup(self.daemon.kill)
        self.ports = self.daemon.sip_ports()
        self.sockets = []
        self.addCleanup(self.close_sockets)

    def close_sockets(self):
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass

    def keep(self, sock):
        self.sockets.append(sock)
        return sock

    def client(self, protocol="udp", user="alice", source="127.0.0.1", password=None):
        c = SipClient(protocol, self.ports[protocol], source=source, user=user,
                         password=password or PASSWORDS.get(user, "x"))
        self.addCleanup(c.close)
        return c

    def assert_legitimate_register(self, protocol="udp", user="alice", source="127.0.0.1"):
        """A REGISTER with digest from a legitimate phone succeeds now."""
        self.assertIsNone(self.daemon.proc.poll(), self.daemon.output())
        status, headers, _ = self.client(protocol, user=user, source=source).register(expires=60)
        self.assertEqual(status, 200, f"{protocol} REGISTER of {user} from {source}: {headers}")

    def assert_alive(self):
        self.assertIsNone(self.daemon.proc.poll(), self.daemon.output())
        self.assertNotIn("AddressSanitizer", self.daemon.output())
