"""Troubleshooting views of SIP traffic, off by default: the trace of chosen
AORs (config log.trace_aors) in the daemon's log, and the signaling log
(setting privacy.signaling_log_enabled) in the encrypted database. Both are
redacted: no bodies, no credentials, no Call-IDs."""
import time
import unittest

from harness import Daemon, SiteTestCase, loopback_config, sqlcipher_query
from sip_client import SipClient, header


class SignalingTraceTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init_site()
        for user in ("alice", "bob"):
            self.assertOk(self.sipsite("user", "add", "--aor", f"{user}@alpha.example", "--password-stdin",
                                       stdin=f"{user}-password\n"))
        cfg = loopback_config(self.path("trace.toml"), '\n[log]\ntrace_aors = ["bob@alpha.example"]\n')
        self.daemon = Daemon(["--state-dir", self.path("site"), "--config", cfg])
        self.addCleanup(self.daemon.kill)
        self.ports = self.daemon.sip_ports()

    def client(self, user):
        c = SipClient("udp", self.ports["udp"], user=user, password=f"{user}-password")
        self.addCleanup(c.close)
        return c

    def query(self, sql):
        with open(self.path("site", "db.key")) as f:
            key = f.read().strip()
        return sqlcipher_query(self.path("site", "sipsite.db"), key, sql).stdout

    def test_only_the_traced_aor_is_logged_and_redacted(self):
        bob, alice = self.client("bob"), self.client("alice")
        self.assertEqual(bob.register()[0], 200)
        self.assertEqual(alice.register()[0], 200)
        log = self.daemon.wait_for(r"trace: in REGISTER", count=2)
        self.daemon.wait_for(r"trace: out 200")
        trace = [line for line in log.splitlines() if "trace:" in line]
        self.assertTrue(all("bob@alpha.example" in line for line in trace), trace)
        joined = "\n".join(trace)
        self.assertNotIn("alice@", joined)
        self.assertNotIn(bob.call_id, joined)          # Call-IDs removed
        self.assertNotIn("response=", joined)          # digest credentials removed
        self.assertIn("[removed]", joined)

    def test_signaling_log_is_off_until_enabled_and_keeps_no_body(self):
        alice = self.client("alice")
        self.assertEqual(alice.register()[0], 200)
        bob = self.client("bob")
        self.assertEqual(bob.register()[0], 200)

        def invite(tag):
            status, headers, _ = alice.request("INVITE", uri="sip:bob@alpha.example", to="sip:bob@alpha.example",
                                               extra="Content-Type: application/sdp\r\n", body="v=0 secret-sdp")
            self.assertEqual(status, 407)
            alice.send_raw(f"ACK sip:bob@alpha.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{alice.local_port};"
                           f"branch=z9hG4bKack{tag}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@alpha.example>;"
                           f"tag={alice.tag}\r\nTo: {header(headers, 'to')[0]}\r\nCall-ID: {alice.call_id}\r\n"
                           f"CSeq: {alice.cseq} ACK\r\nContent-Length: 0\r\n\r\n")

        invite("a")
        time.sleep(0.5)  # give the (absent) log a chance to be written
        self.assertEqual(self.query("SELECT count(*) FROM signaling_log;").strip(), "0")

        self.query("INSERT INTO settings (key, value, updated_at) VALUES ('privacy.signaling_log_enabled', 'true', 0);")
        self.daemon.wait_for(r"change\(s\) applied incrementally")
        time.sleep(0.5)  # the daemon reloads within its 250 ms poll
        alice.call_id = "second-call-id-for-log"
        invite("b")
        for _ in range(100):
            rows = self.query("SELECT direction, summary, call_ref, text FROM signaling_log;")
            if "INVITE" in rows and "407" in rows:
                break
            time.sleep(0.1)
        self.assertIn("in|INVITE|", rows)
        self.assertIn("out|407|", rows)
        self.assertNotIn("secret-sdp", rows)
        self.assertNotIn("second-call-id-for-log", rows)


if __name__ == "__main__":
    unittest.main()
