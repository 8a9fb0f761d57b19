"""sipsite run: configuration, listeners, signals, systemd notification,
and changes made by the CLI reaching the running daemon."""
import os
import signal
import socket
import ssl
import unittest

from harness import Daemon, NotifySocket, SiteTestCase, run


class DaemonTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init_site()

    def start(self, *args, env=None):
        d = Daemon(["--state-dir", self.path("site"), *args], env=env)
        self.addCleanup(d.kill)
        return d

    def test_logs_each_listener_and_stops_on_sigterm(self):
        cfg = self.write("c.toml", '[sip]\naddress = "192.0.2.10"\nudp = ["127.0.0.1:0", "[::1]:0"]\ntcp = []\n'
                                   'tls = ["0.0.0.0:0"]\n[federation]\nlisten = "0.0.0.0:15062"\n'
                                   '[admin]\nlisten = "127.0.0.1:18443"\n[media]\nports = "41000-41099"\n')
        d = self.start("--config", cfg)
        log = d.wait_for("ready")
        self.assertRegex(log, r"listening sip/udp 127\.0\.0\.1:[1-9]\d*\n")
        self.assertRegex(log, r"listening sip/udp \[::1\]:[1-9]\d*\n")
        # The log says what the socket is bound to; a wildcard listener is
        # advertised (in Via and Record-Route) with sip.address.
        self.assertRegex(log, r"listening sip/tls 0\.0\.0\.0:([1-9]\d*) \(advertised as 192\.0\.2\.10:\1\)\n")
        for expected in ("federation/mtls 0.0.0.0:15062", "admin/https 127.0.0.1:18443", "41000-41099"):
            self.assertIn(expected, log)
        self.assertNotIn("sip/tcp", log)
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertIn("received SIGTERM", d.output())

    def test_sigterm_unwinds_every_task_with_connections_open(self):
        d = self.start()
        ports = d.sip_ports()
        # Idle phones over TCP and TLS, a TLS handshake left half done, a
        # federation connection that never says a word.
        held = [socket.create_connection(("127.0.0.1", ports[p]), timeout=10) for p in ("tcp", "tls", "tls")]
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        held[1] = tls.wrap_socket(held[1])
        held.append(socket.create_connection(("127.0.0.1", d.federation_port()), timeout=10))
        self.addCleanup(lambda: [s.close() for s in held])
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertIn("every task of the SIP transport and the federation ended", d.output())
        self.assertNotIn("still running", d.output())
        for s in held:
            s.settimeout(10)
            try:
                self.assertEqual(s.recv(1), b"", "the daemon left a connection open")
            except (ConnectionError, ssl.SSLError):
                pass  # reset: closed too

    def test_stops_on_sigint(self):
        d = self.start()
        d.wait_for("ready")
        self.assertEqual(d.stop(signal.SIGINT), 0)

    def test_notifies_systemd_ready_watchdog_and_stopping(self):
        notify = NotifySocket(self.tmp)
        self.addCleanup(notify.close)
        d = self.start(env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"})
        notify.wait_for("READY=1")
        notify.wait_for("WATCHDOG=1")
        self.assertEqual(d.stop(), 0)
        notify.wait_for("STOPPING=1")

    def test_cli_changes_reach_the_running_daemon(self):
        d = self.start()
        d.wait_for(r"state loaded: 0 users, 0 peers")
        self.assertOk(self.sipsite("user", "add", "--aor", "alice@alpha.example", "--password-stdin",
                                   stdin="password123\n"))
        d.wait_for(r"state now: 1 users, 0 peers", timeout=5)
        beta = self.init_site("beta.example", state="beta")
        pem = self.write("beta.pem", self.sipsite("cert", state="beta").out)
        self.assertOk(self.sipsite("peer", "import", "--file", pem))
        self.assertOk(self.sipsite("peer", "trust", "--fingerprint", beta["fingerprint"]))
        d.wait_for(r"state now: 1 users, 1 peers \(1 trusted\)", timeout=5)
        # Each change was applied on its own: one full load, at start-up.
        self.assertEqual(d.output().count("state loaded"), 1, d.output())
        self.assertEqual(d.stop(), 0)

    # The journald format (no timestamps, syslog priorities, only when
    # $JOURNAL_STREAM names stderr itself): logging_test.py.


class ConfigErrorTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init_site()

    def run_with(self, text):
        cfg = self.write("bad.toml", text)
        return self.sipsite("run", "--config", cfg, timeout=30)

    def test_unknown_keys_are_named(self):
        self.assertFails(self.run_with('[sip]\nudpp = ["0.0.0.0:5060"]\n'), 2, "sip.udpp", "unknown key")
        self.assertFails(self.run_with('[sipp]\nudp = []\n'), 2, "sipp.udp", "unknown key")
        self.assertFails(self.run_with('loose = 1\n'), 2, "loose", "unknown key")

    def test_bad_values_are_named(self):
        cases = {
            '[sip]\nudp = "0.0.0.0:5060"\n': "sip.udp",
            '[sip]\nudp = ["0.0.0.0"]\n': "sip.udp",
            '[sip]\ntcp = ["0.0.0.0:70000"]\n': "sip.tcp",
            '[sip]\ntls = ["alpha.example:5061"]\n': "sip.tls",
            '[sip]\nudp = [5060]\n': "sip.udp",
            '[federation]\nlisten = 5062\n': "federation.listen",
            '[admin]\nlisten = "localhost:8443"\n': "admin.listen",
            '[media]\nports = "40001-40999"\n': "media.ports",
            '[media]\nports = "100-200"\n': "media.ports",
            '[media]\nports = "5-"\n': "media.ports",
            '[media]\nanchor_local_calls = "yes"\n': "media.anchor_local_calls",
            '[media]\nanchor_local_calls = 1\n': "media.anchor_local_calls",
            '[media]\noffer_public_candidates = "no"\n': "media.offer_public_candidates",
            '[media]\nlan_srtp = "always"\n': "media.lan_srtp",
            '[media]\nlan_srtp = true\n': "media.lan_srtp",
            '[site]\npublic_address = "not a host"\n': "site.public_address",
            '[log]\nlevel = "loud"\n': "log.level",
            '[sip]\nmessage_timeout = 0\n': "sip.message_timeout",
            '[sip]\nmessage_timeout = "30"\n': "sip.message_timeout",
            '[federation]\npeer_request_rate = 5\n': "federation.peer_request_rate",
            '[privacy]\nstrip_headers = "User-Agent"\n': "privacy.strip_headers",
            '[privacy]\nstrip_headers = ["Via"]\n': "privacy.strip_headers",
            '[privacy]\nstrip_headers = ["*"]\n': "privacy.strip_headers",
            '[privacy]\nstrip_headers = ["C*"]\n': "privacy.strip_headers",
            '[privacy]\nstrip_headers = ["bad name"]\n': "privacy.strip_headers",
            'site = "x"\n': "site",
        }
        for text, key in cases.items():
            r = self.run_with(text)
            self.assertFails(r, 2, key)

    def test_syntax_errors_give_the_line(self):
        self.assertFails(self.run_with('[sip]\nudp = [\n'), 2, "bad.toml:")
        self.assertFails(self.run_with('[sip\n'), 2, "bad.toml:1:")
        self.assertFails(self.run_with('\x00\xff'), 2)
        # toml++ quotes the offending bytes: a newline among them stays on one line.
        self.assertFails(self.run_with('[sip]\nudp = [t\nc]p = []'), 2, "bad.toml:2:")

    def test_missing_config_file(self):
        self.assertFails(self.sipsite("run", "--config", self.path("none.toml")), 2, "cannot read")

    def test_a_listener_in_use_is_a_clear_runtime_error(self):
        d = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(d.kill)
        port = d.sip_ports()["udp"]
        cfg = self.write("busy.toml", f'[sip]\nudp = ["127.0.0.1:{port}"]\ntcp = []\ntls = []\n')
        self.init_site("other.example", state="other")
        r = self.sipsite("run", "--config", cfg, state="other", timeout=30)
        self.assertEqual(r.code, 1, r)
        self.assertIn(f"cannot listen on sip/udp 127.0.0.1:{port}", r.err)
        d.stop()

    def test_one_daemon_per_state_directory(self):
        d = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(d.kill)
        d.sip_ports()
        r = self.sipsite("run", "--config", self.write("second.toml", '[sip]\nudp = []\ntcp = []\ntls = []\n'),
                         timeout=30)
        self.assertFails(r, 1, "a sipsite daemon is running on", "stop it first")
        self.assertEqual(d.stop(), 0)

    def test_bad_log_level_flag(self):
        self.assertFails(self.sipsite("run", "--log-level", "chatty"), 2, "--log-level")

    def test_example_config_is_valid(self):
        example = os.path.join(os.environ["SIPSITE_SOURCE_DIR"], "deploy", "sipsite.toml")
        r = self.sipsite("run", "--check", "--config", example)
        self.assertOk(r)
        self.assertIn("valid", r.out)

    def test_check_reports_errors_like_run(self):
        self.assertFails(self.sipsite("run", "--check", "--config", self.write("b.toml", "[sip]\nudp = 1\n")), 2,
                         "sip.udp")


if __name__ == "__main__":
    unittest.main()
