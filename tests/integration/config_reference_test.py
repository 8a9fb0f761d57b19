"""docs/CONFIG.md cannot drift from the daemon's own table of keys, and the
example configuration uses only keys the daemon knows."""
import os
import re
import unittest

from harness import SOURCE_DIR, run


class ConfigReferenceTest(unittest.TestCase):
    def test_docs_match_the_code(self):
        r = run("config-reference")
        self.assertEqual(r.code, 0, r)
        with open(os.path.join(SOURCE_DIR, "docs", "CONFIG.md")) as f:
            self.assertEqual(f.read(), r.out,
                             "docs/CONFIG.md is stale: regenerate with 'sipsite config-reference > docs/CONFIG.md'")

    def test_example_config_mentions_every_key(self):
        reference = run("config-reference").out
        keys = re.findall(r"^\| `([a-z_.]+)` \|", reference, re.M)
        self.assertGreater(len(keys), 5)
        with open(os.path.join(SOURCE_DIR, "deploy", "sipsite.toml")) as f:
            example = f.read()
        section = None
        seen = set()
        for line in example.splitlines():
            line = line.lstrip("# ").rstrip()
            m = re.match(r"^\[([a-z_]+)\]$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^([a-z_]+) = ", line)
            if m and section:
                seen.add(f"{section}.{m.group(1)}")
        self.assertEqual(sorted(seen), sorted(keys))


if __name__ == "__main__":
    unittest.main()
