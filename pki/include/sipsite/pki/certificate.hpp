#pragma once
// X.509 certificates: the site's own self-signed one, and peers' as imported
// by an administrator.

#include <sipsite/pki/error.hpp>
#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/pki/private_key.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using X509 = struct x509_st;

namespace sipsite::pki {

using Clock = std::chrono::system_clock;

struct CertificateOptions {
  std::string domain;  // CN and the one subjectAltName DNS entry
  Clock::time_point not_before;
  Clock::time_point not_after;
  // When set: the payload of a key-rotation proof (rotation_proof.hpp),
  // added as a non-critical private extension. Use make_rotated_certificate.
  std::vector<std::uint8_t> rotation_proof{};

  // Valid from one hour ago (tolerates clock skew between sites) for `days`.
  static CertificateOptions valid_for_days(std::string domain, int days, Clock::time_point now = Clock::now());
};

inline constexpr int kDefaultValidityDays = 3650;

class Certificate {
 public:
  // A self-signed X.509 v3 certificate: random 128-bit serial,
  // basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
  // serverAuth+clientAuth, subject/authority key identifiers.
  static Result<Certificate> self_signed(const PrivateKey& key, const CertificateOptions& options);

  // Exactly one PEM certificate and nothing else that looks like key
  // material. Does not check dates; see check_validity().
  static Result<Certificate> from_pem(std::string_view pem);
  static Result<Certificate> from_der(std::span<const std::uint8_t> der);
  // Takes ownership of a reference to `x` (X509_up_ref).
  static Certificate from_native(X509* x);

  std::string to_pem() const;
  std::vector<std::uint8_t> to_der() const;
  Fingerprint fingerprint() const;

  // The first subjectAltName DNS entry, else the subject CN; lowercase.
  // Empty if neither names a valid domain.
  std::string domain() const;
  Clock::time_point not_before() const;
  Clock::time_point not_after() const;
  // Error expired / not_yet_valid, with the dates in the message.
  Result<void> check_validity(Clock::time_point now = Clock::now()) const;
  bool matches(const PrivateKey& key) const;
  // True when the certificate's own public key verifies its signature.
  bool is_self_signed() const;

  X509* native() const { return cert_.get(); }

 private:
  struct Free {
    void operator()(X509* x) const;
  };
  explicit Certificate(X509* x) : cert_(x) {}
  std::unique_ptr<X509, Free> cert_;
};

// What an administrator pastes or uploads for a peer site: one self-signed
// certificate, currently valid, naming a domain. Expired and not-yet-valid
// certificates are refused: a pinned certificate past its date would stop
// federating silently later, so the admin learns it now (see README).
Result<Certificate> parse_peer_certificate(std::string_view pem, Clock::time_point now = Clock::now());
// A bundle of such certificates, one per peer site (a bulk import): each
// checked as parse_peer_certificate() checks one; the error names the first
// that fails by its 1-based position. Refuses any private key in the text.
inline constexpr std::size_t kMaxBundleCertificates = 100000;
Result<std::vector<Certificate>> parse_peer_certificates(std::string_view pem, Clock::time_point now = Clock::now());

// "2036-11-22 16:09:54 UTC", for messages to admins.
std::string format_time(Clock::time_point t);
// Seconds since the epoch as "2026-11-22T16:09:54Z", for JSON.
std::string iso8601(std::int64_t unix_seconds);

}  // namespace sipsite::pki
