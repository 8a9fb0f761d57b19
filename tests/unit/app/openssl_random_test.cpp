// OpenSslRandom hands out its CSPRNG block by block: values never repeat
// across a refill (a block served twice would make tags and branches
// predictable), and tokens stay 16 hex digits.

#include "openssl_random.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sipsite::app {
namespace {

TEST(OpenSslRandomTest, ValuesAcrossSeveralBlocksAreAllDifferent) {
  OpenSslRandom random;
  std::set<std::uint64_t> seen;
  constexpr int kValues = 64 * 5 + 7;  // five refills and part of a sixth
  for (int i = 0; i < kValues; ++i) seen.insert(random.next());
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kValues));
}

TEST(OpenSslRandomTest, TwoGeneratorsDoNotShareABlock) {
  OpenSslRandom a;
  OpenSslRandom b;
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 64; ++i) {
    seen.insert(a.next());
    seen.insert(b.next());
  }
  EXPECT_EQ(seen.size(), 128U);
  const std::string token = a.token();
  EXPECT_EQ(token.size(), 16U);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace sipsite::app
