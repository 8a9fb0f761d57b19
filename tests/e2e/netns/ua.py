"""A phone inside a LAN namespace: the scripted UA of
tests/integration/federation_calls_test.py (class Phone), bound to the
phone's own address instead of loopback.

    ua.py answer --ip IP --site IP --user bob --domain beta.example --password PW --rtp-port N
    ua.py call   --ip IP --site IP --user alice --domain alpha.example --password PW --rtp-port N --to bob@beta.example

Prints one JSON object per line on stdout: {"event": "registered"} once
registered, then {"event": "done", ...} with what the phone saw (the SDP it
received, RTP packets sent and received with the other side's marker, the
CNAMEs of the RTCP it received), or
{"event": "error", "error": ...}. Every wait is bounded.
"""
import argparse
import json
import os
import secrets
import socket
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from federation_calls_test import Phone, media_port, uri_of  # noqa: E402
from sip_client import header  # noqa: E402

MARKER = {"alice": b"RTP-MARKER-FROM-ALICE", "bob": b"RTP-MARKER-FROM-BOB"}
RTP_SECONDS = 8
ENOUGH = 10  # packets of the other side before a phone stops waiting


def emit(**fields):
    print(json.dumps(fields), flush=True)


class NetPhone(Phone):
    """Phone on a real LAN address: binds to `ip`, sends to the site's SIP
    listener at `site_ip`:5060. Phone writes its own address in Via and
    Contact as 127.0.0.1; send_raw replaces it with the phone's address
    (headers only: bodies built here already carry the real address)."""

    def __init__(self, ip, site_ip, user, domain, password):
        self.ip = ip
        self.site = (site_ip, 5060)
        self.protocol = "udp"
        self.port = 5060
        self.user, self.domain, self.password = user, domain, password
        self.cseq = 0
        self.call_id = secrets.token_hex(8)
        self.tag = secrets.token_hex(4)
        self.buffer = b""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 5060))
        self.sock.settimeout(10)
        self.local_port = 5060

    def send_raw(self, data):
        if isinstance(data, bytes):
            data = data.decode()
        head, sep, body = data.partition("\r\n\r\n")
        self.sock.sendto((head.replace("127.0.0.1", self.ip) + sep + body).encode(), self.site)


def sdp(user, ip, port):
    return (f"v=0\r\no={user} 4242 1 IN IP4 {ip}\r\ns=call\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")


def connection_address(body):
    for line in body.splitlines():
        if line.startswith("c=IN IP4 "):
            return line.split()[2]
    raise AssertionError(f"no c= line in SDP:\n{body}")


def rtcp_with_cname(cname):
    """A compound RTCP packet as phones send it: an empty receiver report and
    an SDES chunk whose CNAME names the user and the private address."""
    rr = bytes([0x80, 201, 0, 1]) + b"SSRC"
    item = bytes([1, len(cname)]) + cname.encode() + b"\0"
    chunk = b"SSRC" + item + b"\0" * (-len(item) % 4)
    return rr + bytes([0x81, 202, 0, len(chunk) // 4]) + chunk


def sdes_cnames(packet):
    """The CNAMEs in a compound RTCP packet's SDES chunks ([] if none)."""
    names, at = [], 0
    while at + 4 <= len(packet):
        length = (int.from_bytes(packet[at + 2:at + 4], "big") + 1) * 4
        if packet[at + 1] == 202:
            pos = at + 8
            while pos + 2 <= at + length and packet[pos] != 0:
                if packet[pos] == 1:
                    names.append(packet[pos + 2:pos + 2 + packet[pos + 1]].decode(errors="replace"))
                pos += 2 + packet[pos + 1]
        at += length
    return names


def exchange_rtp(sock, to, mine, theirs, rtcp=None, cname=""):
    """Sends 20 ms RTP packets carrying `mine` to `to` and counts packets
    carrying `theirs`; stops one second after ENOUGH arrived, or after
    RTP_SECONDS. With an `rtcp` socket, also sends RTCP with `cname` to the
    RTCP port next to `to` every half second and notes the CNAMEs received."""
    sent = received = 0
    sources = set()
    cnames = set()
    now = time.monotonic()
    deadline = now + RTP_SECONDS
    stop_at = None
    next_send = now
    while now < deadline and (stop_at is None or now < stop_at):
        if now >= next_send:
            packet = bytes([0x80, 0x00]) + (sent & 0xFFFF).to_bytes(2, "big") + (sent * 160).to_bytes(4, "big") \
                + b"SSRC" + mine
            sock.sendto(packet, to)
            if rtcp is not None and sent % 25 == 0:
                rtcp.sendto(rtcp_with_cname(cname), (to[0], to[1] + 1))
            sent += 1
            next_send += 0.02
        if rtcp is not None:
            try:
                while True:
                    cnames.update(sdes_cnames(rtcp.recv(2048)))
            except (BlockingIOError, socket.timeout):
                pass
        sock.settimeout(max(0.001, next_send - time.monotonic()))
        try:
            data, src = sock.recvfrom(2048)
            if data.endswith(theirs):
                received += 1
                sources.add(f"{src[0]}:{src[1]}")
                if received >= ENOUGH and stop_at is None:
                    stop_at = time.monotonic() + 1
        except socket.timeout:
            pass
        now = time.monotonic()
    return {"rtp_sent": sent, "rtp_received": received, "rtp_sources": sorted(sources), "rtcp_cnames": sorted(cnames)}


def answer(a, phone, rtp):
    _, inv_h, inv_body, inv_raw = phone.expect("INVITE", timeout=30)
    phone.respond(inv_raw, 180, "Ringing", to_tag="bobtag")
    phone.respond(inv_raw, 200, "OK", to_tag="bobtag", extra="Content-Type: application/sdp\r\n",
                  body=sdp(a.user, a.ip, a.rtp_port))
    phone.expect("ACK", timeout=10)
    to = (connection_address(inv_body), media_port(inv_body))
    result = exchange_rtp(rtp, to, MARKER["bob"], MARKER["alice"], a.rtcp, f"{a.user}@{a.ip}")
    _, _, _, bye_raw = phone.expect("BYE", timeout=15)
    phone.respond(bye_raw, 200, "OK", contact=False)
    return dict(result, received_raw=inv_raw, received_sdp=inv_body, relay=f"{to[0]}:{to[1]}")


def call(a, phone, rtp):
    call_id = "netns-" + secrets.token_hex(4) + "@" + a.ip
    target = f"sip:{a.to}"
    phone.authenticated("INVITE", target, f"<{target}>", call_id, "alicetag",
                        extra=f"Contact: <sip:{a.user}@{a.ip}:5060>\r\nContent-Type: application/sdp\r\n",
                        body=sdp(a.user, a.ip, a.rtp_port))
    _, ok_h, ok_body, ok_raw = phone.expect("200", timeout=20, skip=("100", "180", "183"))
    routes = ", ".join(reversed(header(ok_h, "record-route")))
    to_hdr = header(ok_h, "to")[0]
    phone.send_request("ACK", uri_of(header(ok_h, "contact")[0]), to_hdr, call_id, 2, "alicetag",
                       extra=f"Route: {routes}\r\n" if routes else "")
    to = (connection_address(ok_body), media_port(ok_body))
    result = exchange_rtp(rtp, to, MARKER["alice"], MARKER["bob"], a.rtcp, f"{a.user}@{a.ip}")
    phone.send_request("BYE", uri_of(header(ok_h, "contact")[0]), to_hdr, call_id, 3, "alicetag",
                       extra=f"Route: {routes}\r\n" if routes else "")
    phone.expect("200", timeout=15)
    return dict(result, received_raw=ok_raw, received_sdp=ok_body, relay=f"{to[0]}:{to[1]}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=("call", "answer"))
    for name in ("--ip", "--site", "--user", "--domain", "--password"):
        p.add_argument(name, required=True)
    p.add_argument("--rtp-port", type=int, required=True)
    p.add_argument("--to")
    a = p.parse_args()
    phone = NetPhone(a.ip, a.site, a.user, a.domain, a.password)
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind((a.ip, a.rtp_port))
    a.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.rtcp.bind((a.ip, a.rtp_port + 1))
    a.rtcp.setblocking(False)
    try:
        status, _, _ = phone.register()
        if status != 200:
            emit(event="error", error=f"REGISTER answered {status}")
            return 1
        emit(event="registered")
        result = answer(a, phone, rtp) if a.role == "answer" else call(a, phone, rtp)
        emit(event="done", **result)
        return 0
    except Exception as e:  # reported to the test, which fails with it
        emit(event="error", error=f"{type(e).__name__}: {e}", trace=traceback.format_exc())
        return 1
    finally:
        rtp.close()
        a.rtcp.close()
        phone.close()


if __name__ == "__main__":
    sys.exit(main())
