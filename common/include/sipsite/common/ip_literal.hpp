#pragma once
// Whether a host is an IP address rather than a name. One rule for config
// validation and for SIP routing: what the kernel would parse (inet_pton),
// with an IPv6 literal optionally in brackets as URIs write it.

#include <string_view>

namespace sipsite::common {

// "[::1]" -> "::1"; anything else unchanged.
[[nodiscard]] std::string_view unbracketed(std::string_view host) noexcept;

[[nodiscard]] bool is_ipv4_literal(std::string_view host) noexcept;
[[nodiscard]] bool is_ipv6_literal(std::string_view host) noexcept;  // brackets allowed
[[nodiscard]] bool is_ip_literal(std::string_view host) noexcept;    // either

}  // namespace sipsite::common
