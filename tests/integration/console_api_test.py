"""The admin console over HTTPS against the real daemon: TLS, security
headers, the first-login password change, sessions, CSRF, rate limiting,
error objects, pagination, and peers/users changes seen by the CLI."""
import gzip
import hashlib
import http.client
import json
import os
import socket
import ssl
import time
import unittest

from harness import Daemon, SiteTestCase, loopback_config, run
from sip_client import SipClient

NEW_PASSWORD = "correct horse battery staple"
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


class Response:
    def __init__(self, r, data):
        self.status = r.status
        self.headers = r.headers
        self.data = data

    def json(self):
        return json.loads(self.data)

    def code(self):
        return self.json()["error"]["code"]

    def __repr__(self):
        return f"{self.status} {self.data[:500]!r}"


def client_context(**kw):
    ctx = ssl.create_default_context()
    # The site certificate is self-signed: the tests pin its fingerprint.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


class Console:
    """A browser-like client: keeps the session cookie and CSRF token."""

    def __init__(self, port):
        self.port = port
        # Generous: a login hashes with Argon2id, slow under sanitizers on a
        # loaded machine; the console itself answers live-state questions
        # within its own bound (5 s) or says 503.
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=client_context(), timeout=60)
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, raw=None, headers=None, csrf=True):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        if csrf and self.csrf and method in STATE_CHANGING:
            h["X-CSRF-Token"] = self.csrf
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        self.conn.request(method, path, body=data, headers=h)
        r = self.conn.getresponse()
        return Response(r, r.read())

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def poll(self, path, done, what, timeout=60):
        """GETs `path` (bounded, every 0.1 s) until done(its JSON); returns
        that JSON, or fails saying `what` never came."""
        deadline = time.monotonic() + timeout
        answer = None
        while time.monotonic() < deadline:
            r = self.get(path)
            if r.status != 200:
                raise AssertionError(f"GET {path}: {r.status} {r.data!r}")
            answer = r.json()
            if done(answer):
                return answer
            time.sleep(0.1)
        raise AssertionError(f"{path} never had {what}: {answer}")

    def login(self, password, username="admin"):
        r = self.post("/api/v1/session", {"username": username, "password": password})
        if r.status == 200:
            self.cookie = r.headers["Set-Cookie"].split(";")[0]
            self.csrf = r.json()["csrf_token"]
        return r

    def close(self):
        self.conn.close()


class ConsoleCase(SiteTestCase):
    """A site with its daemon running; `self.console()` opens a client."""

    def start_site(self):
        self.init = self.init_site()
        self.daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(self.daemon.kill)
        self.port = self.daemon.admin_port()

    def console(self):
        c = Console(self.port)
        self.addCleanup(c.close)
        return c

    def change_password(self):
        c = self.console()
        self.assertEqual(c.login(self.init["admin password"]).status, 200)
        r = c.request("PUT", "/api/v1/session/password", {"current": self.init["admin password"], "new": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r)
        return c


class FirstLoginTest(ConsoleCase):
    def setUp(self):
        super().setUp()
        self.start_site()

    def test_one_time_password_must_be_changed_before_anything_else(self):
        c = self.console()
        r = c.login(self.init["admin password"])
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["must_change_password"])
        cookie = r.headers["Set-Cookie"]
        for attr in ("__Host-sipsite_session=", "Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(attr, cookie)
        for path in ("/api/v1/site", "/api/v1/peers", "/api/v1/users", "/metrics"):
            r = c.get(path)
            self.assertEqual(r.status, 403, path)
            self.assertEqual(r.code(), "password_change_required")
        r = c.request("PUT", "/api/v1/session/password", {"current": self.init["admin password"], "new": "too short"})
        self.assertEqual((r.status, r.code()), (400, "weak_password"))
        r = c.request("PUT", "/api/v1/session/password", {"current": self.init["admin password"], "new": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(c.get("/api/v1/site").status, 200)

        # The one-time password is gone; the new one works.
        other = self.console()
        self.assertEqual(other.login(self.init["admin password"]).status, 401)
        r = other.login(NEW_PASSWORD)
        self.assertEqual(r.status, 200)
        self.assertFalse(r.json()["must_change_password"])

        actions = [e["action"] for e in other.get("/api/v1/audit").json()["items"]]
        for a in ("login.success", "admin.password_change", "login.failure"):
            self.assertIn(a, actions)

        # A clean stop with console clients still connected (and, in a
        # sanitizer build, nothing reported).
        self.assertEqual(self.daemon.stop(), 0)
        out = self.daemon.output()
        self.assertNotIn("Sanitizer", out)
        self.assertNotIn("runtime error", out)

    def test_failed_logins_are_rate_limited_even_with_the_right_password(self):
        c = self.console()
        for _ in range(5):
            r = c.login("wrong password")
            self.assertEqual((r.status, r.code()), (401, "invalid_credentials"))
        r = c.login(self.init["admin password"])
        self.assertEqual((r.status, r.code()), (429, "too_many_attempts"))
        self.assertGreater(int(r.headers["Retry-After"]), 0)


class ConsoleApiTest(ConsoleCase):
    @classmethod
    def setUpClass(cls):
        # One daemon for the class: tests below do not depend on each other's data.
        cls.case = ConsoleCase("setUp")
        cls.case.setUp()
        cls.case.start_site()
        cls.case.change_password()

    @classmethod
    def tearDownClass(cls):
        cls.case.doCleanups()

    def setUp(self):
        super().setUp()
        self.port = self.case.port
        self.init = self.case.init
        self.site_dir = self.case.path("site")

    def admin(self):
        c = self.console()
        self.assertEqual(c.login(NEW_PASSWORD).status, 200)
        return c

    def cli(self, *args, state_dir=None, **kw):
        return run(*args, "--state-dir", state_dir or self.site_dir, **kw)

    def test_tls_presents_the_site_certificate_and_refuses_old_versions(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            with client_context().wrap_socket(s) as tls:
                der = tls.getpeercert(binary_form=True)
                self.assertIn(tls.version(), ("TLSv1.2", "TLSv1.3"))
        fp = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        self.assertEqual(fp, self.cli("fingerprint").out.strip())
        old = client_context()
        try:
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
            old.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            self.skipTest("this Python cannot offer TLS 1.1")
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            with self.assertRaises((ssl.SSLError, ConnectionResetError)):
                old.wrap_socket(s).do_handshake()

    def test_healthz_and_security_headers_on_every_answer(self):
        c = self.console()
        r = c.get("/healthz")
        self.assertEqual((r.status, r.data), (200, b"ok\n"))
        for path in ("/healthz", "/", "/app.js", "/api/v1/site", "/nope"):
            h = c.get(path).headers
            self.assertIn("default-src 'self'", h["Content-Security-Policy"], path)
            self.assertIn("frame-ancestors 'none'", h["Content-Security-Policy"], path)
            self.assertNotIn("unsafe-inline", h["Content-Security-Policy"], path)
            self.assertTrue(h["Strict-Transport-Security"].startswith("max-age="), path)
            self.assertEqual(h["X-Frame-Options"], "DENY", path)
            self.assertEqual(h["Referrer-Policy"], "no-referrer", path)
            self.assertEqual(h["X-Content-Type-Options"], "nosniff", path)

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        c = self.console()
        c.get("/healthz")
        sock = c.conn.sock
        for _ in range(3):
            self.assertEqual(c.get("/healthz").status, 200)
        self.assertIs(c.conn.sock, sock)

    def test_errors_are_json_objects_with_proper_statuses(self):
        c = self.admin()
        r = c.get("/api/v1/nothing-here")
        self.assertEqual((r.status, r.code()), (404, "not_found"))
        r = c.request("PATCH", "/api/v1/users")
        self.assertEqual((r.status, r.code()), (405, "method_not_allowed"))
        self.assertIn("GET", r.headers["Allow"])
        r = c.request("POST", "/api/v1/users", raw=b"{not json", headers={"Content-Type": "application/json"})
        self.assertEqual((r.status, r.code()), (400, "bad_json"))
        r = c.post("/api/v1/users", {"aor": "x", "password": "long-enough-pw", "role": "admin"})
        self.assertEqual((r.status, r.code()), (400, "unknown_field"))
        r = c.request("POST", "/api/v1/users", raw=b"aor=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((r.status, r.code()), (415, "unsupported_media_type"))

    def test_oversized_body_is_413(self):
        c = self.admin()
        r = c.request("POST", "/api/v1/peers", raw=b"{" + b" " * (80 * 1024) + b"}",
                      headers={"Content-Type": "application/json"})
        self.assertEqual((r.status, r.code()), (413, "body_too_large"))

    def test_every_api_route_needs_a_session(self):
        spec = self.console().get("/api/v1/openapi.json").json()
        for path, item in spec["paths"].items():
            for method in item:
                if path in ("/healthz", "/api/v1/openapi.json") or (path == "/api/v1/session" and method == "post"):
                    continue
                c = self.console()
                r = c.request(method.upper(), path.replace("{fingerprint}", "AB").replace("{aor}", "a%40b"), {})
                c.conn.close()  # one address may hold 16 console connections
                self.assertEqual((r.status, r.code()), (401, "unauthenticated"), f"{method} {path}")

    def test_csrf_token_is_required_for_state_changes(self):
        c = self.admin()
        r = c.post("/api/v1/users", {"aor": "csrf-victim", "password": "long-enough-pw"}, csrf=False)
        self.assertEqual((r.status, r.code()), (403, "csrf_failed"))
        r = c.post("/api/v1/users", {"aor": "csrf-victim", "password": "long-enough-pw"},
                   headers={"X-CSRF-Token": "A" * 43}, csrf=False)
        self.assertEqual((r.status, r.code()), (403, "csrf_failed"))
        self.assertNotIn("csrf-victim", self.cli("user", "list").out)

    def test_logout_ends_the_session(self):
        c = self.admin()
        self.assertEqual(c.request("DELETE", "/api/v1/session").status, 204)
        self.assertEqual(c.get("/api/v1/site").status, 401)

    def test_the_invites_address_leads_back_to_this_site(self):
        c = self.admin()
        check = c.get("/api/v1/site/address-check").json()
        invite = c.get("/api/v1/site").json()["invite"]
        self.assertIn(f"&address={check['address']}&", invite)
        self.assertTrue(check["reaches_this_site"], check)
        # Knocking on its own door leaves no pending request behind.
        self.assertEqual(c.get("/api/v1/peers/pending").json()["total"], 0)

    def test_site_identity_invite_qr_and_certificate(self):
        c = self.admin()
        site = c.get("/api/v1/site").json()
        self.assertEqual(site["domain"], "alpha.example")
        self.assertEqual(site["fingerprint"], self.cli("fingerprint").out.strip())
        self.assertEqual(site["invite"].split("&address=")[0], self.cli("invite").out.strip().split("&address=")[0])
        r = c.get("/api/v1/site/certificate")
        self.assertEqual(r.data.decode(), self.cli("cert").out)
        self.assertIn("attachment", r.headers["Content-Disposition"])
        r = c.get("/api/v1/site/invite.svg")
        self.assertEqual(r.headers["Content-Type"], "image/svg+xml")
        self.assertIn(b"<svg", r.data)

    def test_users_added_and_deleted_in_the_console_are_seen_by_the_cli_and_the_daemon(self):
        c = self.admin()
        r = c.post("/api/v1/users", {"aor": "alice@alpha.example", "password": "alice-password"})
        self.assertEqual(r.status, 201, r)
        r = c.post("/api/v1/users", {"aor": "bob"})
        self.assertEqual(r.status, 201, r)
        generated = r.json()["password"]
        listed = json.loads(self.cli("user", "list", "--json").out)
        self.assertIn("alice@alpha.example", [u["aor"] for u in listed])
        self.assertIn("bob@alpha.example", [u["aor"] for u in listed])
        # The daemon sees them: each registers with its password (bob with
        # the one the console generated), and alice's binding is listed.
        udp = self.case.daemon.sip_ports()["udp"]
        for user, password in (("alice", "alice-password"), ("bob", generated)):
            self.assertEqual(self.register(udp, user, password), 200, user)
        regs = c.get("/api/v1/registrations").json()["items"]
        self.assertIn("alice@alpha.example", [x["aor"] for x in regs])

        r = c.request("DELETE", "/api/v1/users/alice%40alpha.example")
        self.assertEqual(r.status, 204, r)
        self.assertNotIn("alice@alpha.example", self.cli("user", "list").out)
        r = c.request("DELETE", "/api/v1/users/alice%40alpha.example")
        self.assertEqual((r.status, r.code()), (404, "not_found"))
        self.assertNotIn(generated, json.dumps(c.get("/api/v1/users").json()))
        # ... and the daemon forgot alice: her password no longer registers,
        # her binding is gone; bob's stays.
        self.assertNotEqual(self.register(udp, "alice", "alice-password"), 200)
        regs = c.get("/api/v1/registrations").json()["items"]
        self.assertNotIn("alice@alpha.example", [x["aor"] for x in regs])
        self.assertIn("bob@alpha.example", [x["aor"] for x in regs])
        self.assertEqual(c.request("DELETE", "/api/v1/users/bob%40alpha.example").status, 204)
        self.assertEqual(c.get("/api/v1/registrations").json()["items"], [])

    @staticmethod
    def register(port, user, password):
        """A REGISTER of user@alpha.example with the digest handshake: its final status."""
        phone = SipClient("udp", port, user=user, password=password)
        try:
            return phone.register()[0]
        finally:
            phone.close()

    def test_pagination(self):
        c = self.admin()
        for i in range(5):
            self.assertEqual(c.post("/api/v1/users", {"aor": f"page{i}", "password": "long-enough-pw"}).status, 201)
        page = c.get("/api/v1/users?offset=0&limit=2").json()
        self.assertEqual(len(page["items"]), 2)
        self.assertGreaterEqual(page["total"], 5)
        rest = c.get(f"/api/v1/users?offset=2&limit={page['total']}").json()
        names = [u["aor"] for u in page["items"] + rest["items"]]
        self.assertEqual(len(names), page["total"])
        self.assertEqual(len(set(names)), len(names))
        for bad in ("limit=0", "limit=100000", "offset=x", "offset=-3"):
            r = c.get("/api/v1/users?" + bad)
            self.assertEqual((r.status, r.code()), (400, "invalid_query"), bad)
        audit = c.get("/api/v1/audit?limit=1").json()
        self.assertEqual(len(audit["items"]), 1)
        self.assertTrue(audit["has_more"])

    def test_peer_import_trust_and_revoke_are_seen_by_the_cli(self):
        self.assertEqual(self.cli("init", "--domain", "beta.example", state_dir=self.path("beta")).code, 0)
        pem = self.cli("cert", state_dir=self.path("beta")).out
        fp = self.cli("fingerprint", state_dir=self.path("beta")).out.strip()
        c = self.admin()
        r = c.post("/api/v1/peers", {"pem": pem, "address": "127.0.0.1:5062"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json()["fingerprint"], r.json()["state"]), (fp, "untrusted"))
        cli_peer = json.loads(self.cli("peer", "list", "--json").out)[0]
        self.assertEqual((cli_peer["fingerprint"], cli_peer["state"]), (fp, "untrusted"))
        self.assertEqual(cli_peer["pairing_code"], r.json()["pairing_code"])

        r = c.post(f"/api/v1/peers/{fp}/trust", {})
        self.assertEqual((r.status, r.code()), (400, "missing_field"))
        r = c.post(f"/api/v1/peers/{fp}/trust", {"confirm_fingerprint": fp})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(self.cli("peer", "list", "--json").out)[0]["state"], "trusted")
        r = c.post(f"/api/v1/peers/{fp}/revoke")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(json.loads(self.cli("peer", "list", "--json").out)[0]["state"], "revoked")
        actions = [e["action"] for e in c.get("/api/v1/audit?limit=10").json()["items"]]
        for a in ("peer.import", "peer.trust", "peer.revoke"):
            self.assertIn(a, actions)

    def test_user_password_change_over_https_keeps_the_user_and_is_audited(self):
        c = self.admin()
        self.assertEqual(c.post("/api/v1/users", {"aor": "carol", "password": "carol-password"}).status, 201)
        path = "/api/v1/users/carol%40alpha.example/password"
        r = c.request("PUT", path, {"password": "carol-new-password"}, csrf=False)
        self.assertEqual((r.status, r.code()), (403, "csrf_failed"))
        r = c.request("PUT", path, {"password": "carol-new-password"})
        self.assertEqual(r.status, 204, r)
        r = c.request("PUT", path, {"password": "short"})
        self.assertEqual((r.status, r.code()), (400, "bad_password"))
        r = c.request("PUT", "/api/v1/users/nobody%40alpha.example/password", {"password": "long-enough-pw"})
        self.assertEqual((r.status, r.code()), (404, "not_found"))
        self.assertIn("carol@alpha.example", self.cli("user", "list").out)
        # The same operation from the command line, seen by the console.
        self.assertEqual(self.cli("user", "passwd", "--aor", "carol@alpha.example", "--password-stdin",
                                  stdin="carol-third-password\n").code, 0)
        entries = [e for e in c.get("/api/v1/audit?limit=20").json()["items"]
                   if e["action"] == "user.password_change" and e["detail"] == "carol@alpha.example"]
        self.assertEqual(len(entries), 2, entries)
        self.assertEqual(sorted(e["actor"].startswith("cli:") for e in entries), [False, True])
        self.assertNotIn("carol-new-password", json.dumps(entries))

    def test_a_revoked_peer_is_removed_over_https_and_a_trusted_one_is_refused(self):
        gamma = self.path("gamma")
        self.assertEqual(self.cli("init", "--domain", "gamma.example", state_dir=gamma).code, 0)
        pem = self.cli("cert", state_dir=gamma).out
        fp = self.cli("fingerprint", state_dir=gamma).out.strip()
        c = self.admin()
        self.assertEqual(c.post("/api/v1/peers", {"pem": pem}).status, 201)
        self.assertEqual(c.post(f"/api/v1/peers/{fp}/trust", {"confirm_fingerprint": fp}).status, 200)
        r = c.request("DELETE", f"/api/v1/peers/{fp}")
        self.assertEqual((r.status, r.code()), (409, "peer_trusted"))
        self.assertIn("revoke", r.json()["error"]["message"])
        self.assertEqual(c.post(f"/api/v1/peers/{fp}/revoke").status, 200)
        r = c.request("DELETE", f"/api/v1/peers/{fp}", csrf=False)
        self.assertEqual((r.status, r.code()), (403, "csrf_failed"))
        r = c.request("DELETE", f"/api/v1/peers/{fp}")
        self.assertEqual(r.status, 204, r)
        self.assertNotIn(fp, self.cli("peer", "list").out)
        r = c.request("DELETE", f"/api/v1/peers/{fp}")
        self.assertEqual((r.status, r.code()), (404, "not_found"))
        actions = [e["action"] for e in c.get("/api/v1/audit?limit=10").json()["items"]]
        self.assertIn("peer.remove", actions)

    def test_metrics_are_prometheus_text(self):
        c = self.admin()
        r = c.get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain"))
        self.assertIn(b"sipsite_sip_", r.data)
        self.assertEqual(self.console().get("/metrics").status, 401)

    def test_api_token_scrapes_metrics_without_a_session(self):
        c = self.admin()
        r = c.post("/api/v1/tokens", {"name": "scraper"})
        self.assertEqual(r.status, 201, r)
        token = r.json()["token"]
        scraper = self.console()
        r = scraper.request("GET", "/metrics", headers={"Authorization": "Bearer " + token})
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"sipsite_sip_", r.data)
        r = scraper.request("GET", "/api/v1/tokens", headers={"Authorization": "Bearer " + token})
        self.assertEqual((r.status, r.code()), (403, "session_required"))
        token_id = [t["id"] for t in c.get("/api/v1/tokens").json()["items"] if t["name"] == "scraper"][0]
        self.assertEqual(c.request("DELETE", f"/api/v1/tokens/{token_id}").status, 204)
        r = scraper.request("GET", "/metrics", headers={"Authorization": "Bearer " + token})
        self.assertEqual((r.status, r.code()), (401, "invalid_token"))

    def test_static_files_are_gzipped_when_accepted_and_revalidated(self):
        c = self.console()
        for path in ("/", "/app.js", "/style.css", "/api/v1/openapi.json"):
            plain = c.get(path)
            self.assertEqual(plain.status, 200, path)
            self.assertIsNone(plain.headers["Content-Encoding"], path)
            self.assertEqual(plain.headers["Vary"], "Accept-Encoding", path)
            gz = c.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
            self.assertEqual(gz.status, 200, path)
            self.assertEqual(gz.headers["Content-Encoding"], "gzip", path)
            self.assertEqual(gz.headers["Vary"], "Accept-Encoding", path)
            self.assertEqual(gzip.decompress(gz.data), plain.data, path)
            self.assertLess(len(gz.data), len(plain.data), path)
            self.assertNotEqual(gz.headers["ETag"], plain.headers["ETag"], path)
            # Revalidation: 304 without a body, for the representation named.
            for enc, tag in (("gzip", gz.headers["ETag"]), ("identity", plain.headers["ETag"])):
                r = c.get(path, headers={"Accept-Encoding": enc, "If-None-Match": tag})
                self.assertEqual(r.status, 304, (path, enc))
                self.assertEqual(r.data, b"", (path, enc))
                self.assertEqual(r.headers["ETag"], tag, (path, enc))
            r = c.get(path, headers={"Accept-Encoding": "gzip;q=0", "If-None-Match": gz.headers["ETag"]})
            self.assertEqual((r.status, r.data), (200, plain.data), path)
        # The connection is still usable after the 304s (no stray body bytes).
        self.assertEqual(c.get("/healthz").status, 200)

    def test_live_calls_and_federation_metrics_with_no_peer(self):
        c = self.admin()
        r = c.get("/api/v1/calls")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["total"], 0)
        self.assertEqual(r.json()["peers"], [])
        self.assertEqual(set(r.json()["counters"]), {"sent", "received", "refused", "rate_limited", "revoked_calls"})
        m = c.get("/metrics").data.decode()
        for line in ('sipsite_federation_messages_total{direction="sent"} ',
                     'sipsite_federation_messages_total{direction="received"} ',
                     "sipsite_federation_refused_total ", "sipsite_federation_rate_limited_total ",
                     "# TYPE sipsite_federation_calls gauge"):
            self.assertIn(line, m)

    def test_registrations_list(self):
        r = self.admin().get("/api/v1/registrations")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["items"], [])

    def test_no_secret_in_any_answer(self):
        c = self.admin()
        r = c.post("/api/v1/users", {"aor": "secret-check", "password": "the-user-password"})
        self.assertEqual(r.status, 201, r)
        # The user is there to be shown: its secrets' absence below means something.
        users = c.get("/api/v1/users?limit=500").json()["items"]
        self.assertIn("secret-check@alpha.example", [u["aor"] for u in users])
        with open(os.path.join(self.site_dir, "db.key")) as f:
            db_key = f.read().strip()
        ha1 = hashlib.md5(b"secret-check:alpha.example:the-user-password").hexdigest()
        secrets = [db_key, "PRIVATE KEY", "the-user-password", NEW_PASSWORD, self.init["admin password"], "ha1",
                   ha1, "argon2"]
        for path in ("/api/v1/site", "/api/v1/users", "/api/v1/peers", "/api/v1/audit?limit=500",
                     "/api/v1/session", "/api/v1/registrations", "/api/v1/site/certificate", "/metrics"):
            body = c.get(path).data.decode()
            for s in secrets:
                self.assertNotIn(s, body, path)


class AddressCheckTest(ConsoleCase):
    def test_an_unreachable_public_address_is_reported_with_the_setting_to_fix(self):
        self.init = self.init_site()
        cfg = loopback_config(self.path("c.toml"), '[site]\npublic_address = "127.0.0.1:9"\n')
        self.daemon = Daemon(["--state-dir", self.path("site"), "--config", cfg])
        self.addCleanup(self.daemon.kill)
        self.port = self.daemon.admin_port()
        check = self.change_password().get("/api/v1/site/address-check").json()
        self.assertEqual(check["address"], "127.0.0.1:9")
        self.assertFalse(check["reaches_this_site"])
        self.assertIn("site.public_address", check["detail"])


if __name__ == "__main__":
    unittest.main()
