#include "sipsite/common/sha256.hpp"

#include <gtest/gtest.h>

namespace sipsite::common {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, PrefixIsTheLeadingBytes) {
  EXPECT_EQ(sha256_hex("abc", 6), "ba7816bf8f01");
  EXPECT_EQ(sha256_hex("abc", 100)->size(), 64u);
}

TEST(Sha256, DigestBytes) {
  const auto d = sha256(std::string_view("abc"));
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)[0], 0xba);
  EXPECT_EQ((*d)[31], 0xad);
}

}  // namespace
}  // namespace sipsite::common
