#include "sipsite/sip/io.hpp"

namespace sipsite::sip {

std::string_view to_string(Protocol p) {
  switch (p) {
    case Protocol::udp: return "UDP";
    case Protocol::tcp: return "TCP";
    case Protocol::tls: return "TLS";
  }
  return "UDP";
}

std::string Random::token() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t v = next();
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[v & 0xF];
    v >>= 4;
  }
  return out;
}

}  // namespace sipsite::sip
