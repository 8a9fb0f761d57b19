"""Two real daemons on loopback, paired through the CLI, carrying a call and
messages between their users over the pinned federation link. The phones
are scripted UAs (sip_client.SipClient over UDP); what bob's phone receives
is all beta's site could learn from the link, so it is checked for alice's
LAN details (her port, Call-ID, tag, software) and vice versa. Then the
refusals: a third, one-sidedly trusted site, and revocation during a call.
"""
import json
import re
import secrets
import signal
import socket
import time
import unittest

from harness import Daemon, SiteTestCase, sqlcipher_query
from sip_client import SipClient, header, parse_message


class Phone(SipClient):
    """A registered UA that can also answer requests."""

    def next_message(self, timeout=10):
        self.sock.settimeout(timeout)
        raw = self.receive_raw()
        start, headers, body = parse_message(raw)
        return start, headers, body, raw

    def expect(self, what, timeout=10, skip=("100",)):
        """The next message whose method or status is `what`, skipping
        provisional noise; bounded by `timeout` per message."""
        for _ in range(10):
            start, headers, body, raw = self.next_message(timeout)
            kind = start.split(" ")[1] if start.startswith("SIP/2.0") else start.split(" ")[0]
            if kind == what:
                return start, headers, body, raw
            if kind not in skip:
                raise AssertionError(f"expected {what}, got: {start}\n{raw}")
        raise AssertionError(f"{what} never came")

    def send_request(self, method, uri, to, call_id, cseq, from_tag, extra="", body="", branch=None):
        branch = branch or "z9hG4bK" + secrets.token_hex(6)
        msg = (f"{method} {uri} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{self.local_port};branch={branch};rport\r\n"
               f"Max-Forwards: 70\r\n"
               f"From: <sip:{self.user}@{self.domain}>;tag={from_tag}\r\n"
               f"To: {to}\r\n"
               f"Call-ID: {call_id}\r\n"
               f"CSeq: {cseq} {method}\r\n"
               f"{extra}"
               f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
        self.send_raw(msg)
        return branch

    def authenticated(self, method, uri, to, call_id, from_tag, extra="", body=""):
        """Sends `method`, answers the 407 (ACKing it for INVITE) and returns
        the next non-100 response to the authenticated request."""
        branch = self.send_request(method, uri, to, call_id, 1, from_tag, extra, body)
        start, headers, _, _ = self.expect("407")
        if method == "INVITE":
            to_tagged = header(headers, "to")[0]
            self.send_raw(f"ACK {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{self.local_port};branch={branch};rport\r\n"
                          f"Max-Forwards: 70\r\nFrom: <sip:{self.user}@{self.domain}>;tag={from_tag}\r\n"
                          f"To: {to_tagged}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
        auth = self.authorization(header(headers, "proxy-authenticate")[0], method, uri)
        self.send_request(method, uri, to, call_id, 2, from_tag, extra + f"Proxy-Authorization: {auth}\r\n", body)

    def respond(self, request_raw, code, reason, to_tag="", contact=True, extra="", body=""):
        """A UAS response: Via, From, To (+tag), Call-ID, CSeq and
        Record-Route copied, as RFC 3261 §8.2.6 and §12.1.1 say."""
        _, headers, _ = parse_message(request_raw)
        lines = [f"SIP/2.0 {code} {reason}"]
        for name in ("via", "record-route"):
            lines += [f"{name.title()}: {v}" for v in header(headers, name)]
        lines.append(f"From: {header(headers, 'from')[0]}")
        to = header(headers, "to")[0]
        if to_tag and ";tag=" not in to:
            to += f";tag={to_tag}"
        lines.append(f"To: {to}")
        lines.append(f"Call-ID: {header(headers, 'call-id')[0]}")
        lines.append(f"CSeq: {header(headers, 'cseq')[0]}")
        if contact:
            lines.append(f"Contact: <sip:{self.user}@127.0.0.1:{self.local_port}>")
        lines.append("Server: DeskPhone/9.1 serial-0xCAFE")
        self.send_raw("\r\n".join(lines) + "\r\n" + extra + f"Content-Length: {len(body.encode())}\r\n\r\n{body}")


def sdp(user, port):
    return (f"v=0\r\no={user} 4242 1 IN IP4 127.0.0.1\r\ns=call\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")


def media_port(body):
    return int(re.search(r"^m=audio (\d+) ", body, re.M).group(1))


def rtp_socket(test):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.1)
    test.addCleanup(s.close)
    return s


def rtp_source(sender, to_port, receiver, payload):
    """Sends RTP (bounded) until `receiver` gets a packet carrying
    `payload`; returns the address it came from (None if none came)."""
    for seq in range(40):
        packet = bytes([0x80, 0x00]) + seq.to_bytes(2, "big") + (seq * 160).to_bytes(4, "big") + b"SSRC" + payload
        sender.sendto(packet, ("127.0.0.1", to_port))
        try:
            data, source = receiver.recvfrom(2048)
            if data.endswith(payload):
                return source
        except socket.timeout:
            pass
    return None


def rtp_reaches(sender, to_port, receiver, payload):
    """Sends RTP packets (bounded) until `receiver` gets one carrying `payload`."""
    return rtp_source(sender, to_port, receiver, payload) is not None


def uri_of(name_addr):
    return re.search(r"<([^>]+)>", name_addr).group(1)


class FederationCallsTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.start_paired_sites()

    def start_paired_sites(self, link_timeout=20):
        """alpha (alice) and beta (bob) running, trusting each other, linked,
        each phone registered. Returns the sites' one-time admin passwords."""
        self.daemons = {}
        passwords = {}
        for name, user in (("alpha", "alice"), ("beta", "bob")):
            passwords[name] = self.init_site(f"{name}.example", state=name)["admin password"]
            self.assertOk(self.sipsite("user", "add", "--aor", f"{user}@{name}.example", "--password-stdin",
                                       stdin=f"{user}-password\n", state=name))
            d = Daemon(["--state-dir", self.path(name)])
            self.addCleanup(d.kill)
            self.daemons[name] = d
        self.fed = {name: d.federation_port() for name, d in self.daemons.items()}
        self.sip = {name: d.sip_ports()["udp"] for name, d in self.daemons.items()}
        for me, other in (("alpha", "beta"), ("beta", "alpha")):
            self.trust(me, other)
        self.daemons["alpha"].wait_for(r"link to beta\.example: connected", timeout=link_timeout)
        self.daemons["beta"].wait_for(r"link to alpha\.example: connected", timeout=link_timeout)
        self.alice = self.phone("alpha", "alice")
        self.bob = self.phone("beta", "bob")
        return passwords

    def trust(self, me, other):
        pem = self.write(f"{other}-for-{me}.pem", self.sipsite("cert", state=other).out)
        self.assertOk(self.sipsite("peer", "import", "--file", pem, "--address", f"127.0.0.1:{self.fed[other]}",
                                   state=me))
        self.assertOk(self.sipsite("peer", "trust", "--domain", f"{other}.example", state=me))

    def phone(self, site, user):
        p = Phone("udp", self.sip[site], user=user, domain=f"{site}.example", password=f"{user}-password")
        self.addCleanup(p.close)
        status, _, _ = p.register()
        self.assertEqual(status, 200)
        return p

    def assert_nothing_of(self, raw, who, call_id, tag, port, site):
        """`raw` (received across the link) carries nothing of the other
        side's phone or LAN listeners."""
        for secret in (call_id, tag, f":{port}", f":{self.sip[site]}", "User-Agent", "Softphone",
                       "DeskPhone", "X-Desk", "serial-0xCAFE"):
            self.assertNotIn(secret, raw, f"{who} received {secret!r}:\n{raw}")

    def call(self):
        """alice calls bob, bob answers, alice ACKs; returns what each knows."""
        call_id = "alice-call-" + secrets.token_hex(4) + "@127.0.0.1"
        alice_rtp, bob_rtp = rtp_socket(self), rtp_socket(self)
        alice_port, bob_port = alice_rtp.getsockname()[1], bob_rtp.getsockname()[1]
        self.alice.authenticated("INVITE", "sip:bob@beta.example", "<sip:bob@beta.example>", call_id, "alicetag",
                                 extra=f"Contact: <sip:alice@127.0.0.1:{self.alice.local_port}>\r\n"
                                       "User-Agent: Softphone 1.2 (office-PC-17)\r\nX-Desk: 4.17\r\n"
                                       "Content-Type: application/sdp\r\n",
                                 body=sdp("alice", alice_port))
        _, inv_h, inv_body, inv_raw = self.bob.expect("INVITE")
        self.assert_nothing_of(inv_raw, "bob", call_id, "alicetag", self.alice.local_port, "alpha")
        # The offer bob gets names beta's relay, not alice's phone.
        self.assertNotIn(f" {alice_port} ", inv_body)
        self.assertNotIn("o=alice", inv_body)
        self.assertIn("a=rtpmap:0 PCMU/8000", inv_body)
        # The relays' keys for the leg between the sites never reach a phone;
        # beta offers bob SRTP on his own leg (media.lan_srtp = offer).
        self.assertNotIn("sipsite-srtp", inv_body)
        self.assertIn("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:", inv_body)
        self.assertIn("sip:alice@alpha.example", header(inv_h, "from")[0])
        self.bob.respond(inv_raw, 180, "Ringing", to_tag="bobtag")
        self.alice.expect("180")
        self.bob.respond(inv_raw, 200, "OK", to_tag="bobtag",
                         extra="Content-Type: application/sdp\r\n", body=sdp("bob", bob_port))
        _, ok_h, ok_body, ok_raw = self.alice.expect("200", skip=("100", "180"))
        self.assert_nothing_of(ok_raw, "alice", header(inv_h, "call-id")[0], "bobtag", self.bob.local_port, "beta")
        self.assertNotIn(f" {bob_port} ", ok_body)
        self.assertNotIn("sipsite-srtp", ok_body)
        self.assertNotIn("a=crypto", ok_body)  # alice offered plain RTP: she gets plain RTP
        self.assertEqual(header(ok_h, "call-id")[0], call_id)
        # Audio both ways through both relays.
        self.assertTrue(rtp_reaches(bob_rtp, media_port(inv_body), alice_rtp, b"hello-from-bob"))
        self.assertTrue(rtp_reaches(alice_rtp, media_port(ok_body), bob_rtp, b"hello-from-alice"))
        # alice's ACK: to bob's Contact as she knows it, through alpha's Record-Route.
        routes = ", ".join(reversed(header(ok_h, "record-route")))
        to = header(ok_h, "to")[0]
        self.alice.send_request("ACK", uri_of(header(ok_h, "contact")[0]), to, call_id, 2, "alicetag",
                                extra=f"Route: {routes}\r\n")
        _, ack_h, _, _ = self.bob.expect("ACK")
        self.assertEqual(header(ack_h, "call-id"), header(inv_h, "call-id"))
        return {"call_id": call_id, "alice_ok": ok_h, "bob_invite": inv_h, "bob_invite_raw": inv_raw,
                "alice_ok_body": ok_body, "bob_invite_body": inv_body, "alice_rtp": alice_rtp, "bob_rtp": bob_rtp}

    def test_call_across_sites_then_bob_hangs_up(self):
        c = self.call()
        inv = c["bob_invite"]
        self.bob.send_request("BYE", uri_of(header(inv, "contact")[0]), header(inv, "from")[0],
                              header(inv, "call-id")[0], 7, "bobtag",
                              extra=f"Route: {', '.join(header(inv, 'record-route'))}\r\n"
                                    "User-Agent: DeskPhone/9.1\r\n")
        _, bye_h, _, bye_raw = self.alice.expect("BYE")
        self.assertEqual(header(bye_h, "call-id")[0], c["call_id"])
        self.assertIn("tag=alicetag", header(bye_h, "to")[0])
        self.assert_nothing_of(bye_raw, "alice", header(inv, "call-id")[0], "bobtag", self.bob.local_port, "beta")
        self.alice.respond(bye_raw, 200, "OK", contact=False)
        start, ok_h, _, _ = self.bob.expect("200")
        self.assertIn("BYE", header(ok_h, "cseq")[0])

    def cdrs(self, site):
        with open(self.path(site, "db.key")) as f:
            key = f.read().strip()
        out = sqlcipher_query(self.path(site, "sipsite.db"), key,
                              "SELECT caller_aor, callee_aor, direction, peer_domain, answered_at IS NOT NULL, "
                              "final_status, end_reason, media_inter_site, media_lan, media_end_to_end "
                              "FROM cdrs;").stdout
        return [tuple(line.split("|")) for line in out.splitlines() if "|" in line]

    def test_each_site_keeps_a_call_record(self):
        loads = {site: d.output().count("state loaded") for site, d in self.daemons.items()}
        c = self.call()
        inv = c["bob_invite"]
        self.bob.send_request("BYE", uri_of(header(inv, "contact")[0]), header(inv, "from")[0],
                              header(inv, "call-id")[0], 7, "bobtag",
                              extra=f"Route: {', '.join(header(inv, 'record-route'))}\r\n")
        _, _, _, bye_raw = self.alice.expect("BYE")
        self.alice.respond(bye_raw, 200, "OK", contact=False)
        self.bob.expect("200")
        # Who could hear it: SRTP between the sites, plain phones on both LANs.
        expected = {
            "alpha": ("alice@alpha.example", "bob@beta.example", "outgoing", "beta.example", "1", "200",
                      "callee hung up", "srtp", "plain", "none"),
            "beta": ("alice@alpha.example", "bob@beta.example", "incoming", "alpha.example", "1", "200",
                     "callee hung up", "srtp", "plain", "none"),
        }
        for site, row in expected.items():
            for _ in range(100):  # records are written in batches
                if self.cdrs(site) == [row]:
                    break
                time.sleep(0.1)
            self.assertEqual(self.cdrs(site), [row])
        # Writing call records does not make a site reload its users and peers
        # (it did, on the SIP thread, at every commit of the record writer).
        time.sleep(0.5)  # two polls of the database after the last record
        for site, d in self.daemons.items():
            self.assertEqual(d.output().count("state loaded"), loads[site], f"{site} reloaded:\n{d.output()}")

    def test_message_for_an_offline_user_waits_for_registration(self):
        self.assertOk(self.sipsite("user", "add", "--aor", "carol@alpha.example", "--password-stdin",
                                   stdin="carol-password\n", state="alpha"))
        self.daemons["alpha"].wait_for(r"state (?:loaded|now): 2 users", timeout=10)
        for i, text in enumerate(("first", "second")):
            self.bob.authenticated("MESSAGE", "sip:carol@alpha.example", "<sip:carol@alpha.example>",
                                   f"offline-{i}@127.0.0.1", f"t{i}", extra="Content-Type: text/plain\r\n", body=text)
            start, _, _, _ = self.bob.expect("202")
            self.assertIn("stored", start)
        carol = self.phone("alpha", "carol")
        bodies = []
        for _ in range(2):
            _, h, body, raw = carol.expect("MESSAGE")
            self.assertIn("sip:bob@beta.example", header(h, "from")[0])
            bodies.append(body)
            carol.respond(raw, 200, "OK", to_tag="c", contact=False)
        self.assertEqual(bodies, ["first", "second"])
        # Delivered once: a new registration brings nothing more.
        carol.register()
        carol.sock.settimeout(1)
        with self.assertRaises(socket.timeout):
            carol.receive_raw()

    def test_a_message_stored_before_a_restart_is_delivered_after_it(self):
        # The daemon learns at start who has messages waiting (a REGISTER of
        # anyone else reads nothing from the database).
        self.assertOk(self.sipsite("user", "add", "--aor", "carol@alpha.example", "--password-stdin",
                                   stdin="carol-password\n", state="alpha"))
        self.daemons["alpha"].wait_for(r"state (?:loaded|now): 2 users", timeout=10)
        self.bob.authenticated("MESSAGE", "sip:carol@alpha.example", "<sip:carol@alpha.example>",
                               "kept@127.0.0.1", "t1", extra="Content-Type: text/plain\r\n", body="kept")
        start, _, _, _ = self.bob.expect("202")
        self.assertIn("stored", start)
        self.assertEqual(self.daemons["alpha"].stop(), 0)
        alpha = Daemon(["--state-dir", self.path("alpha")])
        self.addCleanup(alpha.kill)
        self.daemons["alpha"] = alpha
        self.sip["alpha"] = alpha.sip_ports()["udp"]
        self.phone("alpha", "alice")  # someone without mail registers first
        carol = self.phone("alpha", "carol")
        _, h, body, raw = carol.expect("MESSAGE")
        self.assertEqual(body, "kept")
        self.assertIn("sip:bob@beta.example", header(h, "from")[0])
        carol.respond(raw, 200, "OK", to_tag="c", contact=False)
        # Delivered once: a new registration brings nothing more.
        carol.register()
        carol.sock.settimeout(1)
        with self.assertRaises(socket.timeout):
            carol.receive_raw()

    def test_call_across_sites_then_alice_hangs_up(self):
        c = self.call()
        ok = c["alice_ok"]
        self.alice.send_request("BYE", uri_of(header(ok, "contact")[0]), header(ok, "to")[0], c["call_id"], 3,
                                "alicetag", extra=f"Route: {', '.join(reversed(header(ok, 'record-route')))}\r\n")
        _, bye_h, _, bye_raw = self.bob.expect("BYE")
        self.assertIn("tag=bobtag", header(bye_h, "to")[0])
        self.assert_nothing_of(bye_raw, "bob", c["call_id"], "alicetag", self.alice.local_port, "alpha")
        self.bob.respond(bye_raw, 200, "OK", contact=False)
        self.alice.expect("200")

    def test_message_each_way(self):
        for sender, receiver, site, other in ((self.alice, self.bob, "alpha", "beta"),
                                              (self.bob, self.alice, "beta", "alpha")):
            call_id = f"msg-{secrets.token_hex(4)}@127.0.0.1"
            to = f"sip:{receiver.user}@{other}.example"
            sender.authenticated("MESSAGE", to, f"<{to}>", call_id, "msgtag",
                                 extra="Content-Type: text/plain\r\nUser-Agent: Softphone 1.2\r\n", body="lunch?")
            _, h, body, raw = receiver.expect("MESSAGE")
            self.assertEqual(body, "lunch?")
            self.assertIn(f"sip:{sender.user}@{site}.example", header(h, "from")[0])
            self.assert_nothing_of(raw, receiver.user, call_id, "msgtag", sender.local_port, site)
            receiver.respond(raw, 200, "OK", to_tag="rcpt", contact=False)
            _, ok_h, _, _ = sender.expect("200")
            self.assertEqual(header(ok_h, "call-id")[0], call_id)

    def test_domains_that_are_not_trusted_peers_are_refused(self):
        self.alice.authenticated("MESSAGE", "sip:carol@gamma.example", "<sip:carol@gamma.example>",
                                 "m-gamma@127.0.0.1", "t1", body="hi")
        start, _, _, _ = self.alice.expect("403")
        self.assertIn("not a domain of a trusted peer site", start)

    def test_one_sided_trust_is_refused_and_pending(self):
        # gamma trusts alpha, alpha never trusted gamma.
        self.init_site("gamma.example", state="gamma")
        gamma = Daemon(["--state-dir", self.path("gamma")])
        self.addCleanup(gamma.kill)
        gamma.federation_port()
        self.trust("gamma", "alpha")
        gamma.wait_for(r"link to alpha\.example: refused by peer", timeout=20)
        for _ in range(200):
            pending = json.loads(self.sipsite("peer", "pending", "--json", state="alpha").out)
            if any(p["claimed_domain"] == "gamma.example" for p in pending):
                break
            time.sleep(0.1)
        else:
            self.fail("gamma's refused handshake never became a pending request at alpha")
        self.assertNotIn("peer gamma.example connected", self.daemons["alpha"].output())

    def test_revocation_during_a_call_ends_it(self):
        self.call()
        self.assertOk(self.sipsite("peer", "revoke", "--domain", "beta.example", state="alpha"))
        # alpha ends the call on its side: alice gets a BYE from the site.
        _, bye_h, _, bye_raw = self.alice.expect("BYE", timeout=10)
        self.assertIn("no longer trusted", header(bye_h, "reason")[0])
        self.alice.respond(bye_raw, 200, "OK", contact=False)
        self.daemons["beta"].wait_for(r"link to alpha\.example: refused by peer", timeout=20)
        # New attempts fail both ways.
        self.alice.authenticated("MESSAGE", "sip:bob@beta.example", "<sip:bob@beta.example>", "m-after@1", "t2",
                                 body="still there?")
        start, _, _, _ = self.alice.expect("403")
        self.bob.authenticated("MESSAGE", "sip:alice@alpha.example", "<sip:alice@alpha.example>", "m-after@2", "t3",
                               body="hello?")
        start, _, _, _ = self.bob.expect("480", skip=("100",))
        self.assertIn("not connected", start)

    def test_stopping_a_site_ends_its_calls_politely(self):
        """SIGTERM on alpha during a call: alice (on alpha's LAN) and bob (at
        beta, over the link) both get a BYE saying why, answer it, and alpha
        exits cleanly without waiting out its goodbye deadline."""
        c = self.call()
        alpha = self.daemons["alpha"]
        alpha.proc.send_signal(signal.SIGTERM)
        for phone, call_id in ((self.alice, c["call_id"]), (self.bob, header(c["bob_invite"], "call-id")[0])):
            _, bye_h, _, bye_raw = phone.expect("BYE", timeout=10)
            self.assertEqual(header(bye_h, "call-id")[0], call_id)
            self.assertIn("site shutting down", header(bye_h, "reason")[0])
            phone.respond(bye_raw, 200, "OK", contact=False)
        self.assertEqual(alpha.stop(timeout=20), 0)
        log = alpha.output()
        self.assertIn("ending 1 call(s)", log)
        self.assertNotIn("unanswered", log)
        # bob's BYE crossed the link like any other: nothing of alice's phone.
        self.assert_nothing_of(bye_raw, "bob", c["call_id"], "alicetag", self.alice.local_port, "alpha")

    def test_stopping_a_site_ends_local_calls_too(self):
        self.assertOk(self.sipsite("user", "add", "--aor", "carol@alpha.example", "--password-stdin",
                                   stdin="carol-password\n", state="alpha"))
        alpha = self.daemons["alpha"]
        alpha.wait_for(r"state (?:loaded|now): 2 users", timeout=20)
        carol = self.phone("alpha", "carol")
        call_id = "local-" + secrets.token_hex(4) + "@127.0.0.1"
        self.alice.authenticated("INVITE", "sip:carol@alpha.example", "<sip:carol@alpha.example>", call_id,
                                 "alicetag", extra=f"Contact: <sip:alice@127.0.0.1:{self.alice.local_port}>\r\n")
        _, _, _, inv_raw = carol.expect("INVITE")
        carol.respond(inv_raw, 200, "OK", to_tag="caroltag")
        self.alice.expect("200", skip=("100",))
        alpha.proc.send_signal(signal.SIGTERM)
        for phone, from_tag, to_tag in ((self.alice, "caroltag", "alicetag"), (carol, "alicetag", "caroltag")):
            _, bye_h, _, bye_raw = phone.expect("BYE", timeout=10)
            self.assertEqual(header(bye_h, "call-id")[0], call_id)
            self.assertIn(f"tag={from_tag}", header(bye_h, "from")[0])
            self.assertIn(f"tag={to_tag}", header(bye_h, "to")[0])
            phone.respond(bye_raw, 200, "OK", contact=False)
        self.assertEqual(alpha.stop(timeout=20), 0)
        self.assertIn("ending 1 call(s)", alpha.output())

    def test_an_offer_the_relay_cannot_read_gets_488_at_once_and_never_crosses(self):
        bad = ("v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=audio not-a-port RTP/AVP 0\r\n")
        call_id = "bad-sdp-" + secrets.token_hex(4) + "@127.0.0.1"
        self.alice.authenticated("INVITE", "sip:bob@beta.example", "<sip:bob@beta.example>", call_id, "alicetag",
                                 extra=f"Contact: <sip:alice@127.0.0.1:{self.alice.local_port}>\r\n"
                                       "Content-Type: application/sdp\r\n", body=bad)
        start, h, _, _ = self.alice.expect("488", timeout=5)
        self.assertRegex(start, r"^SIP/2\.0 488 Not Acceptable Here \(.+\)$")
        self.assertEqual(header(h, "call-id")[0], call_id)
        self.assertTrue(header(h, "warning"))
        # Nothing reached beta's phone.
        with self.assertRaises(socket.timeout):
            self.bob.next_message(timeout=1)
        self.assertIn("not anchored", self.daemons["alpha"].output())

    def test_a_failed_re_invite_keeps_the_call_and_its_media(self):
        c = self.call()
        inv = c["bob_invite"]
        bob_rtp = rtp_socket(self)
        # bob offers new media in the dialog; alice declines it (488).
        self.bob.send_request("INVITE", uri_of(header(inv, "contact")[0]), header(inv, "from")[0],
                              header(inv, "call-id")[0], 8, "bobtag",
                              extra=f"Route: {', '.join(header(inv, 'record-route'))}\r\n"
                                    f"Contact: <sip:bob@127.0.0.1:{self.bob.local_port}>\r\n"
                                    "Content-Type: application/sdp\r\n",
                              body=sdp("bob", bob_rtp.getsockname()[1]))
        _, reinv_h, reinv_body, reinv_raw = self.alice.expect("INVITE")
        self.alice.respond(reinv_raw, 488, "Not Acceptable Here", contact=False)
        self.bob.expect("488", skip=("100",))
        # The session is as it was: audio still flows both ways through both
        # relays, on the ports of the first offer/answer.
        alice_ok, bob_inv_body = c["alice_ok_body"], c["bob_invite_body"]
        self.assertTrue(rtp_reaches(c["bob_rtp"], media_port(bob_inv_body), c["alice_rtp"], b"still-there-bob"))
        self.assertTrue(rtp_reaches(c["alice_rtp"], media_port(alice_ok), c["bob_rtp"], b"still-there-alice"))


if __name__ == "__main__":
    unittest.main()
