"""The Debian package on this machine: build it (cpack, from the build tree
ctest runs in, or $SIPSITE_DEB), install it with dpkg, check what the
maintainer scripts made, start the service the way its unit does, talk to it
(console /healthz over HTTPS, SIP OPTIONS over UDP), then remove and purge it
and check what stays and what goes.

It changes the machine (a package, a system user), so it runs only as root,
refuses to touch a machine where sipsite is or was installed, runs the daemon
on loopback ports only, and purges everything in cleanups, also on failure.
"""
import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import http.client

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from sip_client import SipClient  # noqa: E402

SOURCE_DIR = os.environ.get("SIPSITE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("SIPSITE_BUILD_DIR", "")
STATE = "/var/lib/sipsite"
UNIT = "/lib/systemd/system/sipsite.service"
CONFFILE = "/etc/sipsite/sipsite.toml"
PASSWORD_FILE = STATE + "/initial-admin-password"
DOMAIN = "pkgtest.example"
TIMEOUT = 120


def sh(*args, env=None, timeout=TIMEOUT, check=True):
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{shlex.join(args)} -> exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def systemd_is_pid1():
    try:
        with open("/proc/1/comm") as f:
            return f.read().strip() == "systemd" and os.path.isdir("/run/systemd/system")
    except OSError:
        return False


def package_installed():
    r = sh("dpkg-query", "-W", "-f=${Status}", "sipsite", check=False)
    return r.returncode == 0 and "not-installed" not in r.stdout


def unit_settings(path):
    """The [Service] section's settings, {name: [values]}."""
    settings, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]":
                name, _, value = line.partition("=")
                settings.setdefault(name, []).append(value)
    return settings


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("cannot run here: the package test installs a .deb with dpkg: run it as root")
        for tool in ("dpkg", "dpkg-deb", "setpriv", "runuser"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"cannot run here: {tool} is missing")
        # Never touch a real installation, or what one left behind.
        if package_installed():
            raise unittest.SkipTest("cannot run here: sipsite is installed on this machine; not touching it")
        for leftover in (STATE, "/etc/sipsite"):
            if os.path.exists(leftover):
                raise unittest.SkipTest(f"cannot run here: {leftover} exists (an earlier installation?); not touching it")
        for db, name in ((pwd.getpwnam, "user"), (grp.getgrnam, "group")):
            try:
                db("sipsite")
                raise unittest.SkipTest(f"cannot run here: a sipsite {name} exists on this machine; not touching it")
            except KeyError:
                pass
        cls.work = tempfile.mkdtemp(prefix="sipsite-pkgtest-")
        cls.deb = os.environ.get("SIPSITE_DEB") or cls.build_package(cls.work)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, True)

    @classmethod
    def build_package(cls, out):
        if not BUILD_DIR or not os.path.exists(os.path.join(BUILD_DIR, "CPackConfig.cmake")):
            raise AssertionError("SIPSITE_BUILD_DIR has no CPackConfig.cmake; set SIPSITE_DEB or run from ctest")
        r = sh("cpack", "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake"), "-B", out, timeout=600)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        if len(debs) != 1:
            raise AssertionError(f"cpack made {debs}:\n{r.stdout}\n{r.stderr}")
        return os.path.join(out, debs[0])

    # -- helpers -----------------------------------------------------------

    def setUp(self):
        # /run, not /tmp: the unit has PrivateTmp=, and its user must read these.
        self.tmp = tempfile.mkdtemp(prefix="sipsite-pkgtest-", dir="/run")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # Runs last (cleanups are LIFO): nothing of the package stays.
        self.addCleanup(self.purge_everything)

    def purge_everything(self):
        if systemd_is_pid1():
            sh("systemctl", "stop", "sipsite.service", check=False)
            shutil.rmtree("/run/systemd/system/sipsite.service.d", True)
            sh("systemctl", "daemon-reload", check=False)
        if package_installed():
            sh("dpkg", "--purge", "sipsite", env=self.purge_site_env(), check=False)
        # A purge keeps the site unless told; setUpClass saw none before
        # this test, so what is left is this test's own.
        shutil.rmtree(STATE, True)
        for tool, name in (("deluser", "sipsite"), ("delgroup", "sipsite")):
            sh(tool, "--quiet", "--system", name, check=False)

    def purge_site_env(self):
        return {**os.environ, "SIPSITE_PURGE_SITE": "yes"}

    def fake_hostname(self, fqdn):
        """A PATH whose `hostname -f` prints `fqdn` (the machine's name stays)."""
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        with open(os.path.join(bindir, "hostname"), "w") as f:
            f.write(f"#!/bin/sh\necho '{fqdn}'\n")
        os.chmod(os.path.join(bindir, "hostname"), 0o755)
        env = dict(os.environ)
        env["PATH"] = bindir + ":" + env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        env["DEBIAN_FRONTEND"] = "noninteractive"
        return env

    def loopback_config(self):
        path = os.path.join(self.tmp, "loopback.toml")
        with open(path, "w") as f:
            f.write('[site]\npublic_address = "127.0.0.1"\n[federation]\nlisten = "127.0.0.1:0"\n'
                    '[sip]\nudp = ["127.0.0.1:0"]\ntcp = ["127.0.0.1:0"]\ntls = ["127.0.0.1:0"]\n'
                    '[admin]\nlisten = "127.0.0.1:0"\n')
        os.chmod(path, 0o644)
        return path

    def install(self, fqdn):
        if systemd_is_pid1():
            # The service postinst starts must listen on loopback only.
            dropin = "/run/systemd/system/sipsite.service.d"
            os.makedirs(dropin, exist_ok=True)
            with open(os.path.join(dropin, "test.conf"), "w") as f:
                f.write("[Service]\nExecStart=\nExecStart=/usr/bin/sipsite --state-dir /var/lib/sipsite "
                        f"--config {self.loopback_config()} run\n")
        r = sh("dpkg", "-i", self.deb, env=self.fake_hostname(fqdn), timeout=300)
        return r.stdout + r.stderr

    def assert_mode(self, path, mode, owner):
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), mode, f"{path}: {oct(st.st_mode)}")
        self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, owner, path)

    def start_like_the_unit(self):
        """The unit's ExecStart as its User=, with no capabilities, no new
        privileges, its UMask= and the database key in a credentials
        directory (as LoadCredential= provides it); loopback ports."""
        unit = unit_settings(UNIT)
        self.assertEqual(unit["Type"], ["notify"])
        self.assertEqual(unit["User"], ["sipsite"])
        argv = shlex.split(unit["ExecStart"][-1])
        i = argv.index("--config")
        argv[i + 1] = self.loopback_config()
        cred_name, _, cred_source = unit["LoadCredential"][0].partition(":")
        self.assertEqual(cred_name, "sipsite-db-key")

        user = pwd.getpwnam("sipsite")
        creds = os.path.join(self.tmp, "credentials")
        os.mkdir(creds, 0o500)
        shutil.copyfile(cred_source, os.path.join(creds, cred_name))
        os.chmod(os.path.join(creds, cred_name), 0o400)
        for p in (creds, os.path.join(creds, cred_name)):
            os.chown(p, user.pw_uid, user.pw_gid)
        # Proof that the key comes from the credential: the service user cannot
        # read the file systemd (as root) copied it from.
        os.chmod(cred_source, 0)

        def restore_key_mode():
            if os.path.exists(cred_source):
                os.chmod(cred_source, 0o600)
        self.addCleanup(restore_key_mode)

        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "HOME": user.pw_dir, "USER": "sipsite", "LOGNAME": "sipsite", "CREDENTIALS_DIRECTORY": creds}
        for value in unit.get("Environment", []):
            for assignment in shlex.split(value):
                k, _, v = assignment.partition("=")
                env[k] = v
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        umask = int(unit["UMask"][0], 8)
        log_path = os.path.join(self.tmp, "daemon.log")
        log = open(log_path, "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            ["setpriv", "--reuid=sipsite", "--regid=sipsite", "--init-groups", "--no-new-privs",
             "--bounding-set=-all", "--inh-caps=-all", "--", *argv],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd="/", preexec_fn=lambda: os.umask(umask))

        def stop():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        self.addCleanup(stop)
        def read():
            with open(log_path) as f:
                return f.read()
        return proc, read

    def wait_for_log(self, read, pattern, proc=None, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = read()
            if re.search(pattern, text):
                return text
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.1)
        self.fail(f"{pattern!r} not in the daemon's log:\n{read()}")

    def assert_answers(self, log_text):
        admin = int(re.search(r"listening admin/https 127\.0\.0\.1:(\d+)", log_text).group(1))
        udp = int(re.search(r"listening sip/udp 127\.0\.0\.1:(\d+)", log_text).group(1))
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the site's self-signed certificate
        conn = http.client.HTTPSConnection("127.0.0.1", admin, context=ctx, timeout=10)
        self.addCleanup(conn.close)
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        self.assertEqual((r.status, r.read()), (200, b"ok\n"))
        sip = SipClient("udp", udp, domain=DOMAIN)
        self.addCleanup(sip.close)
        status, _, _ = sip.request("OPTIONS")
        self.assertEqual(status, 200)

    def assert_manual_changelog_copyright(self):
        """The manual page covers every command the program lists and renders
        without warnings; the Debian changelog is in the place and format
        policy says, for this version; copyright names the licence field."""
        page = "/usr/share/man/man1/sipsite.1.gz"
        self.assertTrue(os.path.isfile(page))
        self.assertTrue(os.path.isfile("/usr/share/man/man8/sipsitectl.8.gz"))
        roff = sh("zcat", page).stdout
        help_text = sh("/usr/bin/sipsite", "--help").stdout
        commands = re.findall(r"(?m)^  ([a-z][a-z-]+)\s{2,}", help_text.split("Subcommands:")[1])
        self.assertIn("peer", commands)
        for command in commands:
            self.assertIn('.SS "sipsite ' + command.replace("-", "\\-"), roff, command)
        if shutil.which("groff"):
            plain = os.path.join(self.tmp, "sipsite.1")
            with open(plain, "w") as f:
                f.write(roff)
            r = sh("groff", "-man", "-ww", "-z", "-Tutf8", plain)
            self.assertEqual(r.stderr, "", "groff warnings")
        version = sh("dpkg-query", "-W", "-f=${Version}", "sipsite").stdout
        changelog = os.path.join(self.tmp, "changelog")
        with open(changelog, "w") as f:
            f.write(sh("zcat", "/usr/share/doc/sipsite/changelog.gz").stdout)
        if shutil.which("dpkg-parsechangelog"):
            self.assertEqual(sh("dpkg-parsechangelog", "-l", changelog, "-S", "Version").stdout.strip(), version)
        with open("/usr/share/doc/sipsite/copyright") as f:
            self.assertRegex(f.read(), r"(?m)^License: \S+")

    # -- tests -------------------------------------------------------------

    def test_install_run_remove_purge(self):
        out = self.install(DOMAIN)

        # Files, user, state directory.
        self.assertTrue(os.access("/usr/bin/sipsite", os.X_OK))
        self.assertTrue(os.access("/usr/sbin/sipsitectl", os.X_OK))
        self.assertTrue(os.path.isfile(UNIT))
        # Every page the README links to, and the one the unit names.
        for doc in ("ADMIN.md", "ARCHITECTURE.md", "CONFIG.md", "PRIVACY.md", "SECURITY.md"):
            self.assertTrue(os.path.isfile("/usr/share/doc/sipsite/docs/" + doc), doc)
        with open(UNIT) as f:
            documentation = re.search(r"(?m)^Documentation=(.*)$", f.read()).group(1).split()
        for url in documentation:
            if url.startswith("file://"):
                self.assertTrue(os.path.isfile(url[len("file://"):]), url)
        self.assert_manual_changelog_copyright()
        conffiles = sh("dpkg-query", "-W", "-f=${Conffiles}", "sipsite").stdout
        self.assertIn(CONFFILE, conffiles)
        self.assert_mode(CONFFILE, 0o644, "root")
        user = pwd.getpwnam("sipsite")
        self.assertLess(user.pw_uid, 1000, "a system user")
        self.assertEqual(user.pw_shell, "/usr/sbin/nologin")
        self.assertEqual(user.pw_dir, STATE)
        self.assert_mode(STATE, 0o700, "sipsite")
        # Enabled for the next boot (as dh_installsystemd does), also without systemd running.
        self.assertTrue(os.path.islink("/etc/systemd/system/multi-user.target.wants/sipsite.service"))

        # The site, created with the FQDN; the password only in a root-only file.
        self.assert_mode(STATE + "/sipsite.db", 0o600, "sipsite")
        self.assert_mode(STATE + "/db.key", 0o600, "sipsite")
        self.assert_mode(PASSWORD_FILE, 0o600, "root")
        with open(PASSWORD_FILE) as f:
            password = f.read().strip()
        self.assertGreaterEqual(len(password), 12)
        self.assertNotIn(password, out, "the one-time password must not reach the terminal")
        self.assertIn(PASSWORD_FILE, out)
        fingerprint = sh("/usr/sbin/sipsitectl", "fingerprint").stdout.strip()
        self.assertRegex(fingerprint, r"^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$")
        self.assertIn(fingerprint, out)
        self.assertIn("other sites will reach it at ", out)
        self.assertNotIn("other sites will reach it at \n", out)
        self.assertEqual(os.listdir(STATE).count(".init-output"), 0)
        r = sh("/usr/bin/sipsite", "--state-dir", STATE, "--config", CONFFILE, "run", "--check")
        self.assertIn(DOMAIN, r.stdout)

        # The unit file as systemd reads it.
        if shutil.which("systemd-analyze"):
            r = sh("systemd-analyze", "verify", UNIT, check=False)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # Running and answering.
        if systemd_is_pid1():
            sh("systemctl", "start", "sipsite.service")
            self.assertEqual(sh("systemctl", "is-active", "sipsite.service", check=False).stdout.strip(), "active")
            read = lambda: sh("journalctl", "-u", "sipsite.service", "-o", "cat", "--no-pager", "-n", "200").stdout
            self.assert_answers(self.wait_for_log(read, r"\bready\b"))
        else:
            proc, read = self.start_like_the_unit()
            self.assert_answers(self.wait_for_log(read, r"\bready\b", proc))
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=30), 0, read())
            self.assertIn("stopped", read())
            os.chmod(STATE + "/db.key", 0o600)
        # sipsite.lock: the daemon's one-per-state-directory lock (flock; empty).
        self.assertEqual(sorted(f for f in os.listdir(STATE) if not f.startswith("sipsite.db")),
                         ["db.key", "initial-admin-password", "sipsite.lock"])

        # Remove: the program goes, the site, its user and the configuration stay.
        sh("dpkg", "-r", "sipsite")
        if systemd_is_pid1():
            self.assertNotEqual(sh("systemctl", "is-active", "sipsite.service", check=False).stdout.strip(),
                                "active")
        self.assertFalse(os.path.exists("/usr/bin/sipsite"))
        self.assertFalse(os.path.exists(UNIT))
        self.assertTrue(os.path.exists(STATE + "/sipsite.db"))
        self.assertTrue(os.path.exists(CONFFILE))
        pwd.getpwnam("sipsite")
        self.assertIn("config-files", sh("dpkg-query", "-W", "-f=${Status}", "sipsite").stdout)

        # Purge: the configuration goes; the site's identity and data stay
        # (and the user owning them), unless told otherwise.
        r = sh("dpkg", "-P", "sipsite")
        self.assertFalse(package_installed())
        self.assertFalse(os.path.exists("/etc/sipsite"))
        for kept in ("sipsite.db", "db.key"):
            self.assert_mode(STATE + "/" + kept, 0o600, "sipsite")
        self.assertIn("kept in /var/lib/sipsite", r.stdout)
        self.assertIn("rm -rf /var/lib/sipsite && deluser --system sipsite", r.stdout)
        # Installed again, it is the same site.
        self.install(DOMAIN)
        self.assertEqual(sh("/usr/sbin/sipsitectl", "fingerprint").stdout.strip(), fingerprint)

        # Purge with SIPSITE_PURGE_SITE=yes: everything goes.
        r = sh("dpkg", "-P", "sipsite", env=self.purge_site_env())
        self.assertIn("deleted (SIPSITE_PURGE_SITE=yes)", r.stdout)
        self.assertFalse(package_installed())
        for gone in (STATE, "/etc/sipsite", "/etc/systemd/system/multi-user.target.wants/sipsite.service",
                     "/var/lib/systemd/deb-systemd-helper-enabled/sipsite.service.dsh-also",
                     "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/sipsite.service",
                     "/var/lib/systemd/deb-systemd-helper-masked/sipsite.service"):
            self.assertFalse(os.path.lexists(gone), gone)
        with self.assertRaises(KeyError):
            pwd.getpwnam("sipsite")
        with self.assertRaises(KeyError):
            grp.getgrnam("sipsite")

    def test_lintian_finds_no_error_or_warning_but_the_maintainer_address(self):
        if shutil.which("lintian") is None:
            self.skipTest("cannot run here: lintian is missing (deploy/install-deps.sh installs it)")
        r = sh("lintian", "--no-tag-display-limit", self.deb, check=False, timeout=600)
        tags = sorted({line.split()[2] for line in r.stdout.splitlines() if re.match(r"^[EW]: sipsite: ", line)})
        # The project has no public maintainer address yet: the package names
        # sipsite@localhost, which lintian rightly calls bogus. Nothing else.
        self.assertEqual(tags, ["bogus-mail-host", "bogus-mail-host-in-debian-changelog"], r.stdout)

    def test_without_a_usable_fqdn_it_says_how_to_create_the_site(self):
        out = self.install("localhost")
        self.assertIn("sipsitectl init --domain", out)
        self.assertFalse(os.path.exists(STATE + "/sipsite.db"))
        self.assertFalse(os.path.exists(PASSWORD_FILE))
        self.assert_mode(STATE, 0o700, "sipsite")
        # Following the message, exactly as printed, from a root shell with
        # the usual umask creates the site and a password file only root
        # can read.
        command = re.search(r"(?m)^sipsite:\s+(\(umask 077 && sipsitectl init --domain \S+ > \S+\))$", out)
        self.assertIsNotNone(command, out)
        line = command.group(1).replace("sip.example.org", DOMAIN).replace("sipsitectl", "/usr/sbin/sipsitectl")
        sh("sh", "-c", "umask 022 && " + line)
        self.assert_mode(PASSWORD_FILE, 0o600, "root")
        with open(PASSWORD_FILE) as f:
            self.assertRegex(f.read(), r"(?m)^admin password: \S{12,}$")
        self.assert_mode(STATE + "/sipsite.db", 0o600, "sipsite")
        sh("dpkg", "-P", "sipsite", env=self.purge_site_env())
        self.assertFalse(os.path.exists(STATE))


if __name__ == "__main__":
    unittest.main()
