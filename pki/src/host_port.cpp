#include <sipsite/pki/host_port.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sipsite::pki {

namespace {

bool is_host_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':'; }

Error bad(std::string_view text, std::string_view why) {
  return Error{Errc::bad_address, "'" + std::string(text) + "' is not HOST:PORT (" + std::string(why) + ")"};
}

}  // namespace

std::string HostPort::to_string() const { return (is_ipv6() ? "[" + host + "]" : host) + ":" + std::to_string(port); }

Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero) {
  HostPort out;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad(text, "IPv6 addresses are written [ADDRESS]:PORT");
    }
    out.host = std::string(text.substr(1, close - 1));
    if (out.host.find(':') == std::string::npos) return bad(text, "brackets are for IPv6 addresses");
    port_text = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad(text, "missing port");
    if (text.substr(0, colon).find(':') != std::string_view::npos) {
      return bad(text, "IPv6 addresses are written [ADDRESS]:PORT");
    }
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty() || out.host.size() > 253 || !std::all_of(out.host.begin(), out.host.end(), is_host_char)) {
    return bad(text, "invalid host");
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      (port == 0 && !allow_port_zero)) {
    return bad(text, allow_port_zero ? "port must be 0-65535" : "port must be 1-65535");
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

}  // namespace sipsite::pki
