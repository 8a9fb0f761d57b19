"""A real softphone for tests: baresip (Debian's baresip-core) run headless.

Audio comes from the `ausine` module and goes to /dev/null through `aufile`;
the phone is driven over `ctrl_tcp` (netstring-framed JSON commands, events
pushed back the same way). Every wait is bounded.
"""
import json
import re
import os
import shutil
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Baresip:
    def __init__(self, aor, password, server_port, transport="udp", rtp_ports=(42000, 42099), account=None,
                 mediaenc=None):
        """`account`: the line for baresip's accounts file, as a user would
        write it; by default one made of `aor`, `password` and the site's
        127.0.0.1:`server_port` as outbound proxy. `mediaenc`: the account's
        media encryption ("srtp", "srtp-mand", "dtls_srtp", ...)."""
        self.aor = aor
        self.dir = tempfile.mkdtemp(prefix="sipsite-baresip-")
        self.ctrl_port = free_port()
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(f"""poll_method epoll
sip_listen 127.0.0.1:0
sip_trans_def {transport}
sip_verify_server no
audio_player aufile,/dev/null
audio_source ausine,440
audio_alert aufile,/dev/null
module_path /usr/lib/baresip/modules
module opus.so
module g711.so
module ausine.so
module aufile.so
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}
rtp_ports {rtp_ports[0]}-{rtp_ports[1]}
""")
        if account is None:
            outbound = f"sip:127.0.0.1:{server_port};transport={transport}"
            account = f'<sip:{aor}>;auth_pass={password};outbound="{outbound}";regint=300'
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(account + "\n")
        self.log = open(os.path.join(self.dir, "baresip.log"), "w")
        if mediaenc:  # the account's media encryption: "srtp", "srtp-mand", "dtls_srtp", ...
            self._use_mediaenc(mediaenc)
        self.proc = subprocess.Popen(["baresip", "-f", self.dir], stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.events = []
        self.buffer = b""
        self.sock = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                break
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        if self.sock is None:
            self.close()
            raise RuntimeError(f"baresip did not start: {self.output()}")
        self.sock.settimeout(0.2)

    def _use_mediaenc(self, mediaenc):
        """Loads baresip's SRTP modules and adds `;mediaenc=` to the account."""
        with open(os.path.join(self.dir, "config"), "a") as f:
            f.write("module srtp.so\nmodule dtls_srtp.so\n")
        path = os.path.join(self.dir, "accounts")
        with open(path) as f:
            account = f.read().rstrip("\n")
        with open(path, "w") as f:
            f.write(f"{account};mediaenc={mediaenc}\n")

    def output(self):
        self.log.flush()
        with open(os.path.join(self.dir, "baresip.log")) as f:
            return f.read()

    def _pump(self):
        try:
            data = self.sock.recv(65536)
            if data:
                self.buffer += data
        except socket.timeout:
            pass
        while b":" in self.buffer:
            length, _, rest = self.buffer.partition(b":")
            n = int(length)
            if len(rest) < n + 1:
                break
            self.events.append(json.loads(rest[:n]))
            self.buffer = rest[n + 1:]

    def command(self, name, params=""):
        body = json.dumps({"command": name, "params": params, "token": str(time.monotonic_ns())}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")

    def wait_event(self, event_type, timeout=20):
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            self._pump()
            for i in range(seen, len(self.events)):
                e = self.events[i]
                if e.get("event") and e.get("type") == event_type:
                    del self.events[: i + 1]
                    return e
            seen = len(self.events)
        raise AssertionError(f"{self.aor}: no {event_type} within {timeout}s; events {self.events}\n{self.output()}")

    def wait_registered(self, timeout=20):
        """Polls `reginfo` (registration may finish before the control
        connection exists, so its event can be missed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.command("reginfo")
            end = time.monotonic() + 1
            while time.monotonic() < end:
                self._pump()
                for i, e in enumerate(self.events):
                    if e.get("response"):
                        del self.events[i]
                        text = re.sub(r"\x1b\[[0-9;]*m", "", e.get("data", ""))
                        if re.search(r"\bOK\b", text):
                            return text
                        break
                else:
                    continue
                break
            time.sleep(0.2)
        raise AssertionError(f"{self.aor}: not registered within {timeout}s\n{self.output()}")

    def close(self):
        if self.sock:
            try:
                self.command("quit")
            except OSError:
                pass
            self.sock.close()
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
