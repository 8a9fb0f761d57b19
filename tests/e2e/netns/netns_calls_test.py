"""The four configurations a site pair can be in (seed
sipsocial-secure-communications.txt), built from network namespaces:

  1. both sites on the public internet,
  2. both sites on one private network,
  3. each site behind its own NAT router, the routers joined by an
     "internet" namespace,
  4. one site behind a NAT, the other public.

In each, two real daemons run in their own namespaces, are paired through
the CLI with the addresses their peer sees, and two phones (the scripted UA
of tests/integration, as processes inside LAN namespaces) register; alice
calls bob across the sites, both send RTP, and both must receive the
other's packets (through both relays). A raw capture in the namespace
between the sites shows that no packet crossing it names a LAN address, in
its IP header or its UDP payload, that no phone's RTP payload crosses in
clear (every UDP packet between the sites is an SRTP tunnel packet of the
relays), and each phone's RTCP CNAME (user@private address) reaches the
other phone only as an opaque value; the SDP each phone receives must not
name the other phone's address or media port (SIP between the sites is
TLS, so it is checked at the receiving phone instead of on the wire).

Needs root, `ip` and `nft`; skipped otherwise.
"""
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
from harness import Daemon, SIPSITE, run  # noqa: E402

import netns  # noqa: E402

MEDIA = (20000, 20199)   # relay ports; phones use 7078 (alice) and 7082 (bob)
ALICE_RTP, BOB_RTP = 7078, 7082
PASSWORDS = {"alice": "alice-netns-password", "bob": "bob-netns-password"}
MARKERS = ["RTP-MARKER-FROM-ALICE", "RTP-MARKER-FROM-BOB"]
SKIP = netns.missing_tools()
if SKIP is None and shutil.which(SIPSITE) is None and not os.path.exists(SIPSITE):
    SKIP = f"sipsite binary not found ({SIPSITE}); set SIPSITE_BIN"


class NsDaemon(Daemon):
    """`sipsite run` inside a namespace (harness.Daemon's log handling)."""

    def __init__(self, topo, ns, state, config, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "CREDENTIALS_DIRECTORY")}
        self.proc = topo.popen(ns, [SIPSITE, "run", "--state-dir", state, "--config", config],
                               stdout=self.log, stderr=subprocess.STDOUT, env=env)


class Site:
    def __init__(self, name, domain, user, ns, lan_ip, fed_ip, public_ip):
        self.name, self.domain, self.user = name, domain, user
        self.ns, self.lan_ip, self.fed_ip, self.public_ip = ns, lan_ip, fed_ip, public_ip
        self.daemon = None


@unittest.skipIf(SKIP, f"netns tests cannot run here: {SKIP}")
class NetnsCallsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipsite-netns-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.topo = netns.Topology()
        self.addCleanup(self.destroy_topology)

    def destroy_topology(self):
        errors = self.topo.destroy()
        self.assertEqual(errors, [], "cleanup left something behind")

    # --- topology pieces -----------------------------------------------
    def public_site(self, tag, inet, wan_net, lan_net, phone_tag):
        """A site host on the internet segment `wan_net` (x.y.z.0/24: the
        internet namespace is .1, the site .10) with its LAN `lan_net` on a
        bridge of its own (site .1, phone .20); no forwarding between them."""
        site = self.topo.ns(tag)
        phone = self.topo.ns(phone_tag)
        self.topo.link(site, "wan", inet, f"to-{tag}")
        self.topo.addr(inet, f"to-{tag}", f"{wan_net}.1/24")
        self.topo.addr(site, "wan", f"{wan_net}.10/24")
        self.topo.route(site, "default", f"{wan_net}.1")
        self.topo.bridge(site, "br0", f"{lan_net}.1/24")
        self.topo.attach(site, "br0", phone, "eth0", f"{lan_net}.20/24", "p-phone")
        return site, phone, {"lan": f"{lan_net}.1", "fed": f"{wan_net}.10", "public": f"{wan_net}.10",
                             "phone": f"{lan_net}.20", "private": [f"{lan_net}.1", f"{lan_net}.20"]}

    def natted_site(self, tag, inet, wan_net, lan_net, phone_tag):
        """A router on the internet segment `wan_net` (internet .1, router
        .2) masquerading its LAN `lan_net` (router .1, site .10, phone .20)
        and forwarding 5062/tcp and the media range to the site."""
        router = self.topo.ns(f"{tag}-r")
        site = self.topo.ns(tag)
        phone = self.topo.ns(phone_tag)
        self.topo.link(router, "wan", inet, f"to-{tag}")
        self.topo.addr(inet, f"to-{tag}", f"{wan_net}.1/24")
        self.topo.addr(router, "wan", f"{wan_net}.2/24")
        self.topo.route(router, "default", f"{wan_net}.1")
        self.topo.bridge(router, "br0", f"{lan_net}.1/24")
        self.topo.attach(router, "br0", site, "eth0", f"{lan_net}.10/24", "p-site")
        self.topo.attach(router, "br0", phone, "eth0", f"{lan_net}.20/24", "p-phone")
        self.topo.route(site, "default", f"{lan_net}.1")
        self.topo.route(phone, "default", f"{lan_net}.1")
        self.topo.nat_router(router, "wan", f"{lan_net}.10", tcp_ports=(5062,), udp_range=MEDIA)
        return site, phone, {"lan": f"{lan_net}.10", "fed": f"{lan_net}.10", "public": f"{wan_net}.2",
                             "phone": f"{lan_net}.20",
                             "private": [f"{lan_net}.1", f"{lan_net}.10", f"{lan_net}.20"]}

    def internet(self):
        inet = self.topo.ns("inet")
        self.topo.forwarding(inet)
        return inet

    # --- sites, pairing, phones ----------------------------------------
    def daemon_logs(self):
        """The end of each daemon's log, for failure messages."""
        out = []
        for name in ("alpha", "beta"):
            path = os.path.join(self.tmp, f"{name}.log")
            if os.path.exists(path):
                with open(path) as f:
                    out.append(f"--- {name} daemon log (end) ---\n" + f.read()[-3000:])
        return "\n".join(out)

    def start_site(self, name, domain, user, ns, a):
        state = os.path.join(self.tmp, name)
        r = run("init", "--domain", domain, "--state-dir", state)
        self.assertEqual(r.code, 0, r)
        r = run("user", "add", "--aor", f"{user}@{domain}", "--password-stdin", "--state-dir", state,
                stdin=PASSWORDS[user] + "\n")
        self.assertEqual(r.code, 0, r)
        config = os.path.join(self.tmp, f"{name}.toml")
        lan = a["lan"]
        with open(config, "w") as f:
            f.write(f'[site]\npublic_address = "{a["public"]}"\n'
                    f'[sip]\nudp = ["{lan}:5060"]\ntcp = ["{lan}:5060"]\ntls = ["{lan}:5061"]\n'
                    f'[federation]\nlisten = "{a["fed"]}:5062"\n'
                    f'[admin]\nlisten = "127.0.0.1:8443"\n'
                    f'[media]\nports = "{MEDIA[0]}-{MEDIA[1]}"\n')
        d = NsDaemon(self.topo, ns, state, config, os.path.join(self.tmp, f"{name}.log"))
        self.addCleanup(d.kill)
        d.wait_for(r"\bready\b", timeout=20)
        return d

    def pair(self, sites):
        """Each site imports the other's certificate with the address it
        reaches it at (the peer's public address) and trusts it."""
        for me, other in ((sites[0], sites[1]), (sites[1], sites[0])):
            pem = os.path.join(self.tmp, f"{other['name']}.pem")
            r = run("cert", "--state-dir", os.path.join(self.tmp, other["name"]))
            self.assertEqual(r.code, 0, r)
            with open(pem, "w") as f:
                f.write(r.out)
            state = os.path.join(self.tmp, me["name"])
            r = run("peer", "import", "--file", pem, "--address", f"{other['public']}:5062", "--state-dir", state)
            self.assertEqual(r.code, 0, r)
            r = run("peer", "trust", "--domain", other["domain"], "--state-dir", state)
            self.assertEqual(r.code, 0, r)
        for me, other in ((sites[0], sites[1]), (sites[1], sites[0])):
            try:
                me["daemon"].wait_for(rf"link to {other['domain'].replace('.', '[.]')}: connected", timeout=20)
            except AssertionError:
                self.fail(f"{me['name']} never connected to {other['name']}\n{self.daemon_logs()}")

    def read_event(self, proc, what, timeout):
        """The next JSON line of `proc` (bounded); fails unless its event is `what`."""
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                line = proc.stdout.readline()
                break
            if proc.poll() is not None:
                break
        if not line:
            err = ""
            if proc.poll() is not None and proc.stderr:
                err = proc.stderr.read()[-3000:]
            self.fail(f"{' '.join(proc.args[4:6])}: no '{what}' line within {timeout} s\n{err}\n{self.daemon_logs()}")
        event = json.loads(line)
        self.assertEqual(event.get("event"), what, f"{event}\n{self.daemon_logs()}")
        return event

    def ua(self, ns, role, ip, site, user, domain, rtp_port, to=None):
        args = [sys.executable, os.path.join(HERE, "ua.py"), role, "--ip", ip, "--site", site, "--user", user,
                "--domain", domain, "--password", PASSWORDS[user], "--rtp-port", str(rtp_port)]
        if to:
            args += ["--to", to]
        return self.topo.popen(ns, args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))

    def scenario(self, alpha_ns, alice_ns, a, beta_ns, bob_ns, b, capture_ns, forbid, between=()):
        alpha = dict(a, name="alpha", domain="alpha.example", user="alice")
        beta = dict(b, name="beta", domain="beta.example", user="bob")
        alpha["daemon"] = self.start_site("alpha", "alpha.example", "alice", alpha_ns, a)
        beta["daemon"] = self.start_site("beta", "beta.example", "bob", beta_ns, b)
        self.pair((alpha, beta))

        capture = self.topo.popen(capture_ns, [sys.executable, os.path.join(HERE, "capture.py"),
                                               "--forbid", ",".join(forbid), "--between", ",".join(between),
                                               *[x for m in MARKERS for x in ("--marker", m)]],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.read_event(capture, "capturing", 10)

        bob = self.ua(bob_ns, "answer", b["phone"], b["lan"], "bob", "beta.example", BOB_RTP)
        self.read_event(bob, "registered", 15)
        alice = self.ua(alice_ns, "call", a["phone"], a["lan"], "alice", "alpha.example", ALICE_RTP,
                        to="bob@beta.example")
        self.read_event(alice, "registered", 15)
        alice_done = self.read_event(alice, "done", 40)
        bob_done = self.read_event(bob, "done", 15)
        capture.stdin.close()
        summary = json.loads(capture.stdout.readline() if select.select([capture.stdout], [], [], 10)[0] else "{}")

        print(f"\n  alice: sent {alice_done['rtp_sent']} received {alice_done['rtp_received']} via "
              f"{alice_done['relay']}; bob: sent {bob_done['rtp_sent']} received {bob_done['rtp_received']} via "
              f"{bob_done['relay']}; capture: {summary.get('packets')} packets ({summary.get('udp')} udp, "
              f"{summary.get('tcp')} tcp; {summary.get('srtp_tunnel')} SRTP tunnel, {summary.get('udp_other')} other udp), "
              f"markers {summary.get('markers')}, leaks {len(summary.get('leaks', []))}",
              file=sys.stderr)
        # Audio both ways, through the phone's own site relay on its LAN.
        self.assertGreaterEqual(alice_done["rtp_received"], 5, alice_done)
        self.assertGreaterEqual(bob_done["rtp_received"], 5, bob_done)
        self.assertEqual(alice_done["relay"].split(":")[0], a["lan"])
        self.assertEqual(bob_done["relay"].split(":")[0], b["lan"])
        self.assertEqual(alice_done["rtp_sources"], [alice_done["relay"]])
        self.assertEqual(bob_done["rtp_sources"], [bob_done["relay"]])

        # What each phone received from across the link names nothing of the
        # other side's LAN: not the other phone's address or media port.
        for who, done, other_private, other_port in (("bob", bob_done, alpha["private"], ALICE_RTP),
                                                     ("alice", alice_done, beta["private"], BOB_RTP)):
            self.assertNotIn(f" {other_port} ", done["received_sdp"], f"{who}'s SDP:\n{done['received_sdp']}")
            for ip in other_private:
                self.assertNotIn(ip, done["received_raw"], f"{who} received {ip}:\n{done['received_raw']}")

        # Nothing of a LAN crossed the capture point, and the audio crossed
        # only as the relays' SRTP: no phone's payload in clear, no UDP
        # between the sites that is not a tunnel packet.
        self.assertIn("markers", summary, "capture gave no summary")
        self.assertEqual(summary["leaks"], [], summary)
        for m in MARKERS:
            self.assertEqual(summary["markers"][m], 0, f"RTP carrying {m} crossed between the sites in clear: {summary}")
        self.assertGreaterEqual(summary["srtp_tunnel"], alice_done["rtp_received"] + bob_done["rtp_received"], summary)
        self.assertEqual(summary["udp_other"], 0, summary)
        # The phones' RTCP CNAMEs (user@private address) reached the other
        # phone only as the site's opaque per-call value.
        for who, done, other in (("bob", bob_done, "alice"), ("alice", alice_done, "bob")):
            self.assertTrue(done["rtcp_cnames"], f"{who} received no RTCP: {done}")
            for cname in done["rtcp_cnames"]:
                self.assertNotIn(other, cname, f"{who} received {other}'s CNAME: {done['rtcp_cnames']}")
                self.assertNotIn("@", cname, f"{who} received a CNAME naming a host: {done['rtcp_cnames']}")

    # --- the four configurations ----------------------------------------
    def test_1_both_sites_public(self):
        inet = self.internet()
        alpha, alice, a = self.public_site("alpha", inet, "198.51.100", "10.1.0", "alice")
        beta, bob, b = self.public_site("beta", inet, "203.0.113", "10.2.0", "bob")
        self.scenario(alpha, alice, a, beta, bob, b, inet, forbid=a["private"] + b["private"])

    def test_2_both_sites_on_one_private_network(self):
        lan = self.topo.ns("lan")
        self.topo.bridge(lan, "br0")
        nets = {}
        for tag, phone_tag, site_ip, phone_ip in (("alpha", "alice", "10.0.5.20", "10.0.5.21"),
                                                  ("beta", "bob", "10.0.5.30", "10.0.5.31")):
            site, phone = self.topo.ns(tag), self.topo.ns(phone_tag)
            self.topo.attach(lan, "br0", site, "eth0", f"{site_ip}/24", f"p-{tag}")
            self.topo.attach(lan, "br0", phone, "eth0", f"{phone_ip}/24", f"p-{phone_tag}")
            nets[tag] = (site, phone, {"lan": site_ip, "fed": site_ip, "public": site_ip, "phone": phone_ip,
                                       "private": [phone_ip]})
        (alpha, alice, a), (beta, bob, b) = nets["alpha"], nets["beta"]
        # The path between the sites is the LAN itself: what passes between
        # the two site hosts must not name either phone.
        self.scenario(alpha, alice, a, beta, bob, b, lan, forbid=a["private"] + b["private"],
                      between=(a["lan"], b["lan"]))

    def test_3_each_site_behind_its_own_nat(self):
        inet = self.internet()
        alpha, alice, a = self.natted_site("alpha", inet, "198.51.100", "192.168.1", "alice")
        beta, bob, b = self.natted_site("beta", inet, "203.0.113", "172.16.2", "bob")
        self.scenario(alpha, alice, a, beta, bob, b, inet, forbid=a["private"] + b["private"])

    def test_4_one_site_behind_nat_the_other_public(self):
        inet = self.internet()
        alpha, alice, a = self.natted_site("alpha", inet, "198.51.100", "192.168.1", "alice")
        beta, bob, b = self.public_site("beta", inet, "203.0.113", "10.2.0", "bob")
        self.scenario(alpha, alice, a, beta, bob, b, inet, forbid=a["private"] + b["private"])


if __name__ == "__main__":
    unittest.main()
