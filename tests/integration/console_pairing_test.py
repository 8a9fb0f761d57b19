"""Two running sites paired entirely through their admin consoles: invite
pasted on one side (its certificate fetched and checked against the invite),
fingerprint confirmed and trusted; the pending request trusted on the other
side; both links come up and each console lists the pair's one link;
revocation from the console is seen at once. And a call between users of two
paired sites counted on the console (peers, /api/v1/calls, /metrics) while
it lasts, and its media as the relay carries it (packets each way, no
addresses)."""
import json
import secrets
import time
import unittest

import federation_calls_test as fc
from console_api_test import NEW_PASSWORD, Console
from harness import Daemon, SiteTestCase

CONFIG = """[site]
public_address = "127.0.0.1"
[federation]
listen = "127.0.0.1:0"
[sip]
udp = ["127.0.0.1:0"]
tcp = ["127.0.0.1:0"]
tls = ["127.0.0.1:0"]
[admin]
listen = "127.0.0.1:0"
"""


# Polling bounds are generous (sanitizer builds on a shared two-core machine);
# each wait returns as soon as its condition holds.
class ConsolePairingTest(SiteTestCase):
    def start(self, name):
        init = self.init_site(f"{name}.example", state=name)
        cfg = self.write(f"{name}.toml", CONFIG)
        daemon = Daemon(["--state-dir", self.path(name), "--config", cfg])
        self.addCleanup(daemon.kill)
        console = Console(daemon.admin_port())
        self.addCleanup(console.close)
        self.assertEqual(console.login(init["admin password"]).status, 200)
        r = console.request("PUT", "/api/v1/session/password", {"current": init["admin password"], "new": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r)
        return daemon, console, console.get("/api/v1/site").json()

    def wait_pending(self, console, fingerprint, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            items = console.get("/api/v1/peers/pending").json()["items"]
            for item in items:
                if item["fingerprint"] == fingerprint:
                    return item
            time.sleep(0.1)
        self.fail(f"{fingerprint} never became pending")

    def wait_link(self, console, state, timeout=60):
        deadline = time.monotonic() + timeout
        peers = None
        while time.monotonic() < deadline:
            peers = console.get("/api/v1/peers").json()["items"]
            if peers and peers[0].get("link", {}).get("state") == state:
                return peers[0]["link"]
            time.sleep(0.1)
        self.fail(f"link never {state}: {peers}")

    def wait_links(self, console, domain, count, timeout=60):
        """The peer `domain` as the console lists it, once it has `count` live links."""
        deadline = time.monotonic() + timeout
        peer = None
        while time.monotonic() < deadline:
            peer = [p for p in console.get("/api/v1/peers").json()["items"] if p["domain"] == domain][0]
            if len(peer["links"]) == count:
                return peer
            time.sleep(0.1)
        self.fail(f"{domain} never had {count} link(s): {peer}")

    def test_pairing_two_sites_through_their_consoles(self):
        alpha_d, alpha, alpha_site = self.start("alpha")
        beta_d, beta, beta_site = self.start("beta")
        self.assertIn("address=127.0.0.1:", alpha_site["invite"])
        self.assertNotIn("address=127.0.0.1:0&", alpha_site["invite"])

        # A wrong fingerprint in the invite stores nothing.
        forged = alpha_site["invite"].replace(alpha_site["fingerprint"], beta_site["fingerprint"])
        r = beta.post("/api/v1/peers", {"invite": forged})
        self.assertEqual((r.status, r.code()), (400, "fingerprint_mismatch"))
        self.assertEqual(beta.get("/api/v1/peers").json()["total"], 0)

        # Beta's admin pastes alpha's invite: alpha's certificate is fetched.
        r = beta.post("/api/v1/peers", {"invite": alpha_site["invite"]})
        self.assertEqual(r.status, 201, r)
        peer = r.json()
        self.assertEqual((peer["domain"], peer["fingerprint"], peer["state"]),
                         ("alpha.example", alpha_site["fingerprint"], "untrusted"))
        r = beta.post(f"/api/v1/peers/{peer['fingerprint']}/trust", {"confirm_fingerprint": peer["fingerprint"]})
        self.assertEqual((r.status, r.json()["state"]), (200, "trusted"), r)

        # Beta's attempts show on alpha's console as a pending request with
        # the same pairing code; alpha's admin trusts it.
        pending = self.wait_pending(alpha, beta_site["fingerprint"])
        self.assertEqual(pending["claimed_domain"], "beta.example")
        self.assertEqual(pending["pairing_code"], peer["pairing_code"])
        beta_address = beta_site["invite"].split("address=")[1].split("&")[0]
        r = alpha.post(f"/api/v1/peers/{beta_site['fingerprint']}/trust",
                       {"confirm_fingerprint": beta_site["fingerprint"], "address": beta_address})
        self.assertEqual((r.status, r.json()["state"]), (200, "trusted"), r)
        self.assertEqual(alpha.get("/api/v1/peers/pending").json()["total"], 0)

        alpha_d.wait_for(r"link to beta\.example: connected", timeout=60)
        beta_d.wait_for(r"link to alpha\.example: connected", timeout=60)
        # Both consoles show the link up.
        for console in (alpha, beta):
            self.wait_link(console, "connected")

        # Each console lists the one link kept for the pair (the canonical
        # one), from its own side: dialled by one, accepted by the other.
        a = self.wait_links(alpha, "beta.example", 1)
        b = self.wait_links(beta, "alpha.example", 1)
        self.assertTrue(a["links"][0]["canonical"] and b["links"][0]["canonical"], (a, b))
        self.assertEqual({a["links"][0]["direction"], b["links"][0]["direction"]}, {"inbound", "outbound"})
        for p in (a, b):
            self.assertRegex(p["links"][0]["remote"], r"^127\.0\.0\.1:\d+$")
            self.assertRegex(p["links"][0]["since"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertEqual(p["calls"], 0)
        calls = alpha.get("/api/v1/calls").json()
        self.assertEqual(calls["total"], 0)
        self.assertEqual(calls["peers"], [{"domain": "beta.example", "fingerprint": beta_site["fingerprint"],
                                           "calls": 0, "connected": True}])
        metrics = alpha.get("/metrics").data.decode()
        self.assertIn('sipsite_federation_links{peer="beta.example"} 1\n', metrics)
        self.assertIn('sipsite_federation_calls{peer="beta.example"} 0\n', metrics)

        # Revocation from alpha's console: beta sees itself refused.
        r = alpha.post(f"/api/v1/peers/{beta_site['fingerprint']}/revoke")
        self.assertEqual((r.status, r.json()["state"]), (200, "revoked"), r)
        beta_d.wait_for(r"link to alpha\.example: refused by peer", timeout=60)
        self.wait_link(beta, "refused_by_peer")
        # The revoked peer has no live link left on either side.
        self.assertEqual(self.wait_links(alpha, "beta.example", 0)["calls"], 0)
        self.wait_links(beta, "alpha.example", 0)
        self.assertEqual(alpha.get("/api/v1/calls").json()["peers"], [])
        actions = [e["action"] for e in alpha.get("/api/v1/audit").json()["items"]]
        self.assertIn("peer.trust", actions)
        self.assertIn("peer.revoke", actions)

    def test_ignored_pending_requests_disappear(self):
        alpha_d, alpha, alpha_site = self.start("alpha")
        beta_d, beta, beta_site = self.start("beta")
        self.assertEqual(beta.post("/api/v1/peers", {"invite": alpha_site["invite"]}).status, 201)
        self.wait_pending(alpha, beta_site["fingerprint"])
        r = alpha.post(f"/api/v1/peers/pending/{beta_site['fingerprint']}/ignore")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(alpha.get("/api/v1/peers/pending").json()["total"], 0)
        pending_cli = json.loads(self.sipsite("peer", "pending", "--json", state="alpha").out)
        self.assertEqual(pending_cli, [])


class ConsoleLiveCallsTest(SiteTestCase):
    """A call between users of two paired sites, as the consoles show it
    while it lasts: the peer's call count, /api/v1/calls and the metrics.
    The call itself is federation_calls_test's (scripted phones over UDP)."""

    trust = fc.FederationCallsTest.trust
    phone = fc.FederationCallsTest.phone
    start_paired_sites = fc.FederationCallsTest.start_paired_sites

    def call(self, alice_port=40000, bob_port=40002):
        """alice calls bob, bob answers, alice ACKs. Their SDP names
        alice_port and bob_port on 127.0.0.1 (by default nobody listens:
        signalling only)."""
        call_id = "alice-call-" + secrets.token_hex(4) + "@127.0.0.1"
        self.alice.authenticated("INVITE", "sip:bob@beta.example", "<sip:bob@beta.example>", call_id, "alicetag",
                                 extra=f"Contact: <sip:alice@127.0.0.1:{self.alice.local_port}>\r\n"
                                       "Content-Type: application/sdp\r\n",
                                 body=fc.sdp("alice", alice_port))
        _, inv_h, inv_body, inv_raw = self.bob.expect("INVITE")
        self.bob.respond(inv_raw, 200, "OK", to_tag="bobtag",
                         extra="Content-Type: application/sdp\r\n", body=fc.sdp("bob", bob_port))
        _, ok_h, ok_body, _ = self.alice.expect("200", skip=("100", "180"))
        routes = ", ".join(reversed(fc.header(ok_h, "record-route")))
        self.alice.send_request("ACK", fc.uri_of(fc.header(ok_h, "contact")[0]), fc.header(ok_h, "to")[0], call_id,
                                2, "alicetag", extra=f"Route: {routes}\r\n")
        self.bob.expect("ACK")
        return {"call_id": call_id, "alice_ok": ok_h, "bob_offer": inv_body, "alice_answer": ok_body}

    def hang_up(self, c):
        """alice sends BYE, bob answers 200."""
        ok = c["alice_ok"]
        self.alice.send_request("BYE", fc.uri_of(fc.header(ok, "contact")[0]), fc.header(ok, "to")[0], c["call_id"],
                                3, "alicetag",
                                extra=f"Route: {', '.join(reversed(fc.header(ok, 'record-route')))}\r\n")
        _, _, _, bye_raw = self.bob.expect("BYE")
        self.bob.respond(bye_raw, 200, "OK", contact=False)
        self.alice.expect("200")

    def setUp(self):
        super().setUp()
        # As FederationCallsTest.setUp: two sites paired through the CLI, a
        # registered phone on each; and alpha's console, logged in.
        passwords = self.start_paired_sites(link_timeout=60)
        c = Console(self.daemons["alpha"].admin_port())
        self.addCleanup(c.close)
        self.assertEqual(c.login(passwords["alpha"]).status, 200)
        r = c.request("PUT", "/api/v1/session/password", {"current": passwords["alpha"], "new": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r)
        self.console = c

    def wait_calls(self, n):
        def beta(answer):
            return [p for p in answer["items"] if p["domain"] == "beta.example"][0]
        return beta(self.console.poll("/api/v1/peers", lambda a: beta(a)["calls"] == n, f"beta.example with {n} call(s)"))

    def test_a_call_across_sites_is_counted_while_it_lasts(self):
        self.assertEqual(self.wait_calls(0)["calls"], 0)
        c = self.call()
        self.wait_calls(1)
        calls = self.console.get("/api/v1/calls").json()
        self.assertEqual(calls["total"], 1)
        self.assertEqual([(p["domain"], p["calls"], p["connected"]) for p in calls["peers"]],
                         [("beta.example", 1, True)])
        self.assertGreater(calls["counters"]["sent"], 0)
        self.assertGreater(calls["counters"]["received"], 0)
        metrics = self.console.get("/metrics").data.decode()
        self.assertIn('sipsite_federation_calls{peer="beta.example"} 1\n', metrics)

        # alice hangs up: the count falls back to none.
        self.hang_up(c)
        self.wait_calls(0)
        self.assertIn('sipsite_federation_calls{peer="beta.example"} 0\n', self.console.get("/metrics").data.decode())

    def wait_relayed(self, done, what):
        return self.console.poll("/api/v1/calls", done, f"alpha's relay with {what}")

    def test_a_relayed_call_shows_its_media_while_it_lasts(self):
        idle = self.wait_relayed(lambda a: a["relay"] is not None, "a relay")
        self.assertEqual(idle["media"], [])
        self.assertEqual(idle["relay"]["calls"], 0)
        free = idle["relay"]["free_ports"]
        self.assertGreater(free, 0)

        # A call with a few RTP packets each way through both sites' relays.
        alice_rtp, bob_rtp = fc.rtp_socket(self), fc.rtp_socket(self)
        c = self.call(alice_rtp.getsockname()[1], bob_rtp.getsockname()[1])
        self.assertTrue(fc.rtp_reaches(bob_rtp, fc.media_port(c["bob_offer"]), alice_rtp, b"hello-from-bob"))
        self.assertTrue(fc.rtp_reaches(alice_rtp, fc.media_port(c["alice_answer"]), bob_rtp, b"hello-from-alice"))

        def both_ways(a):
            return (len(a["media"]) == 1 and a["media"][0]["streams"]
                    and a["media"][0]["streams"][0]["lan_to_peer"]["packets"] > 0
                    and a["media"][0]["streams"][0]["peer_to_lan"]["packets"] > 0)
        calls = self.wait_relayed(both_ways, "one call with packets both ways")
        self.assertEqual(calls["relay"]["calls"], 1)
        self.assertLess(calls["relay"]["free_ports"], free)
        relayed = calls["media"][0]
        self.assertRegex(relayed["id"], r"^[0-9a-f]{12}$")
        self.assertEqual(len(relayed["streams"]), 1)
        audio = relayed["streams"][0]
        self.assertEqual(audio["media"], "audio")
        self.assertTrue(audio["lan"]["latched"])   # alice's phone
        self.assertTrue(audio["peer"]["latched"])  # beta's relay
        self.assertGreater(audio["lan_to_peer"]["bytes"], 0)
        self.assertGreater(audio["peer_to_lan"]["bytes"], 0)
        # Relay ports are the relay's own; the API shows neither the phones'
        # addresses and ports nor the Call-ID.
        text = json.dumps(calls)
        self.assertNotRegex(text, r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
        self.assertNotIn(c["call_id"], text)
        self.assertNotIn(c["call_id"].split("@")[0], text)
        for port in (alice_rtp.getsockname()[1], bob_rtp.getsockname()[1]):
            self.assertNotIn(f'"port": {port},', text)
        metrics = self.console.get("/metrics").data.decode()
        self.assertIn("sipsite_media_calls 1\n", metrics)
        self.assertRegex(metrics, r'sipsite_media_live_packets\{direction="lan_to_peer"\} [1-9]\d*\n')
        self.assertRegex(metrics, r'sipsite_media_live_packets\{direction="peer_to_lan"\} [1-9]\d*\n')

        # After the BYE the relay carries nothing.
        self.hang_up(c)
        after = self.wait_relayed(lambda a: a["media"] == [] and a["relay"]["calls"] == 0, "no call after the BYE")
        self.assertEqual(after["relay"]["free_ports"], free)
        self.assertIn("sipsite_media_calls 0\n", self.console.get("/metrics").data.decode())


if __name__ == "__main__":
    unittest.main()
