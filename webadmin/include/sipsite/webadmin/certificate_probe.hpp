#pragma once
// Fetches the certificate a site presents on its federation port, for
// "add a site from its invite" (as `sipsite peer add --invite` does). The
// handshake itself is expected to fail there (this site is not trusted yet;
// the attempt shows as a pending request on the other side): only the
// presented certificate matters, and the caller checks it against the
// invite's fingerprint.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/host_port.hpp>
#include <sipsite/pki/private_key.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace sipsite::webadmin {

struct ProbeResult {
  std::optional<pki::Certificate> certificate;
  std::string error;  // one sentence, when there is no certificate
};

// Blocks the calling thread up to its timeout.
using CertificateProbe = std::function<ProbeResult(const pki::HostPort&)>;

// A probe that presents this site's certificate (so the other side can
// record who knocked). Empty function if the TLS context cannot be made.
CertificateProbe make_certificate_probe(const pki::Certificate& cert, const pki::PrivateKey& key,
                                        std::chrono::seconds timeout = std::chrono::seconds(10));

}  // namespace sipsite::webadmin
