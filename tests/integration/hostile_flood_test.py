"""Connection floods against the real daemon: beyond the per-source cap on
the SIP TCP and TLS listeners (64 connections per IP address), and a flood of
TLS handshakes with unknown certificates on the federation port. Phones from
another source (127.0.0.2) keep registering; the pending-request table
stays capped (30 new requests a minute, 100 at most)."""
import datetime
import json
import os
import socket
import ssl
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hostile_common import HostileTestCase, client_tls_context, closed_within

PER_IP_CAP = 64          # transport::Limits::max_connections_per_ip
PENDING_PER_MINUTE = 30  # FederationService: new pending requests recorded per minute
PENDING_CAP = 100        # PendingRepository::kDefaultCap


def unknown_site_identity(directory, n):
    """A self-signed P-256 certificate and key for a site nobody trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"scanner{n}.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"scanner{n}.example")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(directory, f"scanner{n}.pem")
    key_path = os.path.join(directory, f"scanner{n}.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


class FloodTest(HostileTestCase):
    def flood(self, protocol, count):
        """`count` connections from 127.0.0.1 to a SIP stream port, each
        proven accepted-and-served or refused; returns how many stayed open."""
        port = self.ports[protocol]
        open_ones = []
        refused = 0
        for _ in range(count):
            s = self.keep(socket.create_connection(("127.0.0.1", port), timeout=10))
            if protocol == "tls":
                try:
                    s = self.keep(client_tls_context().wrap_socket(s))
                except (ssl.SSLError, ConnectionError, OSError):
                    refused += 1
                    continue
            # A CRLF keep-alive ping (RFC 5626): an admitted connection
            # answers it, a refused one is closed.
            try:
                s.sendall(b"\r\n\r\n")
                s.settimeout(5)
                answer = s.recv(16)
            except (ssl.SSLError, ConnectionError, OSError, socket.timeout):
                answer = b""
            if answer:
                open_ones.append(s)
            else:
                refused += 1
        return open_ones, refused

    def test_sip_tcp_flood_beyond_the_per_ip_cap(self):
        open_ones, refused = self.flood("tcp", PER_IP_CAP + 16)
        self.assertEqual(len(open_ones), PER_IP_CAP)
        self.assertEqual(refused, 16)
        # Another source is not affected: TCP, TLS and UDP phones register.
        self.assert_legitimate_register("tcp", source="127.0.0.2")
        self.assert_legitimate_register("tls", user="bob", source="127.0.0.2")
        self.assert_legitimate_register("udp")  # UDP is not capped per connection
        # Closing the flood frees the slots for the flooded address again.
        for s in open_ones:
            s.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.assert_legitimate_register("tcp")
                break
            except (AssertionError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.assert_alive()

    def test_sip_tls_flood_beyond_the_per_ip_cap(self):
        open_ones, refused = self.flood("tls", PER_IP_CAP + 8)
        self.assertEqual(len(open_ones), PER_IP_CAP)
        self.assertEqual(refused, 8)
        self.assert_legitimate_register("tls", source="127.0.0.2")
        self.assert_legitimate_register("udp", user="bob")
        self.assert_alive()

    def test_federation_handshake_flood_with_unknown_certificates(self):
        port = self.daemon.federation_port()
        identities = [unknown_site_identity(self.tmp, n) for n in range(PENDING_PER_MINUTE + 15)]
        refused = 0
        for rounds in range(2):  # every scanner twice: repeats are not new requests
            for cert_path, key_path in identities:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                ctx.load_cert_chain(cert_path, key_path)
                raw = self.keep(socket.create_connection(("127.0.0.1", port), timeout=10))
                try:
                    s = self.keep(ctx.wrap_socket(raw))
                    # TLS 1.3: the server's refusal of our certificate
                    # arrives after the handshake, as an alert or a close.
                    self.assertTrue(closed_within(s, 10))
                    refused += 1
                except (ssl.SSLError, ConnectionError, OSError):
                    refused += 1
        self.assertEqual(refused, 2 * len(identities))
        self.assert_legitimate_register("tls")
        self.assert_legitimate_register("udp", user="bob", source="127.0.0.2")
        r = self.sipsite("peer", "pending", "--json")
        self.assertOk(r)
        pending = json.loads(r.out)
        items = pending["items"] if isinstance(pending, dict) else pending
        self.assertGreater(len(items), 0)
        self.assertLessEqual(len(items), PENDING_PER_MINUTE)
        self.assertLessEqual(len(items), PENDING_CAP)
        self.assertEqual(len({i["fingerprint"] for i in items}), len(items))
        self.assert_alive()


if __name__ == "__main__":
    unittest.main()
