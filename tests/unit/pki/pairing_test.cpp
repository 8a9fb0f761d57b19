#include <sipsite/pki/pairing.hpp>

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace sipsite::pki {
namespace {

Fingerprint fp_of(std::uint8_t seed) {
  const std::uint8_t der[] = {seed, 0x42};
  return Fingerprint::of_der(der);
}

TEST(PairingCode, IsTheSameWhicheverSideComputesIt) {
  const Fingerprint a = fp_of(1), b = fp_of(2);
  EXPECT_EQ(pairing_code(a, b), pairing_code(b, a));
}

TEST(PairingCode, IsTwelveDigitsInThreeGroups) {
  EXPECT_TRUE(std::regex_match(pairing_code(fp_of(1), fp_of(2)), std::regex("[0-9]{4} [0-9]{4} [0-9]{4}")));
}

TEST(PairingCode, DiffersForDifferentPairs) {
  std::set<std::string> codes;
  for (std::uint8_t i = 0; i < 50; ++i) codes.insert(pairing_code(fp_of(0), fp_of(static_cast<std::uint8_t>(i + 1))));
  EXPECT_EQ(codes.size(), 50u);
}

TEST(PairingCode, IsStableAcrossVersions) {
  // Both sites may run different releases: the derivation must never change.
  // Golden value computed independently (Python hashlib: SHA-256 over the
  // context string and the sorted fingerprints, first 8 bytes mod 10^12).
  EXPECT_EQ(pairing_code(fp_of(1), fp_of(2)), "7231 2970 8075");
}

}  // namespace
}  // namespace sipsite::pki
