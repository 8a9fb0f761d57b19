#pragma once
// A certificate fingerprint: SHA-256 over the certificate's DER encoding, the
// identity of a site (as a Syncthing device ID is the identity of a device).

#include <sipsite/pki/error.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sipsite::pki {

class Fingerprint {
 public:
  static constexpr std::size_t kSize = 32;

  static Fingerprint of_der(std::span<const std::uint8_t> der);
  // The 32 bytes of a fingerprint as they are (not a hash of them).
  static Fingerprint from_bytes(std::span<const std::uint8_t, kSize> bytes);
  // Accepts "AB:CD:…" (as openssl prints it), without colons, any case, and
  // an optional "SHA256:"/"sha256=" prefix; anything else is bad_fingerprint.
  static Result<Fingerprint> parse(std::string_view text);

  // Uppercase hex pairs joined by ':' — exactly what
  // `openssl x509 -noout -fingerprint -sha256` prints after the '='.
  std::string to_string() const;
  // Groups of four hex digits separated by spaces, for reading aloud.
  std::string to_grouped_string() const;

  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 flags the defaulted <=> itself
  auto operator<=>(const Fingerprint&) const = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

}  // namespace sipsite::pki
