#include "sipsite/common/ascii.hpp"

#include <gtest/gtest.h>

namespace sipsite::common {
namespace {

TEST(Ascii, LowersOnlyAsciiLetters) {
  EXPECT_EQ(ascii_lower("Alpha.EXAMPLE-1_@Z"), "alpha.example-1_@z");
  // Bytes outside ASCII are left alone whatever the C locale says.
  EXPECT_EQ(ascii_lower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");
  EXPECT_EQ(ascii_lower('['), '[');
  EXPECT_EQ(ascii_lower('@'), '@');
}

TEST(Ascii, EqualsIgnoringCase) {
  EXPECT_TRUE(iequals("Content-Type", "content-TYPE"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("via", "vias"));
  EXPECT_FALSE(iequals("[", "{"));  // 0x5B and 0x7B differ by the case bit but are not letters
}

TEST(Ascii, StartsWithIgnoringCase) {
  EXPECT_TRUE(istarts_with("SHA256:AB", "sha256:"));
  EXPECT_TRUE(istarts_with("x", ""));
  EXPECT_FALSE(istarts_with("sha", "sha256:"));
  EXPECT_FALSE(istarts_with("sha257:", "sha256:"));
}

TEST(Ascii, EndsWithIgnoringCase) {
  EXPECT_TRUE(iends_with("Phone.LOCAL", ".local"));
  EXPECT_TRUE(iends_with("x", ""));
  EXPECT_FALSE(iends_with("local", ".local"));
}

}  // namespace
}  // namespace sipsite::common
