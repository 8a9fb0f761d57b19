"""The daemon's logging: the level spec (base and per-module levels) from
--log-level and log.level, and the journald format under systemd."""
import glob
import os
import re
import subprocess
import time
import unittest

from harness import SIPSITE, SOURCE_DIR, Daemon, SiteTestCase, loopback_config

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} ")


class LoggingTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init_site()

    def start(self, *args):
        d = Daemon(["--state-dir", self.path("site"), *args])
        self.addCleanup(d.kill)
        d.wait_for(r"\bready\b")
        return d

    def test_per_module_levels(self):
        # warn for everything, info for app: app's lines stay, store's go.
        d = self.start("--log-level", "warn,app=info")
        d.stop()
        out = d.output()
        self.assertIn("info app: ready", out)
        self.assertNotIn(" store: ", out)

    def test_module_level_below_base(self):
        d = self.start("--log-level", "info,store=error")
        d.stop()
        out = d.output()
        self.assertIn("info app: ready", out)
        self.assertNotIn("state loaded", out)

    def test_config_key_takes_the_same_spec_and_the_flag_overrides_it(self):
        cfg = loopback_config(self.path("log.toml"), '[log]\nlevel = "error,app=info"\n')
        d = self.start("--config", cfg)
        d.stop()
        self.assertIn("info app: ready", d.output())
        self.assertNotIn(" store: ", d.output())
        d = self.start("--config", cfg, "--log-level", "info")
        d.wait_for("info store: state loaded")
        d.stop()

    def test_bad_specs_are_usage_errors(self):
        for spec, fragment in (("info,nosuch=debug", "--log-level"), ("app=loud", "--log-level"),
                               ("info,debug", "--log-level"), ("app=debug,app=info", "--log-level")):
            with self.subTest(spec=spec):
                self.assertFails(self.sipsite("run", "--log-level", spec), 2, fragment)
        for spec, fragment in (("info,nosuch=debug", "unknown module"), ("app=loud", "a level must be"),
                               ("info,debug", "only one level"), ("app=debug,app=info", "named twice")):
            with self.subTest(config=spec):
                cfg = self.write("bad.toml", f'[log]\nlevel = "{spec}"\n')
                self.assertFails(self.sipsite("run", "--check", "--config", cfg), 2, "log.level", fragment)

    def test_every_module_that_logs_can_be_named(self):
        sources = glob.glob(os.path.join(SOURCE_DIR, "server", "**", "*.cpp"), recursive=True)
        modules = set()
        for path in sources:
            with open(path) as f:
                modules.update(re.findall(r'\blogger\("([a-z_]+)"\)', f.read()))
        self.assertIn("app", modules)
        for module in sorted(modules):
            with self.subTest(module=module):
                cfg = self.write("m.toml", f'[log]\nlevel = "info,{module}=debug"\n')
                self.assertOk(self.sipsite("run", "--check", "--config", cfg))

    def run_with_stderr_in(self, path, journal_stream):
        """`run` with stderr in `path` and $JOURNAL_STREAM as given (a
        function of the file's device and inode), stopped once ready."""
        cfg = loopback_config(self.path("j.toml"))
        with open(path, "w") as log:
            st = os.fstat(log.fileno())
            env = dict(os.environ)
            env.pop("NOTIFY_SOCKET", None)
            env.pop("CREDENTIALS_DIRECTORY", None)
            env["JOURNAL_STREAM"] = journal_stream(st)
            proc = subprocess.Popen([SIPSITE, "run", "--state-dir", self.path("site"), "--config", cfg],
                                    stdout=log, stderr=log, env=env)
            try:
                for _ in range(400):
                    with open(path) as f:
                        if "ready" in f.read():
                            break
                    if proc.poll() is not None:
                        break
                    time.sleep(0.05)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        with open(path) as f:
            return [l for l in f.read().splitlines() if l]

    def test_under_journald_no_timestamps_and_syslog_priorities(self):
        lines = self.run_with_stderr_in(self.path("journal.log"), lambda st: f"{st.st_dev}:{st.st_ino}")
        self.assertIn("<6>info app: ready", lines)
        for line in lines:
            self.assertRegex(line, r"^<[0-7]>(trace|debug|info|warning|error|critical) [a-z_]+: ")
            self.assertIsNone(TIMESTAMP.match(line), line)

    def test_journal_stream_of_another_stream_keeps_timestamps(self):
        # Inherited from a systemd service but redirected: not the journal.
        lines = self.run_with_stderr_in(self.path("other.log"), lambda st: f"{st.st_dev}:{st.st_ino + 1}")
        self.assertTrue(any(l.endswith("info app: ready") for l in lines), lines)
        for line in lines:
            self.assertRegex(line, TIMESTAMP, line)


if __name__ == "__main__":
    unittest.main()
