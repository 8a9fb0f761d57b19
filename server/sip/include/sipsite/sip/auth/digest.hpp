#pragma once
// HTTP Digest as SIP uses it (RFC 3261 §22, RFC 7616, RFC 8760): parsing
// the Authorization / Proxy-Authorization and WWW-Authenticate /
// Proxy-Authenticate header values, formatting challenges, and computing
// responses with MD5 and SHA-256 (and their -sess variants).
//
// The parsers take untrusted input: they never throw, never assert, and
// bound what they accept (kMaxDigestHeader, kMaxDigestValue,
// kMaxDigestParams). Only qop=auth is supported (no auth-int); the
// RFC 2069 form without qop is parsed (so that callers can tell it apart)
// but DigestAuthenticator refuses it.

#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::sip {

enum class DigestAlgorithm : std::uint8_t { md5, md5_sess, sha256, sha256_sess };

// "MD5", "MD5-sess", "SHA-256", "SHA-256-sess".
[[nodiscard]] std::string_view to_string(DigestAlgorithm a) noexcept;
// Case-insensitive; nullopt for anything else (SHA-512-256, garbage).
[[nodiscard]] std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view token) noexcept;
[[nodiscard]] constexpr bool is_sess(DigestAlgorithm a) noexcept {
  return a == DigestAlgorithm::md5_sess || a == DigestAlgorithm::sha256_sess;
}
// The hash under the algorithm: MD5 for md5/md5_sess, SHA-256 otherwise.
[[nodiscard]] constexpr bool is_sha256(DigestAlgorithm a) noexcept {
  return a == DigestAlgorithm::sha256 || a == DigestAlgorithm::sha256_sess;
}

inline constexpr std::size_t kMaxDigestHeader = 4096;  // whole header value
inline constexpr std::size_t kMaxDigestValue = 1024;   // one parameter value, decoded
inline constexpr std::size_t kMaxDigestParams = 24;    // parameters in one value

enum class DigestErrc : std::uint8_t {
  not_digest,             // another scheme (Basic, Bearer, ...) or no scheme
  too_long,               // the header value exceeds kMaxDigestHeader
  malformed,              // not name=value pairs separated by commas
  bad_quoted_string,      // unterminated, control characters, bad escape
  duplicate_param,        // a parameter name appears twice
  too_many_params,        // more than kMaxDigestParams
  value_too_long,         // a value exceeds kMaxDigestValue
  missing_param,          // a parameter the form requires is absent
  bad_nc,                 // nc is not exactly 8 hex digits
  unsupported_algorithm,  // an algorithm other than those above
  bad_userhash,           // userhash is neither "true" nor "false"
};

[[nodiscard]] std::string_view to_string(DigestErrc e) noexcept;

// Lets DigestResult<T>::value() throw for callers that choose exceptions
// (tests); library code uses has_value()/error().
[[noreturn]] void throw_exception_from_error(const DigestErrc& e, const boost::source_location& loc);

template <class T>
using DigestResult = boost::system::result<T, DigestErrc>;

// An Authorization / Proxy-Authorization value, decoded (quotes removed,
// quoted-pairs resolved).
struct DigestCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;                              // as sent (hex); compare case-insensitively
  DigestAlgorithm algorithm = DigestAlgorithm::md5;  // absent means MD5 (RFC 7616 §3.4)
  std::optional<std::string> qop;                    // "auth", "auth-int", ...; nullopt = RFC 2069 form
  std::string cnonce;                                // present whenever qop is
  std::string nc_text;                               // the 8 hex digits as sent (they enter the hash)
  std::uint32_t nc = 0;
  std::optional<std::string> opaque;
  bool userhash = false;  // RFC 7616 §3.4.4: username is H(username:realm)
};

// Parses "Digest username=..., realm=..., ...". Names are case-insensitive;
// values may be tokens or quoted-strings (lenient on which, as real phones
// are); unknown parameters are ignored, repeated ones rejected. Requires
// username, realm, nonce, uri and response, plus cnonce and nc when qop is
// present. `username*` (RFC 7616 extended notation) is not supported and
// counts as an unknown parameter.
[[nodiscard]] DigestResult<DigestCredentials> parse_digest_credentials(std::string_view value) noexcept;

// A WWW-Authenticate / Proxy-Authenticate value: what the server offers.
struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::optional<std::string> opaque;
  DigestAlgorithm algorithm = DigestAlgorithm::md5;
  std::optional<std::string> qop;  // the quoted list as sent ("auth" or "auth,auth-int")
  bool stale = false;
};

// Formats a challenge: Digest realm="...", nonce="...", opaque="...",
// algorithm=..., qop="auth"[, stale=true]. Values are quoted and escaped.
[[nodiscard]] std::string format_digest_challenge(const DigestChallenge& c);

// Parses a challenge (the client side: tests and simulated phones).
// Requires realm and nonce.
[[nodiscard]] DigestResult<DigestChallenge> parse_digest_challenge(std::string_view value) noexcept;

// H(data) in lowercase hex under the algorithm's hash.
[[nodiscard]] std::string digest_hash(DigestAlgorithm a, std::string_view data);

// H(username ":" realm ":" password): the HA1 the store keeps.
[[nodiscard]] std::string digest_ha1(DigestAlgorithm a, std::string_view username, std::string_view realm,
                                     std::string_view password);

struct DigestResponseInput {
  DigestAlgorithm algorithm = DigestAlgorithm::md5;
  std::string_view ha1;  // H(username:realm:password), hex; for -sess the session key is derived here
  std::string_view nonce;
  std::string_view cnonce;
  std::string_view nc;                  // 8 hex digits as sent
  std::optional<std::string_view> qop;  // "auth"; nullopt = RFC 2069 (no cnonce/nc in the hash)
  std::string_view method;
  std::string_view uri;
};

// The request-digest of RFC 7616 §3.4.1 (qop=auth) or RFC 2069, lowercase
// hex. auth-int is not supported: it hashes as auth would, so it never
// verifies.
[[nodiscard]] std::string digest_response(const DigestResponseInput& in);

// Constant-time equality of two byte strings of the same length; false when
// the lengths differ (lengths are public: they follow from the algorithm).
[[nodiscard]] bool digest_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace sipsite::sip
