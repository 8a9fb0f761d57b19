#pragma once
// Via (RFC 3261 20.42, 25.1) with received/branch (RFC 3261) and rport
// (RFC 3581). Transport tokens are not restricted: unknown ones are legal
// (RFC 4475 transports).

#include "sipsite/sip/message/param.hpp"
#include "sipsite/sip/message/parse_error.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sipsite::sip {

struct Via {
  std::string_view protocol_name;     // "SIP"
  std::string_view protocol_version;  // "2.0"
  std::string_view transport;         // "UDP", "TCP", "TLS", "SCTP", "WS", or any token
  std::string_view host;              // sent-by host; an IPv6 reference keeps brackets
  std::optional<std::uint16_t> port;  // sent-by port
  Params params;

  [[nodiscard]] std::optional<std::string_view> branch() const noexcept;
  [[nodiscard]] std::optional<std::string_view> received() const noexcept;
  // RFC 3581: present with no value in requests ("rport"), with a value in
  // responses ("rport=5060").
  [[nodiscard]] bool has_rport() const noexcept;
  [[nodiscard]] std::optional<std::uint16_t> rport() const noexcept;
  // branch starts with the RFC 3261 magic cookie "z9hG4bK" and has more
  [[nodiscard]] bool has_rfc3261_branch() const noexcept;
};

// Parses one Via header value: a comma-separated list of via-parms.
// SWS is allowed around '/', ':', ';', '=' and ','. Empty elements, empty
// parameters, a malformed host, port, received address or rport value are
// errors (RFC 4475 badinv01).
[[nodiscard]] Result<std::vector<Via>> parse_via_list(std::string_view value);

}  // namespace sipsite::sip
