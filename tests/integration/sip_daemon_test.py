"""The daemon's SIP service driven over its sockets: OPTIONS, digest
registration over UDP, TCP and TLS, authentication failures and replays,
routing answers, and hostile input that must not stop it."""
import re
import socket
import time
import unittest

from harness import Daemon, SiteTestCase, loopback_config, sqlcipher_query
from sip_client import SipClient, digest_params, header


class SipDaemonTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init_site()
        self.add_users("alice", "bob")
        cfg = loopback_config(self.path("sip.toml"), 'digest_algorithms = ["SHA-256", "MD5"]\n')
        self.daemon = Daemon(["--state-dir", self.path("site"), "--config", cfg])
        self.addCleanup(self.daemon.kill)
        self.ports = self.daemon.sip_ports()
        self.assertEqual(sorted(self.ports), ["tcp", "tls", "udp"])

    def client(self, protocol="udp", user="alice", password=None):
        c = SipClient(protocol, self.ports[protocol], user=user, password=password or f"{user}-password")
        self.addCleanup(c.close)
        return c

    def assert_serving(self):
        status, headers, _ = self.client().request("OPTIONS")
        self.assertEqual(status, 200)

    def test_options_to_the_site(self):
        status, headers, _ = self.client().request("OPTIONS")
        self.assertEqual(status, 200)
        allow = header(headers, "allow")[0]
        for method in ("INVITE", "REGISTER", "MESSAGE", "BYE", "CANCEL"):
            self.assertIn(method, allow)
        self.assertEqual(header(headers, "user-agent") + header(headers, "server"), [])

    def test_register_over_every_transport(self):
        for protocol in ("udp", "tcp", "tls"):
            with self.subTest(protocol=protocol):
                c = self.client(protocol)
                status, headers, _ = c.register()
                self.assertEqual(status, 200, headers)
                contacts = header(headers, "contact")
                self.assertTrue(any(f"127.0.0.1:{c.local_port}" in v for v in contacts), contacts)

    def test_challenge_offers_sha256_then_md5_and_both_work(self):
        c = self.client()
        status, headers, _ = c.request("REGISTER", extra="Expires: 60\r\n")
        self.assertEqual(status, 401)
        challenges = header(headers, "www-authenticate")
        self.assertEqual([digest_params(ch)["algorithm"] for ch in challenges], ["SHA-256", "MD5"])
        for nc, challenge in enumerate(challenges, start=1):  # one nonce: the count must grow
            auth = c.authorization(challenge, "REGISTER", "sip:alpha.example", nc=nc)
            status, _, _ = c.request("REGISTER", extra=f"Expires: 60\r\nAuthorization: {auth}\r\n")
            self.assertEqual(status, 200)

    def test_wrong_password_is_refused(self):
        status, _, _ = self.client(password="not-the-password").register()
        self.assertIn(status, (401, 403))

    def test_unknown_user_gets_the_same_challenge_as_a_known_one(self):
        def shape(user):
            status, headers, _ = self.client(user=user).request("REGISTER")
            self.assertEqual(status, 401)
            return [sorted(digest_params(ch).keys()) for ch in header(headers, "www-authenticate")]
        self.assertEqual(shape("alice"), shape("nobody-here"))

    def test_a_replayed_authorization_is_refused(self):
        c = self.client()
        status, headers, _ = c.request("REGISTER", extra="Expires: 60\r\n")
        auth = c.authorization(header(headers, "www-authenticate")[0], "REGISTER", "sip:alpha.example")
        status, _, _ = c.request("REGISTER", extra=f"Expires: 60\r\nAuthorization: {auth}\r\n")
        self.assertEqual(status, 200)
        status, headers, _ = c.request("REGISTER", extra=f"Expires: 60\r\nAuthorization: {auth}\r\n")
        self.assertEqual(status, 401)

    def test_routing_answers(self):
        alice = self.client()
        # Requests from an unauthenticated sender are challenged, never routed.
        status, headers, _ = alice.request("MESSAGE", uri="sip:bob@alpha.example", to="sip:bob@alpha.example",
                                           extra="Content-Type: text/plain\r\n", body="hello")
        self.assertEqual(status, 407)
        challenge = header(headers, "proxy-authenticate")[0]

        def authed(uri, nc):
            auth = alice.authorization(challenge, "MESSAGE", uri, nc=nc)
            return alice.request("MESSAGE", uri=uri, to=uri,
                                 extra=f"Proxy-Authorization: {auth}\r\nContent-Type: text/plain\r\n", body="hi")
        self.assertEqual(authed("sip:bob@alpha.example", 1)[0], 202)       # known, not registered: stored
        self.assertEqual(authed("sip:nobody@alpha.example", 2)[0], 404)    # unknown
        self.assertEqual(authed("sip:carol@beta.example", 3)[0], 403)      # not a trusted peer's domain

    def test_message_reaches_a_registered_phone(self):
        bob = self.client(user="bob")
        self.assertEqual(bob.register()[0], 200)
        alice = self.client()
        status, headers, _ = alice.request("MESSAGE", uri="sip:bob@alpha.example", to="sip:bob@alpha.example",
                                           extra="Content-Type: text/plain\r\n", body="hello bob")
        challenge = header(headers, "proxy-authenticate")[0]
        auth = alice.authorization(challenge, "MESSAGE", "sip:bob@alpha.example")
        alice.send_raw(
            f"MESSAGE sip:bob@alpha.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{alice.local_port};branch=z9hG4bKm1;rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:alice@alpha.example>;tag=a1\r\nTo: <sip:bob@alpha.example>\r\n"
            f"Call-ID: msg-1\r\nCSeq: 7 MESSAGE\r\nProxy-Authorization: {auth}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: 9\r\n\r\nhello bob")
        data, _ = bob.sock.recvfrom(65535)
        text = data.decode()
        self.assertTrue(text.startswith("MESSAGE sip:bob@127.0.0.1:"), text)
        self.assertTrue(text.endswith("\r\n\r\nhello bob"), text)
        self.assertIn("Max-Forwards: 69", text)
        self.assertNotIn("Proxy-Authorization", text)

    def test_garbage_and_oversized_input_leave_the_daemon_serving(self):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(udp.close)
        for junk in (b"\x00" * 10, b"INVITE", b"SIP/2.0 200 OK\r\n\r\n", bytes(range(256)) * 100,
                     b"REGISTER sip:x SIP/2.0\r\n" + b"X: " + b"a" * 60000 + b"\r\n\r\n"):
            udp.sendto(junk, ("127.0.0.1", self.ports["udp"]))
        for protocol in ("tcp", "tls"):
            for junk in (b"GARBAGE\r\nwith no framing at all\r\n\r\n",
                         b"OPTIONS sip:alpha.example SIP/2.0\r\n" + b"Y: " + b"b" * 70000 + b"\r\n\r\n"):
                s = self.client(protocol)
                try:
                    s.send_raw(junk)
                    # Framing is lost: the daemon may answer, then closes the connection.
                    while s.sock.recv(65536):
                        pass
                except (ConnectionError, OSError):
                    pass
        self.assert_serving()
        self.assertEqual(self.daemon.proc.poll(), None)

    def test_slow_partial_message_does_not_block_others(self):
        slow = self.client("tcp")
        slow.send_raw(b"OPTIONS sip:alpha.example SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKs\r\n")
        self.assert_serving()
        status, _, _ = self.client("tcp").request("OPTIONS")
        self.assertEqual(status, 200)

    def test_deleted_user_loses_registration_and_login(self):
        c = self.client()
        self.assertEqual(c.register()[0], 200)
        self.assertOk(self.sipsite("user", "del", "--aor", "alice@alpha.example"))
        self.daemon.wait_for(r"state (?:loaded|now): 1 users", timeout=10)
        status, _, _ = self.client().register()
        self.assertIn(status, (401, 403, 404))

    def test_a_password_changed_with_the_cli_reaches_the_running_daemon(self):
        self.assertEqual(self.client().register()[0], 200)
        # Counted by the applies that changed a user: another write (the
        # daemon's own settings at start) must not stand for this one.
        user_changes = r"change\(s\) applied incrementally \([1-9]\d* user\(s\) changed"
        reloads = len(re.findall(user_changes, self.daemon.output()))
        self.assertOk(self.sipsite("user", "passwd", "--aor", "alice@alpha.example", "--password-stdin",
                                   stdin="alice-new-password\n"))
        # The daemon reloads when the database changes (polled): a reload
        # after this change, then the new password works and the old not.
        self.daemon.wait_for(user_changes, timeout=10, count=reloads + 1)
        self.assertEqual(self.client(password="alice-new-password").register()[0], 200)
        self.assertIn(self.client().register()[0], (401, 403))
        # Her account is the same one: bob still reaches her.
        self.assertEqual(self.client(user="bob").register()[0], 200)

    def test_deleting_a_user_closes_the_connections_their_phones_registered_on(self):
        tcp, tls = self.client("tcp", user="bob"), self.client("tls", user="bob")
        self.assertEqual(tcp.register()[0], 200)
        self.assertEqual(tls.register()[0], 200)
        alice = self.client("tcp")
        self.assertEqual(alice.register()[0], 200)
        self.assertOk(self.sipsite("user", "del", "--aor", "bob@alpha.example"))
        for c in (tcp, tls):
            c.sock.settimeout(10)
            self.assertEqual(c.sock.recv(1), b"", "the deleted user's connection stayed open")
        # Other users' connections stay.
        status, _, _ = alice.request("OPTIONS")
        self.assertEqual(status, 200)


class DefaultListenersTest(SiteTestCase):
    """The site as README command 1 runs it: SIP on the wildcard address.
    Phones reach it at 127.0.0.1, an address it listens on though it is
    not the one it advertises: a Route naming it is the site's own."""

    def setUp(self):
        super().setUp()
        self.init_site()
        self.add_users("alice", "bob")
        cfg = self.write("sip.toml", '[sip]\nudp = ["0.0.0.0:0"]\ntcp = ["0.0.0.0:0"]\ntls = []\n'
                                     'aliases = ["pbx.alpha.example"]\n'
                                     '[federation]\nlisten = "127.0.0.1:0"\n[admin]\nlisten = "127.0.0.1:0"\n')
        self.daemon = Daemon(["--state-dir", self.path("site"), "--config", cfg])
        self.addCleanup(self.daemon.kill)
        self.ports = self.daemon.sip_ports(bound=r"0\.0\.0\.0")
        self.assertEqual(sorted(self.ports), ["tcp", "udp"])

    def client(self, protocol="udp", user="alice"):
        c = SipClient(protocol, self.ports[protocol], user=user, password=f"{user}-password")
        self.addCleanup(c.close)
        return c

    @staticmethod
    def final_response(c, method, uri, extra, body=""):
        status, headers, _ = c.request(method, uri=uri, to=uri, extra=extra, body=body)
        while status < 200:
            status, headers, _ = c.receive()
        return status, headers

    def invite(self, route, call_id):
        """An INVITE from alice for bob over TCP (no retransmissions) through
        `route`, answering the digest challenge; its final status."""
        c = self.client("tcp")
        c.call_id = call_id
        uri = "sip:bob@alpha.example"
        extra = f"Route: {route}\r\nContent-Type: application/sdp\r\n"
        status, headers = self.final_response(c, "INVITE", uri, extra, "v=0\r\n")
        if status != 407:
            return status
        auth = c.authorization(header(headers, "proxy-authenticate")[0], "INVITE", uri)
        return self.final_response(c, "INVITE", uri, extra + f"Proxy-Authorization: {auth}\r\n", "v=0\r\n")[0]

    def cdrs(self):
        with open(self.path("site", "db.key")) as f:
            key = f.read().strip()
        out = sqlcipher_query(self.path("site", "sipsite.db"), key,
                              "SELECT caller_aor, callee_aor, direction, final_status, end_reason FROM cdrs "
                              "ORDER BY id;").stdout
        return [tuple(line.split("|")) for line in out.splitlines() if "|" in line]

    def wait_for_cdrs(self, count):
        for _ in range(100):  # written in batches
            rows = self.cdrs()
            if len(rows) >= count:
                return rows
            time.sleep(0.1)
        return self.cdrs()

    def test_the_site_is_every_address_it_listens_on_and_its_aliases(self):
        # Bob has no phone: 480, after routing. A site that did not know
        # itself by these names answered 403 (Route does not go through
        # this site) to every call.
        for n, route in enumerate((f"<sip:127.0.0.1:{self.ports['tcp']};transport=tcp;lr>", "<sip:127.0.0.1;lr>",
                                   "<sip:pbx.alpha.example;lr>", "<sip:alpha.example;lr>")):
            with self.subTest(route=route):
                self.assertEqual(self.invite(route, f"known-{n}"), 480)
        self.assertEqual(self.wait_for_cdrs(4)[0][3:], ("480", "Temporarily Unavailable"))
        # A REGISTER is the site's by the same names (phones on this
        # machine reach it at 127.0.0.1 either way).
        self.assertEqual(self.client("udp", user="bob").register()[0], 200)

    def test_a_refused_call_attempt_has_a_record_and_an_info_line(self):
        # Another port of this machine is not the site: refused, recorded.
        self.assertEqual(self.invite("<sip:127.0.0.1:9;lr>", "refused-1"), 403)
        self.assertEqual(self.wait_for_cdrs(1), [("alice@alpha.example", "bob@alpha.example", "local", "403",
                                                  "Forbidden (Route does not go through this site)")])
        line = self.daemon.wait_for(r"call refused: .*\n")
        line = re.search(r"[^\n]*call refused: [^\n]*", line).group(0)
        self.assertIn("info", line)
        self.assertRegex(line, r"403 Forbidden \(Route does not go through this site\) \(local call; "
                               r"call record [0-9a-f]{32}\)")
        for secret in ("alice", "bob", "password", "127.0.0.1", "refused-1"):
            self.assertNotIn(secret, line)


if __name__ == "__main__":
    unittest.main()
