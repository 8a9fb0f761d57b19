#include "sipsite/common/hex.hpp"

namespace sipsite::common {

char hex_digit(unsigned nibble, HexCase letter_case) noexcept {
  static constexpr char kLower[] = "0123456789abcdef";
  static constexpr char kUpper[] = "0123456789ABCDEF";
  return (letter_case == HexCase::upper ? kUpper : kLower)[nibble & 0xFU];
}

void append_hex(std::string& out, std::uint8_t byte, HexCase letter_case) {
  out += hex_digit(byte >> 4U, letter_case);
  out += hex_digit(byte, letter_case);
}

std::string to_hex(std::span<const std::uint8_t> bytes, HexCase letter_case) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) append_hex(out, b, letter_case);
  return out;
}

std::string to_hex(std::string_view bytes, HexCase letter_case) {
  return to_hex(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), letter_case);
}

std::string to_hex(std::uint64_t value) {
  std::string out(16, '0');
  for (auto it = out.rbegin(); it != out.rend(); ++it, value >>= 4U) *it = hex_digit(static_cast<unsigned>(value));
  return out;
}

std::optional<std::uint8_t> hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
  return std::nullopt;
}

bool from_hex(std::string_view text, std::span<std::uint8_t> out) noexcept {
  if (text.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto hi = hex_value(text[2 * i]);
    const auto lo = hex_value(text[2 * i + 1]);
    if (!hi || !lo) return false;
    out[i] = static_cast<std::uint8_t>((*hi << 4U) | *lo);
  }
  return true;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out(text.size() / 2);
  if (!from_hex(text, out)) return std::nullopt;
  return out;
}

}  // namespace sipsite::common
