#pragma once
// Digest authentication of requests from local users (RFC 3261 §22,
// RFC 7616, RFC 8760), implementing Authenticator (services.hpp).
//
// Challenges offer SHA-256 first, then MD5 (RFC 8760 §2.4), both with
// qop="auth", the same stateless nonce (digest_nonce.hpp) and an opaque
// value; realm is Directory::local_domain(), and the HA1 values the
// Directory returns must have been computed over that realm.
//
// A request is accepted when its credentials for our realm carry qop=auth,
// an offered algorithm, our opaque (if any), a digest uri that names the
// Request-URI, a response that verifies against the user's HA1, and a
// nonce of ours that is unexpired and whose nc is higher than any accepted
// before. Otherwise:
//   * no credentials for our realm         -> challenge
//   * anything wrong but the nonce         -> challenge; a failure for the
//     (bad password, unknown user, bad        source and for the username,
//     uri, no qop, malformed header)          Counters::auth_failure
//   * response right, nonce expired,       -> challenge with stale=true, so the
//     unknown (restart), nc replayed or       phone retries without asking its user
//     opaque not ours
//   * source or username in cool-down      -> rate_limited: 403 "Forbidden (too
//                                             many failed attempts)" with
//                                             Retry-After, Counters::auth_rate_limited
// A username's cool-down does not hold a source from which that user
// authenticated before (the user's own phone): an attacker guessing the
// user's password elsewhere is throttled without locking the phone out.
// Those (user, source) pairs are remembered in a bounded set.
// Unknown users go through the same steps as known ones (a dummy HA1 of the
// right length is hashed), and their challenges are identical.
//
// RFC 2069 requests (no qop) are refused: every challenge offers qop="auth",
// RFC 7616 makes qop mandatory, and without nc there is no replay
// protection; phones of the last twenty years send qop=auth. `userhash` and
// auth-int are not offered and not accepted.
//
// Thread safety: one thread (the SIP strand).

#include "sipsite/sip/counters.hpp"
#include "sipsite/sip/auth/digest.hpp"
#include "sipsite/sip/auth/digest_nonce.hpp"
#include "sipsite/sip/io.hpp"
#include "sipsite/sip/auth/rate_limiter.hpp"
#include "sipsite/sip/services.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>
#include <vector>

namespace sipsite::sip {

struct DigestAuthenticatorSettings {
  // HMAC key for nonces: 32 bytes from a CSPRNG, fresh at each daemon start.
  std::vector<std::uint8_t> secret;
  Duration nonce_lifetime = std::chrono::minutes(5);
  std::size_t max_tracked_nonces = 65536;
  // The challenges offered, most preferred first (RFC 8760 §2.4: SHA-256
  // first). Some phones read only the first challenge and fail on an
  // algorithm they lack (baresip 1.0 in Debian 12 does on SHA-256), so the
  // app lets the admin choose the order. Must not be empty.
  std::vector<DigestAlgorithm> algorithms{DigestAlgorithm::sha256, DigestAlgorithm::md5};
  // Failures per source address (IPv6: per /64) and per username.
  RateLimiterSettings per_source{
      .max_failures = 20, .window = std::chrono::minutes(1), .cooldown = std::chrono::minutes(5), .max_keys = 16384};
  RateLimiterSettings per_user{
      .max_failures = 10, .window = std::chrono::minutes(1), .cooldown = std::chrono::minutes(5), .max_keys = 16384};
  // (user, source) pairs that authenticated, remembered (oldest forgotten first).
  std::size_t max_known_good = 16384;
};

class DigestAuthenticator final : public Authenticator {
 public:
  // Keeps references to every argument but settings; they must outlive it.
  DigestAuthenticator(const Directory& directory, const Clock& clock, Random& random, Counters& counters,
                      DigestAuthenticatorSettings settings);

  AuthDecision authenticate(const Inbound& request, bool proxy) override;

  // For tests and the console.
  [[nodiscard]] const DigestNonces& nonces() const noexcept { return nonces_; }
  [[nodiscard]] const RateLimiter& source_limiter() const noexcept { return per_source_; }
  [[nodiscard]] const RateLimiter& user_limiter() const noexcept { return per_user_; }

 private:
  AuthDecision challenge(const Inbound& request, bool proxy, bool stale);
  [[nodiscard]] bool offers(DigestAlgorithm a) const;
  AuthDecision rate_limited(const Inbound& request, Duration remaining);
  void record_failure(const std::string& source_key, const std::string* username);
  void remember_good(std::string pair);

  const Directory& directory_;
  Counters& counters_;
  DigestAuthenticatorSettings settings_;
  DigestNonces nonces_;
  RateLimiter per_source_;
  RateLimiter per_user_;
  std::unordered_set<std::string> known_good_;  // "user\nsource key"
  std::deque<std::string> known_good_order_;    // oldest first
  std::string dummy_ha1_md5_;
  std::string dummy_ha1_sha256_;
};

// Whether the digest `uri` parameter names the same resource as the
// Request-URI: byte-equal, or both SIP/SIPS URIs with the same scheme,
// unescaped user, host (case-insensitive) and port (absent = the scheme's
// default). Parameters are not compared: phones differ in which they copy.
[[nodiscard]] bool digest_uri_matches(std::string_view digest_uri, std::string_view request_uri);

}  // namespace sipsite::sip
