#include "sipsite/common/hex.hpp"

#include <gtest/gtest.h>

#include <array>

namespace sipsite::common {
namespace {

TEST(Hex, EncodesEveryByteValueInBothCases) {
  std::array<std::uint8_t, 256> all{};
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  const std::string lower = to_hex(all);
  ASSERT_EQ(lower.size(), 512u);
  EXPECT_EQ(lower.substr(0, 8), "00010203");
  EXPECT_EQ(lower.substr(2 * 0xAB, 2), "ab");
  EXPECT_EQ(lower.substr(510), "ff");
  EXPECT_EQ(to_hex(all, HexCase::upper).substr(2 * 0xAB, 2), "AB");
  EXPECT_EQ(from_hex(lower), std::vector<std::uint8_t>(all.begin(), all.end()));
}

TEST(Hex, TextBytesAndEmpty) {
  EXPECT_EQ(to_hex(std::string_view("\x01\xfe", 2)), "01fe");
  EXPECT_EQ(to_hex(std::string_view()), "");
}

TEST(Hex, SixtyFourBitValueIsSixteenDigitsMostSignificantFirst) {
  EXPECT_EQ(to_hex(std::uint64_t{0}), "0000000000000000");
  EXPECT_EQ(to_hex(std::uint64_t{0x0123456789abcdefULL}), "0123456789abcdef");
  EXPECT_EQ(to_hex(~std::uint64_t{0}), "ffffffffffffffff");
}

TEST(Hex, DecodesEitherCaseAndRefusesEverythingElse) {
  EXPECT_EQ(from_hex("aBcD"), (std::vector<std::uint8_t>{0xAB, 0xCD}));
  EXPECT_EQ(from_hex(""), std::vector<std::uint8_t>{});
  EXPECT_FALSE(from_hex("abc"));    // odd length
  EXPECT_FALSE(from_hex("zz"));     // not hex
  EXPECT_FALSE(from_hex("0x12"));   // prefix is not hex
  EXPECT_FALSE(from_hex("12 34"));  // separators are the caller's business
  EXPECT_FALSE(from_hex(std::string_view("1\0", 2)));
}

TEST(Hex, DecodesIntoAFixedBufferOnlyOnExactLength) {
  std::array<std::uint8_t, 2> out{};
  EXPECT_TRUE(from_hex("0aF0", out));
  EXPECT_EQ(out, (std::array<std::uint8_t, 2>{0x0A, 0xF0}));
  EXPECT_FALSE(from_hex("0a", out));
  EXPECT_FALSE(from_hex("0aF000", out));
  EXPECT_FALSE(from_hex("0aFg", out));
}

TEST(Hex, DigitValues) {
  EXPECT_EQ(hex_value('0'), 0);
  EXPECT_EQ(hex_value('f'), 15);
  EXPECT_EQ(hex_value('F'), 15);
  EXPECT_FALSE(hex_value('g'));
  EXPECT_FALSE(hex_value('\xff'));
  EXPECT_EQ(hex_digit(10), 'a');
  EXPECT_EQ(hex_digit(10, HexCase::upper), 'A');
}

}  // namespace
}  // namespace sipsite::common
