"""REGISTER brute force against the real daemon with SIPVicious from Debian
(svwar: extension enumeration; svcrack: password guessing), on 127.0.0.1.
Existing and non-existing users get the same answers, so svwar cannot tell
them apart; failed guesses are throttled (per source address: 20 a minute,
per user name: 10 a minute, then 403 with Retry-After for 5 minutes), so
svcrack does not find a password that is in its dictionary past the limit.
A phone from another source registers throughout."""
import os
import re
import shutil
import socket
import subprocess
import unittest

from hostile_common import HostileTestCase
from sip_client import digest_params, header

TOOL_TIMEOUT = 90


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@unittest.skipUnless(shutil.which("svwar") and shutil.which("svcrack"),
                     "cannot run here: sipvicious (svwar, svcrack) not installed: deploy/install-deps.sh installs it")
class BruteForceTest(HostileTestCase):
    def sipvicious(self, tool, *args, port=None):
        """Runs svwar or svcrack against the daemon (or `port`); its output.
        The tool must end by itself, with exit code 0."""
        home = self.path("home")  # svwar/svcrack keep session files under ~/.sipvicious
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ, HOME=home)
        proc = subprocess.run([tool, "-b", "127.0.0.1", "-P", str(free_udp_port()), "-p",
                               str(port or self.ports["udp"]), "--domain", "alpha.example", "--maximumtime", "10",
                               *args, "127.0.0.1"],
                              capture_output=True, text=True, timeout=TOOL_TIMEOUT, env=env)
        out = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, f"{tool} failed:\n{out}")
        return out

    def answer_shape(self, user):
        """What an unauthenticated REGISTER for `user` gets: status and the
        challenge's parameter names (nonces differ by design)."""
        status, headers, _ = self.client(user=user).request("REGISTER", extra="Expires: 60\r\n")
        challenges = header(headers, "www-authenticate")
        return status, sorted(n for n, _ in headers if n not in ("via", "from", "to", "call-id", "cseq")), \
            [sorted(digest_params(c).keys()) for c in challenges]

    def test_svwar_cannot_enumerate_users(self):
        names = ["alice", "bob", "nobody", "carol", "admin", "100", "1000"]
        dictionary = self.write("users.txt", "\n".join(names) + "\n")
        self.assertEqual(self.answer_shape("alice"), self.answer_shape("nobody"))
        # Control: against a port where nothing answers, svwar says so.
        silent = self.sipvicious("svwar", "--force", "-d", dictionary, port=free_udp_port())
        self.assertNotIn("SIP/2.0", silent)
        out = self.sipvicious("svwar", "--force", "-d", dictionary)
        # It reached the daemon: it quotes the daemon's challenge (to a name
        # it made up: the answer a real user gets too).
        self.assertRegex(out, r'SIP/2\.0 401 Unauthorized.*realm="alpha\.example"', out)
        rows = dict(re.findall(r"\|\s*([^|\s]+)\s*\|\s*([^|]+?)\s*\|", out))
        rows.pop("Extension", None)
        found = {n: rows[n] for n in names if n in rows}
        # Either svwar found nothing, or it reports every name the same way:
        # it cannot tell alice and bob from names that do not exist.
        self.assertTrue(not found or len(set(found.values())) == 1 and set(found) == set(names),
                        f"svwar tells users apart:\n{out}")
        self.assert_legitimate_register("udp", source="127.0.0.2")
        self.assert_alive()

    def test_svcrack_is_throttled_and_does_not_find_the_password(self):
        # Control: svcrack does crack bob when his password is its first guess.
        control = self.sipvicious("svcrack", "-u", "bob", "-d", self.write("one.txt", "bob-password\n"))
        self.assertIn("bob-password", control, f"svcrack cannot talk to the daemon at all:\n{control}")

        guesses = [f"guess{i:03d}" for i in range(40)] + ["alice-password"] + [f"late{i}" for i in range(10)]
        out = self.sipvicious("svcrack", "-u", "alice", "-d", self.write("passwords.txt", "\n".join(guesses) + "\n"))
        self.assertNotIn("alice-password", out, f"svcrack found the password despite the limits:\n{out}")
        # Throttled per user: alice is refused even from another address
        # with her right password, for a while (403 with Retry-After).
        status, headers, _ = self.client(user="alice", source="127.0.0.2").register(expires=60)
        self.assertEqual(status, 403)
        self.assertTrue(header(headers, "retry-after"))

        # More guessing from the same address, at other names (existing or
        # not): past 20 failures a minute the address itself is refused.
        statuses = []
        for i in range(25):
            user = ("nobody", "carol", "dave")[i % 3]
            statuses.append(self.client(user=user, password=f"w{i}").register(expires=60)[0])
        self.assertEqual(statuses[-1], 403, statuses)
        status, headers, _ = self.client(user="bob").register(expires=60)
        self.assertEqual(status, 403)
        self.assertTrue(header(headers, "retry-after"))
        # Other phones on other addresses are not.
        self.assert_legitimate_register("udp", user="bob", source="127.0.0.2")
        self.assert_legitimate_register("tcp", user="bob", source="127.0.0.2")
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
