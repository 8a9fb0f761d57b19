#pragma once
// SHA-256 of bytes, and its hex text. The digest can fail only when the
// OpenSSL provider refuses it; that is a value (nullopt), never ignored.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sipsite::common {

using Sha256Digest = std::array<std::uint8_t, 32>;

[[nodiscard]] std::optional<Sha256Digest> sha256(std::span<const std::uint8_t> bytes) noexcept;
[[nodiscard]] std::optional<Sha256Digest> sha256(std::string_view bytes) noexcept;

// Lower-case hex of the digest's first `prefix_bytes` bytes (all 32 by default).
[[nodiscard]] std::optional<std::string> sha256_hex(std::span<const std::uint8_t> bytes, std::size_t prefix_bytes = 32);
[[nodiscard]] std::optional<std::string> sha256_hex(std::string_view bytes, std::size_t prefix_bytes = 32);

}  // namespace sipsite::common
