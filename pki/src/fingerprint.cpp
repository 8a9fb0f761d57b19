#include <sipsite/pki/fingerprint.hpp>

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

namespace sipsite::pki {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Fingerprint Fingerprint::of_der(std::span<const std::uint8_t> der) {
  Fingerprint fp;
  SHA256(der.data(), der.size(), fp.bytes_.data());
  return fp;
}

Fingerprint Fingerprint::from_bytes(std::span<const std::uint8_t, kSize> bytes) {
  Fingerprint fp;
  std::copy(bytes.begin(), bytes.end(), fp.bytes_.begin());
  return fp;
}

Result<Fingerprint> Fingerprint::parse(std::string_view text) {
  const Error bad{Errc::bad_fingerprint,
                  "not a SHA-256 fingerprint (expected 32 hex byte pairs, e.g. AB:CD:…)"};
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  for (std::string_view prefix : {"sha256:", "sha256=", "sha256 fingerprint="}) {
    if (starts_with_nocase(text, prefix)) {
      text.remove_prefix(prefix.size());
      break;
    }
  }
  const bool with_colons = text.size() == kSize * 3 - 1;
  if (!with_colons && text.size() != kSize * 2) return bad;
  Fingerprint fp;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < kSize; ++i) {
    if (with_colons && i > 0) {
      if (text[pos] != ':') return bad;
      ++pos;
    }
    const int hi = hex_value(text[pos]);
    const int lo = hex_value(text[pos + 1]);
    if (hi < 0 || lo < 0) return bad;
    fp.bytes_[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    pos += 2;
  }
  return fp;
}

std::string Fingerprint::to_string() const {
  std::string out;
  out.reserve(kSize * 3 - 1);
  for (std::size_t i = 0; i < kSize; ++i) {
    if (i > 0) out += ':';
    out += kHex[bytes_[i] >> 4];
    out += kHex[bytes_[i] & 0xF];
  }
  return out;
}

std::string Fingerprint::to_grouped_string() const {
  std::string out;
  for (std::size_t i = 0; i < kSize; ++i) {
    if (i > 0 && i % 2 == 0) out += ' ';
    out += kHex[bytes_[i] >> 4];
    out += kHex[bytes_[i] & 0xF];
  }
  return out;
}

}  // namespace sipsite::pki
