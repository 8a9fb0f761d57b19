#include <sipsite/pki/pairing.hpp>

#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace sipsite::pki {

std::string pairing_code(const Fingerprint& a, const Fingerprint& b) {
  const auto& [low, high] = std::minmax(a, b);
  constexpr std::string_view kContext = "sipsite pairing code v1";
  std::uint8_t input[kContext.size() + 2 * Fingerprint::kSize];
  std::copy(kContext.begin(), kContext.end(), input);
  std::copy(low.bytes().begin(), low.bytes().end(), input + kContext.size());
  std::copy(high.bytes().begin(), high.bytes().end(), input + kContext.size() + Fingerprint::kSize);
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(input, sizeof input, digest);

  // 64 bits reduced mod 10^12: the bias (2^64 is not a multiple of 10^12) is
  // below 10^-7, irrelevant for a code read aloud.
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | digest[i];
  value %= 1'000'000'000'000ULL;

  std::string digits(12, '0');
  for (int i = 11; i >= 0; --i) {
    digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return digits.substr(0, 4) + " " + digits.substr(4, 4) + " " + digits.substr(8, 4);
}

}  // namespace sipsite::pki
