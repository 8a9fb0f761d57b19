#include "sipsite/common/ip_literal.hpp"

#include <arpa/inet.h>

#include <array>

namespace sipsite::common {

namespace {

// inet_pton needs a terminated string; a host longer than any literal, or
// with a NUL inside (which would end it early), is not one.
bool parses_as(int family, std::string_view host) noexcept {
  std::array<char, INET6_ADDRSTRLEN + 1> text{};
  if (host.empty() || host.size() >= text.size() || host.find('\0') != std::string_view::npos) return false;
  host.copy(text.data(), host.size());
  std::array<unsigned char, 16> addr{};
  return inet_pton(family, text.data(), addr.data()) == 1;
}

}  // namespace

std::string_view unbracketed(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

bool is_ipv4_literal(std::string_view host) noexcept { return parses_as(AF_INET, host); }

bool is_ipv6_literal(std::string_view host) noexcept { return parses_as(AF_INET6, unbracketed(host)); }

bool is_ip_literal(std::string_view host) noexcept { return is_ipv4_literal(host) || is_ipv6_literal(host); }

}  // namespace sipsite::common
