"""A minimal SIP user agent for tests: builds requests, answers digest
challenges (RFC 7616, MD5 and SHA-256) and reads responses, over UDP, TCP or
TLS. Every receive is bounded by a timeout."""
import hashlib
import re
import secrets
import socket
import ssl


def parse_message(data):
    """(start_line, headers, body) of a request or a response."""
    head, _, body = data.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return lines[0], headers, body


def parse_response(data):
    start, headers, body = parse_message(data)
    return int(start.split(" ")[1]), headers, body


def header(headers, name):
    return [v for n, v in headers if n == name.lower()]


def digest_params(challenge):
    return dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.split(" ", 1)[1]))


class SipClient:
    def __init__(self, protocol, port, user="alice", domain="alpha.example", password=None, source="127.0.0.1"):
        self.protocol = protocol
        self.port = port
        self.user = user
        self.domain = domain
        self.password = password
        self.cseq = 0
        self.call_id = secrets.token_hex(8)
        self.tag = secrets.token_hex(4)
        self.buffer = b""
        if protocol == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((source, 0))
        else:
            raw = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
            if protocol == "tls":
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                raw = ctx.wrap_socket(raw)
            self.sock = raw
        self.sock.settimeout(10)
        self.local_port = self.sock.getsockname()[1]

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.protocol == "udp":
            self.sock.sendto(data, ("127.0.0.1", self.port))
        else:
            self.sock.sendall(data)

    def receive(self):
        """The next response (status, headers, body)."""
        return parse_response(self.receive_raw())

    def receive_raw(self):
        """The next message, request or response, as text."""
        if self.protocol == "udp":
            data, _ = self.sock.recvfrom(65535)
            return data.decode(errors="replace")
        while True:
            if b"\r\n\r\n" in self.buffer:
                head, _, rest = self.buffer.partition(b"\r\n\r\n")
                m = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)", head)
                length = int(m.group(2)) if m else 0
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    return (head + b"\r\n\r\n" + rest[:length]).decode(errors="replace")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buffer += chunk

    def request(self, method, uri=None, to=None, extra="", body="", cseq=None):
        self.cseq = cseq if cseq is not None else self.cseq + 1
        uri = uri or f"sip:{self.domain}"
        to = to or f"sip:{self.user}@{self.domain}"
        transport = self.protocol.upper()
        msg = (f"{method} {uri} SIP/2.0\r\n"
               f"Via: SIP/2.0/{transport} 127.0.0.1:{self.local_port};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
               f"Max-Forwards: 70\r\n"
               f"From: <sip:{self.user}@{self.domain}>;tag={self.tag}\r\n"
               f"To: <{to}>\r\n"
               f"Call-ID: {self.call_id}\r\n"
               f"CSeq: {self.cseq} {method}\r\n"
               f"Contact: <sip:{self.user}@127.0.0.1:{self.local_port};transport={self.protocol}>\r\n"
               f"{extra}"
               f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
        self.send_raw(msg)
        return self.receive()

    def authorization(self, challenge, method, uri, nc=1, password=None, algorithm_name=None):
        p = digest_params(challenge)
        algorithm = algorithm_name or p.get("algorithm", "MD5")
        h = (lambda s: hashlib.sha256(s.encode()).hexdigest()) if algorithm == "SHA-256" else \
            (lambda s: hashlib.md5(s.encode()).hexdigest())
        cnonce = secrets.token_hex(8)
        ha1 = h(f"{self.user}:{p['realm']}:{password or self.password}")
        ha2 = h(f"{method}:{uri}")
        ncs = f"{nc:08x}"
        response = h(f"{ha1}:{p['nonce']}:{ncs}:{cnonce}:auth:{ha2}")
        opaque = f', opaque="{p["opaque"]}"' if "opaque" in p else ""
        return (f'Digest username="{self.user}", realm="{p["realm"]}", nonce="{p["nonce"]}", uri="{uri}", '
                f'response="{response}", algorithm={algorithm}, qop=auth, nc={ncs}, cnonce="{cnonce}"{opaque}')

    def register(self, expires=300):
        """REGISTER with the digest handshake; returns the final response."""
        uri = f"sip:{self.domain}"
        status, headers, body = self.request("REGISTER", uri, extra=f"Expires: {expires}\r\n")
        if status != 401:
            return status, headers, body
        challenge = header(headers, "www-authenticate")[0]
        auth = self.authorization(challenge, "REGISTER", uri)
        return self.request("REGISTER", uri, extra=f"Expires: {expires}\r\nAuthorization: {auth}\r\n")

    def close(self):
        self.sock.close()
