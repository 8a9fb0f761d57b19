"""Prometheus conventions, checked by Prometheus's own tools against the real
daemon: a /metrics scrape passes `promtool check metrics` and has the
families operators expect (build info, process_*, certificate expiry,
latency histograms, each with real values); the scrape configuration that
docs/ADMIN.md shows passes `promtool check config`, and Prometheus itself,
run with it, scrapes the daemon over the console's self-signed TLS with a
bearer token."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from console_api_test import NEW_PASSWORD, Console  # noqa: E402
from harness import Daemon, SiteTestCase, run  # noqa: E402
from sip_client import SipClient  # noqa: E402

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
ADMIN_MD = os.path.join(os.environ.get("SIPSITE_SOURCE_DIR", os.path.join(HERE, "..", "..")), "docs", "ADMIN.md")
MARKER = "<!-- scrape-config: checked by promtool in tests/conventions/promtool_test.py -->"


def admin_md_scrape_config():
    """The YAML block right after the marker in ADMIN.md, exactly as shown."""
    with open(ADMIN_MD) as f:
        text = f.read()
    m = re.search(re.escape(MARKER) + r"\n```yaml\n(.*?)\n```", text, re.S)
    if not m:
        raise AssertionError("docs/ADMIN.md has no ```yaml block after the scrape-config marker")
    return m.group(1) + "\n"


def samples(text, name):
    """{labels-string: value} of every sample of `name` (exact name)."""
    out = {}
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if m:
            out[m.group(1) or ""] = float(m.group(2))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(PROMTOOL, "cannot run here: promtool missing: install Debian's prometheus package (deploy/install-deps.sh)")
class PromtoolTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init = self.init_site(domain="alpha.example")
        # A trusted peer, so that its certificate's expiry is exported too.
        beta = self.init_site(domain="beta.example", state="beta")
        self.beta_fp = self.sipsite("fingerprint", state="beta").out.strip()
        self.beta_pem = self.write("beta.pem", self.sipsite("cert", state="beta").out)
        self.assertOk(self.sipsite("peer", "import", "--file", self.beta_pem, "--address", "127.0.0.1:5999"))
        self.assertOk(self.sipsite("peer", "trust", "--fingerprint", self.beta_fp))
        del beta
        self.daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(self.daemon.kill)
        self.port = self.daemon.admin_port()
        c = Console(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.login(self.init["admin password"]).status, 200)
        r = c.request("PUT", "/api/v1/session/password", {"current": self.init["admin password"], "new": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r)
        r = c.post("/api/v1/tokens", {"name": "prometheus"})
        self.assertEqual(r.status, 201, r)
        self.token = r.json()["token"]
        self.site = c.get("/api/v1/site").json()

    def scrape(self):
        c = Console(self.port)
        self.addCleanup(c.close)
        r = c.request("GET", "/metrics", headers={"Authorization": "Bearer " + self.token})
        self.assertEqual(r.status, 200, r)
        return r.data.decode()

    def test_metrics_pass_promtool_and_carry_the_expected_families(self):
        # One SIP transaction the daemon answers (OPTIONS), so that the
        # server side of the transaction histogram has an observation.
        sip = SipClient("udp", self.daemon.sip_ports()["udp"])
        self.addCleanup(sip.close)
        status, _, _ = sip.request("OPTIONS")
        self.assertEqual(status, 200)
        text = self.scrape()

        check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout + check.stderr, "", "promtool's lint has remarks")

        version = run("--version").out.split()[1]
        info = samples(text, "sipsite_build_info")
        self.assertEqual(len(info), 1, info)
        labels, value = next(iter(info.items()))
        self.assertEqual(value, 1)
        self.assertIn(f'version="{version}"', labels)
        self.assertRegex(labels, r'commit="([0-9a-f]{7,}(-dirty)?|unknown)"')

        pid = self.daemon.proc.pid
        with open(f"/proc/{pid}/status") as f:
            rss_kib = int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))
        rss = samples(text, "process_resident_memory_bytes")[""]
        self.assertLess(abs(rss - rss_kib * 1024), 0.5 * rss_kib * 1024, (rss, rss_kib))
        self.assertGreater(samples(text, "process_cpu_seconds_total")[""], 0)
        self.assertGreaterEqual(samples(text, "process_open_fds")[""], 3)
        with open(f"/proc/{pid}/limits") as f:
            soft = re.search(r"^Max open files\s+(\d+)", f.read(), re.M).group(1)
        self.assertEqual(samples(text, "process_max_fds")[""], float(soft))
        start = samples(text, "process_start_time_seconds")[""]
        self.assertLess(abs(start - os.stat(f"/proc/{pid}").st_mtime), 120)

        own = samples(text, "sipsite_site_certificate_not_after_timestamp_seconds")[""]
        not_after = time.mktime(time.strptime(self.site["certificate_not_after"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertEqual(own, not_after)
        peers = samples(text, "sipsite_peer_certificate_not_after_timestamp_seconds")
        self.assertEqual(list(peers), [f'{{peer="beta.example",fingerprint="{self.beta_fp}"}}'])
        self.assertGreater(peers[next(iter(peers))], time.time())

        durations = samples(text, "sipsite_sip_transaction_duration_seconds_count")
        self.assertGreaterEqual(durations['{role="server",method="other"}'], 1)
        inf = samples(text, "sipsite_sip_transaction_duration_seconds_bucket")['{role="server",method="other",le="+Inf"}']
        self.assertEqual(inf, durations['{role="server",method="other"}'])
        # The console answered at least the login, password change, token and site requests before this scrape.
        self.assertGreaterEqual(samples(text, "sipsite_console_request_duration_seconds_count")[""], 4)

    def test_admin_guide_scrape_config_is_valid_and_prometheus_scrapes_with_it(self):
        block = admin_md_scrape_config()
        self.assertIn("/etc/prometheus/sipsite.token", block)
        self.assertIn("/etc/prometheus/sipsite.pem", block)
        # The guide's files are made here as the guide says (`sipsitectl cert`
        # and the token), in a directory of the test's instead of /etc/prometheus.
        d = tempfile.mkdtemp(prefix="sipsite-prom-")
        self.addCleanup(shutil.rmtree, d, True)
        self.write_file(os.path.join(d, "sipsite.pem"), self.sipsite("cert").out)
        self.write_file(os.path.join(d, "sipsite.token"), self.token + "\n")
        config = block.replace("/etc/prometheus/", d + "/")
        path = os.path.join(d, "prometheus.yml")
        self.write_file(path, config)
        check = subprocess.run([PROMTOOL, "check", "config", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("SUCCESS", check.stdout + check.stderr)

        if not PROMETHEUS:
            self.skipTest("cannot run here: prometheus missing: the configuration is checked, not run")
        # The same configuration, aimed at this test's daemon and scraping
        # every second, run by Prometheus itself: the target must be up.
        live = "global:\n  scrape_interval: 1s\n" + config.replace("127.0.0.1:8443", f"127.0.0.1:{self.port}")
        self.write_file(path, live)
        web = free_port()
        log = open(os.path.join(d, "prometheus.log"), "w")
        self.addCleanup(log.close)
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={path}", f"--storage.tsdb.path={d}/data",
                                 f"--web.listen-address=127.0.0.1:{web}"], stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (prom.terminate(), prom.wait(timeout=30)))
        deadline = time.monotonic() + 60
        target = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/api/v1/targets", timeout=5) as r:
                    targets = json.load(r)["data"]["activeTargets"]
                target = targets[0] if targets else None
                if target and target["health"] == "up":
                    break
            except OSError:
                pass
            time.sleep(0.5)
        with open(os.path.join(d, "prometheus.log")) as f:
            self.assertEqual((target or {}).get("health"), "up", f"{target}\n{f.read()[-3000:]}")
        # And it stored what it scraped: the build info, queried back.
        q = urllib.request.urlopen(f"http://127.0.0.1:{web}/api/v1/query?query=sipsite_build_info", timeout=5)
        result = json.load(q)["data"]["result"]
        self.assertEqual(len(result), 1, result)
        self.assertEqual(result[0]["metric"]["job"], "sipsite")

    def write_file(self, path, text):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)


if __name__ == "__main__":
    unittest.main()
