"""Local calls (a phone of the site calling another one) through the media
relay, with media.anchor_local_calls on: one real daemon on loopback, its
phones scripted UAs over UDP (federation_calls_test.Phone) that exchange
real RTP. Each phone must be told the relay (the site's LAN address, a port
of the configured range), never the other phone; audio flows both ways
through the relay; the console shows the call as local, with packets each
way; the BYE frees it. A forked INVITE gives both of the callee's phones the
same relay port, and the CANCEL of the unanswered branch leaves the call's
media alone. Refusals: an offer the relay cannot read gets 488 with the
reason, a full port range a prompt 503 naming it; neither reaches the
callee. With the setting off, SDP passes untouched."""
import json
import random
import re
import socket
import secrets
import time
import unittest

from console_api_test import NEW_PASSWORD, Console
from federation_calls_test import Phone, media_port, rtp_socket, rtp_source, sdp, uri_of
from harness import Daemon, SiteTestCase
from sip_client import header

DOMAIN = "alpha.example"


def config(ports, anchor):
    text = ('[federation]\nlisten = "127.0.0.1:0"\n'
            '[sip]\nudp = ["127.0.0.1:0"]\ntcp = []\ntls = []\n'
            '[admin]\nlisten = "127.0.0.1:0"\n'
            f'[media]\nports = "{ports[0]}-{ports[1]}"\n')
    if anchor is not None:
        text += f"anchor_local_calls = {'true' if anchor else 'false'}\n"
    return text


def relay_port(test, body, ports):
    """The audio port `body` names, after checking that it is the relay's:
    the site's LAN address (127.0.0.1 here) and a port of the range."""
    test.assertRegex(body, r"(?m)^c=IN IP4 127\.0\.0\.1\r?$")
    port = media_port(body)
    test.assertGreaterEqual(port, ports[0], body)
    test.assertLessEqual(port, ports[1], body)
    return port


class LocalMediaCase(SiteTestCase):
    anchor = True

    def setUp(self):
        super().setUp()
        # A range outside Linux's ephemeral ports, of exactly one local
        # call's worth: two RTP/RTCP pairs.
        first = random.randrange(24000, 31000, 2)
        self.ports = (first, first + 3)
        self.init = self.init_site(DOMAIN)
        for user in ("alice", "bob"):
            self.assertOk(self.sipsite("user", "add", "--aor", f"{user}@{DOMAIN}", "--password-stdin",
                                       stdin=f"{user}-password\n"))
        cfg = self.write("site.toml", config(self.ports, self.anchor))
        self.daemon = Daemon(["--state-dir", self.path("site"), "--config", cfg])
        self.addCleanup(self.daemon.kill)
        self.sip = self.daemon.sip_ports()["udp"]
        self.daemon.wait_for(r"state loaded: 2 users")
        self.alice = self.phone("alice")
        self.bob = self.phone("bob")

    def phone(self, user):
        p = Phone("udp", self.sip, user=user, domain=DOMAIN, password=f"{user}-password")
        self.addCleanup(p.close)
        status, _, _ = p.register()
        self.assertEqual(status, 200)
        return p

    def invite(self, caller, callee_user, offer, tag="alicetag"):
        """INVITE with the digest handshake (the 407 ACKed); returns the
        Call-ID and the branch of the authenticated INVITE (CSeq 2)."""
        call_id = f"local-{secrets.token_hex(4)}@127.0.0.1"
        uri = f"sip:{callee_user}@{DOMAIN}"
        extra = (f"Contact: <sip:{caller.user}@127.0.0.1:{caller.local_port}>\r\n"
                 "Content-Type: application/sdp\r\n")
        branch = caller.send_request("INVITE", uri, f"<{uri}>", call_id, 1, tag, extra, offer)
        _, headers, _, _ = caller.expect("407")
        self.ack_failure(caller, uri, call_id, 1, branch, headers, tag)
        auth = caller.authorization(header(headers, "proxy-authenticate")[0], "INVITE", uri)
        branch = caller.send_request("INVITE", uri, f"<{uri}>", call_id, 2, tag,
                                     extra + f"Proxy-Authorization: {auth}\r\n", offer)
        return call_id, branch

    def ack_failure(self, caller, uri, call_id, cseq, branch, response_h, tag):
        """The ACK of a non-2xx final response: same branch as the INVITE."""
        caller.send_raw(f"ACK {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{caller.local_port};branch={branch};rport\r\n"
                        f"Max-Forwards: 70\r\nFrom: <sip:{caller.user}@{DOMAIN}>;tag={tag}\r\n"
                        f"To: {header(response_h, 'to')[0]}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} ACK\r\n"
                        "Content-Length: 0\r\n\r\n")

    def ack(self, caller, call_id, ok_h, tag="alicetag"):
        routes = ", ".join(reversed(header(ok_h, "record-route")))
        caller.send_request("ACK", uri_of(header(ok_h, "contact")[0]), header(ok_h, "to")[0], call_id, 2, tag,
                            extra=f"Route: {routes}\r\n")

    def assert_silent(self, phone):
        """Nothing reaches `phone` (a negative check, bounded at 1 s)."""
        phone.sock.settimeout(1)
        with self.assertRaises(socket.timeout):
            raw = phone.receive_raw()
            self.fail(f"{phone.user} received:\n{raw}")


class LocalCallsAnchoredTest(LocalMediaCase):
    def console(self):
        c = Console(self.daemon.admin_port())
        self.addCleanup(c.close)
        self.assertEqual(c.login(self.init["admin password"]).status, 200)
        r = c.request("PUT", "/api/v1/session/password", {"current": self.init["admin password"], "new": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r)
        return c

    def wait_calls(self, console, done, what):
        return console.poll("/api/v1/calls", done, f"the relay with {what}")

    def test_a_forked_local_call_goes_through_the_relay_both_ways(self):
        self.daemon.wait_for(r"local calls anchored too")
        console = self.console()
        idle = self.wait_calls(console, lambda a: a["relay"] is not None, "a relay")
        self.assertEqual(idle["relay"]["calls"], 0)
        self.assertEqual(idle["relay"]["free_ports"], 4)
        bob2 = self.phone("bob")  # bob's second phone: the INVITE forks
        alice_rtp, bob_rtp = rtp_socket(self), rtp_socket(self)
        alice_port, bob_port = alice_rtp.getsockname()[1], bob_rtp.getsockname()[1]

        call_id, _ = self.invite(self.alice, "bob", sdp("alice", alice_port))
        offers = {}
        for p, tag in ((self.bob, "bobtag"), (bob2, "bob2tag")):
            _, inv_h, body, raw = p.expect("INVITE")
            p.respond(raw, 180, "Ringing", to_tag=tag)  # at once: no retransmissions later
            self.assertEqual(header(inv_h, "call-id")[0], call_id)
            offers[p] = (body, raw)
            self.assertNotIn(f" {alice_port} ", body)
            self.assertIn("a=rtpmap:0 PCMU/8000", body)
        # Both branches carry the same offer: one relay port for the callee side.
        callee_side = relay_port(self, offers[self.bob][0], self.ports)
        self.assertEqual(relay_port(self, offers[bob2][0], self.ports), callee_side)

        self.alice.expect("180")
        self.bob.respond(offers[self.bob][1], 200, "OK", to_tag="bobtag",
                         extra="Content-Type: application/sdp\r\n", body=sdp("bob", bob_port))
        _, ok_h, ok_body, _ = self.alice.expect("200", skip=("100", "180"))
        caller_side = relay_port(self, ok_body, self.ports)
        self.assertNotIn(f" {bob_port} ", ok_body)
        self.assertNotEqual(caller_side, callee_side)
        # The unanswered branch is cancelled: that ends the branch, not the call.
        _, _, _, cancel_raw = bob2.expect("CANCEL", skip=("100", "ACK"))
        bob2.respond(cancel_raw, 200, "OK", contact=False)
        bob2.respond(offers[bob2][1], 487, "Request Terminated", to_tag="bob2tag", contact=False)
        bob2.expect("ACK")
        self.ack(self.alice, call_id, ok_h)
        self.bob.expect("ACK")

        # Audio both ways, each phone hearing it from the relay port it was told.
        self.assertEqual(rtp_source(alice_rtp, caller_side, bob_rtp, b"hello-from-alice"), ("127.0.0.1", callee_side))
        self.assertEqual(rtp_source(bob_rtp, callee_side, alice_rtp, b"hello-from-bob"), ("127.0.0.1", caller_side))

        def both_ways(a):
            return (len(a["media"]) == 1 and a["media"][0]["streams"]
                    and a["media"][0]["streams"][0]["lan_to_peer"]["packets"] > 0
                    and a["media"][0]["streams"][0]["peer_to_lan"]["packets"] > 0)
        calls = self.wait_calls(console, both_ways, "one call with packets both ways")
        self.assertEqual(calls["relay"]["calls"], 1)
        self.assertEqual(calls["relay"]["free_ports"], 0)
        self.assertEqual(calls["total"], 0)  # no peer site involved
        relayed = calls["media"][0]
        self.assertEqual(relayed["scope"], "local")
        audio = relayed["streams"][0]
        self.assertTrue(audio["lan"]["latched"])   # alice's phone
        self.assertTrue(audio["peer"]["latched"])  # bob's
        self.assertEqual({audio["lan"]["port"], audio["peer"]["port"]}, {caller_side, callee_side})
        text = json.dumps(calls)
        self.assertNotRegex(text, r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
        self.assertNotIn(call_id, text)
        for port in (alice_port, bob_port):
            self.assertNotIn(f'"port": {port},', text)

        # alice hangs up: the relay lets the call go.
        self.alice.send_request("BYE", uri_of(header(ok_h, "contact")[0]), header(ok_h, "to")[0], call_id, 3,
                                "alicetag", extra=f"Route: {', '.join(reversed(header(ok_h, 'record-route')))}\r\n")
        _, _, _, bye_raw = self.bob.expect("BYE")
        self.bob.respond(bye_raw, 200, "OK", contact=False)
        self.alice.expect("200")
        after = self.wait_calls(console, lambda a: a["relay"]["calls"] == 0, "no call after the BYE")
        self.assertEqual(after["media"], [])
        self.assertEqual(after["relay"]["free_ports"], 4)

    def test_an_offer_the_relay_cannot_read_gets_488_and_stays_home(self):
        bad = ("v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=audio not-a-port RTP/AVP 0\r\n")
        call_id, branch = self.invite(self.alice, "bob", bad)
        start, h, _, _ = self.alice.expect("488")
        self.assertRegex(start, r"^SIP/2\.0 488 Not Acceptable Here \(.+\)$")
        self.assertEqual(header(h, "call-id")[0], call_id)
        self.ack_failure(self.alice, f"sip:bob@{DOMAIN}", call_id, 2, branch, h, "alicetag")
        # bob's phone heard nothing of it: neither the INVITE nor its ACK.
        self.assert_silent(self.bob)
        self.assertIn("SDP of a local call not anchored", self.daemon.output())

    def test_a_full_port_range_refuses_the_next_call_at_once(self):
        alice_rtp = rtp_socket(self)
        call_id, branch = self.invite(self.alice, "bob", sdp("alice", alice_rtp.getsockname()[1]))
        _, _, body, raw = self.bob.expect("INVITE")
        relay_port(self, body, self.ports)
        self.bob.respond(raw, 180, "Ringing", to_tag="bobtag")
        self.alice.expect("180")
        # The range holds one call: bob calling alice meanwhile gets the
        # site's own 503 with Retry-After and the cause in a Warning (not
        # the 500 §16.7 makes of a phone's 503), and alice's phone hears
        # nothing of it.
        second, second_branch = self.invite(self.bob, "alice", sdp("bob", 50000), tag="bobcalls")
        start, h, _, _ = self.bob.expect("503")
        self.assertIn("no free media", start)
        self.assertEqual(header(h, "retry-after"), ["5"])
        self.assertEqual(header(h, "call-id")[0], second)
        warning = header(h, "warning")
        self.assertEqual(len(warning), 1, h)
        self.assertIn("no free media", warning[0])
        self.ack_failure(self.bob, f"sip:alice@{DOMAIN}", second, 2, second_branch, h, "bobcalls")
        self.assert_silent(self.alice)
        # bob declines the first call: its failure frees the range, and
        # bob's next call to alice is anchored.
        self.bob.respond(raw, 486, "Busy Here", to_tag="bobtag", contact=False)
        _, busy_h, _, _ = self.alice.expect("486", skip=("100", "180"))
        self.ack_failure(self.alice, f"sip:bob@{DOMAIN}", call_id, 2, branch, busy_h, "alicetag")
        self.bob.expect("ACK")
        self.invite(self.bob, "alice", sdp("bob", 50000), tag="bobagain")
        _, _, body, _ = self.alice.expect("INVITE")
        relay_port(self, body, self.ports)
        self.assertNotIn(" 50000 ", body)


class LocalCallsNotAnchoredTest(LocalMediaCase):
    anchor = None  # the default: off

    def test_sdp_passes_unchanged_by_default(self):
        self.assertNotIn("local calls anchored", self.daemon.wait_for(r"ready"))
        offer = sdp("alice", 50002)
        self.invite(self.alice, "bob", offer)
        _, _, body, raw = self.bob.expect("INVITE")
        self.assertEqual(body, offer)
        answer = sdp("bob", 50004)
        self.bob.respond(raw, 200, "OK", to_tag="bobtag", extra="Content-Type: application/sdp\r\n", body=answer)
        _, _, ok_body, _ = self.alice.expect("200", skip=("100", "180"))
        self.assertEqual(ok_body, answer)


if __name__ == "__main__":
    unittest.main()
