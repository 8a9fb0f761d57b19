// libFuzzer target for certificate import: Certificate::from_pem (what the
// console and `peer import` accept), parse_peer_certificate (the checks on a
// peer's certificate) and Certificate::from_der (what a TLS peer presents).
// The first byte chooses PEM or DER. A certificate that loads must survive
// every accessor and round-trip through PEM and DER with the same
// fingerprint. Any crash, sanitizer report or broken invariant (abort) is a
// bug.

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/domain_name.hpp>
#include <sipsite/pki/fingerprint.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

namespace {

using namespace sipsite::pki;

void check(bool invariant) {
  if (!invariant) std::abort();
}

void exercise(const Certificate& cert) {
  const Fingerprint fp = cert.fingerprint();
  const std::string domain = cert.domain();
  check(domain.empty() || is_valid_domain_name(domain));
  (void)format_time(cert.not_before());
  (void)format_time(cert.not_after());
  (void)cert.check_validity();
  (void)cert.is_self_signed();

  const auto der = cert.to_der();
  const auto from_der = Certificate::from_der(der);
  check(from_der.has_value());
  check(from_der->fingerprint() == fp);
  check(Fingerprint::of_der(der) == fp);

  const auto from_pem = Certificate::from_pem(cert.to_pem());
  check(from_pem.has_value());
  check(from_pem->fingerprint() == fp);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  if (mode & 1) {
    if (const auto cert = Certificate::from_der(rest)) exercise(*cert);
  } else {
    const std::string_view pem(reinterpret_cast<const char*>(rest.data()), rest.size());
    if (const auto cert = Certificate::from_pem(pem)) exercise(*cert);
    // A fixed "now" inside the seeds' validity, so that the checks beyond
    // the dates are reached too.
    const auto now = Clock::time_point(std::chrono::seconds(1'800'000'000));
    if (const auto peer = parse_peer_certificate(pem, now)) {
      check(is_valid_domain_name(peer->domain()));
      exercise(*peer);
    }
  }
  return 0;
}
