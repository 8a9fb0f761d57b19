#pragma once
// "HOST:PORT" as invites and configuration write it: a DNS name, an IPv4
// literal, or a bracketed IPv6 literal ("[2001:db8::7]:5062").

#include <sipsite/pki/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sipsite::pki {

struct HostPort {
  std::string host;  // without brackets
  std::uint16_t port = 0;

  bool is_ipv6() const { return host.find(':') != std::string::npos; }
  std::string to_string() const;  // brackets IPv6
};

// Port 0 is accepted only when `allow_port_zero` (listeners that let the
// kernel choose, as tests do). Errors are Errc::bad_address, naming the
// problem.
Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero = false);

}  // namespace sipsite::pki
