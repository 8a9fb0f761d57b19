"""The site's network settings through the console's API against the real
daemon (issue 15 item 3): what is shown is what the daemon uses, a change
is stored for the next start with its audit record, bad values and keys the
configuration file sets are refused with a JSON error, and after a restart
the daemon runs with the stored value."""
import unittest

from console_api_test import ConsoleCase
from harness import Daemon

PATH = "/api/v1/settings/network"


class ConsoleNetworkTest(ConsoleCase):
    def setUp(self):
        super().setUp()
        self.start_site()

    def items(self, view):
        return {i["key"]: i for i in view["items"]}

    def test_a_stored_change_applies_at_the_next_start_and_file_keys_stay_the_files(self):
        c = self.change_password()
        r = c.get(PATH)
        self.assertEqual(r.status, 200, r)
        view = self.items(r.json())
        self.assertEqual(sorted(view), sorted(["site.public_address", "sip.udp", "sip.tcp", "sip.tls",
                                               "federation.listen", "media.ports", "sip.aliases"]))
        # The test's configuration file sets the listeners: shown, not editable.
        self.assertEqual(view["sip.udp"]["source"], "file")
        self.assertFalse(view["sip.udp"]["editable"])
        self.assertEqual(view["sip.udp"]["running"], ["127.0.0.1:0"])
        # Not in the file: the default, editable, and the daemon's own value.
        self.assertEqual(view["media.ports"]["source"], "default")
        self.assertTrue(view["media.ports"]["editable"])
        self.assertEqual(view["media.ports"]["running"], ["40000-40999"])
        self.assertEqual(view["media.ports"]["value"], ["40000-40999"])
        self.assertIn("media relay ports 40000-40999", self.daemon.output())
        self.assertFalse(r.json()["restart_needed"])

        # Refusals, each a JSON error, and nothing stored.
        r = c.request("PUT", PATH, {"media.ports": "40001-40999"})
        self.assertEqual((r.status, r.code()), (400, "invalid_field"), r)
        self.assertIn("media.ports", r.json()["error"]["message"])
        r = c.request("PUT", PATH, {"sip.aliases": "pbx.alpha.example"})
        self.assertEqual((r.status, r.code()), (400, "invalid_field"), r)
        r = c.request("PUT", PATH, {"sip.udp": ["0.0.0.0:5060"]})
        self.assertEqual((r.status, r.code()), (409, "set_in_config_file"), r)
        r = c.request("PUT", PATH, {"admin.listen": "0.0.0.0:8443"})
        self.assertEqual((r.status, r.code()), (400, "unknown_field"), r)
        self.assertEqual(self.items(c.get(PATH).json())["media.ports"]["source"], "default")

        r = c.request("PUT", PATH, {"media.ports": "41000-41099", "sip.aliases": ["pbx.alpha.example", "[2001:db8::5]"]})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["restart_needed"])
        view = self.items(r.json())
        self.assertEqual(view["media.ports"]["value"], ["41000-41099"])
        self.assertEqual(view["media.ports"]["running"], ["40000-40999"])
        self.assertEqual(view["media.ports"]["source"], "stored")
        self.assertTrue(view["media.ports"]["restart_needed"])
        self.assertEqual(view["sip.aliases"]["value"], ["pbx.alpha.example", "2001:db8::5"])
        audit = c.get("/api/v1/audit?limit=1").json()["items"][0]
        self.assertEqual(audit["action"], "settings.change")
        self.assertEqual(audit["detail"], "media.ports=41000-41099 sip.aliases=pbx.alpha.example 2001:db8::5")

        # The next start uses the stored values; nothing is pending then.
        c.close()
        self.assertEqual(self.daemon.stop(), 0)
        self.daemon = Daemon(["--state-dir", self.path("site")])
        self.addCleanup(self.daemon.kill)
        self.port = self.daemon.admin_port()
        self.assertIn("media relay ports 41000-41099", self.daemon.output())
        c = self.console()
        from console_api_test import NEW_PASSWORD
        self.assertEqual(c.login(NEW_PASSWORD).status, 200)
        r = c.get(PATH)
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json()["restart_needed"])
        view = self.items(r.json())
        self.assertEqual(view["media.ports"]["running"], ["41000-41099"])
        self.assertEqual(view["sip.aliases"]["running"], ["pbx.alpha.example", "2001:db8::5"])

        # null: back to the default, again at the next start.
        r = c.request("PUT", PATH, {"media.ports": None})
        self.assertEqual(r.status, 200, r)
        view = self.items(r.json())
        self.assertEqual(view["media.ports"]["value"], ["40000-40999"])
        self.assertEqual(view["media.ports"]["source"], "default")
        self.assertTrue(view["media.ports"]["restart_needed"])


if __name__ == "__main__":
    unittest.main()
