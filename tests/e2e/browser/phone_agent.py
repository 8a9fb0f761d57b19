"""A softphone for the browser tests, driven over stdin/stdout: baresip
(tests/integration/baresip.py) run inside a site's network namespace, where
the test's own process cannot reach baresip's control port. Started as
`ip netns exec NS python3 phone_agent.py AOR PASSWORD [SERVER]`; reads one
JSON command per line and answers one JSON line each:

  {"do": "registered"}             -> {"ok": true, "reginfo": "..."}
  {"do": "dial", "uri": "sip:..."} -> {"ok": true}
  {"do": "wait", "event": "CALL_INCOMING", "timeout": 30} -> {"ok": true, "event": {...}}
  {"do": "accept"} / {"do": "hangup"} -> {"ok": true}
  {"do": "quit"}                   -> {"ok": true}, then exits

A failed command answers {"ok": false, "error": "..."} (the phone's log
included) and the agent carries on. Every wait is bounded.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from baresip import Baresip  # noqa: E402


def main():
    aor, password = sys.argv[1], sys.argv[2]
    server = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1:5060"
    # The account line as a user writes it for a site with default ports.
    account = f'<sip:{aor}>;auth_pass="{password}";outbound="sip:{server};transport=udp";regint=300'
    phone = Baresip(aor, password, 5060, account=account)
    try:
        for line in sys.stdin:
            cmd = json.loads(line)
            answer = {"ok": True}
            try:
                what = cmd["do"]
                if what == "registered":
                    answer["reginfo"] = phone.wait_registered(timeout=cmd.get("timeout", 20))
                elif what == "dial":
                    phone.command("dial", cmd["uri"])
                elif what == "wait":
                    answer["event"] = phone.wait_event(cmd["event"], timeout=cmd.get("timeout", 30))
                elif what in ("accept", "hangup"):
                    phone.command(what)
                elif what == "quit":
                    print(json.dumps(answer), flush=True)
                    return
                else:
                    raise ValueError(f"unknown command {what!r}")
            except (AssertionError, KeyError, ValueError, OSError) as e:
                answer = {"ok": False, "error": f"{e}"[-4000:]}
            print(json.dumps(answer), flush=True)
    finally:
        phone.close()


if __name__ == "__main__":
    main()
