"""sipsite user add | del | list, and what the database keeps of users."""
import json
import os
import subprocess
import unittest

from harness import SiteTestCase, sqlcipher_query


class UserTest(SiteTestCase):
    def setUp(self):
        super().setUp()
        self.init_site()

    def add(self, aor, password="s3cret-password"):
        return self.sipsite("user", "add", "--aor", aor, "--password-stdin", stdin=password + "\n")

    def test_add_list_delete_round_trip(self):
        self.assertOk(self.add("bob@alpha.example"))
        self.assertOk(self.add("sip:alice@alpha.example"))
        self.assertEqual(self.sipsite("user", "list").out, "alice@alpha.example\nbob@alpha.example\n")
        listed = json.loads(self.sipsite("user", "list", "--json").out)
        self.assertEqual([u["aor"] for u in listed], ["alice@alpha.example", "bob@alpha.example"])
        self.assertEqual(sorted(listed[0].keys()), ["aor", "created_at", "domain", "username"])
        self.assertRegex(listed[0]["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertOk(self.sipsite("user", "del", "--aor", "alice@alpha.example"))
        self.assertEqual(self.sipsite("user", "list").out, "bob@alpha.example\n")

    def test_json_output_is_stable(self):
        self.assertOk(self.add("alice@alpha.example"))
        first = self.sipsite("user", "list", "--json").out
        self.assertEqual(first, self.sipsite("user", "list", "--json").out)
        self.assertEqual(json.loads(self.sipsite("user", "list", "--json").out), json.loads(first))

    def test_only_digest_ha1_is_stored(self):
        self.assertOk(self.add("alice@alpha.example", "correct-horse"))
        with open(self.path("site", "db.key")) as f:
            key = f.read().strip()
        r = sqlcipher_query(self.path("site", "sipsite.db"), key,
                            "SELECT username, realm, ha1_md5, ha1_sha256 FROM users;")
        self.assertEqual(r.returncode, 0, r.stderr)
        username, realm, md5, sha256 = r.stdout.strip().split("|")
        import hashlib
        a1 = b"alice:alpha.example:correct-horse"
        self.assertEqual((username, realm), ("alice", "alpha.example"))
        self.assertEqual(md5, hashlib.md5(a1).hexdigest())
        self.assertEqual(sha256, hashlib.sha256(a1).hexdigest())
        dump = sqlcipher_query(self.path("site", "sipsite.db"), key, ".dump")
        self.assertNotIn("correct-horse", dump.stdout)

    def test_no_plaintext_aor_or_domain_in_the_file(self):
        self.assertOk(self.add("zebulon-unique@alpha.example"))
        data = self.db_bytes()
        self.assertGreater(len(data), 4096)
        self.assertNotIn(b"zebulon-unique", data)
        self.assertNotIn(b"alpha.example", data)
        self.assertNotIn(b"SQLite format 3", data)
        r = subprocess.run(["sqlite3", self.path("site", "sipsite.db"), "SELECT * FROM users;"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("file is not a database", r.stderr)

    def test_duplicate_user_fails_and_changes_nothing(self):
        self.assertOk(self.add("alice@alpha.example"))
        before = self.snapshot()
        self.assertFails(self.add("alice@alpha.example", "another-password"), 1, "already exists")
        self.assertEqual(self.snapshot(), before)

    def test_malformed_aors_are_usage_errors(self):
        before = self.snapshot()
        for aor in ("alice", "@alpha.example", "alice@", "a@b@alpha.example", "al ice@alpha.example",
                    "alice@bad_domain", "al%41ce@alpha.example", "x" * 65 + "@alpha.example", "alice@alpha.example;x"):
            self.assertFails(self.add(aor), 2, "--aor")
        self.assertEqual(self.snapshot(), before)

    def test_aor_must_belong_to_this_site(self):
        self.assertFails(self.add("alice@beta.example"), 2, "@alpha.example")
        self.assertEqual(self.sipsite("user", "list").out, "")

    def test_password_rules(self):
        self.assertFails(self.add("alice@alpha.example", "short"), 2, "8-256")
        self.assertFails(self.add("alice@alpha.example", ""), 2, "8-256")
        self.assertFails(self.add("alice@alpha.example", "x" * 257), 2, "8-256")
        self.assertFails(self.add("alice@alpha.example", "tab\there-pass"), 2, "control")
        r = self.sipsite("user", "add", "--aor", "alice@alpha.example", stdin="longenough\n")
        self.assertFails(r, 2, "--password-stdin")
        self.assertEqual(self.sipsite("user", "list").out, "")

    def test_password_never_on_stderr_or_stdout(self):
        r = self.add("alice@alpha.example", "unmistakable-pw")
        self.assertOk(r)
        self.assertNotIn("unmistakable-pw", r.out + r.err)

    def test_deleting_an_unknown_user_fails(self):
        self.assertFails(self.sipsite("user", "del", "--aor", "ghost@alpha.example"), 1, "no user")
        self.assertFails(self.sipsite("user", "del", "--aor", "not-an-aor"), 2)

    def ha1s(self):
        with open(self.path("site", "db.key")) as f:
            key = f.read().strip()
        r = sqlcipher_query(self.path("site", "sipsite.db"), key,
                            "SELECT username, ha1_md5, ha1_sha256 FROM users ORDER BY username;")
        self.assertEqual(r.returncode, 0, r.stderr)
        return [line.split("|") for line in r.stdout.split()]

    def audit_actions(self):
        with open(self.path("site", "db.key")) as f:
            key = f.read().strip()
        r = sqlcipher_query(self.path("site", "sipsite.db"), key, "SELECT actor, action, detail FROM audit_log ORDER BY id;")
        self.assertEqual(r.returncode, 0, r.stderr)
        return [line.split("|") for line in r.stdout.splitlines()]

    def passwd(self, aor, password="n3w-password", *extra):
        return self.sipsite("user", "passwd", "--aor", aor, "--password-stdin", *extra, stdin=password + "\n")

    def test_passwd_replaces_the_digests_and_keeps_the_user(self):
        import hashlib
        self.assertOk(self.add("alice@alpha.example", "correct-horse"))
        self.assertOk(self.add("bob@alpha.example"))
        created = json.loads(self.sipsite("user", "list", "--json").out)
        r = self.passwd("alice@alpha.example", "battery-staple")
        self.assertOk(r)
        self.assertIn("alice@alpha.example", r.err)
        self.assertNotIn("battery-staple", r.out + r.err)
        a1 = b"alice:alpha.example:battery-staple"
        alice = [row for row in self.ha1s() if row[0] == "alice"][0]
        self.assertEqual(alice[1:], [hashlib.md5(a1).hexdigest(), hashlib.sha256(a1).hexdigest()])
        self.assertEqual(json.loads(self.sipsite("user", "list", "--json").out), created)
        actor, action, detail = self.audit_actions()[-1]
        self.assertTrue(actor.startswith("cli:"))
        self.assertEqual((action, detail), ("user.password_change", "alice@alpha.example"))

    def test_passwd_errors_are_usage_or_runtime_and_change_nothing(self):
        self.assertOk(self.add("alice@alpha.example"))
        before = self.snapshot()
        self.assertFails(self.passwd("ghost@alpha.example"), 1, "no user ghost@alpha.example")
        self.assertFails(self.passwd("alice@alpha.example", "short"), 2, "8-256", "stdin")
        self.assertFails(self.passwd("alice@beta.example"), 2, "--aor", "@alpha.example")
        self.assertFails(self.passwd("not-an-aor"), 2, "--aor")
        r = self.sipsite("user", "passwd", "--aor", "alice@alpha.example", stdin="long-enough\n")
        self.assertFails(r, 2, "--password-stdin")
        self.assertFails(self.sipsite("user", "passwd", "--password-stdin", stdin="long-enough\n"), 2, "--aor")
        self.assertEqual(self.snapshot(), before)


if __name__ == "__main__":
    unittest.main()
