#include <sipsite/pki/fingerprint.hpp>

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "sipsite/common/ascii.hpp"
#include "sipsite/common/hex.hpp"

namespace sipsite::pki {

using common::HexCase;

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
  const Error bad{Errc::bad_fingerprint, "not a SHA-256 fingerprint (expected 32 hex byte pairs, e.g. AB:CD:…)"};
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  for (std::string_view prefix : {"sha256:", "sha256=", "sha256 fingerprint="}) {
    if (common::istarts_with(text, prefix)) {
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
    if (!common::from_hex(text.substr(pos, 2), std::span(fp.bytes_).subspan(i, 1))) return bad;
    pos += 2;
  }
  return fp;
}

std::string Fingerprint::to_string() const {
  std::string out;
  out.reserve(kSize * 3 - 1);
  for (std::size_t i = 0; i < kSize; ++i) {
    if (i > 0) out += ':';
    common::append_hex(out, bytes_[i], HexCase::upper);
  }
  return out;
}

std::string Fingerprint::to_grouped_string() const {
  std::string out;
  for (std::size_t i = 0; i < kSize; ++i) {
    if (i > 0 && i % 2 == 0) out += ' ';
    common::append_hex(out, bytes_[i], HexCase::upper);
  }
  return out;
}

}  // namespace sipsite::pki
