#include "charset.hpp"

namespace sipsite::sip::detail {
namespace {

bool is_ipv4(std::string_view s) noexcept {
  int parts = 0;
  while (true) {
    std::size_t n = 0;
    while (n < s.size() && is_digit(s[n])) ++n;
    if (n == 0 || n > 3) return false;
    const auto v = parse_decimal(s.substr(0, n), 255);
    if (!v) return false;
    ++parts;
    s.remove_prefix(n);
    if (s.empty()) return parts == 4;
    if (s.front() != '.' || parts == 4) return false;
    s.remove_prefix(1);
  }
}

// IPv6reference = "[" IPv6address "]". The character set and the shape
// (at most one "::", at most 8 groups of 1-4 hex digits, optional trailing
// IPv4) are checked; that is what keeps garbage out of Via and URIs.
bool is_ipv6_reference(std::string_view s) noexcept {
  if (s.size() < 4 || s.front() != '[' || s.back() != ']') return false;
  s = s.substr(1, s.size() - 2);
  const auto dc = s.find("::");
  if (dc != std::string_view::npos && s.find("::", dc + 1) != std::string_view::npos) return false;
  int groups = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ':') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && s[j] != ':') ++j;
    const auto group = s.substr(i, j - i);
    if (j == s.size() && group.find('.') != std::string_view::npos) {
      if (!is_ipv4(group)) return false;
      groups += 2;
    } else {
      if (group.size() > 4) return false;
      for (char c : group) {
        if (!is_hex(c)) return false;
      }
      ++groups;
    }
    i = j;
  }
  // a single ':' may not lead or trail unless part of "::"
  if (s.front() == ':' && s.rfind("::", 0) != 0) return false;
  if (s.back() == ':' && (s.size() < 2 || s.substr(s.size() - 2) != "::")) return false;
  return dc == std::string_view::npos ? groups == 8 : groups <= 7;
}

}  // namespace

bool is_host(std::string_view host) noexcept {
  if (host.empty()) return false;
  if (host.front() == '[') return is_ipv6_reference(host);
  for (char c : host) {
    if (!is_host_char(c)) return false;
  }
  // labels are not empty (".." or a leading '.') and do not start with '-'
  if (host.front() == '.' || host.find("..") != std::string_view::npos) return false;
  return host.front() != '-';
}

std::optional<unsigned long long> parse_decimal(std::string_view s, unsigned long long max) noexcept {
  if (s.empty()) return std::nullopt;
  unsigned long long v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    const auto d = static_cast<unsigned long long>(c - '0');
    if (d > max || v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<std::string_view> Scanner::quoted_string() noexcept {
  const std::size_t start = pos_;
  if (!consume('"')) return std::nullopt;
  while (!done()) {
    const auto c = static_cast<unsigned char>(s_[pos_]);
    if (c == '"') {
      ++pos_;
      return s_.substr(start, pos_ - start);
    }
    if (c == '\\') {
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
      if (pos_ + 1 >= s_.size()) break;
      const auto e = static_cast<unsigned char>(s_[pos_ + 1]);
      if (e == 0x0A || e == 0x0D || e > 0x7F) break;
      pos_ += 2;
      continue;
    }
    // qdtext: LWS, printable ASCII except '"' and '\', UTF-8 octets
    if ((c < 0x20 && c != '\t') || c == 0x7F) break;
    ++pos_;
  }
  pos_ = start;
  return std::nullopt;
}

}  // namespace sipsite::sip::detail
