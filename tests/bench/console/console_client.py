#!/usr/bin/env python3
"""The site console's API, for benchmarks (not a test: nothing asserted).

    console_client.py PORT PASSWORD since_start
        prints GET /api/v1/peers/pending's since_start (JSON)
    console_client.py PORT PASSWORD revoke FILE
        revokes each fingerprint of FILE (one a line), one request and one
        commit each, in order; prints how many were revoked and when the
        first request left, in ms from the start (first_request_ms=)
    console_client.py PORT PASSWORD churn FILE
        revokes each fingerprint of FILE, then trusts each again: two trust
        changes a peer, one request and one commit each; prints how many
        succeeded

PASSWORD is the one-time admin password from `sipsite init`: the first
call changes it to NEW_PASSWORD (as the console asks), later calls log in
with that.
"""
import http.client
import json
import ssl
import sys
import time
import urllib.parse

STARTED = time.monotonic()

NEW_PASSWORD = "bench-admin-password-1"


class Console:
    def __init__(self, port):
        self.connection = http.client.HTTPSConnection("127.0.0.1", port, context=ssl._create_unverified_context(),
                                                      timeout=30)
        self.headers = {"Content-Type": "application/json"}

    def call(self, method, path, body=None):
        self.connection.request(method, path, json.dumps(body) if body is not None else None, self.headers)
        r = self.connection.getresponse()
        return r, r.read()

    def login(self, one_time_password):
        for password in (NEW_PASSWORD, one_time_password):
            r, body = self.call("POST", "/api/v1/session", {"username": "admin", "password": password})
            if r.status == 200:
                self.headers["Cookie"] = r.getheader("Set-Cookie").split(";")[0]
                self.headers["X-CSRF-Token"] = json.loads(body)["csrf_token"]
                if password != NEW_PASSWORD:
                    self.call("PUT", "/api/v1/session/password", {"current": password, "new": NEW_PASSWORD})
                return
        sys.exit(f"console_client: cannot log in ({r.status})")


def main():
    if len(sys.argv) < 4 or sys.argv[3] not in ("since_start", "revoke", "churn"):
        sys.exit(__doc__)
    console = Console(int(sys.argv[1]))
    console.login(sys.argv[2])
    if sys.argv[3] == "since_start":
        r, body = console.call("GET", "/api/v1/peers/pending?limit=1")
        print(json.dumps(json.loads(body)["since_start"]))
        return
    with open(sys.argv[4]) as f:
        fingerprints = [line.strip() for line in f if line.strip()]
    actions = ["revoke"] if sys.argv[3] == "revoke" else ["revoke", "trust"]
    done = 0
    first_request_ms = None
    for action in actions:
        for fp in fingerprints:
            # Trusting restates the fingerprint, as the admin does once it is verified.
            body = {"confirm_fingerprint": fp} if action == "trust" else None
            if first_request_ms is None:
                first_request_ms = (time.monotonic() - STARTED) * 1000
            r, _ = console.call("POST", f"/api/v1/peers/{urllib.parse.quote(fp)}/{action}", body)
            done += r.status == 200
    print(f"revoked {done} first_request_ms={first_request_ms or 0:.0f}" if sys.argv[3] == "revoke"
          else f"changed {done}")


if __name__ == "__main__":
    main()
