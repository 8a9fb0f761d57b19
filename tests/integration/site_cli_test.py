"""sipsite init, fingerprint, cert, invite, admin reset-password; usage errors."""
import os
import stat
import subprocess
import unittest

from harness import FINGERPRINT_RE, SiteTestCase, openssl, run, sqlcipher_query


class InitTest(SiteTestCase):
    def test_init_prints_site_fingerprint_and_one_time_password(self):
        r = self.sipsite("init", "--domain", "Alpha.Example")
        self.assertOk(r)
        lines = r.out.splitlines()
        self.assertEqual(lines[0], "site: alpha.example")
        self.assertRegex(lines[1], r"^fingerprint: ")
        self.assertRegex(lines[1].split(": ")[1], FINGERPRINT_RE)
        self.assertRegex(lines[2], r"^admin password: [2-9a-zA-Z]{5}(-[2-9a-zA-Z]{5}){3}$")
        # The password is never stored in clear: not in any file of the state dir.
        password = lines[2].split(": ")[1]
        for name in os.listdir(self.path("site")):
            with open(self.path("site", name), "rb") as f:
                self.assertNotIn(password.encode(), f.read(), name)

    def test_state_files_are_private(self):
        self.init_site()
        self.assertEqual(stat.S_IMODE(os.stat(self.path("site")).st_mode), 0o700)
        for name in ("sipsite.db", "db.key"):
            self.assertEqual(stat.S_IMODE(os.stat(self.path("site", name)).st_mode), 0o600, name)

    def test_certificate_verifies_and_matches_the_fingerprint(self):
        fields = self.init_site()
        cert = self.sipsite("cert")
        self.assertOk(cert)
        cert_path = self.write("cert.pem", cert.out)
        verify = openssl("verify", "-CAfile", cert_path, cert_path)
        self.assertEqual(verify.returncode, 0, verify.stderr)
        ossl_fp = openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", cert_path).stdout.strip()
        self.assertEqual(ossl_fp.split("=", 1)[1], fields["fingerprint"])
        fp = self.sipsite("fingerprint")
        self.assertOk(fp)
        self.assertEqual(fp.out, fields["fingerprint"] + "\n")
        text = openssl("x509", "-noout", "-text", "-in", cert_path).stdout
        self.assertIn("Subject: CN = alpha.example", text)
        self.assertIn("DNS:alpha.example", text)
        self.assertIn("CA:FALSE", text)

    def test_private_key_lives_only_inside_the_encrypted_database(self):
        self.init_site()
        self.assertEqual(sorted(os.listdir(self.path("site"))), ["db.key", "sipsite.db"])
        with open(self.path("site", "db.key")) as f:
            key = f.read().strip()
        r = sqlcipher_query(self.path("site", "sipsite.db"), key, "SELECT private_key_pem FROM site;")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("-----BEGIN PRIVATE KEY-----", r.stdout)
        # ... and it is the key of the certificate.
        key_path = self.write("k.pem", r.stdout[r.stdout.index("-----BEGIN"):])
        cert_path = self.write("c.pem", self.sipsite("cert").out)
        pub_from_key = openssl("pkey", "-pubout", "-in", key_path).stdout
        pub_from_cert = openssl("x509", "-noout", "-pubkey", "-in", cert_path).stdout
        self.assertEqual(pub_from_key, pub_from_cert)
        self.assertNotIn(b"PRIVATE KEY", self.db_bytes())

    def test_refuses_to_replace_a_site_without_force(self):
        first = self.init_site()
        r = self.sipsite("init", "--domain", "other.example")
        self.assertFails(r, 1, "already initialised", "--force")
        self.assertEqual(self.sipsite("fingerprint").out.strip(), first["fingerprint"])

    def test_force_replaces_the_site(self):
        first = self.init_site()
        self.assertOk(self.sipsite("user", "add", "--aor", "alice@alpha.example", "--password-stdin",
                                   stdin="password123\n"))
        second = self.init_site("beta.example", extra=("--force",))
        self.assertNotEqual(first["fingerprint"], second["fingerprint"])
        self.assertEqual(self.sipsite("user", "list").out, "")
        self.assertIn("domain=beta.example", self.sipsite("invite").out)

    def test_bad_domain_is_a_usage_error_and_creates_nothing(self):
        for domain in ("bad domain", "", "-x.example", "10.0.0.1", "a..b", "x" * 300):
            r = self.sipsite("init", "--domain", domain)
            self.assertFails(r, 2)
            self.assertFalse(os.path.exists(self.path("site", "sipsite.db")), domain)

    def test_validity_days_is_honoured_and_checked(self):
        self.init_site(extra=("--validity-days", "30"))
        cert_path = self.write("c.pem", self.sipsite("cert").out)
        self.assertEqual(openssl("x509", "-noout", "-checkend", str(29 * 86400), "-in", cert_path).returncode, 0)
        self.assertNotEqual(openssl("x509", "-noout", "-checkend", str(31 * 86400), "-in", cert_path).returncode, 0)
        self.assertFails(self.sipsite("init", "--domain", "b.example", "--validity-days", "0", state="other"), 2)
        self.assertFails(self.sipsite("init", "--domain", "b.example", "--validity-days", "x", state="other"), 2)

    def test_init_twice_concurrently_yields_one_site(self):
        procs = [subprocess.Popen([os.environ["SIPSITE_BIN"], "init", "--domain", "alpha.example",
                                   "--state-dir", self.path("site")],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        codes = sorted(p.wait(timeout=60) for p in procs)
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        self.assertEqual(codes[0], 0)
        self.assertNotEqual(codes[1], 0)
        self.assertOk(self.sipsite("fingerprint"))


class CommandsBeforeInitTest(SiteTestCase):
    def test_every_command_explains_that_there_is_no_site(self):
        for args in (["fingerprint"], ["cert"], ["invite"], ["peer", "list"], ["user", "list"],
                     ["admin", "reset-password"], ["run"]):
            r = self.sipsite(*args)
            self.assertFails(r, 1, "sipsite init")
        self.assertFalse(os.path.exists(self.path("site")))


class InviteTest(SiteTestCase):
    def test_invite_uses_the_address_init_chose(self):
        # Without --public-address, init picks this machine's first
        # non-loopback address and says so; never the domain, which
        # resolves nowhere for a new site.
        fields = self.init_site()
        chosen = fields["public address"].split(" ")[0]
        self.assertIn("'init --public-address'", fields["public address"])
        self.assertRegex(chosen, r"^[0-9.]+$")
        r = self.sipsite("invite")
        self.assertOk(r)
        self.assertEqual(r.out, f"sipsite:invite?v=1&domain=alpha.example&address={chosen}:5062&fp="
                         + fields["fingerprint"] + "\n")

    def test_init_takes_the_public_address(self):
        fields = self.init_site(extra=("--public-address", "sip.alpha.example"))
        self.assertEqual(fields["public address"], "sip.alpha.example")
        self.assertIn("&address=sip.alpha.example:5062&", self.sipsite("invite").out)
        fields = self.init_site(state="v6", extra=("--public-address", "[2001:db8::9]:6000"))
        self.assertIn("&address=[2001:db8::9]:6000&", self.sipsite("invite", state="v6").out)
        # The configuration file overrides what init chose.
        cfg = self.write("c.toml", '[site]\npublic_address = "203.0.113.7"\n')
        self.assertIn("&address=203.0.113.7:5062&", self.sipsite("invite", "--config", cfg).out)
        # So does a federation listener bound to one address: peers reach it there.
        cfg = self.write("d.toml", '[federation]\nlisten = "127.0.0.1:6062"\n')
        self.assertIn("&address=127.0.0.1:6062&", self.sipsite("invite", "--config", cfg).out)

    def test_a_bad_public_address_is_a_usage_error_and_creates_nothing(self):
        r = self.sipsite("init", "--domain", "alpha.example", "--public-address", "not a host")
        self.assertFails(r, 2, "--public-address")
        self.assertFalse(os.path.exists(self.path("site", "sipsite.db")))

    def test_invite_uses_the_configured_public_address(self):
        fields = self.init_site()
        cfg = self.write("c.toml", '[site]\npublic_address = "203.0.113.7"\n[federation]\nlisten = "0.0.0.0:6062"\n')
        r = self.sipsite("invite", "--config", cfg)
        self.assertOk(r)
        self.assertIn("&address=203.0.113.7:6062&fp=" + fields["fingerprint"], r.out)
        cfg = self.write("d.toml", '[site]\npublic_address = "[2001:db8::7]:443"\n')
        self.assertIn("&address=[2001:db8::7]:443&", self.sipsite("invite", "--config", cfg).out)

    def test_invite_with_a_bad_config_is_a_usage_error(self):
        self.init_site()
        cfg = self.write("c.toml", '[site]\npublic_adress = "203.0.113.7"\n')
        self.assertFails(self.sipsite("invite", "--config", cfg), 2, "site.public_adress", "unknown key")


class AdminPasswordTest(SiteTestCase):
    def test_reset_issues_a_new_one_time_password(self):
        first = self.init_site()["admin password"]
        r = self.sipsite("admin", "reset-password")
        self.assertOk(r)
        self.assertRegex(r.out, r"^admin password: \S+\n$")
        self.assertNotEqual(r.out.split(": ")[1].strip(), first)


class UsageTest(SiteTestCase):
    def test_help_and_version(self):
        r = run("--help")
        self.assertOk(r)
        for command in ("init", "run", "fingerprint", "cert", "invite", "peer", "user"):
            self.assertIn(command, r.out)
        self.assertOk(run("peer", "--help"))
        v = run("--version")
        self.assertOk(v)
        self.assertIn("sipsite", v.out)

    def test_usage_errors_exit_2_with_one_line(self):
        for args in ([], ["bogus"], ["init"], ["init", "--domain"], ["peer"], ["peer", "frobnicate"],
                     ["user", "add"], ["user", "del"], ["peer", "import"], ["fingerprint", "--nope"],
                     ["peer", "trust", "--fingerprint", "AA", "--domain", "b.example"]):
            r = run(*args, "--state-dir", self.path("site"))
            self.assertFails(r, 2)

    def test_an_unknown_command_is_named_in_the_error(self):
        for args in (["frobnicate"], ["peer", "frobnicate"], ["user", "frobnicate"], ["admin", "frobnicate"],
                     ["--state-dir", self.path("site"), "frobnicate"]):
            with self.subTest(args=args):
                self.assertFails(run(*args), 2, "'frobnicate'")

    def test_unreadable_state_dir_argument(self):
        blocker = self.write("file", "not a dir")
        r = run("init", "--domain", "a.example", "--state-dir", blocker)
        self.assertFails(r, 2, "not a directory")


if __name__ == "__main__":
    unittest.main()
