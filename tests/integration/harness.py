"""Test harness: runs the real sipsite binary in throwaway state directories.

Every process is bounded by a timeout; every directory and daemon is removed
or stopped at the end of the test that made it.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

SIPSITE = os.environ.get("SIPSITE_BIN", "sipsite")
SOURCE_DIR = os.environ.get("SIPSITE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
FINGERPRINT_RE = re.compile(r"^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$")
COMMAND_TIMEOUT = 60


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"exit={self.code}\nstdout={self.out!r}\nstderr={self.err!r}"


def run(*args, stdin=None, env=None, timeout=COMMAND_TIMEOUT):
    full_env = dict(os.environ)
    full_env.pop("CREDENTIALS_DIRECTORY", None)
    full_env.pop("NOTIFY_SOCKET", None)
    if env:
        full_env.update(env)
    proc = subprocess.run([SIPSITE, *args], input=stdin, capture_output=True, text=True,
                          env=full_env, timeout=timeout)
    return Result(proc)


class SiteTestCase(unittest.TestCase):
    """A test with a fresh temporary directory; `self.tmp`."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipsite-it-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def sipsite(self, *args, state="site", **kw):
        return run(*args, "--state-dir", self.path(state), **kw)

    def init_site(self, domain="alpha.example", state="site", extra=()):
        r = self.sipsite("init", "--domain", domain, *extra, state=state)
        self.assertEqual(r.code, 0, r)
        return parse_init(r.out)

    def add_users(self, *users, domain="alpha.example", password="{user}-password", state="site"):
        """`sipsite user add` for each user, the password made from `password`."""
        for user in users:
            self.assertOk(self.sipsite("user", "add", "--aor", f"{user}@{domain}", "--password-stdin",
                                       stdin=password.format(user=user) + "\n", state=state))

    def assertOk(self, r):
        self.assertEqual(r.code, 0, r)

    def assertFails(self, r, code, *fragments):
        """Exit `code`, one line on stderr containing every fragment."""
        self.assertEqual(r.code, code, r)
        lines = [l for l in r.err.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, r)
        self.assertTrue(lines[0].startswith("sipsite: "), r)
        for f in fragments:
            self.assertIn(f, lines[0], r)

    def db_bytes(self, state="site"):
        """The database files' bytes (main file and WAL, if any)."""
        data = b""
        for suffix in ("", "-wal"):
            p = self.path(state, "sipsite.db" + suffix)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    data += f.read()
        return data

    def snapshot(self, state="site"):
        """What the CLI reports of the database, to show a failure changed nothing."""
        users = self.sipsite("user", "list", "--json", state=state)
        peers = self.sipsite("peer", "list", "--json", state=state)
        fp = self.sipsite("fingerprint", state=state)
        return (users.code, users.out, peers.code, peers.out, fp.out)

    def write(self, name, text, mode=None):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        if mode is not None:
            os.chmod(p, mode)
        return p


def parse_init(out):
    fields = {}
    for line in out.splitlines():
        key, _, value = line.partition(": ")
        fields[key] = value
    return fields


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, timeout=60)


def sqlcipher_query(db_path, key_hex, sql):
    script = f"PRAGMA key = \"x'{key_hex}'\";\nPRAGMA cipher_page_size = 4096;\n{sql}\n"
    return subprocess.run(["sqlcipher", db_path], input=script, capture_output=True, text=True, timeout=60)


def make_cert_with_dates(directory, cn, start, end):
    """A self-signed P-256 certificate with explicit dates (YYYYMMDDHHMMSSZ),
    made with `openssl ca -selfsign` since `openssl req` cannot backdate."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n"
                "default_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n")
    open(os.path.join(directory, "index.txt"), "w").close()
    with open(os.path.join(directory, "serial"), "w") as f:
        f.write("01\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "k.pem", "-out", "r.csr", "-subj", f"/CN={cn}"],
                   cwd=directory, check=True, capture_output=True, timeout=60)
    subprocess.run(["openssl", "ca", "-batch", "-notext", "-config", "ca.cnf", "-selfsign", "-keyfile", "k.pem",
                    "-in", "r.csr", "-out", "cert.pem", "-startdate", start, "-enddate", end],
                   cwd=directory, check=True, capture_output=True, timeout=60)
    return os.path.join(directory, "cert.pem")


def loopback_config(path, extra=""):
    """A config whose SIP listeners are on 127.0.0.1 with kernel-chosen
    ports, so tests never collide; read the ports with Daemon.sip_ports()."""
    with open(path, "w") as f:
        f.write('[federation]\nlisten = "127.0.0.1:0"\n'
                '[sip]\nudp = ["127.0.0.1:0"]\ntcp = ["127.0.0.1:0"]\ntls = ["127.0.0.1:0"]\n' + extra)
        f.write('\n[admin]\nlisten = "127.0.0.1:0"\n')
    return path


SANITIZER_REPORT = re.compile(r"^.*(?:==\d+==ERROR: \w+Sanitizer|WARNING: ThreadSanitizer|runtime error:).*$", re.M)


def sanitizer_report(text):
    """The first sanitizer report in a process's output and what follows it
    (at most 60 lines), or None."""
    m = SANITIZER_REPORT.search(text)
    if not m:
        return None
    return "\n".join(text[m.start():].splitlines()[:60])


class Daemon:
    """`sipsite run` as a child process, its stderr collected in a file."""

    cleaned = False  # kill() ran (subclasses with their own __init__ too)

    def __init__(self, args, env=None):
        self.log_path = tempfile.mktemp(prefix="sipsite-run-", suffix=".log")
        if "--config" not in args:
            # Never the default ports: tests run in parallel.
            self.config_path = loopback_config(self.log_path + ".toml")
            args = [*args, "--config", self.config_path]
        self.log = open(self.log_path, "w")
        full_env = dict(os.environ)
        full_env.pop("NOTIFY_SOCKET", None)
        full_env.pop("CREDENTIALS_DIRECTORY", None)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen([SIPSITE, "run", *args], stdout=self.log, stderr=subprocess.STDOUT,
                                     env=full_env)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_for(self, pattern, timeout=20, count=1):
        """Polls the log (bounded) until `pattern` occurs `count` times."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output()
            if len(re.findall(pattern, text)) >= count:
                return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not seen in daemon log:\n{self.output()}")

    def sip_ports(self, bound=r"127\.0\.0\.1"):
        """{'udp': port, 'tcp': port, 'tls': port} from the listening lines
        of the listeners bound to `bound` (a pattern: 0\\.0\\.0\\.0 for a
        wildcard listener)."""
        text = self.wait_for(r"ready")
        return {p: int(port) for p, port in re.findall(rf"listening sip/(udp|tcp|tls) {bound}:(\d+)", text)}

    def federation_port(self):
        text = self.wait_for(r"ready")
        return int(re.search(r"listening federation/mtls 127\.0\.0\.1:(\d+)", text).group(1))

    def admin_port(self):
        """The admin console's port, from its listening line."""
        text = self.wait_for(r"ready")
        return int(re.search(r"listening admin/https 127\.0\.0\.1:(\d+)", text).group(1))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log.close()

    def kill(self):
        """Cleanup: stops the daemon if it still runs, and fails the test
        that started it when a sanitizer reported anything in its output (a
        race, an overflow, a leak, undefined behaviour), wherever the test
        stood when it happened. Idempotent."""
        if self.cleaned:
            return
        self.cleaned = True
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)
        if not self.log.closed:
            self.log.close()
        try:
            report = sanitizer_report(self.output())
        finally:
            for p in (self.log_path, self.log_path + ".toml"):
                try:
                    os.unlink(p)
                except FileNotFoundError:
                    pass
        if report:
            raise AssertionError(f"the daemon's output has a sanitizer report:\n{report}")


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []

    def wait_for(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in m for m in self.messages):
                return
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        raise AssertionError(f"{text!r} never notified; got {self.messages}")

    def close(self):
        self.sock.close()
