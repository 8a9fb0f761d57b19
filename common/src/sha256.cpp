#include "sipsite/common/sha256.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "sipsite/common/hex.hpp"

namespace sipsite::common {

std::optional<Sha256Digest> sha256(std::span<const std::uint8_t> bytes) noexcept {
  Sha256Digest digest{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 || len != digest.size()) {
    return std::nullopt;
  }
  return digest;
}

std::optional<Sha256Digest> sha256(std::string_view bytes) noexcept {
  return sha256(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

std::optional<std::string> sha256_hex(std::string_view bytes, std::size_t prefix_bytes) {
  return sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), prefix_bytes);
}

std::optional<std::string> sha256_hex(std::span<const std::uint8_t> bytes, std::size_t prefix_bytes) {
  const auto digest = sha256(bytes);
  if (!digest) return std::nullopt;
  return to_hex(std::span<const std::uint8_t>(digest->data(), std::min(prefix_bytes, digest->size())));
}

}  // namespace sipsite::common
