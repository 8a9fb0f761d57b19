#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/<target>/ (checked in).

Seeds come from the unit tests' inputs and, for SIP, the RFC 4475 torture
messages in ../shared/data/rfc4475/. Certificates are made with the openssl
command. Run from anywhere; existing seeds of the same name are replaced,
others (regression inputs found by fuzzing) are left alone.

    tests/fuzz/make_seeds.py [TARGET...]
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
RFC4475 = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "rfc4475"))


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def sip_request(method, uri="sip:bob@site.example", frm="alice", to="<sip:bob@site.example>",
                branch="z9hG4bK1", call_id="c1", cseq=1, auth="alice", extra="", transport="UDP",
                host="10.0.0.2"):
    t = f"{method} {uri} SIP/2.0\r\n"
    t += f"Via: SIP/2.0/{transport} {host};branch={branch};rport\r\n"
    t += "Max-Forwards: 70\r\n"
    t += f"From: <sip:{frm}@site.example>;tag={frm}tag\r\n"
    t += f"To: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
    if method == "INVITE":
        t += f"Contact: <sip:{frm}@{host}>\r\n"
    if auth:
        t += f"Proxy-Authorization: Fake user={auth}\r\n"
    body = ""
    if method in ("INVITE", "MESSAGE"):
        body = "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n" \
            if method == "INVITE" else "hello"
        t += ("Content-Type: application/sdp\r\n" if method == "INVITE" else "Content-Type: text/plain\r\n")
    t += extra
    t += f"Content-Length: {len(body)}\r\n\r\n{body}"
    return t


def response(code, reason, method="INVITE", to_tag=";tag=bobtag", branch="z9hG4bK1", cseq=1):
    return (f"SIP/2.0 {code} {reason}\r\n"
            f"Via: SIP/2.0/UDP 10.0.0.1;branch={branch}\r\n"
            "From: <sip:alice@site.example>;tag=alicetag\r\n"
            f"To: <sip:bob@site.example>{to_tag}\r\n"
            f"Call-ID: c1\r\nCSeq: {cseq} {method}\r\nContact: <sip:bob@10.0.0.3>\r\n"
            "Content-Length: 0\r\n\r\n")


def sip_seeds():
    names = sorted(n for n in os.listdir(RFC4475) if n.endswith(".sip"))
    for i, n in enumerate(names):
        with open(os.path.join(RFC4475, n), "rb") as f:
            msg = f.read()
        # sip_message_fuzz: first byte = stream chunk size seed.
        put("sip_message_fuzz", "rfc4475-" + n, bytes([i * 7 % 256]) + msg)
        # core_fuzz: one message from phone 0 (UDP).
        put("core_fuzz", "rfc4475-" + n, b"\x00" + msg)
    mine = {
        "register": sip_request("REGISTER", uri="sip:site.example", to="<sip:alice@site.example>",
                                extra="Contact: <sip:alice@10.0.0.2>;expires=60\r\nExpires: 60\r\n"),
        "invite": sip_request("INVITE"),
        "message": sip_request("MESSAGE"),
        "options": sip_request("OPTIONS", auth=""),
        "ok": response(200, "OK"),
        "ringing": response(180, "Ringing"),
        "pipelined": sip_request("OPTIONS", auth="") + "\r\n\r\n" + sip_request("BYE", to="<sip:bob@site.example>;tag=x"),
        "ping": "\r\n\r\n",
    }
    for n, m in mine.items():
        put("sip_message_fuzz", n, b"\x05" + m.encode())
        put("sip_message_fuzz", n + "-bytewise", b"\x00" + m.encode())

    # core_fuzz: "\n--\n"-separated messages; control byte: source (low 2
    # bits), time step (bits 2-4), send failure (top 3 bits set).
    def seq(*parts):
        return b"\n--\n".join(bytes([c]) + m.encode() for c, m in parts)
    inv = sip_request("INVITE")
    put("core_fuzz", "call", seq(
        (0, inv),
        (1, response(180, "Ringing").replace("z9hG4bK1", "z9hG4bKproxy")),
        (1, response(200, "OK")),
        (0, sip_request("ACK", to="<sip:bob@site.example>;tag=bobtag", auth="")),
        (0, sip_request("BYE", to="<sip:bob@site.example>;tag=bobtag", branch="z9hG4bK2", cseq=2))))
    put("core_fuzz", "cancel", seq(
        (0, inv), (4, sip_request("CANCEL", auth="")), (8, response(487, "Request Terminated"))))
    put("core_fuzz", "tcp-invite", seq((2, sip_request("INVITE", transport="TCP", host="10.0.0.4"))))
    put("core_fuzz", "tls-message", seq((3, sip_request("MESSAGE", transport="TLS", host="[2001:db8::5]"))))
    put("core_fuzz", "unauthenticated", seq((0, sip_request("INVITE", auth="")), (0, sip_request("MESSAGE", auth="mallory"))))
    put("core_fuzz", "register", seq((0, mine["register"]), (0xE0, inv)))
    put("core_fuzz", "retransmit", seq((0, inv), (4, inv), (8, inv), (0x1C, inv)))
    put("core_fuzz", "options", seq((1, mine["options"])))


def digest_seeds():
    seeds = {
        "md5-qop": 'Digest username="alice", realm="alpha.example", nonce="abc", uri="sip:alpha.example", '
                   'response="6629fae49393a05397450978507c4ef1", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b", opaque="o"',
        "sha256": 'Digest username="alice", realm="alpha.example", nonce="abc", uri="sip:alpha.example", '
                  'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", algorithm=SHA-256, qop=auth, nc=00000002, cnonce="c"',
        "rfc2617": 'Digest username="Mufasa",\r\n realm="http-auth@example.org", uri="/dir/index.html", '
                   'algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, '
                   'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", '
                   'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
        "escaped": r'Digest username="a\"b\\c", realm="r", nonce="n", uri="u", response="x"',
        "sess": 'Digest username="a", realm="r", nonce="n", uri="u", response="x", algorithm=SHA-256-sess',
        "challenge": 'Digest realm="alpha.example", nonce="1234567890abcdef", opaque="xyz", algorithm=SHA-256, qop="auth", stale=TRUE',
        "challenge-md5": 'Digest realm="alpha.example", qop="auth,auth-int", nonce="n", algorithm=MD5',
        "dup": 'Digest username="a", USERNAME="b"',
        "empty": "Digest ,,, ",
        "basic": "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
    }
    for n, s in seeds.items():
        put("digest_fuzz", n, s)


FP = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"


def invite_seeds():
    seeds = {
        "invite": f"sipsite:invite?v=1&domain=alpha.example&address=203.0.113.7:5062&fp={FP}",
        "invite-v6": f"sipsite:invite?v=1&domain=alpha.example&address=[2001:db8::7]:5062&fp={FP}",
        "invite-name": f"sipsite:invite?v=1&domain=beta.example&address=h.example:5062&fp={FP}",
        "invite-order": f"sipsite:invite?fp={FP}&v=1&address=h.example:1&domain=x.y",
        "invite-bad-v6": f"sipsite:invite?v=1&domain=alpha.example&address=2001:db8::1:5062&fp={FP}",
        "invite-v2": f"sipsite:invite?v=2&domain=alpha.example&address=h.example:5062&fp={FP}",
        "invite-short": "sipsite:invite?v=1&domain",
        "hostport": "h.example:5062",
        "hostport-v6": "[::1]:0",
        "fingerprint": FP,
        "domain": "Alpha.Example",
    }
    for n, s in seeds.items():
        put("invite_fuzz", n, s)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def pem_seeds():
    with tempfile.TemporaryDirectory() as d:
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ec.key", "-out", "ec.pem", "-days", "3650", "-subj", "/CN=alpha.example",
                "-addext", "subjectAltName=DNS:alpha.example", "-addext", "basicConstraints=critical,CA:FALSE",
                "-addext", "extendedKeyUsage=serverAuth,clientAuth", cwd=d)
        openssl("req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", "rsa.key", "-out", "rsa.pem",
                "-days", "30", "-subj", "/CN=no_domain here", cwd=d)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ip.key", "-out", "ip.pem", "-days", "3650", "-subj", "/CN=beta.example",
                "-addext", "subjectAltName=IP:192.0.2.1,DNS:Beta.Example", cwd=d)
        files = {}
        for n in ("ec", "rsa", "ip"):
            with open(os.path.join(d, n + ".pem"), "rb") as f:
                files[n] = f.read()
            with open(os.path.join(d, n + ".key"), "rb") as f:
                files[n + "-key"] = f.read()
            openssl("x509", "-in", n + ".pem", "-outform", "DER", "-out", n + ".der", cwd=d)
            with open(os.path.join(d, n + ".der"), "rb") as f:
                files[n + "-der"] = f.read()
    for n in ("ec", "rsa", "ip"):
        put("pem_fuzz", n + ".pem", b"\x00" + files[n])
        put("pem_fuzz", n + ".der", b"\x01" + files[n + "-der"])
    put("pem_fuzz", "two-certs.pem", b"\x00" + files["ec"] + files["ip"])
    put("pem_fuzz", "cert-and-key.pem", b"\x00" + files["ec"] + files["ec-key"])
    put("pem_fuzz", "key-only.pem", b"\x00" + files["ec-key"])
    put("pem_fuzz", "crlf.pem", b"\x00" + files["ec"].replace(b"\n", b"\r\n"))


def config_seeds():
    seeds = {
        "design": '[site]\npublic_address = "203.0.113.7"\n[sip]\nudp = ["0.0.0.0:5060"]\ntcp = ["0.0.0.0:5060"]\n'
                  'tls = ["0.0.0.0:5061"]\n[federation]\nlisten = "0.0.0.0:5062"\n[admin]\nlisten = "127.0.0.1:8443"\n'
                  '[media]\nports = "40000-40999"\n',
        "loopback": '[sip]\nudp = ["127.0.0.1:0"]\ntcp = ["127.0.0.1:0"]\ntls = ["127.0.0.1:0"]\n'
                    '[federation]\nlisten = "127.0.0.1:0"\n[admin]\nlisten = "[::1]:0"\n',
        "digest": '[sip]\ndigest_algorithms = ["SHA-256", "MD5"]\naddress = "192.0.2.10"\n[log]\nlevel = "debug"\n',
        "nat": '[site]\npublic_address = "site.example:15062"\n',
        "off": '[sip]\nudp = []\ntcp = []\n',
        "bad-key": '[sip]\nnope = 1\n',
        "bad-type": '[media]\nports = 40000\n',
        "bad-toml": '[sip\nudp = [\n',
        "inline": 'sip = { udp = ["127.0.0.1:5060"] }\nlog.level = "warn"\n',
        "quoted-key": '[sip]\n"a b" = 1\n',
    }
    for n, s in seeds.items():
        put("config_fuzz", n, s)


def http(method, target, body=None, headers=()):
    t = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n"
    for h in headers:
        t += h + "\r\n"
    if body is not None:
        t += f"Content-Type: application/json\r\nContent-Length: {len(body.encode())}\r\n"
    t += "\r\n" + (body or "")
    return t


def api_seeds():
    with open(os.path.join(CORPUS, "pem_fuzz", "ec.pem"), "rb") as f:
        pem = f.read()[1:].decode()
    import json
    # First byte: 0 anonymous, 1 session + CSRF, 2 session without CSRF, 3 bearer token.
    seeds = [
        (0, "healthz", http("GET", "/healthz")),
        (0, "index", http("GET", "/")),
        (0, "openapi", http("GET", "/api/v1/openapi.json")),
        (0, "login-bad", http("POST", "/api/v1/session", '{"username":"admin","password":"wrong"}')),
        (0, "login-short", http("POST", "/api/v1/session", '{"username":"admin"}')),
        (1, "site", http("GET", "/api/v1/site")),
        (1, "certificate", http("GET", "/api/v1/site/certificate")),
        (1, "invite-svg", http("GET", "/api/v1/site/invite.svg")),
        (1, "peers", http("GET", "/api/v1/peers")),
        (1, "peer-import", http("POST", "/api/v1/peers", json.dumps({"pem": pem, "address": "beta.example:5062"}))),
        (1, "peer-invite", http("POST", "/api/v1/peers", json.dumps({"invite": "sipsite:invite?v=1&domain=beta.example&address=h.example:5062&fp=" + FP}))),
        (1, "peer-get", http("GET", "/api/v1/peers/" + FP.replace(":", "%3A"))),
        (1, "peer-trust", http("POST", f"/api/v1/peers/{FP}/trust", '{"verified":true}')),
        (1, "peer-revoke", http("POST", f"/api/v1/peers/{FP}/revoke", "{}")),
        (1, "pending", http("GET", "/api/v1/peers/pending")),
        (1, "pending-ignore", http("POST", f"/api/v1/peers/pending/{FP}/ignore", "{}")),
        (1, "users", http("GET", "/api/v1/users?limit=10&offset=0")),
        (1, "user-add", http("POST", "/api/v1/users", '{"aor":"alice@alpha.example","password":"a good long password"}')),
        (1, "user-del", http("DELETE", "/api/v1/users/alice%40alpha.example")),
        (1, "audit", http("GET", "/api/v1/audit?limit=5&before=100")),
        (1, "registrations", http("GET", "/api/v1/registrations")),
        (1, "tokens", http("GET", "/api/v1/tokens")),
        (1, "token-add", http("POST", "/api/v1/tokens", '{"name":"prometheus"}')),
        (1, "token-del", http("DELETE", "/api/v1/tokens/7")),
        (2, "no-csrf", http("POST", "/api/v1/users", '{"aor":"bob@alpha.example","password":"x"}')),
        (3, "bearer-metrics", http("GET", "/metrics")),
        (3, "bearer-site", http("GET", "/api/v1/site")),
        (0, "pipelined-chunked", "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n"),
    ]
    for mode, n, s in seeds:
        put("api_fuzz", n, bytes([mode]) + s.encode())


PEER_SDP = ("v=0\r\no=bob 7 7 IN IP4 203.0.113.2\r\ns=-\r\nc=IN IP4 203.0.113.2\r\nt=0 0\r\n"
            "m=audio 41000 RTP/AVP 0 8\r\na=rtcp-mux\r\n")


def peer_request(method, uri="sip:alice@alpha.example", frm="<sip:bob@beta.example>;tag=ptag1",
                 to="<sip:alice@alpha.example>", call_id="fedcall1", cseq=1, branch="z9hG4bKp1", extra="",
                 body=None, content_type="application/sdp"):
    """A request as beta.example's EdgePrivacy sends it to alpha."""
    t = f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/TLS beta.example;branch={branch}\r\nMax-Forwards: 69\r\n"
    t += f"From: {frm}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
    if method in ("INVITE", "SUBSCRIBE", "REFER"):
        t += "Contact: <sip:4f1a9c2e77d0b3a8@beta.example;transport=tls>\r\n"
    if body is None:
        body = PEER_SDP if method == "INVITE" else ""
    if body:
        t += f"Content-Type: {content_type}\r\n"
    t += extra
    return t + f"Content-Length: {len(body.encode())}\r\n\r\n{body}"


def peer_response(code, reason, to_tag="pb1", body="", cseq="$Q"):
    """beta's answer to alpha's last request, quoting it ($V $F $O $C $Q: see federation_fuzz.cpp)."""
    t = f"SIP/2.0 {code} {reason}\r\nVia: $V\r\nFrom: $F\r\nTo: $O"
    t += f";tag={to_tag}\r\n" if to_tag else "\r\n"
    t += f"Call-ID: $C\r\nCSeq: {cseq}\r\n"
    if 100 < code < 300:
        t += "Contact: <sip:9e0b7d61c3a2f845@beta.example;transport=tls>\r\n"
    if body:
        t += "Content-Type: application/sdp\r\n"
    return t + f"Content-Length: {len(body.encode())}\r\n\r\n{body}"


def federation_seeds():
    # federation_fuzz: "\n--\n"-separated messages from the peer site; the
    # control byte (see federation_fuzz.cpp): action (bits 0-2: 4 phone 18x,
    # 5 phone 2xx, 6 phone failure, 7 phone request), time step (bits 3-5),
    # stream framing (bit 6), variant (bit 7).
    def seq(*parts):
        return b"\n--\n".join(bytes([c]) + m.encode() for c, m in parts)
    inv = peer_request("INVITE")
    in_dialog = dict(uri="$K", to="<sip:alice@alpha.example>;tag=$T")
    ack = peer_request("ACK", cseq=1, branch="z9hG4bKp2", **in_dialog)
    put("federation_fuzz", "call", seq(
        (0x40, inv), (0x04, ""), (0x05, ""), (0x40, ack),
        (0x68, peer_request("BYE", cseq=2, branch="z9hG4bKp3", **in_dialog))))
    put("federation_fuzz", "call-datagram", seq(
        (0x00, inv), (0x84, ""), (0x05, ""), (0x00, ack), (0x30, peer_request("BYE", cseq=2, branch="z9hG4bKp3", **in_dialog))))
    put("federation_fuzz", "call-phone-hangs-up", seq(
        (0x40, inv), (0x05, ""), (0x40, ack), (0x47, peer_response(200, "OK", to_tag=""))))
    put("federation_fuzz", "call-reinvites", seq(
        (0x40, inv), (0x05, ""), (0x40, ack),
        (0x40, peer_request("INVITE", cseq=2, branch="z9hG4bKp4", **in_dialog)), (0x85, ""),
        (0x40, peer_request("ACK", cseq=2, branch="z9hG4bKp5", **in_dialog)),
        (0xC7, peer_response(200, "OK", to_tag="", body=PEER_SDP)),
        (0x78, "")))
    put("federation_fuzz", "cancel", seq(
        (0x40, inv), (0x04, ""), (0x58, peer_request("CANCEL", body="")),
        (0x40, peer_request("ACK", to="<sip:alice@alpha.example>;tag=$T", body=""))))
    put("federation_fuzz", "busy", seq(
        (0x40, inv), (0x86, ""), (0x40, peer_request("ACK", to="<sip:alice@alpha.example>;tag=$T", body=""))))
    put("federation_fuzz", "unanswered", seq((0x40, inv), (0x04, ""), (0x38, ""), (0x38, "")))
    put("federation_fuzz", "message", seq(
        (0x40, peer_request("MESSAGE", call_id="fedmsg1", body="hello alice", content_type="text/plain")), (0x05, "")))
    put("federation_fuzz", "options", seq(
        (0x40, peer_request("OPTIONS", uri="sip:alpha.example", body="")),
        (0x40, peer_request("OPTIONS", call_id="fedopt2", branch="z9hG4bKo2", body="")), (0x05, "")))
    put("federation_fuzz", "outgoing-call", seq(
        (0x07, ""), (0x40, peer_response(100, "Trying", to_tag="")), (0x40, peer_response(180, "Ringing")),
        (0x40, peer_response(200, "OK", body=PEER_SDP)),
        (0x68, peer_request("BYE", uri="$K", frm="<sip:bob@beta.example>;tag=pb1", to="$F", call_id="$C", cseq=2,
                            branch="z9hG4bKp6"))))
    put("federation_fuzz", "outgoing-call-declined", seq(
        (0x07, ""), (0x40, peer_response(603, "Decline"))))
    put("federation_fuzz", "outgoing-cancel", seq(
        (0x07, ""), (0x40, peer_response(180, "Ringing")), (0x07, ""), (0x40, peer_response(200, "OK", to_tag="")),
        (0x40, peer_response(487, "Request Terminated", cseq="1 INVITE"))))
    put("federation_fuzz", "outgoing-message", seq((0x87, ""), (0x40, peer_response(200, "OK"))))
    put("federation_fuzz", "pipelined", seq(
        (0x40, peer_request("MESSAGE", call_id="fedmsg2", body="one", content_type="text/plain") +
         peer_request("MESSAGE", call_id="fedmsg3", branch="z9hG4bKm3", body="two", content_type="text/plain") +
         "\r\n\r\n")))
    # Hostile: what threat model 2 says a peer may not do.
    put("federation_fuzz", "register", seq((0x40, peer_request(
        "REGISTER", uri="sip:alpha.example", frm="<sip:bob@beta.example>;tag=r", to="<sip:bob@beta.example>",
        extra="Contact: <sip:bob@198.51.100.99>\r\n", body=""))))
    put("federation_fuzz", "foreign-from", seq((0x40, peer_request(
        "INVITE", frm="<sip:mallory@gamma.example>;tag=m1"))))
    put("federation_fuzz", "spoofed-pai", seq((0x40, peer_request(
        "MESSAGE", extra="P-Asserted-Identity: <sip:ceo@alpha.example>\r\n", body="pay", content_type="text/plain"))))
    put("federation_fuzz", "transit", seq(
        (0x40, peer_request("INVITE", uri="sip:dave@gamma.example", to="<sip:dave@gamma.example>")),
        (0x40, peer_request("MESSAGE", uri="sip:nobody@alpha.example", call_id="fedmsg4", body="x",
                            content_type="text/plain"))))
    put("federation_fuzz", "relay-through-route", seq((0x40, peer_request(
        "INVITE", uri="sip:alice@192.0.2.77:5060", extra="Route: <sip:alpha.example;lr>\r\n"))))
    put("federation_fuzz", "unknown-dialog", seq((0x40, peer_request(
        "BYE", to="<sip:alice@alpha.example>;tag=nope", call_id="nope", body=""))))
    put("federation_fuzz", "bad-sdp", seq((0x40, peer_request("INVITE", body="v=1\r\nnonsense\r\n"))))
    put("federation_fuzz", "bad-framing", seq(
        (0x40, "MESSAGE sip:alice@alpha.example SIP/2.0\r\nVia: SIP/2.0/TLS beta.example;branch=z9hG4bKx\r\n"
               "From: <sip:bob@beta.example>;tag=x\r\nTo: <sip:alice@alpha.example>\r\nCall-ID: x\r\n"
               "CSeq: 1 MESSAGE\r\nContent-Length: 99999999\r\n\r\n"),
        (0x40, peer_request("MESSAGE", call_id="fedmsg5", body="after", content_type="text/plain"))))
    put("federation_fuzz", "table-full", seq(*[
        (0x40, peer_request("MESSAGE", call_id=f"flood{i}", branch=f"z9hG4bKf{i}", body="x", content_type="text/plain"))
        for i in range(10)]))
    put("federation_fuzz", "stray-response", seq((0x40, peer_response(200, "OK").replace("$", "x"))))


def media_packet_seeds():
    """media_packet_fuzz: the first byte picks the part (0 forged packets,
    1 tunnel round trip, 2 RTCP anonymization, 3 key attributes)."""
    rtp = bytes([0x80, 0, 0, 1, 0, 0, 0, 160]) + b"SSRC" + b"voice" * 10
    rr = bytes([0x80, 201, 0, 1]) + b"SSRC"
    item = bytes([1, 18]) + b"alice@192.168.77.5" + b"\0"
    chunk = b"SSRC" + item + b"\0" * (-len(item) % 4)
    sdes = bytes([0x81, 202, 0, len(chunk) // 4]) + chunk
    bye = bytes([0x81, 203, 0, 3]) + b"SSRC" + bytes([7]) + b"goodbye"
    app = bytes([0x80, 204, 0, 2]) + b"SSRC" + b"NAME"
    tunnel = bytes([0x80, 127, 0, 1, 0, 0, 0, 0]) + b"\x01\x02\x03\x04" + b"\x00" * 32
    key = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
    put("media_packet_fuzz", "forged_rtp", b"\x00" + rtp)
    put("media_packet_fuzz", "forged_tunnel", b"\x00" + tunnel)
    put("media_packet_fuzz", "roundtrip_rtp", b"\x01" + rtp)
    put("media_packet_fuzz", "roundtrip_stun", b"\x01" + b"\x00\x01\x00\x00\x21\x12\xa4\x42" + b"T" * 12)
    put("media_packet_fuzz", "rtcp_sdes", b"\x02" + rr + sdes)
    put("media_packet_fuzz", "rtcp_bye_app", b"\x02" + rr + bye + app)
    put("media_packet_fuzz", "attr_gcm", b"\x03AEAD_AES_128_GCM inline:" + b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==")
    put("media_packet_fuzz", "attr_crypto", "\x031 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4")
    put("media_packet_fuzz", "attr_crypto_plain", "\x031 AES_CM_128_HMAC_SHA1_80 inline:" + key)


GENERATORS = [
    (("sip_message_fuzz", "core_fuzz"), sip_seeds),
    (("digest_fuzz",), digest_seeds),
    (("invite_fuzz",), invite_seeds),
    (("pem_fuzz",), pem_seeds),
    (("config_fuzz",), config_seeds),
    (("api_fuzz",), api_seeds),
    (("federation_fuzz",), federation_seeds),
    (("media_packet_fuzz",), media_packet_seeds),
]


def main(targets):
    """Writes every corpus, or only those of the targets named."""
    if not os.path.isdir(RFC4475):
        sys.exit(f"make_seeds: {RFC4475} not found")
    known = {t for ts, _ in GENERATORS for t in ts}
    unknown = set(targets) - known
    if unknown:
        sys.exit(f"make_seeds: no seeds for {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    for ts, generate in GENERATORS:
        if not targets or set(ts) & set(targets):
            generate()


if __name__ == "__main__":
    main(sys.argv[1:])
