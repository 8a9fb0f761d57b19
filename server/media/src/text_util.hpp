#pragma once
// Private helpers for the SDP code: whitespace splitting and bounded number
// parsing (no exceptions, no locale).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sipsite::media::detail {

// Tokens separated by runs of SP or HTAB.
inline std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

inline std::optional<std::uint64_t> parse_digits(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

inline std::optional<std::uint16_t> parse_u16(std::string_view s) {
  const auto v = parse_digits(s, 5);
  if (!v || *v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}

inline std::optional<std::uint32_t> parse_u32(std::string_view s) {
  const auto v = parse_digits(s, 10);
  if (!v || *v > 0xFFFFFFFFULL) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

}  // namespace sipsite::media::detail
