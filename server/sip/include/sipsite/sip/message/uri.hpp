#pragma once
// URIs: SIP/SIPS (RFC 3261 19.1), tel (RFC 3966) and, for any other scheme,
// the generic absoluteURI shape. Components are views into the parsed text,
// in their escaped (wire) form; unescape() decodes %HH where the caller
// needs the value (e.g. an AOR user part, which may contain %00).

#include "sipsite/sip/message/param.hpp"
#include "sipsite/sip/message/parse_error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::sip {

struct SipUri {
  bool secure = false;    // sips:
  std::string_view user;  // empty when there is no userinfo
  std::optional<std::string_view> password;
  std::string_view host;  // an IPv6 reference keeps its brackets
  std::optional<std::uint16_t> port;
  Params params;   // uri-parameters (lr, transport, ...)
  Params headers;  // "?h=v&..." (value always present)
};

struct TelUri {
  std::string_view number;  // global ("+1-201-555-0123") or local digits
  Params params;
};

// Any other scheme ("isbn:", "http:", ...): kept opaque.
struct OtherUri {
  std::string_view scheme;
  std::string_view opaque;  // everything after the first ':'
};

enum class UriKind : std::uint8_t { sip, tel, other };

struct Uri {
  std::string_view text;  // the whole URI as received
  UriKind kind = UriKind::sip;
  SipUri sip_uri;      // meaningful when kind == sip (sip: and sips:)
  TelUri tel_uri;      // when kind == tel
  OtherUri other_uri;  // when kind == other

  [[nodiscard]] const SipUri* sip() const noexcept { return kind == UriKind::sip ? &sip_uri : nullptr; }
  [[nodiscard]] const TelUri* tel() const noexcept { return kind == UriKind::tel ? &tel_uri : nullptr; }
  [[nodiscard]] bool is_sip() const noexcept { return kind == UriKind::sip; }
  // "sip", "sips", "tel" or the other scheme as written
  [[nodiscard]] std::string_view scheme() const noexcept;
};

// Parses a complete URI (no surrounding whitespace or <>). Scheme names are
// case-insensitive. Malformed %-escapes in SIP components are errors.
[[nodiscard]] Result<Uri> parse_uri(std::string_view text);

// Decodes %HH escapes. nullopt when an escape is malformed. The result may
// contain NUL octets (RFC 4475 escnull): compare it as a byte string.
[[nodiscard]] std::optional<std::string> unescape(std::string_view text);

}  // namespace sipsite::sip
