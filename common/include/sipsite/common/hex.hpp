#pragma once
// Hexadecimal text of bytes and numbers, and its parsing. One definition for
// every library: tokens, keys, hashes, fingerprints and log escapes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::common {

enum class HexCase { lower, upper };

// The digit of a nibble (0–15).
[[nodiscard]] char hex_digit(unsigned nibble, HexCase letter_case = HexCase::lower) noexcept;

// Appends the two digits of one byte.
void append_hex(std::string& out, std::uint8_t byte, HexCase letter_case = HexCase::lower);

// Two digits per byte, no separators.
[[nodiscard]] std::string to_hex(std::span<const std::uint8_t> bytes, HexCase letter_case = HexCase::lower);
[[nodiscard]] std::string to_hex(std::string_view bytes, HexCase letter_case = HexCase::lower);

// Exactly 16 digits, most significant first (a 64-bit token or hash).
[[nodiscard]] std::string to_hex(std::uint64_t value);

// 0–15 for a hex digit of either case, nullopt for anything else.
[[nodiscard]] std::optional<std::uint8_t> hex_value(char c) noexcept;

// The bytes of an even number of hex digits (either case, no separators);
// nullopt for anything else. Untrusted text is fine: nothing throws.
[[nodiscard]] std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);

// Like from_hex, into a buffer whose size the text must match exactly.
[[nodiscard]] bool from_hex(std::string_view text, std::span<std::uint8_t> out) noexcept;

}  // namespace sipsite::common
